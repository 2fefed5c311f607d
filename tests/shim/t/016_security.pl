# The gateway holds under abuse (issue 10, SPEC section 8): sessions end when
# they should, login tells nothing and is throttled per account, free-form
# JSON is bounded, ambiguous framing is refused, someone else's object is
# 404, and idle or trickling connections starve nobody.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use HTTP::Tiny;
use IO::Socket::INET;
use List::Util qw(sum);
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);

my $t = ShimTest->new(RATE_LIMIT_BURST => 1000000, RATE_LIMIT_PER_MINUTE => 1000000,
	REQUEST_HEAD_TIMEOUT => 2, REQUEST_BODY_TIMEOUT => 2, MAX_CONNECTIONS_PER_ADDRESS => 64, PASSWORD_SLOTS => 1);
my ($status, $json, $res);
my $sql = sub { $t->node->safe_psql('evently', shift) };
my ($port) = $t->{base} =~ /:(\d+)$/;

# the shim connects as the gateway's login role, not as a superuser
is($sql->(q{SELECT string_agg(DISTINCT usename, ',') FROM pg_stat_activity
             WHERE datname = 'evently' AND backend_type = 'client backend' AND pid <> pg_backend_pid()}),
	'evently_app', 'the shim\'s sessions run as evently_app');

# --- sessions end when they should --------------------------------------
my $event = $sql->("SELECT id FROM evently.events WHERE name = 'Tech Conference 2024'");
my @seats = split /\n/, $sql->("SELECT seat_id FROM evently.event_seats('$event') LIMIT 4");
my $login = $t->login('mitshah2406@gmail.com');
($status, $json) = $t->as($login->{access_token}, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [ $seats[0] ] });
my $hold = $json->{data}{hold_id};
$sql->("UPDATE evently.users SET status = 'BANNED' WHERE email = 'mitshah2406\@gmail.com'");
($status, $json) = $t->as($login->{access_token}, POST => '/api/v1/bookings/confirm',
	{ hold_id => $hold, event_id => $event, payment_method => 'card' });
is("$status $json->{code}", '401 UNAUTHENTICATED', 'a banned user\'s old token cannot confirm');
($status, $json) = $t->as($login->{access_token}, GET => '/api/v1/users/bookings');
is($status, 401, '... nor read');
$sql->("UPDATE evently.users SET status = 'ACTIVE' WHERE email = 'mitshah2406\@gmail.com'");
($status, $json) = $t->as($login->{access_token}, GET => '/api/v1/auth/me');
is("$status $json->{message}", '401 session has ended', 'lifting the ban does not bring the old session back');

$login = $t->login('mitshah2406@gmail.com');
($status) = $t->as($login->{access_token}, GET => '/api/v1/auth/me');
is($status, 200, 'a new login works');
($status) = $t->request(POST => '/api/v1/auth/logout', { refresh_token => $login->{refresh_token} });
is($status, 200, 'logout');
($status, $json) = $t->as($login->{access_token}, GET => '/api/v1/auth/me');
is("$status $json->{message}", '401 session has ended', 'logout ends the access token too');

$login = $t->login('mitshah2406@gmail.com');
my $second = $t->login('mitshah2406@gmail.com');
($status) = $t->as($login->{access_token}, POST => '/api/v1/auth/logout', {});
is($status, 200, 'logout with only the access token');
($status) = $t->as($second->{access_token}, GET => '/api/v1/auth/me');
is($status, 401, '... ends every session of the user, the other device\'s too');

$login = $t->login('mitshah2406@gmail.com');
($status) = $t->as($login->{access_token}, PUT => '/api/v1/auth/change-password',
	{ current_password => 'qwerty', new_password => 'qwerty2' });
is($status, 200, 'a new password');
($status) = $t->as($login->{access_token}, GET => '/api/v1/auth/me');
is($status, 401, 'ends the access token it was changed with');
$login = $t->login('mitshah2406@gmail.com', 'qwerty2');
$t->as($login->{access_token}, PUT => '/api/v1/auth/change-password', { current_password => 'qwerty2', new_password => 'qwerty' });

# a booking of A's is 404 to B, read or written
my $token_a = $t->login('mitshah2406@gmail.com')->{access_token};
my $token_b = $t->login('mitshah2406.work@gmail.com')->{access_token};
($status, $json) = $t->as($token_a, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [ $seats[1] ] });
($status, $json) = $t->as($token_a, POST => '/api/v1/bookings/confirm', { hold_id => $json->{data}{hold_id}, event_id => $event,
	payment_method => 'card' });
my $booking = $json->{data}{booking_id};
($status, $json) = $t->as($token_b, POST => "/api/v1/bookings/$booking/cancel", {});
is("$status $json->{code}", '404 NOT_FOUND', 'B\'s cancel of A\'s booking is 404, like a read');

# --- login: the same work for unknown accounts, throttled per account ------
$sql->("SELECT evently.create_user('probe' || n || '\@example.com', 'qwerty', 'Pro', 'Be') FROM generate_series(1, 20) n");
sub median { my @v = sort { $a <=> $b } @_; return $v[ @v / 2 ] }
sub login_time
{
	my ($email) = @_;
	my $start = time;
	my ($s) = $t->request(POST => '/api/v1/auth/login', { email => $email, password => 'wrong-one' });
	die "login of $email: $s" unless $s == 401;
	return time - $start;
}
my $known = median(map { login_time("probe$_\@example.com") } 1 .. 20);
my $unknown = median(map { login_time("nobody$_\@example.com") } 1 .. 20);
cmp_ok($unknown, '>', $known / 2, sprintf('an unknown e-mail takes as long as a wrong password (%.0f vs %.0f ms)',
	$unknown * 1000, $known * 1000));
cmp_ok($unknown, '<', $known * 2, '... within a factor of 2 either way');

for my $n (1 .. 5)
{
	($status) = $t->request(POST => '/api/v1/auth/login', { email => 'admin@gmail.com', password => "guess$n" },
		{ 'X-Forwarded-For' => "10.0.0.$n" });
}
($status, $json, $res) = $t->request(POST => '/api/v1/auth/login', { email => 'admin@gmail.com', password => 'guess6' },
	{ 'X-Forwarded-For' => '10.0.0.6' });
is("$status $json->{code}", '429 TOO_MANY_ATTEMPTS', 'the sixth guess at one account is throttled, whatever the address');
ok($res->{headers}{'retry-after'} >= 1 && $res->{headers}{'retry-after'} <= 60, 'with a Retry-After of at most a minute');
($status) = $t->request(POST => '/api/v1/auth/login', { email => 'admin@gmail.com', password => 'qwerty' });
is($status, 429, 'even the right password waits its turn');
sleep($res->{headers}{'retry-after'} + 0.2);
($status) = $t->request(POST => '/api/v1/auth/login', { email => 'admin@gmail.com', password => 'qwerty' });
is($status, 200, 'after the wait the owner signs in');
($status) = $t->request(POST => '/api/v1/auth/login', { email => 'mitshah2406@gmail.com', password => 'qwerty' });
is($status, 200, 'other accounts were never throttled');

# guesses from elsewhere do not lock the owner out: 127.0.0.1, where the
# ADMIN just signed in, has a throttle of its own
my $elsewhere = HTTP::Tiny->new(local_address => '127.0.0.3', timeout => 10);
for my $n (1 .. 6)
{
	$res = $elsewhere->post("$t->{base}/api/v1/auth/login", { headers => { 'Content-Type' => 'application/json' },
		content => qq({"email": "admin\@gmail.com", "password": "again$n"}) });
}
is($res->{status}, 429, 'an attacker on another address is throttled');
($status) = $t->request(POST => '/api/v1/auth/login', { email => 'admin@gmail.com', password => 'qwerty' });
is($status, 200, '... while the owner, from an address she signed in from, is not');

# a stolen access token is no way around the throttle: change-password
# counts wrong current passwords as failed logins
my $victim = $t->login('mitshah2406.work@gmail.com')->{access_token};
my @answers = map { ($t->as($victim, PUT => '/api/v1/auth/change-password',
	{ current_password => "guess$_", new_password => 'owned!' }))[0] } 1 .. 6;
is("@answers", '401 401 401 401 401 429', 'the sixth wrong current password is throttled (429)');

# a flood of sign-ins is refused at once beyond PASSWORD_SLOTS (503 BUSY),
# holding no HTTP worker, so the other routes keep their latency
my @flooders;
for my $n (1 .. 24)
{
	my $pid = fork // die "fork: $!";
	if ($pid == 0)
	{
		my $http = HTTP::Tiny->new(local_address => "127.0.4.$n", timeout => 10);
		my $until = time + 4;
		my %seen;
		while (time < $until)
		{
			my $r = $http->post("$t->{base}/api/v1/auth/login", { headers => { 'Content-Type' => 'application/json' },
				content => qq({"email": "probe$n\@example.com", "password": "wrong-one"}) });
			$seen{ $r->{status} }++;
		}
		# _exit: the parent's END blocks (which stop the cluster) are not ours
		POSIX::_exit($seen{503} ? 0 : 1);
	}
	push @flooders, $pid;
}
sleep 1;
my @get_times;
for (1 .. 15)
{
	my $start = time;
	($status) = $t->request(GET => '/api/v1/events');
	push @get_times, time - $start if $status == 200;
	sleep 0.1;
}
my $busy = 0;
for my $pid (@flooders) { waitpid($pid, 0); $busy++ if $? == 0 }
cmp_ok($busy, '>', 0, "flooding sign-ins are told BUSY ($busy of 24 clients saw a 503)");
is(scalar @get_times, 15, 'GET /events answers all through the flood');
cmp_ok(median(@get_times), '<', 0.5, sprintf('... in %.0f ms (median)', median(@get_times) * 1000));

# --- free-form JSON is bounded ---------------------------------------------
($status, $json) = $t->as($token_a, POST => '/api/v1/waitlist',
	{ event_id => $event, quantity => 1, preferences => { note => 'x' x 200_000 } });
is("$status $json->{errors}{preferences}", '422 is too large', 'a 200 kB preferences object is refused');

# --- ambiguous framing is 400, and the connection closes --------------------
my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5) or die $!;
print $sock "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
  . "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
my $answer = '';
$sock->timeout(5);
while (my $n = sysread($sock, my $chunk, 65536)) { $answer .= $chunk }
like($answer, qr{^HTTP/1\.1 400 }, 'Content-Length with Transfer-Encoding is 400');
unlike($answer, qr{pong}, 'and nothing smuggled behind it is answered: the connection closed');
close $sock;

# the same for the framings a proxy might read otherwise (RFC 9112 6.3)
sub raw_exchange
{
	my ($request) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5) or die $!;
	print $s $request;
	my $got = '';
	$s->timeout(5);
	while (my $n = sysread($s, my $chunk, 65536)) { $got .= $chunk }
	close $s;
	return $got;
}
for my $framing ("Transfer-Encoding: gzip, chunked\r\n", "Transfer-Encoding: identity\r\nContent-Length: 4\r\n",
	"Content-Length: 4\r\nTransfer-Encoding : chunked\r\n", "Content-Length: 4\r\nContent-Length : 40\r\n",
	"Content-Length: 4\r\nTransfer-Encoding: x\r\n chunked\r\n", "Content-Length: 4\r\nTransfer-Encoding\r: chunked\r\n")
{
	$answer = raw_exchange("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		  . "$framing\r\n0\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
	(my $name = $framing) =~ s/\r\n/; /g;
	like($answer, qr{^HTTP/1\.1 400 .*AMBIGUOUS_FRAMING}s, "$name is 400");
	unlike($answer, qr{pong}, '... and closes');
}

# --- idle and trickling connections starve nobody -------------------------
my @hoard;
for (1 .. 1000)
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, LocalAddr => '127.0.0.2', Timeout => 2)
	  or last;
	push @hoard, $s;
}
my $start = time;
($status) = $t->request(GET => '/health');
is($status, 200, sprintf('while 127.0.0.2 opens %d idle connections, another client is answered (%.2f s)',
	scalar @hoard, time - $start));
# the shim keeps at most 64 of them; the rest it closed at once
my $open = grep { my $s = $_; $s->blocking(0); my $r = sysread($s, my $x, 1); !(defined $r && $r == 0) } @hoard;
cmp_ok($open, '<=', 64, "one address keeps at most MAX_CONNECTIONS_PER_ADDRESS connections ($open open)");
sleep 3.5;
$open = grep { my $s = $_; my $r = sysread($s, my $x, 1); !(defined $r && $r == 0) } @hoard;
is($open, 0, 'and those idle past REQUEST_HEAD_TIMEOUT are closed');
close $_ for @hoard;

local $SIG{PIPE} = 'IGNORE';    # writing to a connection the shim cut

# Seconds until the shim cuts a connection that sends $opening, then one
# $piece (numbered by %d) every half second; undef if it never does.
sub trickle_until_cut
{
	my ($opening, $piece) = @_;
	my $trickler = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 2) or die $!;
	print $trickler $opening;
	my $start = time;
	my $cut;
	for (1 .. 12)
	{
		last unless print $trickler sprintf($piece, $_);
		sleep 0.5;
		$trickler->blocking(0);
		my $r = sysread($trickler, my $x, 1);
		$cut = time - $start, last if defined $r && $r == 0;
	}
	close $trickler;
	return $cut;
}
my $cut = trickle_until_cut("GET /health HTTP/1.1\r\n", "X-Slow-%d: y\r\n");
ok(defined $cut && $cut >= 1.5 && $cut < 3.5,
	sprintf('a head trickled one line at a time is cut at its deadline, 2 s (%.1f s)', $cut // -1));
# and a body trickled one byte at a time, at REQUEST_BODY_TIMEOUT
$cut = trickle_until_cut("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	  . "Content-Length: 100\r\n\r\n", "{");
ok(defined $cut && $cut >= 1.5 && $cut < 3.5,
	sprintf('a body trickled one byte at a time is cut at its deadline, 2 s (%.1f s)', $cut // -1));

# --- a DBA's role cannot sit on an event's queue ----------------------------
# stall_db joins the waitlist in a transaction it leaves open: it holds the
# event's queue lock; the sweeper ends its session once the transaction is
# older than evently.linked_transaction_limit (1 s here), and its join goes
SKIP:
{
	# a linked role is a role of one database, not of the proxy's
	skip 'linked roles act on one database: sharded, each links its own (SPEC section 13)', 4
	  if $ENV{EVENTLY_SCALEOUT};
	$sql->("CREATE ROLE stall_db LOGIN");
	$sql->("SELECT evently.link_role('stall_db', (SELECT id FROM evently.users WHERE email = 'mitshah2406.work\@gmail.com'))");
	$sql->("ALTER DATABASE evently SET evently.linked_transaction_limit = '1s'");
	my $stall = $t->node->background_psql('evently', extra_params => [ '-U', 'stall_db' ], on_error_stop => 0);
	$stall->query_safe('BEGIN');
	$stall->query_safe("SELECT evently.join_waitlist('$event', NULL, 1)");
	my $queue_lock = q{SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	                    WHERE a.usename = 'stall_db' AND l.locktype = 'advisory' AND l.classid = x'45560001'::int::oid};
	is($sql->($queue_lock), 1, 'a linked role holds an event\'s queue lock in its open transaction');
	sleep 1.2;
	is($sql->('SELECT evently.expire_holds() >= 0'), 't', 'a sweep once its transaction is older than the limit');
	my $gone;
	for (1 .. 50)
	{
		$gone = $sql->(q{SELECT count(*) FROM pg_stat_activity WHERE usename = 'stall_db'}) == 0 and last;
		sleep 0.1;
	}
	ok($gone, '... ends its session, and the lock with it');
	is($sql->(qq{SELECT count(*) FROM evently.waitlist_entries w JOIN evently.users u ON u.id = w.user_id
	              WHERE w.event_id = '$event' AND u.email = 'mitshah2406.work\@gmail.com'}), 0, 'its join was never made');
	$stall->quit;
	$sql->("ALTER DATABASE evently RESET evently.linked_transaction_limit");
}

is($t->stop_shim, 0, 'clean stop');
done_testing();
