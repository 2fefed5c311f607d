# An organizer's back office over HTTP (issue 11 item 4): a buyer books a
# seat of the seeded organizer's event; the organizer's list, dashboard,
# attendees (JSON, and CSV with Accept: text/csv) and bookings show it, and
# agree with direct counts.  A second organizer, made through the API, gets
# 404 on every organizer route with the first one's event; a USER gets 403
# on the list and 404 on an event; bad parameters are 422.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use JSON::PP;
use Test::More;

my $t = ShimTest->new;
my $node = $t->node;
my ($status, $json, $res);
my $admin = $t->login('admin@gmail.com')->{access_token};
my $organizer = $t->login('organizer@example.com')->{access_token};
my $buyer = $t->login('mitshah2406@gmail.com');
my $tb = $buyer->{access_token};
my $sql = sub { $node->safe_psql('evently', $_[0]) };

my $event = $sql->("SELECT id FROM evently.events WHERE name = 'Classical Music Evening'");
my $base = "/api/v1/organizer/events/$event";

# the buyer books two seats of the organizer's event
my @seats = split /\n/, $sql->("SELECT seat_id FROM evently.event_seats('$event')
                                 WHERE status = 'AVAILABLE' ORDER BY seat_id LIMIT 2");
($status, $json) = $t->as($tb, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => \@seats });
is($status, 200, 'the buyer holds two seats');
($status, $json) = $t->as($tb, POST => '/api/v1/bookings/confirm',
	{ hold_id => $json->{data}{hold_id}, event_id => $event, payment_method => 'card' });
is($status, 201, 'and books them');
my $booking = $json->{data};

# GET /organizer/events: its two events, any status
($status, $json) = $t->as($organizer, GET => '/api/v1/organizer/events');
is($status, 200, 'the organizer lists its events');
is($json->{data}{total_count}, 2, 'two of them');
is_deeply([ sort map { $_->{name} } @{ $json->{data}{events} } ], [ 'Art Gallery Opening', 'Classical Music Evening' ],
	'the two the seed gave it');
ok(exists $json->{data}{events}[0]{stored_status}, 'as organizer_event_json');
($status, $json) = $t->as($organizer, GET => '/api/v1/organizer/events?status=draft');
is($json->{data}{total_count}, 0, 'no draft among them');
($status, $json) = $t->as($admin, GET => '/api/v1/organizer/events?limit=100');
is($json->{data}{total_count}, $sql->('SELECT count(*) FROM evently.events'), 'an ADMIN sees every event');

# the dashboard agrees with the data
($status, $json) = $t->as($organizer, GET => "$base/dashboard");
is($status, 200, 'the dashboard answers');
my $d = $json->{data};
is($d->{capacity}{sold}, 2, 'two seats sold');
is($d->{capacity}{sold}, $sql->("SELECT count(*) FROM evently.tickets WHERE event_id = '$event' AND status = 'VALID'"),
	'sold: the valid tickets');
is($d->{capacity}{total}, $sql->("SELECT count(*) FROM evently.event_seats WHERE event_id = '$event'"),
	'capacity: every seat');
is($d->{capacity}{available}, $sql->("SELECT count(*) FROM evently.event_seats('$event') WHERE status = 'AVAILABLE'"),
	'available: the free seats');
my %sold_by_section = map { split /\|/ } split /\n/, $sql->("SELECT section_id, count(*) FROM evently.tickets
	WHERE event_id = '$event' AND status = 'VALID' GROUP BY 1");
is_deeply({ map { $_->{sold} ? ($_->{section_id} => $_->{sold}) : () } @{ $d->{sections} } }, \%sold_by_section,
	'sold by section: the valid tickets by section');
is($d->{revenue}{gross}, $booking->{total_price}, 'gross: the booking');
is($d->{revenue}{refunded}, 0, 'nothing refunded');
is($d->{revenue}{net}, $booking->{total_price}, 'net = gross');
is(scalar @{ $d->{daily_sales} }, 1, 'one day of sales');
is_deeply([ @{ $d->{daily_sales}[0] }{qw(bookings tickets)} ], [ 1, 2 ], 'one booking, two tickets');
is_deeply($d->{tiers}, [], 'no tiers yet');
is_deeply($d->{check_in}, { sold => 2, checked_in => 0 }, 'check_in: two tickets sold, none let in yet');
is_deeply($d->{holds}, { live => 0, seats => 0 }, 'no live hold');

# attendees, JSON
($status, $json) = $t->as($organizer, GET => "$base/attendees");
is($status, 200, 'the attendee list answers');
is($json->{data}{total_count}, 2, 'one row per ticket');
my ($row) = @{ $json->{data}{attendees} };
is($row->{booking_ref}, $booking->{booking_ref}, 'with the booking reference');
is($row->{attendee_email}, 'mitshah2406@gmail.com', "and the buyer's e-mail");
($status, $json) = $t->as($organizer, GET => "$base/attendees?limit=1&offset=1");
is_deeply([ scalar @{ $json->{data}{attendees} }, @{ $json->{data} }{qw(limit offset total_count)} ], [ 1, 1, 1, 2 ],
	'paginated');

# attendees, CSV
($status, $json, $res) = $t->as($organizer, GET => "$base/attendees", undef, { Accept => 'text/csv' });
is($status, 200, 'Accept: text/csv answers 200');
is($res->{headers}{'content-type'}, 'text/csv; charset=utf-8', 'as text/csv');
like(join(',', ref $res->{headers}{vary} ? @{ $res->{headers}{vary} } : $res->{headers}{vary}), qr/\bAccept\b/,
	'Vary: Accept (the same URL answers JSON or CSV)');
is($res->{headers}{'content-disposition'}, qq{attachment; filename="attendees-$event.csv"}, 'an attachment, named');
my @lines = split /\r\n/, $res->{content};
is($lines[0], 'booking_ref,attendee_name,attendee_email,section,row,seat_number,price,booked_at', 'a header line');
is(scalar @lines, 3, 'and one line per attendee');
like($lines[1], qr/^\Q$booking->{booking_ref}\E,[^,]+,mitshah2406\@gmail\.com,/, "the buyer's row");
like($res->{content}, qr/\r\n\z/, 'records end in CRLF');
($status, $json, $res) = $t->as($organizer, GET => "$base/attendees?limit=1", undef,
	{ Accept => 'application/json;q=0.5, text/csv' });
@lines = split /\r\n/, $res->{content};
is(scalar @lines, 3, 'a file holds every attendee, whatever page was asked');
for my $accept ('application/json', '*/*', 'text/csv;q=0', 'text/csv;q=0.4, application/json', 'text/*')
{
	($status, $json, $res) = $t->as($organizer, GET => "$base/attendees", undef, { Accept => $accept });
	is($res->{headers}{'content-type'}, 'application/json', "Accept: $accept stays JSON");
	is($json->{data}{total_count}, 2, '... the envelope');
}

# bookings
($status, $json) = $t->as($organizer, GET => "$base/bookings");
is($status, 200, 'the booking list answers');
is($json->{data}{total_count}, 1, 'one booking');
is($json->{data}{bookings}[0]{booking_ref}, $booking->{booking_ref}, 'the buyer\'s');
is($json->{data}{bookings}[0]{buyer}{email}, 'mitshah2406@gmail.com', 'with the buyer');
($status, $json) = $t->as($organizer, GET => "$base/bookings?status=CANCELLED");
is($json->{data}{total_count}, 0, 'none cancelled');

# bad parameters: 422 in our words; a bad id is the shim's 400
for my $path ('/api/v1/organizer/events?limit=abc', '/api/v1/organizer/events?status=sold',
	"$base/attendees?offset=-1", "$base/bookings?status=PAID", "$base/bookings?limit=1000")
{
	($status, $json) = $t->as($organizer, GET => $path);
	is("$status $json->{code}", '422 INVALID_ARGUMENT', "$path is refused");
}
($status, $json) = $t->as($organizer, GET => '/api/v1/organizer/events/not-a-uuid/dashboard');
is($status, 400, 'a bad event id is 400');
($status) = $t->request(GET => "$base/dashboard");
is($status, 401, 'no token: 401');

# a USER: not an organizer (403 on the list), and no event of its own (404)
($status, $json) = $t->as($tb, GET => '/api/v1/organizer/events');
is("$status $json->{code}", '403 FORBIDDEN', 'a USER may not list organizer events');
($status, $json) = $t->as($tb, GET => "$base/dashboard");
is($status, 404, "a USER gets 404 on an organizer's event");

# a second organizer, made through the API
($status, $json) = $t->request(POST => '/api/v1/auth/register',
	{ first_name => 'Rita', last_name => 'Rival', email => 'rival@example.com', password => 'qwerty' });
is($status, 201, 'a user registers');
my $rival = $json->{data}{access_token};
($status, $json) = $t->as($rival, POST => '/api/v1/organizers', { organization_name => 'Rival Shows' });
is($status, 201, 'applies to organize');
($status, $json) = $t->as($admin, POST => "/api/v1/admin/organizers/$json->{data}{id}/verify", { decision => 'VERIFIED' });
is($status, 200, 'an ADMIN verifies it');
($status) = $t->as($rival, GET => '/api/v1/organizer/events');
is($status, 401, 'the role change ended its session');
$rival = $t->login('rival@example.com')->{access_token};
($status, $json) = $t->as($rival, GET => '/api/v1/organizer/events');
is("$status $json->{data}{total_count}", '200 0', 'signed in again, it has no event');
for my $route ('dashboard', 'attendees', 'bookings')
{
	($status, $json) = $t->as($rival, GET => "$base/$route");
	is("$status $json->{code}", '404 NOT_FOUND', "the other organizer's $route: 404");
	unlike(JSON::PP->new->canonical->encode($json), qr/Classical|mitshah/, '... telling nothing of it');
}
($status, $json, $res) = $t->as($rival, GET => "$base/attendees", undef, { Accept => 'text/csv' });
is("$status $json->{code}", '404 NOT_FOUND', 'and its CSV: 404');
is($res->{headers}{'content-type'}, 'application/json', '... as the JSON envelope');
ok(!exists $res->{headers}{'content-disposition'}, '... no file');
my $unknown = '00000000-0000-4000-8000-000000000000';
($status, $json) = $t->as($organizer, GET => "/api/v1/organizer/events/$unknown/dashboard");
is($status, 404, 'an unknown event is the same 404');

# every answer was counted under its route: the attendee route's 2xx are
# its 2 JSON pages, its 2 files and the 5 Accepts that stayed JSON
($status, undef, $res) = $t->request(GET => '/metrics');
like($res->{content}, qr{^evently_http_requests_total\{route="GET /api/v1/organizer/events/:eventId/attendees",status="2xx"\} 9$}m,
	'every attendee answer, the files too, is counted in /metrics');
like($res->{content}, qr{^evently_http_requests_total\{route="GET /api/v1/organizer/events/:eventId/attendees",status="4xx"\} 3$}m,
	'and the refusals');
like($t->log, qr{"path":\s*"/api/v1/organizer/events/$event/attendees",\s*"status":\s*200}, 'and logged');

is($t->stop_shim, 0, 'clean stop');
done_testing();
