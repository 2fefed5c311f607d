# BridgeTest: a real PostgreSQL cluster (PostgreSQL's own test modules) with
# evently, the local Kafka-protocol broker (evently-broker, librdkafka's mock
# cluster on a loopback port), and the real evently-bridge / evently-notify
# processes; Kafka is read back with kcat.  Every program it starts is
# stopped when the test ends, however it ends (EventlyTest).
package BridgeTest;

use strict;
use warnings;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/../lib';
use EventlyTest;
use IO::Socket::INET;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;

# new(): the cluster with tests/bridge/setup.sql in database evently, and the
# broker; new(setup => [FILES]) runs those files instead
sub new
{
	my ($class, %opts) = @_;
	my $node = EventlyTest::cluster('bridge', @{ $opts{setup} // ['tests/bridge/setup.sql'] });
	my $self = bless { node => $node, procs => {} }, $class;
	$self->start_broker;
	return $self;
}

sub node { $_[0]->{node} }
sub brokers { $_[0]->{brokers} }
sub sql { my ($self, $sql, $db) = @_; return $self->{node}->safe_psql($db // 'evently', $sql) }

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

# A shard (issue 15) in this cluster: database NAME, a copy of database
# evently as it is (call it before evently holds more than the extension and
# the roles' grants), configured as the shard of BUCKET
sub add_shard
{
	my ($self, $name, $bucket) = @_;
	my $node = $self->{node};
	$node->safe_psql('postgres', "CREATE DATABASE $name TEMPLATE evently");
	# the database's bucket, and its outbox and audit ids from BUCKET << 48
	$node->safe_psql($name, "SELECT evently.configure_shard($bucket)");
}

# The proxy database (issue 15) in this cluster: database NAME with
# extension evently_proxy and its PL/Proxy clusters as SQL/MED servers,
# evently (SHARDS: the shard databases of partitions p0, p1, ...: partition
# b & (P-1) owns bucket b), evently_global and evently_report (both database
# evently here).  PL/Proxy connects as evently_app, the programs' login, and
# so do the programs that connect to the proxy.
sub add_proxy
{
	my ($self, $name, @shards) = @_;
	my $node = $self->{node};
	my $at = sprintf('host=%s port=%d', $node->host, $node->port);
	my $partitions = sub { join ', ', map { "p$_ '$at dbname=$_[$_]'" } 0 .. $#_ };
	$node->safe_psql('postgres', "CREATE DATABASE $name TEMPLATE template0");
	$node->safe_psql($name, 'CREATE EXTENSION evently_proxy CASCADE');
	for my $server ([ 'evently', @shards ], [ 'evently_global', 'evently' ], [ 'evently_report', 'evently' ])
	{
		my ($server_name, @databases) = @$server;
		$node->safe_psql($name, join "\n",
			"CREATE SERVER $server_name FOREIGN DATA WRAPPER plproxy OPTIONS (" . $partitions->(@databases) . ');',
			"CREATE USER MAPPING FOR PUBLIC SERVER $server_name OPTIONS (user 'evently_app');",
			"GRANT USAGE ON FOREIGN SERVER $server_name TO evently_gateway;");
	}
	$node->safe_psql($name, 'GRANT USAGE ON SCHEMA evently, evently_proxy TO evently_gateway');
}

# start NAME (bridge, bridge2, notify, ...) running PROGRAM with extra env;
# DATABASE => name connects it to another database than evently
sub spawn
{
	my ($self, $name, $program, %env) = @_;
	my $node = $self->{node};
	local $ENV{KAFKA_BROKERS} = $self->{brokers} if $self->{brokers};
	# sharded (ScaleoutCluster): a bridge on every database with an outbox,
	# the global primary and each shard; evently-notify on the proxy
	if ($node->isa('ScaleoutCluster') && $program eq 'evently-bridge')
	{
		my @urls = $node->outbox_urls;
		for my $i (0 .. $#urls)
		{
			local $ENV{DATABASE_URL} = $urls[$i];
			$self->{procs}{"$name-$i"} = EventlyTest::program($program, $node->basedir . "/$name-$i.log", %env);
		}
		return;
	}
	local $ENV{DATABASE_URL} = EventlyTest::database_url($node, delete $env{DATABASE});
	$self->{procs}{$name} = EventlyTest::program($program, $node->basedir . "/$name.log", %env);
}

sub log
{
	my ($self, $name) = @_;
	my $dir = $self->{node}->basedir;
	return slurp_file("$dir/$name.log") if -e "$dir/$name.log";
	return join '', map { slurp_file($_) } sort glob("$dir/$name-*.log");    # one per database
}

# the processes spawn started as NAME (sharded, a bridge is one per database: NAME-0, NAME-1, ...)
sub procs
{
	my ($self, $name) = @_;
	return $self->{procs}{$name} if $self->{procs}{$name};
	return map { $self->{procs}{$_} } sort grep { /^\Q$name\E-\d+$/ } keys %{ $self->{procs} };
}

sub signal { my ($self, $name, $signal) = @_; $_->signal($signal) for $self->procs($name) }

# kill -9, as a crash would
sub crash { my ($self, $name) = @_; EventlyTest::stop($_, 'KILL') for $self->procs($name) }

# SIGTERM; returns the exit status (the worst of several)
sub stop
{
	my ($self, $name) = @_;
	my $worst = 0;
	for my $h ($self->procs($name))
	{
		my $status = EventlyTest::stop($h);
		$worst = $status if $status > $worst;
	}
	return $worst;
}

# A local SMTP sink (Debian's python3-aiosmtpd) on a free loopback port,
# keeping each message as a file of a Maildir; returns the SMTP_URL and
# MAIL_FROM that evently-notify is given to send to it.
sub start_mail_sink
{
	my ($self) = @_;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $dir = $self->{maildir} = $self->{node}->basedir . '/mail';
	$self->{procs}{smtp} = EventlyTest::start(
		[ '/usr/bin/python3', '-m', 'aiosmtpd', '-n', '-l', "127.0.0.1:$port", '-c', 'aiosmtpd.handlers.Mailbox', $dir ],
		'<', \undef, '>>', $self->{node}->basedir . '/smtp.log', '2>>', $self->{node}->basedir . '/smtp.log');
	wait_until(sub { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp') },
		'the SMTP sink listens') or BAIL_OUT('no SMTP sink');
	return (SMTP_URL => "smtp://127.0.0.1:$port", MAIL_FROM => 'Evently Tickets <tickets@evently.test>');
}

# The sink's messages, oldest first: [{rcpt, to, subject, outbox_id, text,
# attachments => [{filename, content_type, qr}]}, ...] (tests/bridge/mailbox.py)
sub mails
{
	my ($self) = @_;
	my ($out, $err) = ('', '');
	# read again only when the sink has more: a test polls this
	my $count = $self->mail_count;
	return $self->{mail_cache} if $self->{mail_cache} && $self->{mail_cache_count} == $count;
	my $read = EventlyTest::start([ '/usr/bin/python3', "$EventlyTest::root/tests/bridge/mailbox.py", $self->{maildir} ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(120));
	EventlyTest::finish($read) or die "mailbox.py failed: $err";
	$self->{mail_cache_count} = $count;
	return $self->{mail_cache} = [ map { decode_json($_) } split /\n/, $out ];
}

# how many messages the sink holds (cheaper than reading them)
sub mail_count
{
	my ($self) = @_;
	opendir(my $d, "$self->{maildir}/new") or return 0;
	my $n = grep { !/^\./ } readdir $d;
	closedir $d;
	return $n;
}

sub unpublished
{
	my ($self, $db) = @_;
	my $query = 'SELECT count(*) FROM evently.outbox WHERE published_at IS NULL';
	return $self->{node}->sum_over_outboxes($query) if $self->{node}->isa('ScaleoutCluster');
	return $self->sql($query, $db);
}

# Every message of a topic from the beginning:
# [{partition, offset, key, headers => {..}, value => {..}}, ...]
sub read_topic
{
	my ($self, $topic) = @_;
	my ($out, $err) = ('', '');
	my $kcat = EventlyTest::start([ 'kcat', '-b', $self->{brokers}, '-C', '-t', $topic, '-o', 'beginning', '-e',
			'-q', '-f', "%p\t%o\t%k\t%h\t%s\n" ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(60));
	EventlyTest::finish($kcat) or die "kcat failed: $err";
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
	return [ map { @{ $self->read_topic("evently.$_") } } qw(hold booking waitlist event organizer user) ];
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

1;
