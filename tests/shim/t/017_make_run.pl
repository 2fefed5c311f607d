# What make run sets up is closed to other local users (issue 10): its
# cluster takes the superuser only over its own socket, as the OS user that
# runs it; over TCP every role needs a password, the superuser included; the
# shim's sessions are the gateway role's, evently_app, never a superuser's.
# Runs tests/run.sh (make run without the build) in a state directory and on
# ports of its own, so a developer's make run is left alone.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{EVENTLY_ROOT};
my $state = tempdir('make-run-XXXX', DIR => "$root/.evently/test", CLEANUP => 1);
chmod 0755, $state;
my $pg_port = PostgreSQL::Test::Cluster::get_free_port();
my $http_port = PostgreSQL::Test::Cluster::get_free_port();
local $ENV{EVENTLY_STATE_DIR} = $state;
local $ENV{EVENTLY_PG_PORT} = $pg_port;
local $ENV{PORT} = $http_port;
local $ENV{EVENTLY_SMTP_PORT} = PostgreSQL::Test::Cluster::get_free_port();
delete local $ENV{SMTP_URL};
delete local $ENV{PGHOST};
delete local $ENV{PGPORT};
delete local $ENV{PGUSER};
delete local $ENV{DATABASE_URL};
delete local $ENV{KAFKA_BROKERS};

my ($out, $err) = run_command([ 'bash', "$root/tests/run.sh", 'start' ]);
like($out, qr/evently is running/, 'make run starts') or diag $err;
my $res = HTTP::Tiny->new(timeout => 10)->get("http://127.0.0.1:$http_port/health");
is($res->{status}, 200, 'its shim answers');

# a client of the cluster (psql -w: never prompt for a password)
sub psql
{
	my ($stdout, $stderr);
	my $ok = IPC::Run::run([ 'psql', '-X', '-w', '-At', '-p', $pg_port, '-d', 'evently', @_ ],
		'<', \undef, '>', \$stdout, '2>', \$stderr);
	return ($ok, $stdout // '', $stderr // '');
}

my ($ok, $stdout, $stderr) = psql('-h', '127.0.0.1', '-U', 'postgres', '-c', 'SELECT 1');
ok(!$ok, 'psql -h 127.0.0.1 -U postgres is refused, even for the OS user running the cluster');
like($stderr, qr/password/, '... for want of a password') or diag $stderr;
($ok, $stdout, $stderr) = psql('-h', '127.0.0.1', '-U', 'evently_app', '-c', 'SELECT 1');
ok(!$ok, 'the gateway role needs its password too');
like($stderr, qr/password/, '... as its sessions give it') or diag $stderr;
is(slurp_file("$state/pgdata/pg_hba.conf") =~ s/^#.*\n//mgr,
	"local all postgres peer map=evently\nlocal all all scram-sha-256\n"
	  . "host  all all 127.0.0.1/32 scram-sha-256\nhost  all all ::1/128 scram-sha-256\n",
	'no trust anywhere: the superuser by peer over the socket, everyone else by password');

# the cluster's OS user over the socket is the DBA: it sees who is connected
($ok, $stdout, $stderr) = psql('-h', "$state/run", '-U', 'postgres', '-c',
	"SELECT string_agg(DISTINCT usename || ':' || usesuper::text, ',')
	   FROM pg_stat_activity a JOIN pg_user u USING (usename)
	  WHERE a.datname = 'evently' AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'");
ok($ok, 'the cluster\'s OS user connects over the socket as postgres (peer)') or diag $stderr;
is($stdout =~ s/\s+$//r, 'evently_app:false', 'every session of the programs is evently_app, not a superuser');

# e-mail goes to the local sink, a file per message: the seed's verified
# organizer is told by mail
like($out, qr{local SMTP sink smtp://127\.0\.0\.1:$ENV{EVENTLY_SMTP_PORT}: each message a file in \Q$state\E/mail/new/},
	'make run says where the mail goes');
my $mail = '';
for (1 .. 600)
{
	opendir(my $d, "$state/mail/new") or last;
	$mail .= slurp_file("$state/mail/new/$_") for grep { !/^\./ } readdir $d;
	last if $mail =~ /^X-RcptTo: organizer\@example\.com$/m;
	$mail = '';
	select(undef, undef, undef, 0.1);
}
like($mail, qr/^Subject: You are a verified organizer$/m, "the organizer's verification is mailed into .evently/mail/new/");

($out, $err) = run_command([ 'bash', "$root/tests/run.sh", 'stop' ]);
$res = HTTP::Tiny->new(timeout => 2)->get("http://127.0.0.1:$http_port/health");
is($res->{status}, 599, 'make stop stops the shim');
ok(!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ENV{EVENTLY_SMTP_PORT}, Proto => 'tcp'),
	'and the SMTP sink');
done_testing();
