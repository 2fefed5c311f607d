# The shim's skeleton over HTTP: root routes, the envelope, the SQLSTATE to
# HTTP mapping, path validation, the body limit, reconnecting to PostgreSQL,
# and a clean stop on SIGTERM.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my ($status, $json);

($status, $json) = $t->request(GET => '/ping');
is($status, 200, 'ping answers 200');
is_deeply([ @$json{qw(status status_code message)} ], [ 'success', 200, 'pong' ], 'ping envelope');

($status, $json) = $t->request(GET => '/status');
is($json->{data}{status}, 'operational', 'status says operational');

($status, $json) = $t->request(GET => '/health');
is($status, 200, 'health answers 200');
is($json->{data}{database}, 'ok', 'health reaches the database');
ok(exists $json->{data}{outbox_lag_rows}, 'health reports the outbox lag');

# an event of the seed data, with the reference's field names
my $event_id = $t->node->safe_psql('evently',
	"SELECT id FROM evently.events WHERE name = 'Tech Conference 2024'");
($status, $json) = $t->request(GET => "/api/v1/events/$event_id");
is($status, 200, 'event found');
my $event = $json->{data};
for my $field (qw(id name description venue venue_template_id venue_sections date_time
	total_capacity booked_count available_tickets base_price status image_url tags created_at updated_at))
{
	ok(exists $event->{$field}, "event has $field");
}
is($event->{total_capacity}, 28, 'Conference Hall has 28 seats');
is($event->{available_tickets}, 28, 'all of them available');
is(scalar @{ $event->{tags} }, 2, 'two tags');
is_deeply([ map { $_->{price} } @{ $event->{venue_sections} } ], [ 1500, 3000 ],
	'section prices: General 1500, VIP 2 x 1500');

# a held seat is not available
$t->node->safe_psql('evently', qq{
	SELECT evently.hold_seats('$event_id', (SELECT id FROM evently.users WHERE email = 'mitshah2406\@gmail.com'),
	       ARRAY(SELECT seat_id FROM evently.event_seats('$event_id') LIMIT 3))});
# (no-cache: the first read above may be served from the read cache for a second)
($status, $json) = $t->request(GET => "/api/v1/events/$event_id", undef, { 'Cache-Control' => 'no-cache' });
is($json->{data}{available_tickets}, 25, 'held seats are not available');

# the sweeper: a lapsed hold is expired within a second or two, no request needed
my $short = $t->node->safe_psql('evently', qq{
	SELECT evently.hold_seats('$event_id', (SELECT id FROM evently.users WHERE email = 'mitshah2406.work\@gmail.com'),
	       ARRAY(SELECT seat_id FROM evently.event_seats('$event_id') WHERE status = 'AVAILABLE' LIMIT 1),
	       '1 second') ->> 'hold_id'});
ok($t->node->poll_query_until('evently',
	"SELECT status = 'EXPIRED' FROM evently.holds WHERE id = '$short'"), 'the shim\'s sweeper expires lapsed holds');

# errors: one envelope, stable codes
($status, $json) = $t->request(GET => '/api/v1/events/00000000-0000-4000-8000-000000000000');
is($status, 404, 'unknown event is 404');
is_deeply([ @$json{qw(status status_code code)} ], [ 'error', 404, 'NOT_FOUND' ], 'error envelope');
is($json->{details}{sqlstate}, 'EV002', 'the SQLSTATE travels in details');
ok(length $json->{message} && length $json->{error}, 'message and error are set');
ok(!exists $json->{hint}, 'no hint when the error has none (SQL raises it with HINT \'\')');

($status, $json) = $t->request(GET => '/api/v1/events/not-a-uuid');
is($status, 400, 'a malformed id is 400');
is($json->{code}, 'INVALID_ID', 'before any SQL runs');

($status, $json) = $t->request(GET => "/api/v1/events/$event_id'%20OR%201=1");
is($status, 400, 'SQL metacharacters in a path id are 400');

($status, $json) = $t->request(GET => '/api/v1/nothing/here');
is($status, 404, 'unknown route is 404');
is($json->{code}, 'ROUTE_NOT_FOUND', 'in the envelope');

($status, $json) = $t->request(POST => '/ping', 'x' x (2 * 1024 * 1024));
is($status, 413, 'a 2 MiB body is 413');
is($json->{code}, 'PAYLOAD_TOO_LARGE', 'in the envelope');

# Prometheus metrics
my (undef, undef, $metrics) = $t->request(GET => '/metrics');
is($metrics->{status}, 200, '/metrics answers');
like($metrics->{headers}{'content-type'}, qr{^text/plain}, 'in the Prometheus text format');
like($metrics->{content}, qr/^evently_http_requests_total\{route="GET \/ping",status="2xx"\} [1-9]/m,
	'requests by route and status');
like($metrics->{content}, qr/^evently_http_requests_total\{route="GET \/api\/v1\/events\/:eventId",status="4xx"\} [1-9]/m,
	'errors counted by class');
like($metrics->{content}, qr/^evently_http_request_duration_seconds_bucket\{le="\+Inf"\} [1-9]/m, 'a latency histogram');
like($metrics->{content}, qr/^evently_db_pool_connections\{state="idle"\} \d+/m, 'pool use');
like($metrics->{content}, qr/^evently_outbox_lag_rows \d+/m, 'the outbox lag');

# the API describes itself
my (undef, undef, $raw) = $t->request(GET => '/');
is($raw->{status}, 301, '/ redirects');
is($raw->{headers}{location}, '/health', 'to /health');
($status, $json) = $t->request(GET => '/openapi.json');
is($json->{openapi}, '3.0.3', 'an OpenAPI document');
my $operations = 0;
$operations += scalar keys %{ $json->{paths}{$_} } for keys %{ $json->{paths} };
cmp_ok($operations, '>=', 75, "generated from the route table: $operations operations");
ok($json->{paths}{'/api/v1/seats/hold'}{post}{requestBody}, 'with request bodies');
ok($json->{paths}{'/api/v1/events/{eventId}'}{get}, 'and path parameters');
(undef, undef, $raw) = $t->request(GET => '/docs');
like($raw->{content}, qr{/docs/swagger-ui-bundle.js}, '/docs is Swagger UI from local files');
unlike($raw->{content}, qr{https?://}, 'no CDN');
(undef, undef, $raw) = $t->request(GET => '/docs/swagger-ui-bundle.js');
is($raw->{status}, 200, 'its script is served');
cmp_ok(length $raw->{content}, '>', 100000, 'whole');
(undef, undef, $raw) = $t->request(GET => '/docs/..%2F..%2F..%2Fetc%2Fpasswd');
isnt($raw->{status}, 200, 'and nothing else');

# PostgreSQL restarts: the pool reconnects by itself
$t->node->restart;
($status, $json) = $t->request(GET => '/health');
($status, $json) = $t->request(GET => '/health') if $status != 200;
is($status, 200, 'healthy again after PostgreSQL restarted');

$t->node->stop;
($status, $json) = $t->request(GET => '/health');
is($status, 503, 'unhealthy while PostgreSQL is down');
is($json->{code}, 'UNHEALTHY', 'with a stable code');
my (undef, $down, $downres) = $t->request(GET => "/api/v1/events/$event_id");
is($downres->{status}, 503, 'a route needing the database is 503 meanwhile');
is($down->{code}, 'DATABASE_UNAVAILABLE', 'DATABASE_UNAVAILABLE');
ok($downres->{headers}{'retry-after'}, 'with Retry-After');
$t->node->start;

is($t->stop_shim, 0, 'SIGTERM stops the shim cleanly');
like($t->log, qr/"path":"\/ping","status":200/, 'one JSON access-log line per request');
like($t->log, qr/evently-shim stopped/, 'after draining in-flight requests');

done_testing();
