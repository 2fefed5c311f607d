# Lists across shards (SPEC section 13): with events spread over two
# shards, every list page and filter asked of the proxy equals the answer of
# one database holding the same data, the reporting database, which
# subscribes to the global primary and to both shards (compared as JSON);
# the admin's analytics, answered there, add up the shards.
use strict;
use warnings;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/../../lib';
use JSON::PP;
use ScaleoutCluster;
use Test::More;

my $c = ScaleoutCluster->new('lists');
my $proxy = sub { $c->psql_on($c->proxy_su, $_[0]) };
my $global = sub { $c->psql_on($c->global_su, $_[0]) };

my $admin = $global->("SELECT id FROM evently.users WHERE email = 'admin\@gmail.com'");
my $buyer = $global->("SELECT id FROM evently.users WHERE email = 'mitshah2406\@gmail.com'");
my $hall = $global->("SELECT id FROM evently.venue_templates WHERE name = 'Small Theater'");

# 24 events placed in turn on the two shards: names, venues, tags, prices
# and dates vary; some share a date (the order then goes by id)
$proxy->(qq{
	SELECT evently.create_event(
	           CASE WHEN i % 3 = 0 THEN 'Jazz Night ' ELSE 'Rock Show ' END || i, '$hall',
	           date_trunc('day', now()) + make_interval(days => 5 + i / 2, hours => 20), 10 + (i * 7) % 40,
	           '$admin', CASE WHEN i % 2 = 0 THEN 'Blue Room' ELSE 'Red Hall' END, 'show number ' || i, '{}',
	           CASE WHEN i % 4 = 0 THEN ARRAY['music'] WHEN i % 4 = 1 THEN ARRAY['technology', 'music'] ELSE '{}' END,
	           jsonb_build_object('category', CASE WHEN i % 2 = 0 THEN 'music' ELSE 'arts' END))
	  FROM generate_series(1, 24) i});
my @buckets = split /\n/, $proxy->(
	"SELECT evently_proxy.bucket(e->>'id') FROM jsonb_array_elements(evently.api_events_list(NULL, '{\"query\": {\"limit\": \"100\"}}')->'events') e");
my %per_bucket;
$per_bucket{$_}++ for @buckets;
is_deeply([ sort keys %per_bucket ], [ 1, 2 ], 'the events are on both shards');
cmp_ok($per_bucket{$_}, '>=', 12, "shard $_ holds at least 12 events") for 1, 2;

# the buyer's bookings, cancellations, holds, orders and waitlist entries on both shards
my @events = split /\n/, $proxy->(
	"SELECT e->>'id' FROM jsonb_array_elements(evently.api_events_list(NULL, '{\"query\": {\"limit\": \"100\"}}')->'events') e");
for my $i (0 .. 9)
{
	my $ev = $events[$i];
	$proxy->("SELECT evently.set_cancellation_policy('$ev', true, now() + interval '4 days', 'NONE', 0)");
	my $seats = "ARRAY(SELECT seat_id FROM evently.event_seats('$ev') ORDER BY seat_id LIMIT 2)";
	my $hold = $proxy->("SELECT evently.hold_seats('$ev', '$buyer', $seats) ->> 'hold_id'");
	if ($i < 6)
	{
		my $booking = $proxy->("SELECT evently.confirm_booking('$hold', '$buyer') ->> 'booking_id'");
		$proxy->("SELECT evently.cancel_with_policy('$booking', '$buyer', 'plans changed')") if $i % 3 == 0;
	}
	elsif ($i < 8)
	{
		$proxy->(qq{SELECT evently.api_order_create('$buyer', jsonb_build_object('body',
			jsonb_build_object('hold_id', '$hold', 'payment_provider', 'mock')))});
	}
}
$proxy->("SELECT evently.join_waitlist('$_', '$buyer', 2)") for @events[ 12 .. 15 ];
$proxy->("SELECT evently.api_event_cancel('$admin', jsonb_build_object('path', jsonb_build_object('eventId', '$_'),
	'body', '{\"reason\": \"storm\"}'::jsonb))") for @events[ 20 .. 21 ];

# an answer without what changes by the second (a hold's seconds left, a wait's estimate)
sub steady
{
	my ($doc) = @_;
	if (ref $doc eq 'HASH')
	{
		delete @$doc{qw(ttl_seconds estimated_wait)};
		steady($_) for values %$doc;
	}
	elsif (ref $doc eq 'ARRAY') { steady($_) for @$doc }
	return $doc;
}

# the same call on the proxy and on one database
sub same
{
	my ($fn, $actor, $req, $what) = @_;
	my $call = sprintf("SELECT evently.%s(%s, %s::jsonb)", $fn, $actor ? "'$actor'" : 'NULL',
		$c->quote(encode_json($req)));
	my $sharded = $c->psql_on($c->proxy_su, $call);
	$c->report_catch_up;
	my $one = $c->psql_on($c->report_su, $call);
	my ($a, $b) = (steady(decode_json($sharded)), steady(decode_json($one)));
	is_deeply($a, $b, "$fn $what") or diag("proxy: $sharded\none database: $one");
	return $a;
}

my $page = same('api_events_list', undef, { query => { limit => '5' } }, 'page 1 of 5');
my $listed = 0;
$listed += $c->psql_on($c->shard_su($_), "SELECT count(*) FROM evently.events WHERE status NOT IN ('draft', 'under_review')")
  for 0 .. $c->shard_count - 1;
is($page->{total_count}, $listed, "counts the listed events of both shards ($listed)");
same('api_events_list', undef, { query => { limit => '5', page => "$_" } }, "page $_ of 5") for 2 .. 6;
same('api_events_list', undef, { query => {} }, 'the default page');
same('api_events_list', undef, { query => { limit => '100' } }, 'one page of 100');
same('api_events_list', undef, { query => { search => 'jazz', limit => '3', page => '2' } }, 'a search, page 2');
same('api_events_list', undef, { query => { venue => 'blue', limit => '4', page => '3' } }, 'a venue');
same('api_events_list', undef, { query => { tags => 'Music', limit => '4', page => '2' } }, 'a tag');
same('api_events_list', undef, { query => { status => 'cancelled' } }, 'the cancelled');
same('api_events_list', undef,
	{ query => { date_from => substr($c->psql_on($c->proxy_su, "SELECT (now() + interval '8 days')::date"), 0, 10),
			limit => '3', page => '2' } }, 'a date range');

same('api_events_upcoming', undef, { query => { limit => "$_" } }, "upcoming, $_") for 3, 10, 50;

same('api_events_search', undef, { query => { q => 'jazz' } }, 'search by relevance');
same('api_events_search', undef, { query => { q => 'show', sort => 'date', limit => '4', offset => "$_" } },
	"search by date, offset $_") for 0, 4, 8;
same('api_events_search', undef, { query => { sort => 'price', limit => '5', offset => "$_" } },
	"search by price, offset $_") for 0, 5;
same('api_events_search', undef, { query => { category => 'music', min_price => '20' } }, 'search a category and price');

same('api_admin_events_list', $admin, { query => { limit => '7', page => "$_" } }, "admin page $_") for 1 .. 4;
same('api_organizer_events', $admin, { query => { limit => '6', offset => "$_" } }, "organizer events, offset $_")
  for 0, 6, 24;

same('api_user_bookings', $buyer, { query => { limit => '2', offset => "$_" } },
	"the buyer's bookings, offset $_") for 0, 2, 4;
same('api_admin_bookings', $admin, { query => { limit => '3', offset => "$_" } }, "all bookings, offset $_") for 0, 3;
same('api_user_cancellations', $buyer, { query => {} }, "the buyer's cancellations");
my $holds = same('api_user_holds', $buyer, { path => { userId => $buyer } }, "the buyer's holds");
cmp_ok(scalar @$holds, '>=', 2, 'the buyer holds seats on more than one event');
same('api_user_waitlist', $buyer, { query => {} }, "the buyer's waitlist entries");
same('api_orders_mine', $buyer, { query => { limit => '1', offset => "$_" } }, "the buyer's orders, offset $_") for 0, 1;
same('api_tickets_mine', $buyer, { query => { limit => '3', offset => "$_" } }, "the buyer's tickets, offset $_")
  for 0, 3;

# deep pages: more rows than a shard gives at once (100)
$proxy->(qq{SELECT evently.create_event('Filler ' || i, '$hall', now() + make_interval(days => 40, mins => i), 15,
	'$admin') FROM generate_series(1, 150) i});
same('api_events_list', undef, { query => { limit => '50', page => "$_" } }, "deep page $_ of 50") for 3, 4;
same('api_events_search', undef, { query => { limit => '30', offset => '150' } }, 'a deep search page');

# a refusal is one database's
my ($ret, $out, $err) = $c->psql_on_full($c->proxy_su,
	qq{\\set VERBOSITY verbose\nSELECT evently.api_events_list(NULL, '{"query": {"limit": "500"}}')});
like($err, qr/ERROR:\s+EV001: .*Invalid query parameters\nDETAIL:\s+Remote detail: limit=500 is not an integer from 1 to 100\./,
	'a bad limit is refused as on one database (in psql with PL/Proxy\'s prefixes, which the shim strips)');

# the admin's analytics run on the reporting database: its totals add up the shards'
$c->report_catch_up;
my $dashboard = decode_json($proxy->("SELECT evently.api_analytics_dashboard('$admin', '{}')"));
my $booked = 0;
$booked += $c->psql_on($c->shard_su($_), "SELECT count(*) FROM evently.bookings WHERE status = 'CONFIRMED'")
  for 0 .. $c->shard_count - 1;
is($dashboard->{overview}{total_bookings}, $booked, "the dashboard's confirmed bookings are the shards' ($booked)");
my $events = 0;
$events += $c->psql_on($c->shard_su($_), 'SELECT count(*) FROM evently.events') for 0 .. $c->shard_count - 1;
is($dashboard->{overview}{total_events}, $events, "and its events ($events)");

# the admin's audit log: every shard's and the global primary's
my $audit = decode_json($proxy->(qq{SELECT evently.api_admin_audit_logs('$admin', '{"query": {"limit": "100"}}')}));
my $logged = $global->('SELECT count(*) FROM evently.audit_log');
$logged += $c->psql_on($c->shard_su($_), 'SELECT count(*) FROM evently.audit_log') for 0 .. $c->shard_count - 1;
is($audit->{total_count}, $logged, 'the audit log counts every database\'s entries');
my @ids = map { $_->{id} } @{ $audit->{audit_logs} };
is_deeply(\@ids, [ sort { $b <=> $a } @ids ], 'newest id first, as on one database');

$c->teardown;
done_testing();
