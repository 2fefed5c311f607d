# Every refusal right, over HTTP (issue 9): the inputs of the bug reports
# tried on evently, each answered as a careful box office would.  The SQL
# side of each is in sql/11_box_office.sql; this file proves the REST routes
# give the same answers with the right status and stable code.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;
use IO::Socket::INET;
use JSON::PP qw(encode_json);

my $t = ShimTest->new;
my ($status, $json);
my $admin = $t->login('admin@gmail.com')->{access_token};
my $buyer = $t->login('mitshah2406@gmail.com')->{access_token};
my $other = $t->login('mitshah2406.work@gmail.com')->{access_token};
my $sql = sub { $t->node->safe_psql('evently', shift) };

my $template = $sql->("SELECT id FROM evently.venue_templates WHERE name = 'Small Theater'");
my ($premium) = split /\n/, $sql->("SELECT id FROM evently.venue_sections WHERE template_id = '$template' ORDER BY name");
my $in = sub { $sql->(qq{SELECT to_char(now() + interval '$_[0]', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')}) };

# an event with a policy allowing cancellation until next week
sub new_event
{
	my (%change) = @_;
	my ($s, $j) = $t->as($admin, POST => '/api/v1/admin/events', { name => 'Box Office', venue => 'Main Hall',
		venue_template_id => $template, date_time => $in->('20 days'), base_price => 100,
		section_pricing => [ { section_id => $premium, price_multiplier => 1 } ], %change });
	die "event: $s " . explain($j) unless $s == 201;
	my $id = $j->{data}{id};
	($s, $j) = $t->as($admin, POST => "/api/v1/admin/events/$id/cancellation-policy", { allow_cancellation => JSON::PP::true,
		cancellation_deadline => $in->('7 days'), fee_type => 'NONE', fee_amount => 0 });
	die "policy: $s " . explain($j) unless $s == 201 || $s == 200;
	return $id;
}
sub seats { my ($event, @numbers) = @_; my $list = join ',', map {"'$_'"} @numbers;
	[ split /\n/, $sql->("SELECT seat_id FROM evently.event_seats('$event') WHERE seat_number IN ($list) ORDER BY seat_number") ] }
sub hold { my ($token, $event, @numbers) = @_;
	return $t->as($token, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => seats($event, @numbers) }) }
sub book
{
	my ($token, $event, @numbers) = @_;
	my ($s, $j) = hold($token, $event, @numbers);
	die "hold: $s " . explain($j) unless $s == 201 || $s == 200;
	($s, $j) = $t->as($token, POST => '/api/v1/bookings/confirm',
		{ hold_id => $j->{data}{hold_id}, event_id => $event, payment_method => 'card' });
	die "confirm: $s " . explain($j) unless $s == 201 || $s == 200;
	return $j->{data}{booking_id};
}

# 1. no money back once the event has happened
my $show = new_event();
my $booking = book($buyer, $show, 'A1');
$sql->("UPDATE evently.events SET date_time = now() - interval '1 hour' WHERE id = '$show'");
($status, $json) = $t->as($buyer, POST => "/api/v1/bookings/$booking/cancel", {});
is($status, 422, 'cancelling after the start is refused (422)');
is($json->{code}, 'CANCELLATION_REFUSED', '... as CANCELLATION_REFUSED') or diag explain $json;
is($json->{hint}, 'Only cancelling the event refunds its bookings now.', '... with the hint');
is($sql->("SELECT status FROM evently.payments WHERE booking_id = '$booking'"), 'COMPLETED', 'no refund');

# 2. cancelling an event refunds every booking in full, whatever the policy
my $gala = new_event();
$t->as($admin, POST => "/api/v1/admin/events/$gala/cancellation-policy", { allow_cancellation => JSON::PP::false,
	cancellation_deadline => $in->('7 days'), fee_type => 'NONE', fee_amount => 0 });
my $gala_booking = book($buyer, $gala, 'A1', 'A2');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$gala", { status => 'cancelled' });
is($status, 200, 'the ADMIN cancels the event');
is($sql->("SELECT b.status || ' ' || p.status || ' ' || (p.refund_amount = b.total_price)
             FROM evently.bookings b JOIN evently.payments p ON p.booking_id = b.id WHERE b.id = '$gala_booking'"),
	'CANCELLED REFUNDED true', 'the booking is cancelled and refunded in full');
($status, $json) = $t->as($buyer, POST => "/api/v1/bookings/$gala_booking/cancel", {});
is("$status $json->{code}", '409 ALREADY_PROCESSED', 'cancelling it again: already processed');

# 3. an idempotency key reused with another request
my $fair = new_event();
($status, $json) = $t->as($buyer, POST => '/api/v1/seats/hold', { event_id => $fair, seat_ids => seats($fair, 'A1') },
	{ 'Idempotency-Key' => 'k1' });
ok($status == 201 || $status == 200, 'a hold with key k1');
my $first = $json->{data}{hold_id};
($status, $json) = $t->as($buyer, POST => '/api/v1/seats/hold', { event_id => $fair, seat_ids => seats($fair, 'A2') },
	{ 'Idempotency-Key' => 'k1' });
is("$status $json->{code}", '409 IDEMPOTENCY_CONFLICT', 'the same key for other seats: 409') or diag explain $json;
($status, $json) = $t->as($buyer, POST => '/api/v1/seats/hold', { event_id => $fair, seat_ids => seats($fair, 'A1') },
	{ 'Idempotency-Key' => 'k1' });
is($json->{data}{hold_id}, $first, 'the same key for the same seats: the first hold');

# 4. a price changed while a seat is held applies once it is freed
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$fair", { base_price => 200 });
is($status, 200, 'the base price becomes 200 while A1 is held at 100');
($status) = $t->as($buyer, DELETE => "/api/v1/seats/hold/$first");
is($status, 200, 'released');
($status, $json) = hold($other, $fair, 'A1');
is($json->{data}{total_price}, 200, 'the next buyer pays 200 for A1, like every other seat');

# 5. a search string is literal
($status, $json) = $t->request(GET => '/api/v1/events?search=%25');
is($json->{data}{total_count}, 0, 'search=% finds no event (no wildcard)');

# 6. precision is never lost silently
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$fair", { base_price => 0.004 });
is("$status $json->{message}", '422 base_price has more than 2 decimals', 'a base price of 0.004 is refused, naming it');
# ... and a price with two decimals arrives as it was sent: the shim carries
# JSON numbers to SQL and back without binary noise (19.99, not 19.989999999999998)
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$fair", { base_price => 19.99, name => 'Price Probe' });
is("$status $json->{data}{base_price}", '200 19.99', 'a base price of 19.99 is kept');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/events?search=Price%20Probe');
like($json->{data}{events}[0]{base_price}, qr/^19\.99$/, 'and a list with pages (re-serialised by the shim) shows 19.99');
($status, $json) = $t->as($admin, POST => '/api/v1/admin/events', { name => 'Odd', venue => 'Hall',
	venue_template_id => $template, date_time => $in->('9 days'), base_price => 10,
	section_pricing => [ { section_id => $premium, price_multiplier => 1.3333 } ] });
is("$status $json->{message}", '422 price_multiplier has more than 2 decimals', 'a multiplier of 1.3333 too');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$fair/cancellation-policy", { allow_cancellation => JSON::PP::true,
	cancellation_deadline => $in->('7 days'), fee_type => 'PERCENTAGE', fee_amount => 12.3456 });
is("$status $json->{message}", '422 fee_amount has more than 2 decimals', 'a fee of 12.3456 % too');

# 7. bad parameters answered in our words
for my $query ('limit=abc', 'offset=-1')
{
	($status, $json) = $t->as($admin, GET => "/api/v1/admin/bookings?$query");
	is("$status $json->{code} $json->{message}", '422 INVALID_ARGUMENT Invalid query parameters', "admin bookings ?$query");
}
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$fair", { date_time => '2099-01-01T10:00:00+24:00' });
is("$status $json->{code} $json->{message}", '422 INVALID_ARGUMENT invalid date_time', 'an offset of +24:00');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$fair", { date_time => '2099-01-01t10:00:00z' });
is($status, 200, 'a lower-case t and z are RFC 3339 too');

# 8. an update applies each field or refuses it
my $other_template = $sql->("SELECT id FROM evently.venue_templates WHERE id <> '$template' LIMIT 1");
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$fair", { venue_template_id => $other_template });
is("$status $json->{message}", '422 venue_template_id cannot change', 'another venue is refused, not ignored');

# 10. max_tickets_per_user counts held and bought seats together
my $capped = new_event(max_tickets_per_user => 3);
is($sql->("SELECT max_tickets_per_user FROM evently.events WHERE id = '$capped'"), 3, 'the cap is set at creation');
book($buyer, $capped, 'A1', 'A2');
($status, $json) = hold($buyer, $capped, 'A3', 'A4');
is("$status $json->{code}", '422 LIMIT_EXCEEDED', 'two more seats after buying two: over the cap of 3');
($status, $json) = hold($buyer, $capped, 'A3');
ok($status == 201 || $status == 200, 'one more is within it');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$capped", { max_tickets_per_user => 1001 });
is($status, 422, 'a cap over 1000 is refused');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$capped", { max_tickets_per_user => undef });
is($json->{data}{max_tickets_per_user}, undef, 'null lifts the cap');

# 11. an update names only fields it knows, and none of them null
my $fair_name = $sql->("SELECT name FROM evently.events WHERE id = '$fair'");
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$fair", { nmae => 'Typo' });
is($status, 422, 'an unknown field is refused, not ignored') or diag explain $json;
ok(exists $json->{details}{nmae}, '... naming it') or diag explain $json;
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$fair", { name => undef });
is($status, 422, 'a null name is refused, not read as "leave it"') or diag explain $json;
is($sql->("SELECT name FROM evently.events WHERE id = '$fair'"), $fair_name, 'the event is unchanged');

# 12. a number a double cannot carry is refused, not rounded
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$fair", '{"base_price": 120.000000000000000001}');
is("$status $json->{code}", '400 INVALID_JSON', '21 significant digits: refused') or diag explain $json;
is($json->{details}{position}, 15, '... at the number');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$fair", '{"base_price": 120.50000000000000000000}');
is($status, 200, 'zeros at the end carry no precision: accepted') or diag explain $json;
is($sql->("SELECT base_price FROM evently.events WHERE id = '$fair'"), '120.50', '... as 120.50');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$fair",
	'{"description": "pi is 3.14159265358979323846", "base_price": 120.5}');
is($status, 200, 'digits inside a string are no number') or diag explain $json;

# 13. one idempotency key per request: header or body, the same if both
my $keyed = new_event();
($status, $json) = $t->as($buyer, POST => '/api/v1/seats/hold',
	{ event_id => $keyed, seat_ids => seats($keyed, 'A1'), idempotency_key => 'body-key' });
ok($status == 201 || $status == 200, 'a hold keyed in the body');
my $body_keyed = $json->{data}{hold_id};
($status, $json) = $t->as($buyer, POST => '/api/v1/seats/hold', { event_id => $keyed, seat_ids => seats($keyed, 'A1') },
	{ 'Idempotency-Key' => 'body-key' });
is($json->{data}{hold_id}, $body_keyed, 'the same key in the header is the same request');
($status, $json) = $t->as($buyer, POST => '/api/v1/seats/hold',
	{ event_id => $keyed, seat_ids => seats($keyed, 'A2'), idempotency_key => 'one' }, { 'Idempotency-Key' => 'two' });
is("$status $json->{code}", '422 INVALID_ARGUMENT', 'two different keys: refused') or diag explain $json;
# (HTTP::Tiny sends no such header: a raw request does)
my ($port) = $t->{base} =~ /:(\d+)$/;
my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5) or die $!;
my $hold_body = encode_json({ event_id => $keyed, seat_ids => seats($keyed, 'A2') });
print $sock "POST /api/v1/seats/hold HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer $buyer\r\n"
  . "Content-Type: application/json\r\nIdempotency-Key: caf\xe9\r\nContent-Length: " . length($hold_body) . "\r\n\r\n$hold_body";
my $answer = '';
while (my $n = sysread($sock, my $chunk, 65536)) { $answer .= $chunk }
close $sock;
like($answer, qr{^HTTP/1\.1 400 .*"code":"INVALID_HEADER"}s, 'a key that is not UTF-8: 400 INVALID_HEADER');

is($t->stop_shim, 0, 'clean stop');
done_testing();
