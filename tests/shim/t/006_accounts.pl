# Per-user reads and the cancellation-policy admin routes over HTTP; each
# object readable by its owner and an ADMIN only.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my ($status, $json);
my $a = $t->login('mitshah2406@gmail.com');
my $b = $t->login('mitshah2406.work@gmail.com');
my $admin = $t->login('admin@gmail.com');
my ($ta, $tb, $tadmin) = map { $_->{access_token} } $a, $b, $admin;

my $event = $t->node->safe_psql('evently', "SELECT id FROM evently.events WHERE name = 'Art Gallery Opening'");
my @seats = split /\n/, $t->node->safe_psql('evently',
	"SELECT seat_id FROM evently.event_seats('$event') WHERE seat_number IN ('B1', 'B2') ORDER BY 1");

# policies: ADMIN only; POST creates, PUT replaces; allow_cancellation false is accepted
my %policy = (allow_cancellation => JSON::PP::true, cancellation_deadline => '2099-01-01T00:00:00Z',
	fee_type => 'FIXED', fee_amount => 25, refund_processing_days => 3);
($status, $json) = $t->as($ta, POST => "/api/v1/admin/events/$event/cancellation-policy", \%policy);
is($status, 403, 'a USER may not set a policy');
($status, $json) = $t->as($tadmin, POST => "/api/v1/admin/events/$event/cancellation-policy", \%policy);
is($status, 409, 'the seeded event has a policy already: POST is 409');
($status, $json) = $t->as($tadmin, GET => "/api/v1/admin/events/$event/cancellation-policy");
is($json->{data}{fee_type}, 'PERCENTAGE', 'the seeded policy');
my $deadline = $t->node->safe_psql('evently',
	"SELECT to_char((date_time - interval '2 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM evently.events WHERE id = '$event'");
($status, $json) = $t->as($tadmin, PUT => "/api/v1/admin/events/$event/cancellation-policy",
	{ %policy, cancellation_deadline => $deadline });
is($status, 200, 'PUT replaces it');
is_deeply([ @{ $json->{data} }{qw(fee_type fee_amount refund_processing_days)} ], [ 'FIXED', 25, 3 ], 'with the new terms');
($status, $json) = $t->as($tadmin, PUT => "/api/v1/admin/events/$event/cancellation-policy",
	{ %policy, cancellation_deadline => $deadline, allow_cancellation => JSON::PP::false, fee_type => 'NONE', fee_amount => 0 });
is($json->{data}{allow_cancellation}, JSON::PP::false, 'allow_cancellation false is accepted');
($status, $json) = $t->as($tadmin, PUT => "/api/v1/admin/events/$event/cancellation-policy",
	{ %policy, cancellation_deadline => '2001-01-01T00:00:00Z' });
is($status, 422, 'a past deadline is 422');
($status, $json) = $t->as($tadmin, PUT => "/api/v1/admin/events/$event/cancellation-policy",
	{ %policy, cancellation_deadline => 'next tuesday' });
is($status, 422, 'a deadline that is no time is 422');
($status, $json) = $t->as($tadmin, PUT => "/api/v1/admin/events/$event/cancellation-policy",
	{ %policy, cancellation_deadline => substr($deadline, 0, 19) });
is($json->{code}, 'INVALID_ARGUMENT', 'a deadline without a zone is refused (RFC 3339)');
($status, $json) = $t->as($tadmin, PUT => "/api/v1/admin/events/$event/cancellation-policy",
	{ %policy, cancellation_deadline => $deadline, fee_type => 'PERCENTAGE', fee_amount => 101 });
is($status, 422, 'a fee over 100% is 422');
($status, $json) = $t->as($tadmin, GET => '/api/v1/admin/events/00000000-0000-4000-8000-000000000000/cancellation-policy');
is($status, 404, 'no policy: 404');
($status, $json) = $t->as($tadmin, PUT => "/api/v1/admin/events/$event/cancellation-policy",
	{ %policy, cancellation_deadline => $deadline });

# A books and cancels; the lists show it to A only
($status, $json) = $t->as($ta, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => \@seats });
my $hold = $json->{data}{hold_id};
($status, $json) = $t->as($ta, GET => "/api/v1/users/$a->{user}{id}/holds");
is(scalar @{ $json->{data} }, 1, 'A lists her live holds');
is_deeply([ sort @{ $json->{data}[0]{seat_ids} } ], [ sort @seats ], 'with their seats');
($status, $json) = $t->as($tb, GET => "/api/v1/users/$a->{user}{id}/holds");
is($status, 403, 'B may not list A\'s holds');
($status, $json) = $t->as($tadmin, GET => "/api/v1/users/$a->{user}{id}/holds");
is($status, 200, 'an ADMIN may');

($status, $json) = $t->as($ta, POST => '/api/v1/bookings/confirm', { hold_id => $hold, event_id => $event, payment_method => 'card' });
my $booking = $json->{data}{booking_id};
($status, $json) = $t->as($ta, GET => '/api/v1/users/bookings');
is_deeply([ @{ $json->{data} }{qw(count limit offset)} ], [ 1, 10, 0 ], 'A has one booking');
is($json->{data}{bookings}[0]{booking_id}, $booking, 'this one');
($status, $json) = $t->as($tb, GET => '/api/v1/users/bookings');
is($json->{data}{count}, 0, 'B has none');
($status, $json) = $t->as($ta, GET => '/api/v1/users/bookings?limit=1000');
is($status, 422, 'limit over 100 is 422');

($status, $json) = $t->as($ta, POST => "/api/v1/bookings/$booking/request-cancel", { reason => 'ill' });
is($json->{data}{cancellation_fee}, 25, 'the FIXED fee');
my $cancellation = $json->{data}{id};
($status, $json) = $t->as($ta, GET => "/api/v1/cancellations/$cancellation");
is($status, 200, 'A reads her cancellation');
is($json->{data}{refund_processing_days}, 3, 'with the processing days');
($status, $json) = $t->as($tb, GET => "/api/v1/cancellations/$cancellation");
is($status, 404, 'B cannot');
($status, $json) = $t->as($tadmin, GET => "/api/v1/cancellations/$cancellation");
is($status, 200, 'an ADMIN can');
($status, $json) = $t->as($ta, GET => '/api/v1/users/cancellations');
is($json->{data}{count}, 1, 'A lists her cancellations');
($status, $json) = $t->as($tb, GET => '/api/v1/users/cancellations');
is($json->{data}{count}, 0, 'B has none');

# the notifications inbox (filled by evently-notify from Kafka; here through
# the SQL function it calls): each user reads their own, newest first
my $user_a = $a->{user}{id};
$t->node->safe_psql('evently', qq{
  SELECT evently.record_notification(jsonb_build_object('id', 900000 + g, 'type', 'booking.confirmed',
           'user_id', '$user_a', 'event_id', '$event', 'occurred_at', now() - g * interval '1 minute',
           'data', jsonb_build_object('booking_ref', 'EVT-' || g)))
    FROM generate_series(1, 3) g});
($status, $json) = $t->as($ta, GET => '/api/v1/users/notifications?limit=2');
is($status, 200, 'GET /users/notifications');
is($json->{data}{total}, 3, 'three in the inbox');
is_deeply([ map { $_->{data}{booking_ref} } @{ $json->{data}{notifications} } ], [ 'EVT-1', 'EVT-2' ],
	'newest first, limited');
like($json->{data}{notifications}[0]{body}, qr/^Your booking EVT-1 for Art Gallery Opening is confirmed\.$/,
	'the body names the booking and the event');
($status, $json) = $t->as($tb, GET => '/api/v1/users/notifications');
is($json->{data}{total}, 0, "another user sees none of them");
($status, $json) = $t->request(GET => '/api/v1/users/notifications');
is($status, 401, 'the inbox needs a token');

is($t->stop_shim, 0, 'clean stop');
done_testing();
