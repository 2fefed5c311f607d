# One shard down (SPEC section 13): its events answer 503
# DATABASE_UNAVAILABLE within seconds, never a 500 or a hang; the other
# shard's events are still sold; users still sign in (sign-ins commit on the
# global primary without waiting for the shards); the calls that need every
# shard (lists) answer 503 as well; once the shard is back, so are its events.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;
use Time::HiRes qw(time);

my $t = ShimTest->new;    # EVENTLY_SCALEOUT (tests/scaleout/run.sh): the shim on the proxy
my $node = $t->node;
my $buyer = $t->login('mitshah2406@gmail.com')->{access_token};
my $fresh = { 'Cache-Control' => 'no-cache' };
my ($status, $json) = $t->request(GET => '/api/v1/events?limit=100', undef, $fresh);
my %event_of;    # bucket -> an event of that shard
$event_of{ hex substr($_->{id}, 0, 4) } //= $_->{id} for @{ $json->{data}{events} };
ok($event_of{1} && $event_of{2}, 'the seed has events on both shards');

$node->stop_shard(1);
my $started = time;
($status, $json) = $t->request(GET => "/api/v1/events/$event_of{2}", undef, $fresh);
my $took = time - $started;
is("$status $json->{code}", '503 DATABASE_UNAVAILABLE', "an event of the stopped shard: 503 DATABASE_UNAVAILABLE")
  or diag explain $json;
cmp_ok($took, '<', 10, sprintf('within seconds (%.1f s)', $took));
my (undef, undef, $res) = $t->request(GET => "/api/v1/events/$event_of{2}", undef, $fresh);
unlike($res->{content}, qr/PL\/Proxy|PQconnect|REMOTE/, 'no word of PL/Proxy reaches the client');

($status, $json) = $t->request(GET => "/api/v1/events/$event_of{1}", undef, $fresh);
is($status, 200, 'an event of the other shard is read');
($status, $json) = $t->as($buyer, GET => "/api/v1/events/$event_of{1}/venue/layout");
my ($seat) = map { $_->{id} } grep { $_->{status} eq 'AVAILABLE' } map { @{ $_->{seats} } } @{ $json->{data}{sections} };
($status, $json) = $t->as($buyer, POST => '/api/v1/seats/hold', { event_id => $event_of{1}, seat_ids => [$seat] });
is($status, 200, 'and its seats are held');

$started = time;
my $login = $t->login('mitshah2406.work@gmail.com');
$took = time - $started;
ok($login->{access_token}, 'a user signs in');
cmp_ok($took, '<', 3, sprintf('without waiting for the stopped shard (%.1f s)', $took));

($status, $json) = $t->request(GET => '/api/v1/events', undef, $fresh);
is("$status $json->{code}", '503 DATABASE_UNAVAILABLE', 'a list that needs every shard: 503');

$node->start_shard(1);
my $back;
for (1 .. 60)
{
	($status) = $t->request(GET => "/api/v1/events/$event_of{2}", undef, $fresh);
	last if ($back = $status == 200);
	select(undef, undef, undef, 0.5);
}
ok($back, 'once the shard is back, so are its events');
($status) = $t->request(GET => '/api/v1/events', undef, $fresh);
is($status, 200, 'and the lists');

is($t->stop_shim, 0, 'clean stop');
done_testing();
