# EventlyTest: what the Perl suites (tests/shim, tests/bridge) share: a
# cluster with the extension, and the programs a test starts, which are
# stopped when the test ends however it ends: done, die, BAIL_OUT, SIGINT,
# SIGTERM or SIGHUP (an END block), and even kill -9 of the test (the kernel
# sends them SIGTERM when it dies).
#
# The END block matters: a harness kept in an object and killed from its
# DESTROY may be destroyed first, in global destruction, and the program
# then outlives the test (the bridge suite left a broker and a bridge behind
# that way).
package EventlyTest;

use strict;
use warnings;
use IPC::Run;
use POSIX ();
use Scalar::Util qw(refaddr);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our $root = $ENV{EVENTLY_ROOT} or die "EVENTLY_ROOT is not set";

my $owner = $$;    # the test process (not a child between fork and exec)
my %running;       # refaddr => IPC::Run harness not yet finished

# cluster(NAME, SQL_FILE...): a started cluster with database evently, the
# extension, and the given files (relative to the work tree) run in it
sub cluster
{
	my ($name, @files) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE evently');
	$node->safe_psql('evently', 'CREATE EXTENSION evently CASCADE');
	# the programs connect as the gateway, as make run's do (SPEC section 8)
	$node->safe_psql('evently', "SELECT evently.setup_roles('evently_app')");
	$node->safe_psql('evently', slurp_file("$root/$_")) for @files;
	return $node;
}

# how the programs under test connect: as evently_app, the gateway's login
# role, to database evently unless another is named
sub database_url
{
	my ($node, $dbname) = @_;
	return $node->database_url if $node->isa('ScaleoutCluster');    # the proxy of evently on shards
	return sprintf('host=%s port=%d dbname=%s user=evently_app', $node->host, $node->port, $dbname // 'evently');
}

# start(\@COMMAND, IPC::Run redirections...): a harness, remembered until
# finish() or stop() has waited for it
sub start
{
	my ($command, @redirections) = @_;
	my $h = IPC::Run::start($command, init => \&_die_with_parent, @redirections);
	$running{ refaddr $h } = $h;
	return $h;
}

# program(PROGRAM, LOG, %ENV): shim/PROGRAM (evently-shim, evently-bridge,
# ...), its output appended to LOG, %ENV added to the environment
sub program
{
	my ($program, $log, %env) = @_;
	local @ENV{ keys %env } = values %env;
	return start([ "$root/shim/$program" ], '<', \undef, '>>', $log, '2>>', $log);
}

# wait for the harness to end; true if it exited 0
sub finish
{
	my ($h) = @_;
	my $ok = $h->finish;
	delete $running{ refaddr $h };
	return $ok;
}

# SIGNAL (TERM by default), then wait; returns the exit status
sub stop
{
	my ($h, $signal) = @_;
	$h->signal($signal // 'TERM');
	finish($h);
	return $h->full_result(0) >> 8;
}

# every harness still running: SIGTERM, SIGKILL after 5 s
sub stop_all
{
	my @left = values %running;
	%running = ();
	eval { $_->signal('TERM') } for @left;
	for my $h (@left)
	{
		eval { $h->kill_kill(grace => 4); 1 } or diag("stopping a program: $@");
	}
}

# in the child, before exec: SIGTERM when the test process dies
my $sys_prctl = eval { package main; require 'syscall.ph'; SYS_prctl() };

sub _die_with_parent
{
	syscall($sys_prctl, 1, POSIX::SIGTERM()) if $sys_prctl;    # PR_SET_PDEATHSIG
	POSIX::_exit(1) if getppid() != $owner;
}

for my $signal (qw(INT TERM HUP))
{
	$SIG{$signal} = sub {
		POSIX::_exit(1) if $$ != $owner;
		return if ${^GLOBAL_PHASE} ne 'RUN';    # already ending: let END finish
		diag("SIG$signal: stopping what this test started");
		exit(128 + ($signal eq 'INT' ? 2 : $signal eq 'TERM' ? 15 : 1));
	};
}

# before PostgreSQL::Test::Cluster's END (loaded above, so it runs after
# this one) stops the clusters
END
{
	my $status = $?;
	stop_all() if $$ == $owner;
	$? = $status;
}

1;
