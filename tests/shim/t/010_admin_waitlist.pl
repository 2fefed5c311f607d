# Waitlist administration and event analytics over HTTP; analytics of an
# empty database are zeros, never NaN or a 500.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my ($status, $json, $res);
my $admin = $t->login('admin@gmail.com')->{access_token};
my $a = $t->login('mitshah2406@gmail.com')->{access_token};
my $b = $t->login('mitshah2406.work@gmail.com')->{access_token};

# empty database: numbers, not NaN, not 500
($status, $json, $res) = $t->as($admin, GET => '/api/v1/admin/events/analytics');
is($status, 200, 'global event analytics answer on an empty database');
is_deeply([ @{ $json->{data} }{qw(total_bookings total_revenue average_utilization)} ], [ 0, 0, 0 ], 'with zeros');
unlike($res->{content}, qr/NaN|Infinity/, 'and no NaN');
is($json->{data}{events_by_status}{published}, 6, 'six published events');

my $event = $t->node->safe_psql('evently', q{
	WITH tpl AS (SELECT evently.create_venue_template('Solo') AS id),
	     sec AS (SELECT evently.add_section(id, 'Main', 'A', 'A', 1) FROM tpl)
	SELECT evently.create_event('Solo Show', (SELECT id FROM tpl), now() + interval '10 days', 50) FROM sec});
$t->node->safe_psql('evently', "SELECT evently.set_cancellation_policy('$event', true, now() + interval '9 days', 'NONE', 0)");
my ($seat) = $t->node->safe_psql('evently', "SELECT seat_id FROM evently.event_seats('$event')");
($status, $json) = $t->as($admin, GET => "/api/v1/admin/events/$event/analytics");
is_deeply([ @{ $json->{data} }{qw(total_bookings capacity_utilization cancellation_rate)} ], [ 0, 0, 0 ], 'an unsold event: zeros');

($status, $json) = $t->as($a, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [$seat] });
($status, $json) = $t->as($a, POST => '/api/v1/bookings/confirm', { hold_id => $json->{data}{hold_id}, event_id => $event, payment_method => 'card' });
my $booking = $json->{data}{booking_id};
$t->as($b, POST => '/api/v1/waitlist', { event_id => $event });
$t->as($admin, POST => '/api/v1/waitlist', { event_id => $event });

($status, $json) = $t->as($a, GET => "/api/v1/admin/waitlist/stats/$event");
is($status, 403, 'a USER may not read waitlist stats');
($status, $json) = $t->as($admin, GET => "/api/v1/admin/waitlist/stats/$event");
is_deeply([ @{ $json->{data} }{qw(total_in_queue active_in_queue notified_count)} ], [ 2, 2, 0 ], 'two waiting');
($status, $json) = $t->as($admin, GET => "/api/v1/admin/waitlist/entries/$event?limit=1");
is(scalar @{ $json->{data} }, 1, 'entries, one page of one');
is_deeply($json->{pagination}, { page => 1, limit => 1, total => 2, total_pages => 2 }, 'pagination beside data');
($status, $json) = $t->as($admin, GET => "/api/v1/admin/waitlist/entries/$event?status=LOST");
is($status, 422, 'an unknown status filter is 422');

($status, $json) = $t->as($admin, POST => "/api/v1/admin/waitlist/notify/$event", { available_tickets => 1 });
is(scalar @{ $json->{data}{offers} }, 0, 'nothing free: no offers, whatever number is claimed');
($status, $json) = $t->as($admin, POST => "/api/v1/admin/waitlist/notify/$event", { available_tickets => 0 });
is($status, 422, 'available_tickets 0 is 422');
($status, $json) = $t->as($admin, POST => "/api/v1/admin/waitlist/cancellation/$event", { freed_tickets => 1 });
is($status, 200, 'the cancellation route promotes too');
is(scalar @{ $json->{data}{offers} }, 0, 'and offers only seats actually free');

$t->as($a, POST => "/api/v1/bookings/$booking/request-cancel", { reason => 'moving' });
($status, $json) = $t->as($admin, GET => "/api/v1/admin/waitlist/stats/$event");
is_deeply([ @{ $json->{data} }{qw(active_in_queue notified_count)} ], [ 1, 1 ], 'the first in line was offered the seat');

($status, $json) = $t->as($admin, GET => "/api/v1/admin/events/$event/analytics");
is($json->{data}{cancellation_rate}, 100, 'one booking, cancelled: 100%');
($status, $json) = $t->as($admin, GET => "/api/v1/admin/events/$event/bookings");
is($json->{data}{count}, 1, 'the event\'s bookings, for an ADMIN');
($status, $json, $res) = $t->as($admin, GET => '/api/v1/admin/events/analytics');
is($json->{data}{total_events}, 7, 'seven events now');
unlike($res->{content}, qr/NaN|Infinity/, 'still no NaN');

is($t->stop_shim, 0, 'clean stop');
done_testing();
