# The whole flow over HTTP with two users: hold, confirm (idempotent),
# request-cancel, the freed seats offered to the waitlisted user, who
# confirms them.  Along the way, user B must not see or change A's objects,
# and bad input is refused before it reaches SQL.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my ($status, $json);

# a two-seat event, set up by a DBA in SQL
my $event = $t->node->safe_psql('evently', q{
	WITH tpl AS (SELECT evently.create_venue_template('Duo Room') AS id),
	     sec AS (SELECT evently.add_section(id, 'Main', 'A', 'A', 2) FROM tpl)
	SELECT evently.create_event('Duo', (SELECT id FROM tpl), now() + interval '10 days', 100)
	  FROM sec});
$t->node->safe_psql('evently',
	"SELECT evently.set_cancellation_policy('$event', true, now() + interval '9 days', 'PERCENTAGE', 10)");
my @seats = split /\n/, $t->node->safe_psql('evently',
	"SELECT seat_id FROM evently.event_seats('$event') ORDER BY seat_number");

my $a = $t->login('mitshah2406@gmail.com');
my $b = $t->login('mitshah2406.work@gmail.com');
my ($ta, $tb) = ($a->{access_token}, $b->{access_token});

# A holds both seats; a user_id in the body cannot act for someone else
($status, $json) = $t->as($ta, POST => '/api/v1/seats/hold',
	{ event_id => $event, seat_ids => \@seats, user_id => $b->{user}{id} }, { 'Idempotency-Key' => 'h-1' });
is($status, 200, 'hold is 200');
my $hold = $json->{data};
is($hold->{user_id}, $a->{user}{id}, 'the hold is the token user\'s, not the body\'s');
is($hold->{total_price}, 200, 'two seats at 100');
for my $field (qw(hold_id event_id user_id seats total_price expires_at ttl_seconds))
{
	ok(exists $hold->{$field}, "hold has $field");
}
for my $field (qw(seat_id section_id seat_number row section_name price))
{
	ok(exists $hold->{seats}[0]{$field}, "hold seat has $field");
}

# a retried hold with the same Idempotency-Key returns the same hold
($status, $json) = $t->as($ta, POST => '/api/v1/seats/hold',
	{ event_id => $event, seat_ids => \@seats }, { 'Idempotency-Key' => 'h-1' });
is($status, 200, 'a retry with the first hold\'s key');
is($json->{data}{hold_id}, $hold->{hold_id}, 'returns the same hold');
($status, $json) = $t->as($ta, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => \@seats });
is($status, 409, 'without the key it is a second hold of the same seats: 409');

# B can neither see nor release A's hold
($status, $json) = $t->as($tb, GET => "/api/v1/seats/hold/$hold->{hold_id}");
is($status, 404, 'B cannot read A\'s hold');
($status, $json) = $t->as($tb, DELETE => "/api/v1/seats/hold/$hold->{hold_id}");
is($status, 404, 'B cannot release A\'s hold, and is not told it exists (404, as a read)');
($status, $json) = $t->as($ta, GET => "/api/v1/seats/hold/$hold->{hold_id}");
is($status, 200, 'A reads her hold');

# B cannot hold the same seats
($status, $json) = $t->as($tb, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [ $seats[0] ] });
is($status, 409, 'a held seat is 409');
is($json->{code}, 'SEAT_UNAVAILABLE', 'SEAT_UNAVAILABLE');
is($json->{hint}, "Pick other seats, or join the event's waitlist.", 'with the engine\'s hint (errhint)');

# confirm, with an Idempotency-Key: a retry returns the same booking
my %confirm = (hold_id => $hold->{hold_id}, event_id => $event, payment_method => 'card');
($status, $json) = $t->as($ta, POST => '/api/v1/bookings/confirm', \%confirm, { 'Idempotency-Key' => 'k-1' });
is($status, 201, 'confirm is 201');
my $booking = $json->{data};
is($booking->{status}, 'CONFIRMED', 'CONFIRMED');
like($booking->{booking_ref}, qr/^EVT-\d{8}-[A-Z]{6}$/, 'booking_ref');
is($booking->{payment}{status}, 'COMPLETED', 'payment COMPLETED');
($status, $json) = $t->as($ta, POST => '/api/v1/bookings/confirm', \%confirm, { 'Idempotency-Key' => 'k-1' });
is($status, 201, 'a retry with the same key');
is($json->{data}{booking_id}, $booking->{booking_id}, 'returns the same booking');
($status, $json) = $t->as($ta, POST => '/api/v1/bookings/confirm', \%confirm);
is($status, 409, 'a second confirm without the key is 409');

# B cannot see or cancel A's booking
($status, $json) = $t->as($tb, GET => "/api/v1/bookings/$booking->{booking_id}");
is($status, 404, 'B cannot read A\'s booking');
($status, $json) = $t->as($tb, POST => "/api/v1/bookings/$booking->{booking_id}/request-cancel", { reason => 'mine now' });
is($status, 404, 'B cannot cancel A\'s booking, and is not told it exists (404, as a read)');
my $admin = $t->login('admin@gmail.com');
($status, $json) = $t->as($admin->{access_token}, GET => "/api/v1/bookings/$booking->{booking_id}");
is($status, 200, 'an ADMIN reads any booking');

# B joins the waitlist for both seats
($status, $json) = $t->as($tb, POST => '/api/v1/waitlist', { event_id => $event, quantity => 2 });
is($status, 201, 'join the waitlist is 201');
is($json->{data}{position}, 1, 'first in line');
($status, $json) = $t->as($tb, POST => '/api/v1/waitlist', { event_id => $event, quantity => 11 });
is($status, 422, 'quantity 11 is refused before SQL');

# A cancels: the policy applies, and the seats go straight to B
my $reason = q{Plans changed '; DROP TABLE evently.bookings; -- ✓ ünïcödé 日本};
($status, $json) = $t->as($ta, POST => "/api/v1/bookings/$booking->{booking_id}/request-cancel", { reason => $reason });
is($status, 201, 'request-cancel is 201');
is($json->{data}{status}, 'PROCESSED', 'PROCESSED');
is($json->{data}{cancellation_fee}, 20, 'fee 10% of 200');
is($json->{data}{refund_amount}, 180, 'refund 180');
is($json->{data}{reason}, $reason, 'unicode and SQL metacharacters are stored as they came');
($status, $json) = $t->as($ta, POST => "/api/v1/bookings/$booking->{booking_id}/cancel");
is($status, 409, 'cancelling twice is 409');

($status, $json) = $t->as($tb, GET => "/api/v1/waitlist/status/$event");
is($json->{data}{status}, 'NOTIFIED', 'B was offered the seats');
my $offer = $json->{data}{hold_id};
ok($json->{data}{estimated_wait} > 0, 'with the time left to confirm');
($status, $json) = $t->as($tb, GET => "/api/v1/seats/hold/$offer");
is(scalar @{ $json->{data}{seats} }, 2, 'the offer holds both seats');
($status, $json) = $t->as($ta, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [ $seats[0] ] });
is($status, 409, 'the public cannot take offered seats');
($status, $json) = $t->as($tb, POST => '/api/v1/bookings/confirm',
	{ hold_id => $offer, event_id => $event, payment_method => 'upi' });
is($status, 201, 'B confirms the offer');
($status, $json) = $t->as($tb, GET => "/api/v1/waitlist/status/$event");
is($json->{data}{status}, 'CONVERTED', 'the entry converted');
($status, $json) = $t->request(GET => "/api/v1/events/$event");
is_deeply([ @{ $json->{data} }{qw(booked_count available_tickets)} ], [ 2, 0 ], 'sold out to B');
($status, $json) = $t->as($tb, GET => '/api/v1/users/waitlist');
is(scalar @{ $json->{data} }, 1, 'B lists her waitlist entries');

# bad input never reaches SQL
($status, $json) = $t->as($ta, POST => '/api/v1/seats/hold', '{"event_id": ');
is($status, 400, 'malformed JSON is 400');
is($json->{code}, 'INVALID_JSON', 'INVALID_JSON');
($status, $json) = $t->as($ta, POST => '/api/v1/seats/hold', '[1, 2]');
is($status, 400, 'a body that is not an object is 400');
($status, $json) = $t->as($ta, POST => '/api/v1/seats/hold', { event_id => 42, seat_ids => 'A1' });
is($status, 422, 'wrong types are 422');
is_deeply($json->{errors}, { event_id => 'must be a uuid', seat_ids => 'must be an array of uuids' },
	'errors name each field');
($status, $json) = $t->as($ta, POST => '/api/v1/seats/hold',
	{ event_id => $event, seat_ids => [ map { $seats[0] } 1 .. 101 ] });
is($status, 422, '101 seat ids are 422');
($status, $json) = $t->as($ta, POST => '/api/v1/seats/hold', qq{{"event_id": "$event", "event_id": "$event", "seat_ids": []}});
is($status, 400, 'duplicate keys are 400');
($status, $json) = $t->as($ta, POST => '/api/v1/bookings/confirm',
	{ hold_id => $offer, event_id => $event, payment_method => "card\x{0}x" });
ok($status == 400 || $status == 422, 'a NUL in a string is refused');
($status, $json) = $t->as($ta, GET => "/api/v1/waitlist/status/not-a-uuid");
is($status, 400, 'a malformed :event_id is 400');

is($t->stop_shim, 0, 'clean stop');
done_testing();
