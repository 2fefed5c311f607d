# ScaleoutCluster: evently sharded by event (tests/scaleout/topology.sh: a
# global primary, SHARDS shards, the proxy and the reporting database,
# pgbouncer) with the seed data, standing in for the one cluster of a TAP
# test: ShimTest uses it when EVENTLY_SCALEOUT is set, so the shim's whole
# suite runs against the proxy (SPEC section 13).
#
# The programs under test connect to the proxy (database_url).  A test's
# own SQL (safe_psql, psql, poll_query_until, background_psql) goes where
# one database's would have found its rows:
#   - a write to a table: the global primary for global tables, else the
#     shard of the first bucketed id in the statement, else every shard;
#     a LOCK TABLE likewise;
#   - calls of the proxy's functions and nothing else: the proxy;
#   - a statement naming a bucketed id: that id's shard, which also holds
#     the replicated global rows;
#   - a read of global tables only: the global primary;
#   - a read of the outbox or the audit log: every database's rows;
#   - any other read: the reporting database, once it has caught up with
#     every shard and the global primary (it subscribes to all of them).
# pg_stat_statements and the server's own views are the proxy's: the
# cluster the shim talks to.
package ScaleoutCluster;

use strict;
use warnings;
use File::Basename ();
use File::Path ();
use File::Temp ();
use IPC::Run ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our $root = $ENV{EVENTLY_ROOT} or die "EVENTLY_ROOT is not set";

# tables written on the global primary (the rest live on the event's shard):
# tests/scaleout/topology.sh's GLOBAL_REPLICATED and GLOBAL_ONLY
my %global = map { $_ => 1 } qw(users organizers tags venue_templates venue_sections seats provider_fees
  refresh_tokens notifications login_failures login_sources mail_log role_links);
# tables the shards do not publish to the reporting database (topology.sh)
my %unreported = map { $_ => 1 } qw(outbox audit_log scan_log event_keys);
my @started;    # every topology of this test, stopped at its end
my $uuid = qr/'?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})'?/;

# new(NAME, SHARDS?): a started topology with the seed data
sub new
{
	my ($class, $name, $shards) = @_;
	# a short directory (a Unix socket's path has at most 107 bytes), copied
	# under tmp_check when the topology stops, logs and all, to be read
	my $test = File::Basename::basename($0, '.pl');
	my $dir = File::Temp::tempdir('evently-topology.XXXXXX', TMPDIR => 1, CLEANUP => 0);
	my $self = bless { dir => "$dir/topology", name => $name, short => $dir, written => 1,
		kept => "$PostgreSQL::Test::Utils::tmp_check/scaleout_${test}_$name" }, $class;
	push @started, $self;
	local $ENV{TOPOLOGY_FAST} = 1;
	my $out = `bash $root/tests/scaleout/topology.sh start $self->{dir} ${\($shards // 2)} 2>&1`;
	BAIL_OUT("topology.sh start failed: $out") if $?;
	$self->{env} = _read_env("$self->{dir}/topology.env");
	$self->{shards} = [ split /;/, $self->{env}{SHARD_SUS} ];
	# the seed's global part on the global primary, its events on the shards
	$self->run_file($self->{env}{GLOBAL_SU}, "$root/extension/seed.sql", -c => "SET seed.part = 'global'");
	$self->run_file($self->{shards}[$_], "$root/extension/seed.sql", -c => "SET seed.part = 'events'",
		-c => 'SET seed.shard = ' . ($_ + 1), -c => 'SET seed.shards = ' . scalar @{ $self->{shards} })
	  for 0 .. $#{ $self->{shards} };
	return $self;
}

sub _read_env
{
	my ($file) = @_;
	my %env;
	for (split /\n/, slurp_file($file))
	{
		$env{$1} = $2 if /^(\w+)='?(.*?)'?$/;
	}
	return \%env;
}

# stop everything topology.sh started; at the latest when the test ends,
# however it ends (an END block: a DESTROY may come too late, in global
# destruction)
sub teardown
{
	my ($self) = @_;
	return if $self->{torn_down}++;
	system("bash $root/tests/scaleout/topology.sh stop $self->{dir} >/dev/null 2>&1");
	system('cp', '-r', $self->{dir}, $self->{kept});
	File::Path::rmtree($self->{short});
}

END
{
	my $status = $?;
	# the programs on top first (the shim), as PostgreSQL::Test::Cluster's END does it
	EventlyTest::stop_all() if @started && defined &EventlyTest::stop_all;
	$_->teardown for @started;
	$? = $status;
}

# the proxy, as the programs under test reach it
sub database_url { $_[0]->{env}{PROXY_URL} }
sub basedir { $_[0]->{dir} }
sub shard_count { scalar @{ $_[0]->{shards} } }

# where the bridges run: the databases with an outbox (the global primary, each shard), as evently_app
sub outbox_urls { my ($self) = @_; return ($self->{env}{GLOBAL_URL}, split / /, $self->{env}{SHARD_URLS}) }

# the sum of a count over those databases
sub sum_over_outboxes
{
	my ($self, $query) = @_;
	my $sum = 0;
	$sum += $self->psql_on($_, $query) for $self->global_su, @{ $self->{shards} };
	return $sum;
}

# connection strings of the superuser: proxy, global, shards (list), report
sub proxy_su { $_[0]->{env}{PROXY_SU} }
sub global_su { $_[0]->{env}{GLOBAL_SU} }
sub shard_su { $_[0]->{shards}[ $_[1] ] }
sub report_su { $_[0]->{env}{REPORT_SU} }

# run_file(CONNINFO, FILE, psql options before the file...): bails out on an error
sub run_file
{
	my ($self, $conn, $file, @options) = @_;
	my ($out, $err);
	IPC::Run::run([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', @options, '-d', $conn, '-f', $file ],
		'>', \$out, '2>', \$err)
	  or BAIL_OUT("$file on $conn: $err");
}

# the bucket an id carries (first 16 bits), 0 for none
sub _bucket { hex(substr($_[0], 0, 4)) }

# Where one statement of a test goes: a list of connection strings, and
# whether the reporting database must first catch up.
sub route
{
	my ($self, $sql) = @_;
	# an id of a shard's bucket (a global row's random id is one by a chance of 1 in 32768)
	my @bucketed = grep { _bucket($_) >= 1 && _bucket($_) <= @{ $self->{shards} } } ($sql =~ /$uuid/g);
	my $shard = @bucketed ? $self->_shard_of($bucketed[0]) : undef;
	my @tables = map { lc } ($sql =~ /\bevently\.(\w+)\b(?!\s*\()/g);
	if ($sql =~ /^\s*(?:WITH\b.*?\)\s*)?(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+evently\.(\w+)/is)
	{
		return [ $self->global_su ] if $global{ lc $1 };
		return [$shard] if $shard;
		return $self->{shards};
	}
	if ($sql =~ /^\s*(?:BEGIN\s*;\s*)?LOCK\s+TABLE\s+evently\.(\w+)/i)
	{
		return $global{ lc $1 } ? [ $self->global_su ] : $self->{shards};
	}
	return [ $self->proxy_su ] if !@tables && $self->_proxied_calls_only($sql);
	return [$shard] if $shard;
	return [ $self->proxy_su ] if $sql =~ /\bpg_stat_(?:statements|activity)/;
	# what the reporting database is not sent: each database's own rows
	return [ $self->global_su, @{ $self->{shards} } ] if grep { $unreported{$_} } @tables;
	return [ $self->global_su ] if !grep { !$global{$_} } @tables;
	return [ $self->report_su ], 1;
}

# the shard of bucket b: the topology's shard k holds bucket k
sub _shard_of
{
	my ($self, $id) = @_;
	return $self->{shards}[ _bucket($id) - 1 ];
}

# every evently.f( the statement calls is a function of the proxy's
sub _proxied_calls_only
{
	my ($self, $sql) = @_;
	my @calls = ($sql =~ /\bevently\.(\w+)\s*\(/g);
	return 0 unless @calls;
	$self->{proxied} //= { map { $_ => 1 } split /\n/, $self->psql_on($self->proxy_su,
		"SELECT proname FROM pg_proc WHERE pronamespace = 'evently'::regnamespace") };
	return !grep { !$self->{proxied}{$_} } @calls;
}

# the backends of every database waiting for a lock in a call of evently.FUNCTION
# (the proxy's PL/Proxy calls wait in the shards' backends)
sub lock_waiters
{
	my ($self, $function) = @_;
	my $n = 0;
	$n += $self->psql_on($_, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
	                             AND query ~* 'evently\\.$function\\('") for $self->global_su, @{ $self->{shards} };
	return $n;
}

# The reporting database has applied everything committed so far: each
# source's next heartbeat (tests/scaleout/topology.sh) has reached it.
sub report_catch_up
{
	my ($self) = @_;
	return unless $self->{written};    # nothing committed since the last catch-up
	$self->{written} = 0;
	my @sources = ([ $self->global_su, 'heartbeat_global', 'global' ],
		map { [ $self->{shards}[$_], 'heartbeat_shard', 'shard' . ($_ + 1) ] } 0 .. $#{ $self->{shards} });
	for my $s (@sources)
	{
		my ($conn, $table, $source) = @$s;
		my $beat = $self->psql_on($conn, "UPDATE topology.$table SET beat = beat + 1 WHERE source = '$source' RETURNING beat");
		my $query = "SELECT count(*) FROM topology.$table WHERE source = '$source' AND beat >= $beat";
		for (my $i = 0;; $i++)
		{
			last if $self->psql_on($self->report_su, $query) eq '1';
			BAIL_OUT("the reporting database did not catch up with $source") if $i > 1500;
			select(undef, undef, undef, 0.02);
		}
	}
}

# psql_on(CONNINFO, SQL): the output (unaligned, tuples only), dies on an error
sub psql_on
{
	my ($self, $conn, $sql) = @_;
	my ($ret, $out, $err) = $self->psql_on_full($conn, $sql);
	die "psql on $conn failed: $err\nquery: $sql" if $ret;
	return $out;
}

# psql_on_full(CONNINFO, SQL): (exit status, stdout, stderr)
sub psql_on_full
{
	my ($self, $conn, $sql) = @_;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $conn ],
		'<', \$sql, '>', \$out, '2>', \$err);
	chomp $out;
	return ($ok ? 0 : 3, $out, $err);
}

# TEXT as an SQL literal
sub quote { my $t = $_[1]; $t =~ s/'/''/g; return "'$t'" }

# The databases a test's statement runs on (route()), once the reporting
# database caught up when it reads there; any other statement may write.
sub targets
{
	my ($self, $sql) = @_;
	my ($targets, $catch_up) = $self->route($sql);
	$catch_up ? $self->report_catch_up : $self->wrote;
	return $targets;
}

# something may have been written that the reporting database must catch up with
sub wrote { $_[0]->{written} = 1 }

# PostgreSQL::Test::Cluster's: the output (each target's, joined), dies on an error
sub safe_psql
{
	my ($self, $db, $sql) = @_;
	return join "\n", grep { $_ ne '' } map { scalar $self->psql_on($_, $sql) } @{ $self->targets($sql) };
}

# (exit status, stdout, stderr) of the statement where route() sends it
sub psql
{
	my ($self, $db, $sql) = @_;
	my @r = $self->psql_on_full($self->targets($sql)->[0], $sql);
	return wantarray ? @r : $r[0];
}

sub poll_query_until
{
	my ($self, $db, $query, $expected) = @_;
	$expected //= 't';
	for (1 .. 1800)
	{
		my ($ret, $out) = $self->psql($db, $query);
		return 1 if $ret == 0 && $out eq $expected;
		select(undef, undef, undef, 0.1);
	}
	return 0;
}

# Sessions of psql, one per database a query goes to (ScaleoutCluster::Session).
sub background_psql
{
	my ($self, $db) = @_;
	return ScaleoutCluster::Session->new($self);
}

# the proxy's cluster: the one the shim talks to
sub _proxy_data { "$_[0]->{dir}/p/data" }

sub append_conf
{
	my ($self, $file, $text) = @_;
	PostgreSQL::Test::Utils::append_to_file($self->_proxy_data . "/$file", $text);
}

sub _pg_ctl
{
	my ($self, @args) = @_;
	system('pg_ctl', '-D', $self->_proxy_data, '-l', "$self->{dir}/p/postgres.log", '-w', @args) == 0
	  or BAIL_OUT("pg_ctl @args of the proxy failed");
}
# stop or start shard K (0-based), as a shard's outage would
sub stop_shard
{
	my ($self, $k) = @_;
	my $s = "$self->{dir}/s" . ($k + 1);
	system('pg_ctl', '-D', "$s/data", '-m', 'fast', '-w', 'stop') == 0 or BAIL_OUT("shard $k did not stop");
}

sub start_shard
{
	my ($self, $k) = @_;
	my $s = "$self->{dir}/s" . ($k + 1);
	system('pg_ctl', '-D', "$s/data", '-l', "$s/postgres.log", '-w', 'start') == 0 or BAIL_OUT("shard $k did not start");
}

sub restart { $_[0]->_pg_ctl('restart') }
sub stop { $_[0]->_pg_ctl('-m', 'fast', 'stop') }
sub start { $_[0]->_pg_ctl('start') }

package ScaleoutCluster::Session;

use strict;
use warnings;
use PostgreSQL::Test::BackgroundPsql;

sub new { bless { cluster => $_[1], psql => {}, open => undef }, $_[0] }

# The sessions a query runs in: where route() sends it, or, inside a
# transaction (from a BEGIN to its COMMIT or ROLLBACK), where its BEGIN went:
# a lock is held on every database it was taken on until the end.
sub _sessions
{
	my ($self, $sql) = @_;
	my $targets = $self->{open};
	if (!$targets)
	{
		$targets = $self->{cluster}->targets($sql);
		$self->{open} = $targets if $sql =~ /^\s*BEGIN\b/i;
	}
	$self->{open} = undef if $sql =~ /^\s*(?:COMMIT|ROLLBACK|END)\b/i;
	return map { $self->{psql}{$_} //= ScaleoutCluster::Launcher::background([ 'psql', '-X', '-q', '-A', '-t', '-d', $_ ]) }
	  @$targets;
}

sub query_safe
{
	my ($self, $sql) = @_;
	$self->{cluster}->wrote;
	return join "\n", map { $_->query_safe($sql) } $self->_sessions($sql);
}

sub query
{
	my ($self, $sql) = @_;
	$self->{cluster}->wrote;
	return join "\n", map { scalar $_->query($sql) } $self->_sessions($sql);
}
sub quit { $_->quit for values %{ $_[0]->{psql} } }

# BackgroundPsql is made by PostgreSQL::Test::Cluster only (its constructor
# checks its caller): this launcher is one, for a session on any conninfo
package ScaleoutCluster::Launcher;

use parent -norequire, 'PostgreSQL::Test::Cluster';

sub background { return PostgreSQL::Test::BackgroundPsql->new(0, $_[0]) }

1;
