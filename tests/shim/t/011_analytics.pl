# All 13 analytics routes: 200 with numbers (never NaN, never a 500) on a
# database with no bookings, then the formulas on a few known bookings.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my ($status, $json, $res);
my $admin = $t->login('admin@gmail.com')->{access_token};
my $user = $t->login('mitshah2406@gmail.com');
my $tu = $user->{access_token};

my @admin_routes = qw(dashboard events tags tags/popularity tags/trends tags/comparisons
	bookings bookings/daily bookings/cancellations users);
my $event = $t->node->safe_psql('evently', "SELECT id FROM evently.events WHERE name = 'Tech Conference 2024'");
my @all = ((map { "/api/v1/analytics/admin/$_" } @admin_routes), "/api/v1/analytics/admin/events/$event",
	'/api/v1/analytics/user/bookings/history', '/api/v1/analytics/user/personal');
is(scalar @all, 13, 'thirteen routes');

for my $path (@all)
{
	($status, $json, $res) = $t->as($admin, GET => $path);
	is($status, 200, "empty database: $path answers");
	unlike($res->{content}, qr/NaN|Infinity/, "empty database: $path has no NaN");
}
($status, $json) = $t->as($tu, GET => '/api/v1/analytics/admin/dashboard');
is($status, 403, 'a USER may not read admin analytics');

# two bookings of the Tech Conference (General 1500 a seat), one cancelled
my @seats = split /\n/, $t->node->safe_psql('evently',
	"SELECT seat_id FROM evently.event_seats('$event') WHERE section = 'General' ORDER BY seat_number LIMIT 3");
my @bookings;
for my $pick ([ @seats[0, 1] ], [ $seats[2] ])
{
	($status, $json) = $t->as($tu, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => $pick });
	($status, $json) = $t->as($tu, POST => '/api/v1/bookings/confirm',
		{ hold_id => $json->{data}{hold_id}, event_id => $event, payment_method => 'card' });
	push @bookings, $json->{data}{booking_id};
}
$t->as($tu, POST => "/api/v1/bookings/$bookings[1]/request-cancel", { reason => 'double booked' });

($status, $json) = $t->as($admin, GET => '/api/v1/analytics/admin/bookings');
my $o = $json->{data}{overview};
is_deeply([ @$o{qw(total_bookings confirmed_bookings cancelled_bookings total_revenue)} ], [ 2, 1, 1, 3000 ],
	'bookings: two, one confirmed for 3000, one cancelled');
is($o->{cancellation_rate}, 50, 'cancellation rate 50%');
is($o->{average_booking_size}, 2, 'average booking size 2 seats');
is($o->{average_ticket_price}, 1500, 'average ticket price 1500');

($status, $json) = $t->as($admin, GET => '/api/v1/analytics/admin/bookings/cancellations');
is($json->{data}{overview}{total_cancellations}, 1, 'one cancellation');
is($json->{data}{overview}{fees_collected}, 150, 'its 10% fee');
is($json->{data}{cancellation_reasons}[0]{reason}, 'double booked', 'and its reason');

($status, $json) = $t->as($admin, GET => "/api/v1/analytics/admin/events/$event");
is($json->{data}{total_revenue}, 3000, 'event revenue');
is($json->{data}{capacity_utilization}, sprintf('%.2f', 100 * 2 / 28) + 0, 'two of 28 seats booked');

($status, $json) = $t->as($admin, GET => '/api/v1/analytics/admin/users');
is_deeply([ @{ $json->{data}{overview} }{qw(total_users active_users retention_rate)} ], [ 1, 1, 100 ],
	'one booker, active: retention 100%');

($status, $json) = $t->as($admin, GET => '/api/v1/analytics/admin/tags/popularity');
my ($tech) = grep { $_->{tag_name} eq 'Technology' } @{ $json->{data} };
is($tech->{total_revenue}, 3000, 'Technology earned 3000');

($status, $json) = $t->as($tu, GET => '/api/v1/analytics/user/bookings/history');
is($json->{data}{overview}{total_spent}, 3000, 'the user spent 3000');
is($json->{data}{overview}{favorite_venue}, 'Tech Hub Convention Center', 'favourite venue');
is(scalar @{ $json->{data}{booking_history} }, 2, 'both bookings in the history');
($status, $json) = $t->as($tu, GET => '/api/v1/analytics/user/personal');
ok(grep({ $_->{id} eq 'high_roller' } @{ $json->{data}{achievements} }), 'high roller: 3000 in a month');

($status, $json, $res) = $t->as($admin, GET => '/api/v1/analytics/admin/dashboard');
is($json->{data}{overview}{total_revenue}, 3000, 'the dashboard agrees');
unlike($res->{content}, qr/NaN|Infinity/, 'no NaN anywhere');

is($t->stop_shim, 0, 'clean stop');
done_testing();
