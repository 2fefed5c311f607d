# An organizer's whole path over HTTP (SPEC section 9), with the Kafka side
# running: apply -> verify -> create a draft -> submit -> reject -> fix ->
# submit -> approve -> a buyer books -> the dashboard and the attendee CSV
# show it -> the organizer cancels -> the booking
# is CANCELLED and refunded in full, the buyer's inbox has the notice, and
# the bridge published event.cancelled.  Then two organizers: every
# organizer route with the other's event id is 404.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use lib "$ENV{EVENTLY_ROOT}/tests/bridge";
use ShimTest;
use BridgeTest;
use Test::More;

my $t = ShimTest->new;
# the local Kafka-protocol broker, the outbox bridge and the inbox consumer
# over the same cluster as the shim
my $kafka = bless { node => $t->node, procs => {} }, 'BridgeTest';
$kafka->start_broker;
$kafka->spawn('bridge', 'evently-bridge');
$kafka->spawn('notify', 'evently-notify');

my ($status, $json);
my $admin = $t->login('admin@gmail.com')->{access_token};
my $buyer = $t->login('mitshah2406@gmail.com');
my $when = $t->node->safe_psql('evently', q{SELECT to_char(now() + interval '20 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')});
my $template = $t->node->safe_psql('evently', "SELECT id FROM evently.venue_templates WHERE name = 'Small Theater'");

# apply: nobody registers as an ORGANIZER, a USER applies and waits
($status, $json) = $t->request(POST => '/api/v1/auth/register', { first_name => 'Nina', last_name => 'Nights',
	email => 'nina@example.com', password => 'qwerty', role => 'ORGANIZER' });
is($status, 403, 'registering as an ORGANIZER is refused');
($status, $json) = $t->request(POST => '/api/v1/auth/register', { first_name => 'Nina', last_name => 'Nights',
	email => 'nina@example.com', password => 'qwerty' });
is($status, 201, 'Nina registers as a USER');
my $nina = $json->{data}{access_token};
($status, $json) = $t->as($nina, POST => '/api/v1/organizers', { organization_name => 'Nina Nights', description => 'Jazz' });
is($status, 201, 'Nina applies');
is($json->{data}{verification_status}, 'PENDING', 'her application is pending');
my $application = $json->{data}{id};
($status, $json) = $t->as($nina, POST => '/api/v1/organizers', { organization_name => 'Again' });
is($json->{code}, 'ALREADY_EXISTS', 'one application at a time') or diag explain $json;
($status, $json) = $t->as($nina, POST => '/api/v1/events', { name => 'Too Soon', venue => 'Somewhere',
	venue_template_id => $template, date_time => $when, base_price => 10 });
is($status, 403, 'a pending applicant creates no event');
($status, $json) = $t->as($nina, GET => '/api/v1/admin/organizers');
is($status, 403, 'only an ADMIN reads the queue');

# verify: her role changes, so her old token ends
($status, $json) = $t->as($admin, GET => '/api/v1/admin/organizers?status=PENDING');
ok((grep { $_->{id} eq $application } @{ $json->{data}{organizers} }), 'the ADMIN finds her in the queue');
($status, $json) = $t->as($admin, POST => "/api/v1/admin/organizers/$application/verify", { decision => 'VERIFIED' });
is($status, 200, 'the ADMIN verifies her');
is($json->{data}{user}{role}, 'ORGANIZER', 'she is an ORGANIZER');
($status, $json) = $t->as($nina, GET => '/api/v1/organizers/me');
is($status, 401, 'her old token ended with her role change');
$nina = $t->login('nina@example.com')->{access_token};
($status, $json) = $t->as($nina, GET => '/api/v1/organizers/me');
is($json->{data}{verification_status}, 'VERIFIED', 'she reads her verified application');

# a draft: invisible to the public, visible to her
my %draft = (name => 'Nina Sings Jazz', venue => 'Blue Room', venue_template_id => $template, date_time => $when,
	base_price => 50, category => 'Music', tags => ['music'],
	section_pricing => [ map { { section_id => $_, price_multiplier => 1 } } split /\n/, $t->node->safe_psql('evently',
		"SELECT id FROM evently.venue_sections WHERE template_id = '$template' ORDER BY name LIMIT 1") ]);
($status, $json) = $t->as($nina, POST => '/api/v1/events', \%draft);
is($status, 201, 'she creates an event');
my $event = $json->{data};
is_deeply([ @$event{qw(status category organizer_id)} ], [ 'draft', 'music', $application ],
	'a draft, in category music, hers');
($status, $json) = $t->request(GET => "/api/v1/events/$event->{id}");
is($status, 404, 'the public does not see a draft');
($status, $json) = $t->as($nina, GET => "/api/v1/events/$event->{id}");
is($json->{data}{status}, 'draft', 'its organizer does (an optional token on the event read)');
($status, $json) = $t->as('not-a-token', GET => "/api/v1/events/$event->{id}");
is($status, 401, 'a bad token on the event read is refused, not ignored');
($status, $json) = $t->request(GET => '/api/v1/events?search=Nina%20Sings');
is($json->{data}{total_count}, 0, 'the public list leaves drafts out');
my @seats = split /\n/, $t->node->safe_psql('evently',
	"SELECT seat_id FROM evently.event_seats WHERE event_id = '$event->{id}' ORDER BY seat_order LIMIT 2");
($status, $json) = $t->as($buyer->{access_token}, POST => '/api/v1/seats/hold', { event_id => $event->{id}, seat_ids => \@seats });
is_deeply([ $status, $json->{code} ], [ 404, 'NOT_FOUND' ], 'nothing is held on a draft: it is not there')
	or diag explain $json;

# review: submit, reject, fix, submit, approve
($status, $json) = $t->as($nina, POST => "/api/v1/events/$event->{id}/submit");
is($json->{data}{status}, 'under_review', 'submitted');
($status, $json) = $t->as($nina, POST => "/api/v1/events/$event->{id}/submit");
is($status, 409, 'submitting twice is 409');
($status, $json) = $t->as($nina, POST => "/api/v1/admin/events/$event->{id}/approve");
is($status, 403, 'an organizer does not approve');
($status, $json) = $t->as($admin, POST => "/api/v1/admin/events/$event->{id}/reject", {});
is($status, 422, 'a rejection needs a reason');
($status, $json) = $t->as($admin, POST => "/api/v1/admin/events/$event->{id}/reject", { reason => 'Say who sings' });
is_deeply([ @{ $json->{data} }{qw(status review_note)} ], [ 'draft', 'Say who sings' ], 'rejected back to draft');
($status, $json) = $t->as($nina, PUT => "/api/v1/events/$event->{id}", { description => 'Nina and her trio' });
is($status, 200, 'she fixes it');
($status, $json) = $t->as($nina, POST => "/api/v1/events/$event->{id}/submit");
($status, $json) = $t->as($admin, POST => "/api/v1/admin/events/$event->{id}/approve");
is($json->{data}{status}, 'published', 'approved: published');
($status, $json) = $t->request(GET => "/api/v1/events/$event->{id}");
is($json->{data}{status}, 'published', 'the public sees it now');

# a buyer books two seats
($status, $json) = $t->as($buyer->{access_token}, POST => '/api/v1/seats/hold', { event_id => $event->{id}, seat_ids => \@seats });
is($status, 200, 'the buyer holds two seats');
my $hold = $json->{data}{hold_id};
($status, $json) = $t->as($buyer->{access_token}, POST => '/api/v1/bookings/confirm',
	{ hold_id => $hold, event_id => $event->{id}, payment_method => 'card' });
is($status, 201, 'and books them');
my $booking = $json->{data};
($status, $json) = $t->as($nina, PUT => "/api/v1/events/$event->{id}", { date_time => $when =~ s/^(\d{4})/$1+1/er });
is($status, 409, 'the date no longer changes once sold');

# her back office shows the booking
my $office = "/api/v1/organizer/events/$event->{id}";
($status, $json) = $t->as($nina, GET => "$office/dashboard");
is_deeply([ $json->{data}{capacity}{sold}, $json->{data}{revenue}{gross} ], [ 2, $booking->{total_price} ],
	'the dashboard counts two seats sold and the booking\'s revenue');
my (undef, undef, $csv) = $t->as($nina, GET => "$office/attendees", undef, { Accept => 'text/csv' });
is($csv->{headers}{'content-type'}, 'text/csv; charset=utf-8', 'the attendee list comes as CSV');
my @attendees = grep { /\Q$booking->{booking_ref}\E/ } split /\r\n/, $csv->{content};
is(scalar @attendees, 2, 'with one line per seat of the booking');
like($attendees[0], qr/mitshah2406\@gmail\.com/, 'naming the buyer');
($status, $json) = $t->as($nina, GET => '/api/v1/organizer/events');
ok((grep { $_->{id} eq $event->{id} } @{ $json->{data}{events} }), 'her events list has it');

# the second organizer (seeded) touches none of it: 404 everywhere
my $other = $t->login('organizer@example.com')->{access_token};
for my $call ([ GET => '' ], [ PUT => '', { description => 'mine' } ], [ DELETE => '' ],
	[ POST => '/submit' ], [ POST => '/cancel', { reason => 'mine' } ])
{
	my ($method, $suffix, $body) = @$call;
	($status, $json) = $t->as($other, $method => "/api/v1/events/$event->{id}$suffix", $body);
	if ($method eq 'GET')
	{
		is($status, 200, 'a published event is public, to the other organizer too');
		next;
	}
	is($status, 404, "$method /events/:id$suffix of another organizer's event is 404");
}
for my $view (qw(dashboard attendees bookings audit-logs))
{
	($status, $json) = $t->as($other, GET => "/api/v1/organizer/events/$event->{id}/$view");
	is($status, 404, "GET /organizer/events/:id/$view of another organizer's event is 404");
}
($status, $json) = $t->as($other, GET => "/api/v1/events/$event->{id}/cancellation-policy");
is($status, 404, "another organizer's cancellation policy is 404");
($status, $json) = $t->as($other, GET => '/api/v1/organizer/events');
ok(!(grep { $_->{id} eq $event->{id} } @{ $json->{data}{events} }), 'and her event is not in his list');
($status, $json) = $t->as($other, POST => '/api/v1/events', { %draft, name => 'Olivia Draft' });
my $others_draft = $json->{data}{id};
for my $call ([ GET => '' ], [ PUT => '', { description => 'mine' } ], [ DELETE => '' ], [ POST => '/submit' ])
{
	my ($method, $suffix, $body) = @$call;
	($status, $json) = $t->as($nina, $method => "/api/v1/events/$others_draft$suffix", $body);
	is($status, 404, "$method /events/:id$suffix of the other organizer's draft is 404");
}
for my $view (qw(dashboard attendees bookings audit-logs))
{
	($status, $json) = $t->as($nina, GET => "/api/v1/organizer/events/$others_draft/$view");
	is($status, 404, "GET /organizer/events/:id/$view of the other organizer's draft is 404");
}

my $fan = $t->login('mitshah2406.work@gmail.com')->{access_token};
($status, $json) = $t->as($fan, POST => '/api/v1/waitlist', { event_id => $event->{id}, quantity => 1 });
is($status, 201, 'a fan joins the waitlist');

# the organizer cancels: one transaction refunds in full, and everyone hears
($status, $json) = $t->as($nina, POST => "/api/v1/events/$event->{id}/cancel", { reason => 'Nina has lost her voice' });
is($status, 200, 'she cancels her event');
is($json->{data}{status}, 'cancelled', 'cancelled');
($status, $json) = $t->as($buyer->{access_token}, GET => "/api/v1/bookings/$booking->{booking_id}");
is($json->{data}{status}, 'CANCELLED', 'the buyer\'s booking is cancelled');
is($t->node->safe_psql('evently', "SELECT refund_amount = amount FROM evently.payments WHERE booking_id = '$booking->{booking_id}'"),
	't', 'and refunded in full');
ok(BridgeTest::wait_until(sub {
			($status, $json) = $t->as($buyer->{access_token}, GET => '/api/v1/users/notifications');
			grep { $_->{type} eq 'booking.cancelled' && $_->{event_id} eq $event->{id} } @{ $json->{data}{notifications} };
		}, 'the notice reaches the inbox'), 'the buyer\'s inbox has the notice');
my ($notice) = grep { $_->{type} eq 'booking.cancelled' } @{ $json->{data}{notifications} };
like($notice->{body}, qr/Nina has lost her voice/, 'the notice gives the reason');
ok(BridgeTest::wait_until(sub {
			($status, $json) = $t->as($fan, GET => '/api/v1/users/notifications');
			grep { $_->{type} eq 'waitlist.closed' && $_->{event_id} eq $event->{id} } @{ $json->{data}{notifications} };
		}, 'the waitlist notice reaches the inbox'), 'the fan on the waitlist is told too');
ok(BridgeTest::wait_until(sub { $kafka->unpublished eq '0' }, 'the outbox drains'), 'the bridge drained the outbox');
my @published = grep { $_->{value}{type} eq 'event.cancelled' && $_->{key} eq $event->{id} }
	@{ $kafka->read_topic('evently.event') };
is(scalar @published, 1, 'the bridge published event.cancelled once, keyed by the event');
is($published[0]{value}{data}{reason}, 'Nina has lost her voice', 'with the reason');
my %organizer_topic = map { $_->{value}{type} => 1 } @{ $kafka->read_topic('evently.organizer') };
ok($organizer_topic{'organizer.applied'} && $organizer_topic{'organizer.verified'},
	'the organizer topic has the application and its verification');
($status, $json) = $t->as($nina, GET => '/api/v1/users/notifications');
ok((grep { $_->{type} eq 'organizer.verified' } @{ $json->{data}{notifications} }), 'Nina was told she is verified');
ok((grep { $_->{type} eq 'event.rejected' } @{ $json->{data}{notifications} }), 'and that her event was sent back');

# an ADMIN takes her verification back: her token ends, she organizes nothing
($status, $json) = $t->as($admin, POST => "/api/v1/admin/organizers/$application/revoke", { reason => 'Too many cancellations' });
is_deeply([ $status, $json->{data}{verification_status}, $json->{data}{user}{role} ], [ 200, 'REVOKED', 'USER' ],
	'an ADMIN revokes her verification');
($status, $json) = $t->as($nina, GET => '/api/v1/organizer/events');
is($status, 401, 'her token ended with her role');
$nina = $t->login('nina@example.com')->{access_token};
($status, $json) = $t->as($nina, POST => '/api/v1/events', { %draft, name => 'Nina Returns' });
is($status, 403, 'she creates no event');
($status, $json) = $t->as($nina, PUT => "/api/v1/events/$event->{id}", { description => 'still mine?' });
is($status, 404, 'nor edits her old one');

# a filter that is no text is refused, never dropped (which would list everything)
for my $query ('q=%FF', 'q=%00', 'q=jazz&category=%C0%AF', '%FF=1')
{
	($status, $json) = $t->request(GET => "/api/v1/events/search?$query");
	is_deeply([ $status, $json->{code} ], [ 400, 'INVALID_QUERY' ], "search?$query is 400 INVALID_QUERY");
}
($status, $json) = $t->as($admin, GET => '/api/v1/admin/audit-logs?actor_id=%FF');
is($status, 400, 'so is an audit-log filter that is no text');
($status, $json) = $t->request(GET => '/api/v1/events/search?q=caf%C3%A9');
is($status, 200, 'UTF-8 text is fine');

is($kafka->stop('notify'), 0, 'the inbox consumer stops cleanly');
is($kafka->stop('bridge'), 0, 'the bridge stops cleanly');
is($t->stop_shim, 0, 'the shim stops cleanly');
done_testing();
