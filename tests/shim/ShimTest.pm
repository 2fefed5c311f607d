# ShimTest: a real PostgreSQL cluster (PostgreSQL's own test modules) with
# evently and the seed data, and the real evently-shim over it on a free
# loopback port, spoken to over HTTP.  The shim is stopped when the test
# ends, however it ends (EventlyTest).
package ShimTest;

use strict;
use warnings;
use feature 'state';
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/../lib';
use EventlyTest;
use ScaleoutCluster;
use HTTP::Tiny;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# new(%env): extra environment for the shim, e.g. RATE_LIMIT_BURST => 5
# (PORT => N: a port chosen beforehand, for a program that must know it first)
sub new
{
	my ($class, %env) = @_;
	state $instances = 0;
	# EVENTLY_SCALEOUT: the same test against evently sharded by event (the
	# scale-out suite, SPEC section 13): the shim talks to the proxy
	my $node = $ENV{EVENTLY_SCALEOUT}
	  ? ScaleoutCluster->new('evently' . ++$instances)
	  : EventlyTest::cluster('evently' . ++$instances, 'extension/seed.sql');
	my $self = bless { node => $node, http => HTTP::Tiny->new(timeout => 10, max_redirect => 0), env => \%env }, $class;
	$self->start_shim;
	return $self;
}

sub start_shim
{
	my ($self) = @_;
	my $port = $self->{env}{PORT} // PostgreSQL::Test::Cluster::get_free_port();
	my $node = $self->{node};
	local $ENV{PORT} = $port;
	local $ENV{POOL_SIZE} = 4;
	local $ENV{JWT_SECRET} = $self->secret;
	local @ENV{ keys %{ $self->{env} } } = values %{ $self->{env} };
	local $ENV{DATABASE_URL} = EventlyTest::database_url($node);
	# the log goes to a file: a pipe nobody reads while the test talks HTTP
	# would fill up and block the shim's writes
	$self->{logfile} = $node->basedir . "/shim-$port.log";
	$self->{shim} = EventlyTest::program('evently-shim', $self->{logfile});
	$self->{base} = "http://127.0.0.1:$port";
	for (1 .. 100)
	{
		return if $self->{http}->get("$self->{base}/ping")->{success};
		select(undef, undef, undef, 0.1);
	}
	BAIL_OUT("evently-shim did not start: " . $self->log);
}

# Stop with SIGTERM; returns the exit status.
sub stop_shim { return EventlyTest::stop($_[0]->{shim}) }

sub node { $_[0]->{node} }

# Restart the cluster with pg_stat_statements counting every statement
# (track = all), the shim stopped meanwhile: how a test counts database calls.
sub track_statements
{
	my ($self) = @_;
	$self->stop_shim;
	$self->{node}->append_conf('postgresql.conf',
		"shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n");
	$self->{node}->restart;
	$self->{node}->safe_psql('evently', 'CREATE EXTENSION pg_stat_statements');
	$self->start_shim;
}

# wait until a call of evently.FUNCTION waits for a lock (a test's LOCK TABLE):
# in the database's backends, which sharded are the shards'
sub wait_for_lock_waiter
{
	my ($self, $function) = @_;
	my $node = $self->{node};
	for (1 .. 300)
	{
		my $n = $node->isa('ScaleoutCluster') ? $node->lock_waiters($function)
		  : $node->safe_psql('evently', "SELECT count(*) FROM pg_stat_activity
		                                 WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT evently.$function(%'");
		return 1 if $n > 0;
		select(undef, undef, undef, 0.1);
	}
	return 0;
}

# events whose catalog no longer matches their tags, prices and sections
sub stale_catalogs
{
	return $_[0]->{node}->safe_psql('evently',
		'SELECT count(*) FROM evently.events WHERE catalog <> evently._event_catalog(id, base_price)');
}
sub secret { 'test-secret-of-more-than-32-bytes-for-hs256' }
sub log { slurp_file($_[0]->{logfile}) }

# request(METHOD, PATH, BODY?, HEADERS?) -> (status, decoded JSON or undef, raw response)
sub request
{
	my ($self, $method, $path, $body, $headers) = @_;
	# sharded, the admin's analytics are the reporting database's, seconds
	# behind the shards by design: a test reads them once it has caught up
	if ($self->{node}->isa('ScaleoutCluster'))
	{
		$self->{node}->report_catch_up if $path =~ m{^/api/v1/(?:analytics/|admin/events/analytics)};
		$self->{node}->wrote if $method ne 'GET';
	}
	my %options = (headers => { 'Content-Type' => 'application/json', %{ $headers // {} } });
	$options{content} = ref $body ? encode_json($body) : $body if defined $body;
	my $res = $self->{http}->request($method, "$self->{base}$path", \%options);
	my $json = eval { decode_json($res->{content}) };
	return ($res->{status}, $json, $res);
}

# as(TOKEN, METHOD, PATH, BODY?, HEADERS?): a request with a bearer token
sub as
{
	my ($self, $token, $method, $path, $body, $headers) = @_;
	return $self->request($method, $path, $body,
		{ Authorization => "Bearer $token", %{ $headers // {} } });
}

# login(EMAIL, PASSWORD) -> the login response's data
sub login
{
	my ($self, $email, $password) = @_;
	my ($status, $json) = $self->request(POST => '/api/v1/auth/login',
		{ email => $email, password => $password // 'qwerty' });
	die "login of $email failed: $status" unless $status == 200;
	return $json->{data};
}

# sign(HEADER, CLAIMS, SECRET?): a JWT made by hand, to forge and tamper with
sub sign
{
	my ($self, $header, $claims, $secret) = @_;
	require Digest::SHA;
	require MIME::Base64;
	my $b64 = sub { my $s = MIME::Base64::encode_base64url($_[0]); $s =~ s/=+$//; $s };
	my $input = $b64->(encode_json($header)) . '.' . $b64->(encode_json($claims));
	return "$input." if ($header->{alg} // '') eq 'none';
	return "$input." . $b64->(Digest::SHA::hmac_sha256($input, $secret // $self->secret));
}

1;
