# Where the shim listens: 127.0.0.1 unless LISTEN_ADDRESS names another
# IPv4 or IPv6 literal; a value that is neither stops it at start-up with a
# message (exit 2), before it listens or connects anywhere.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use HTTP::Tiny;
use IO::Socket::IP;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use Test::More;

my $root = $ENV{EVENTLY_ROOT};

# the local addresses of the sockets listening on a TCP port, as ss shows them
sub listening_on
{
	my ($port) = @_;
	my @lines = `ss -Hltn 'sport = :$port'`;
	die "ss failed: $?" if $?;
	return [ sort map { (split ' ')[3] } @lines ];
}

sub connects
{
	my ($host, $port) = @_;
	my $socket = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Timeout => 3);
	close $socket if $socket;
	return $socket ? 1 : 0;
}

sub port_of { $_[0]->{base} =~ /:(\d+)$/ ? $1 : die "no port in $_[0]->{base}" }

# the default: loopback only
my $t = ShimTest->new;
my $port = port_of($t);
is_deeply(listening_on($port), ["127.0.0.1:$port"], 'by default the shim listens on 127.0.0.1 only');
ok(connects('127.0.0.1', $port), 'and answers there');
ok(!connects('127.0.0.2', $port), 'but not on another address of this machine (127.0.0.2)');

# every IPv4 interface, when asked
my $t_all = ShimTest->new(LISTEN_ADDRESS => '0.0.0.0');
my $port_all = port_of($t_all);
is_deeply(listening_on($port_all), ["0.0.0.0:$port_all"], 'LISTEN_ADDRESS=0.0.0.0 listens on every IPv4 interface');
ok(connects('127.0.0.2', $port_all), 'so 127.0.0.2 reaches it too');
like($t_all->log, qr/"evently-shim listening".*"detail":"0\.0\.0\.0:$port_all"/, 'the log says where it listens');

# a shim started by hand over the first cluster, for the addresses that
# ShimTest (which speaks to 127.0.0.1) cannot start
my $node = $t->node;
my %env = (
	JWT_SECRET => $t->secret, POOL_SIZE => 1,
	DATABASE_URL => EventlyTest::database_url($node));

# the shims started by hand, stopped at the end even after a BAIL_OUT
my @by_hand;
END { $_->kill_kill for grep { $_->pumpable } @by_hand }

sub start_by_hand
{
	my ($address, $ping_url) = @_;
	my $p = PostgreSQL::Test::Cluster::get_free_port();
	local @ENV{ keys %env } = values %env;
	local $ENV{PORT} = $p;
	local $ENV{LISTEN_ADDRESS} = $address;
	my $log = $node->basedir . "/shim-by-hand-$p.log";
	my $h = IPC::Run::start([ "$root/shim/evently-shim" ], '<', \undef, '>>', $log, '2>>', $log);
	push @by_hand, $h;
	my $http = HTTP::Tiny->new(timeout => 3);
	for (1 .. 100)
	{
		return ($h, $p) if $http->get(sprintf($ping_url, $p))->{success};
		select(undef, undef, undef, 0.1);
	}
	$h->kill_kill;
	BAIL_OUT("evently-shim on $address did not start: " . PostgreSQL::Test::Utils::slurp_file($log));
}

sub stop_by_hand
{
	my ($h) = @_;
	$h->signal('TERM');
	$h->finish;
	return $h->full_result(0) >> 8;
}

SKIP:
{
	skip 'no IPv6 loopback on this machine', 7 unless connects_v6_possible();

	my ($h, $p) = start_by_hand('::1', 'http://[::1]:%d/ping');
	is_deeply(listening_on($p), ["[::1]:$p"], 'LISTEN_ADDRESS=::1 listens on the IPv6 loopback');
	ok(connects('::1', $p), 'and answers there');
	ok(!connects('127.0.0.1', $p), 'not on 127.0.0.1');
	is(stop_by_hand($h), 0, 'and stops cleanly');

	($h, $p) = start_by_hand('::', 'http://[::1]:%d/ping');
	is_deeply(listening_on($p), ["*:$p"], 'LISTEN_ADDRESS=:: listens on every interface');
	ok(connects('127.0.0.1', $p), 'IPv4 included');
	is(stop_by_hand($h), 0, 'and stops cleanly');
}

# an IPv6 loopback address to bind (containers may have IPv6 off)
sub connects_v6_possible
{
	my $probe = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Listen => 1);
	close $probe if $probe;
	return $probe ? 1 : 0;
}

# values that are not an address literal: a message and exit 2, never a crash
for my $bad ('localhost', '127.0.0.1:8080', '[::1]', '256.1.2.3', '127.1', 'not an address')
{
	my ($out, $err) = ('', '');
	local @ENV{ keys %env } = values %env;
	local $ENV{PORT} = PostgreSQL::Test::Cluster::get_free_port();
	local $ENV{LISTEN_ADDRESS} = $bad;
	my $h = IPC::Run::start([ "$root/shim/evently-shim" ], '<', \undef, '>', \$out, '2>', \$err,
		IPC::Run::timeout(10));
	push @by_hand, $h;
	$h->finish;
	is($h->full_result(0), 2 << 8, "LISTEN_ADDRESS=$bad: exit status 2, no signal");
	like($err, qr/^LISTEN_ADDRESS=\Q$bad\E is not an IPv4 or IPv6 address/m, "LISTEN_ADDRESS=$bad: says why");
}

is($t->stop_shim, 0, 'clean stop');
is($t_all->stop_shim, 0, 'clean stop');
done_testing();
