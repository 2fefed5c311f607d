# The rate limiter really limits (a token bucket per user, else per client
# address), with the X-RateLimit-* and Retry-After headers; CORS answers only
# the configured origins.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new(RATE_LIMIT_BURST => 5, RATE_LIMIT_PER_MINUTE => 6,
	CORS_ORIGINS => 'https://tickets.example,https://admin.example');
my ($status, $json, $res);

# the start-up probe spent one token of this address; spend the rest
my $event = $t->node->safe_psql('evently', "SELECT id FROM evently.events LIMIT 1");
my @statuses;
for (1 .. 6)
{
	($status, $json, $res) = $t->request(GET => "/api/v1/events/$event");
	push @statuses, $status;
}
ok((grep { $_ == 429 } @statuses), 'the address runs out of tokens: 429');
($status, $json, $res) = $t->request(GET => "/api/v1/events/$event");
is($status, 429, 'and stays limited');
is($json->{code}, 'RATE_LIMITED', 'RATE_LIMITED in the envelope');
ok($res->{headers}{'retry-after'} >= 1, 'Retry-After says when to come back');
is($res->{headers}{'x-ratelimit-limit'}, 5, 'X-RateLimit-Limit');
is($res->{headers}{'x-ratelimit-remaining'}, 0, 'X-RateLimit-Remaining');
ok($res->{headers}{'x-ratelimit-reset'} > time, 'X-RateLimit-Reset is in the future');
($status, $json, $res) = $t->request(GET => "/api/v1/events/$event", undef, { 'X-Forwarded-For' => '10.9.8.7' });
is($status, 429, 'a forged X-Forwarded-For does not reset the bucket');

# a signed-in user has a bucket of her own
my $token = $t->sign({ alg => 'HS256', typ => 'JWT' }, {
	iss => 'evently', type => 'access', role => 'USER', email => 'mitshah2406@gmail.com',
	user_id => $t->node->safe_psql('evently', "SELECT id FROM evently.users WHERE email = 'mitshah2406\@gmail.com'"),
	epoch => 0, iat => time, exp => time + 600 });
($status, $json, $res) = $t->as($token, GET => '/api/v1/auth/me');
is($status, 200, 'a user is limited apart from her address');
is($res->{headers}{'x-ratelimit-remaining'}, 4, 'and spends her own tokens');
($status) = $t->as($token, GET => '/api/v1/auth/me') for 1 .. 5;
is($status, 429, 'until she too runs out');

# CORS: only the allow-list
my $t2 = ShimTest->new(CORS_ORIGINS => 'https://tickets.example');
($status, $json, $res) = $t2->request(GET => '/ping', undef, { Origin => 'https://tickets.example' });
is($res->{headers}{'access-control-allow-origin'}, 'https://tickets.example', 'an allowed origin is echoed');
is($res->{headers}{'access-control-allow-credentials'}, 'true', 'with credentials');
($status, $json, $res) = $t2->request(GET => '/ping', undef, { Origin => 'https://evil.example' });
ok(!exists $res->{headers}{'access-control-allow-origin'}, 'another origin gets no CORS headers');
($status, $json, $res) = $t2->request(OPTIONS => '/api/v1/seats/hold', undef,
	{ Origin => 'https://tickets.example', 'Access-Control-Request-Method' => 'POST' });
is($status, 204, 'a preflight is 204');
like($res->{headers}{'access-control-allow-headers'}, qr/Authorization/, 'allowing Authorization');
like($res->{headers}{'access-control-allow-headers'}, qr/Idempotency-Key/, 'and Idempotency-Key');
like($res->{headers}{'access-control-allow-headers'}, qr/If-None-Match/, 'and If-None-Match (SPEC section 12)');
($status, $json, $res) = $t2->request(GET => '/api/v1/events', undef, { Origin => 'https://tickets.example' });
like($res->{headers}{'access-control-expose-headers'}, qr/\bETag\b/, 'a page may read the ETag');

is($t->stop_shim, 0, 'clean stop');
is($t2->stop_shim, 0, 'clean stop');
done_testing();
