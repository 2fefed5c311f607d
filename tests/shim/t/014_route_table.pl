# The route table has no hidden size limit: a copy of the shim built with
# 300 routes serves every one of them, prepares each one's statement once on
# its connection, counts each one under its own label in /metrics and
# documents it in /openapi.json.  A pattern the router could never match
# stops the start-up with a message.  And no program under shim/ calls the
# libc functions that keep their result in static memory (gmtime, strtok, …):
# the shim's handlers run on libmicrohttpd's pool of threads.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{EVENTLY_ROOT};
my $tmp = PostgreSQL::Test::Utils::tempdir();
my $routes_c = slurp_file("$root/shim/routes.c");
my $table_re = qr/^(const Route routes\[\] = \{\n.*?)^\};$/ms;

$routes_c =~ $table_re or BAIL_OUT('no route table in shim/routes.c');
my $table_routes = () = $1 =~ /^\t\{"/mg;
cmp_ok($table_routes, '>=', 80, "shim/routes.c has its $table_routes routes");

# The shim's own compile command (make -n), with routes.c replaced by a
# copy whose table ends with extra rows.
sub build_with_rows
{
	my ($name, $rows, @extra_flags) = @_;
	(my $source = $routes_c) =~ s/$table_re/$1$rows};/ or die;
	open my $fh, '>', "$tmp/$name.c" or die;
	print $fh $source;
	close $fh;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'make', '--no-print-directory', '-s', '-n', '-B', '-C', $root, 'shim/evently-shim' ],
		'>', \$out, '2>', \$err) or die "make -n: $err";
	$out =~ s/\\\n//g;
	my ($command) = grep { /\s-o shim\/evently-shim\s/ } split /\n/, $out or die "no compile line: $out";
	$command =~ s{\s-o shim/evently-shim\s}{ -o $tmp/$name -I$root/shim @extra_flags };
	$command =~ s{(?<=\s)shim/routes\.c(?=\s)}{$tmp/$name.c} or die "routes.c not in: $command";
	IPC::Run::run([ 'sh', '-c', "cd '$root' && $command" ], '>', \$out, '2>', \$err)
	  or BAIL_OUT("building $name failed: $err");
	return "$tmp/$name";
}

# 300 routes: each extra one its own SQL statement, named by the route
my $total = 300;
my @extra = ($table_routes + 1 .. $total);
my $row_format = qq|\t{"GET", "/api/v1/test-routes/%d", AUTH_PUBLIC, sql_route, "test_route_%d",\n|
  . qq|\t "SELECT jsonb_build_object('route', %d, 'actor', \$1::uuid, 'method', \$2::jsonb->>'method')",\n|
  . qq|\t 200, "test route %d"},\n|;
my $rows = join '', map { sprintf($row_format, $_, $_, $_, $_) } @extra;
my $binary = build_with_rows('routes-300', $rows);

# patterns the router cannot match, each in a table of its own
my %bad = (
	'/api/v1/t/:a/:b/:c/:d/:e' => qr/more path parameters than MAX_PATH_PARAMS/,
	'/api/v1/t/:' . ('x' x 40) . 'Id' => qr/a path parameter's name is empty or longer than MAX_PARAM_NAME/);
my %bad_binary;
my $i = 0;
$bad_binary{$_} = build_with_rows('bad-pattern-' . ++$i,
	qq|\t{"GET", "$_", AUTH_PUBLIC, ping_route, NULL, NULL, 200, "pong"},\n|, '-O0')
  for sort keys %bad;

# (all built before any shim starts: a BAIL_OUT above leaves nothing running)
my $t = ShimTest->new;
my $node = $t->node;
my %env = (
	JWT_SECRET => $t->secret, RATE_LIMIT_BURST => 1000000, RATE_LIMIT_PER_MINUTE => 1000000,
	DATABASE_URL => EventlyTest::database_url($node));

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $log = "$tmp/routes-300.log";
my $shim;
END { $shim->kill_kill if $shim && $shim->pumpable }
{
	local @ENV{ keys %env } = values %env;
	local $ENV{PORT} = $port;
	# one connection: it prepares every statement, so its list of prepared names must hold them all
	local $ENV{POOL_SIZE} = 1;
	$shim = IPC::Run::start([$binary], '<', \undef, '>>', $log, '2>>', $log);
}
my $http = HTTP::Tiny->new(timeout => 10);
my $base = "http://127.0.0.1:$port";
for (1 .. 100)
{
	last if $http->get("$base/ping")->{success};
	select(undef, undef, undef, 0.1);
}

# every extra route twice: the second time runs the statement the first one prepared
my @wrong;
for my $round (1, 2)
{
	for my $n (@extra)
	{
		my $res = $http->get("$base/api/v1/test-routes/$n");
		my $json = eval { decode_json($res->{content}) };
		push @wrong, "round $round, route $n: $res->{status} $res->{content}"
		  unless $res->{status} == 200 && $json && $json->{data}{route} == $n;
	}
}
is_deeply([ @wrong[ 0 .. ($#wrong < 4 ? $#wrong : 4) ] ], [],
	scalar(@extra) . " extra routes, each answered twice by its own statement on one connection");

my $metrics = $http->get("$base/metrics")->{content};
my $counted = () = $metrics =~ /^evently_http_requests_total\{route="GET \/api\/v1\/test-routes\/\d+",status="2xx"\} 2$/mg;
is($counted, scalar @extra, 'each one counted twice under its own label in /metrics');
like($metrics, qr/^evently_http_requests_total\{route="GET \/api\/v1\/test-routes\/$total",status="2xx"\} 2$/m,
	"route $total included");
unlike($metrics, qr/route="unmatched"/, 'none of them counted as unmatched');

sub operations
{
	my ($doc) = @_;
	my $n = 0;
	$n += scalar keys %{ $doc->{paths}{$_} } for keys %{ $doc->{paths} };
	return $n;
}
my (undef, $usual) = $t->request(GET => '/openapi.json');
is(operations(decode_json($http->get("$base/openapi.json")->{content})) - operations($usual), scalar @extra,
	'and documented in /openapi.json');

$shim->signal('TERM');
$shim->finish;
is($shim->full_result(0), 0, 'the 300-route shim stops cleanly');

# the bad patterns: refused at start-up, not a 404 for ever
for my $pattern (sort keys %bad)
{
	my ($out, $err) = ('', '');
	local @ENV{ keys %env } = values %env;
	local $ENV{PORT} = PostgreSQL::Test::Cluster::get_free_port();
	my $h = IPC::Run::start([ $bad_binary{$pattern} ], '<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(10));
	eval { $h->finish };
	$h->kill_kill if $@;
	is($h->full_result(0), 2 << 8, "a route $pattern stops the start-up (exit 2)");
	like($err, qr/^route GET \Q$pattern\E: $bad{$pattern}/m, 'saying which route and why');
}

# no static-buffer libc function in any program under shim/
my @unsafe = qw(asctime ctime gmtime localtime strtok rand strerror inet_ntoa gethostbyname
  getpwnam getpwuid setenv putenv);
for my $program (qw(evently-shim evently-bridge evently-notify evently-broker))
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'nm', '-D', '--undefined-only', "$root/shim/$program" ], '>', \$out, '2>', \$err)
	  or die "nm $program: $err";
	my %imports = map { (split /@/, (split ' ')[-1])[0] => 1 } split /\n/, $out;
	cmp_ok(scalar keys %imports, '>', 10, "$program: its imports are read");
	is_deeply([ grep { $imports{$_} } @unsafe ], [], "$program calls no non-reentrant libc function");
}

is($t->stop_shim, 0, 'clean stop');
done_testing();
