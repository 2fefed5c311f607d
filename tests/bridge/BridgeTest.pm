# BridgeTest: a real PostgreSQL cluster (PostgreSQL's own test modules) with
# evently, the local Kafka-protocol broker (evently-broker, librdkafka's mock
# cluster on a loopback port), and the real evently-bridge / evently-notify
# processes; Kafka is read back with kcat.
package BridgeTest;

use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{EVENTLY_ROOT} or die "EVENTLY_ROOT is not set";

sub new
{
	my ($class) = @_;
	my $node = PostgreSQL::Test::Cluster->new('bridge');
	$node->init;
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE evently');
	$node->safe_psql('evently', 'CREATE EXTENSION evently CASCADE');
	$node->safe_psql('evently', slurp_file("$root/tests/bridge/setup.sql"));
	my $self = bless { node => $node, procs => {} }, $class;
	$self->start_broker;
	return $self;
}

sub node { $_[0]->{node} }
sub brokers { $_[0]->{brokers} }
sub sql { my ($self, $sql) = @_; return $self->{node}->safe_psql('evently', $sql) }

sub start_broker
{
	my ($self) = @_;
	my $file = $self->{node}->basedir . '/brokers';
	unlink $file;
	local $ENV{BROKER_ADDRESS_FILE} = $file;
	$self->spawn('broker', 'evently-broker');
	wait_until(sub { -s $file }, 'the broker writes its address') or BAIL_OUT('no broker');
	chomp($self->{brokers} = slurp_file($file));
}

# start NAME (bridge, bridge2, notify, ...) running PROGRAM with extra env
sub spawn
{
	my ($self, $name, $program, %env) = @_;
	my $node = $self->{node};
	local $ENV{KAFKA_BROKERS} = $self->{brokers} if $self->{brokers};
	local $ENV{DATABASE_URL} =
	  sprintf('host=%s port=%d dbname=evently user=%s', $node->host, $node->port, scalar getpwuid($<));
	local @ENV{ keys %env } = values %env;
	my $log = $node->basedir . "/$name.log";
	$self->{procs}{$name} =
	  IPC::Run::start([ "$root/shim/$program" ], '<', \undef, '>>', $log, '2>>', $log);
}

sub log { my ($self, $name) = @_; return slurp_file($self->{node}->basedir . "/$name.log") }

sub signal { my ($self, $name, $signal) = @_; $self->{procs}{$name}->signal($signal) }

# kill -9, as a crash would
sub crash
{
	my ($self, $name) = @_;
	$self->{procs}{$name}->signal('KILL');
	$self->{procs}{$name}->finish;
}

# SIGTERM; returns the exit status
sub stop
{
	my ($self, $name) = @_;
	$self->{procs}{$name}->signal('TERM');
	$self->{procs}{$name}->finish;
	return $self->{procs}{$name}->full_result(0) >> 8;
}

sub unpublished { $_[0]->sql('SELECT count(*) FROM evently.outbox WHERE published_at IS NULL') }

# Every message of a topic from the beginning:
# [{partition, offset, key, headers => {..}, value => {..}}, ...]
sub read_topic
{
	my ($self, $topic) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'kcat', '-b', $self->{brokers}, '-C', '-t', $topic, '-o', 'beginning', '-e',
			'-q', '-f', "%p\t%o\t%k\t%h\t%s\n" ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(60))
	  or die "kcat failed: $err";
	my @messages;
	for my $line (split /\n/, $out)
	{
		my ($partition, $offset, $key, $headers, $value) = split /\t/, $line, 5;
		my %headers = map { split /=/, $_, 2 } split /,/, $headers;
		push @messages, { partition => $partition, offset => $offset, key => $key,
			headers => \%headers, value => decode_json($value) };
	}
	return \@messages;
}

sub read_all_topics
{
	my ($self) = @_;
	return [ map { @{ $self->read_topic("evently.$_") } } qw(hold booking waitlist event) ];
}

# poll CHECK every 50 ms for up to 60 s
sub wait_until
{
	my ($check, $what) = @_;
	for (1 .. 1200)
	{
		return 1 if $check->();
		select(undef, undef, undef, 0.05);
	}
	diag("timed out waiting until $what");
	return 0;
}

sub DESTROY
{
	my ($self) = @_;
	eval { $_->kill_kill(grace => 0) } for values %{ $self->{procs} };
}

1;
