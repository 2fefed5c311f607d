# A busy gateway is not a slow client (found by tests/bench/ga-flash-sale.sh).
# Each of libmicrohttpd's POOL_SIZE threads serves its connections one
# request at a time, so under load a keep-alive client's next request can
# wait in the kernel, whole but unread, for longer than REQUEST_HEAD_TIMEOUT.
# The watchdog (shim/guard.c) took that for a trickling client and cut the
# connection; the thread, which had already seen the request arrive, then
# read and ran it: a hold was made and its answer lost (the client's retry,
# a POST without an Idempotency-Key, held a second time).  Now a connection
# whose bytes wait for the gateway is not cut, and a request whose
# connection was cut is not run.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time sleep);

# one thread, one database connection: a request that waits for a lock
# keeps every other connection waiting behind it
my $t = ShimTest->new(POOL_SIZE => 1, PASSWORD_SLOTS => 1, REQUEST_HEAD_TIMEOUT => 2, REQUEST_BODY_TIMEOUT => 2,
	RATE_LIMIT_BURST => 1000000, RATE_LIMIT_PER_MINUTE => 1000000);
my $sql = sub { $t->node->safe_psql('evently', shift) };
my ($port) = $t->{base} =~ /:(\d+)$/;
my $event = $sql->("SELECT id FROM evently.events WHERE name = 'Tech Conference 2024'");
my @seats = split /\n/, $sql->("SELECT seat_id FROM evently.event_seats('$event') LIMIT 2");
my $token = $t->login('mitshah2406@gmail.com')->{access_token};
my $user = $sql->("SELECT id FROM evently.users WHERE email = 'mitshah2406\@gmail.com'");
local $SIG{PIPE} = 'IGNORE';    # writing to a connection the shim cut

sub send_request
{
	my ($s, $method, $path, $body) = @_;
	$body = defined $body ? encode_json($body) : '';
	return print $s "$method $path HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $token\r\n"
	  . "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
}

# the status of the next answer on $s, or 'closed' if the connection ends first
sub read_answer
{
	my ($s) = @_;
	my $buffer = '';
	while (1)
	{
		if ($buffer =~ /^HTTP\/1\.1 (\d+) (.*?)\r\n\r\n/s)
		{
			my ($status, $head, $end) = ($1, $2, $+[0]);
			my $length = $head =~ /\r\nContent-Length: (\d+)/i ? $1 : 0;
			return $status if length($buffer) >= $end + $length;
		}
		my $r = sysread($s, $buffer, 65536, length $buffer);
		return 'closed' unless $r;
	}
}

# a keep-alive connection that has had one answer
sub kept_alive
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 2) or die $!;
	send_request($s, GET => '/ping');
	die 'no answer to /ping' unless read_answer($s) eq '200';
	return $s;
}

# a session holding an ACCESS EXCLUSIVE lock on a table until COMMIT
sub lock_table
{
	my $session = $t->node->background_psql('evently');
	$session->query_safe("BEGIN; LOCK TABLE $_[0] IN ACCESS EXCLUSIVE MODE");
	return $session;
}

sub holds_of_seat
{
	return $sql->("SELECT count(*) FROM evently.holds h JOIN evently.hold_seats hs ON hs.hold_id = h.id
	                WHERE h.user_id = '$user' AND hs.seat_id = '$_[0]'");
}

# --- a request queued behind a busy thread is answered, not cut ---------------
# x waits for the users table while a and b send theirs; the thread then
# sees a and b together, runs a, which waits for the events table well past
# b's deadline, then b
my ($x, $a, $b) = map { kept_alive() } 1 .. 3;
my $users = lock_table('evently.users');
my $events = lock_table('evently.events');
my $sent = time;
send_request($x, GET => '/api/v1/auth/me');
sleep 0.2;
send_request($a, GET => "/api/v1/events/$event");
sleep 0.1;
send_request($b, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [ $seats[0] ] });
sleep 0.3;
$users->query_safe('COMMIT');
is(read_answer($x), 200, 'the first request waiting for a lock is answered');
sleep 3;    # b's bytes have waited well past REQUEST_HEAD_TIMEOUT (2 s), unread by the busy thread
$events->query_safe('COMMIT');
is(read_answer($a), 200, 'the second one too');
is(read_answer($b), 200,
	sprintf('the request queued behind them on a kept-alive connection is answered (%.1f s)', time - $sent));
is(holds_of_seat($seats[0]), 1, '... and made one hold');
$_->quit for $users, $events;
close $_ for $x, $a, $b;

# --- an idle connection is still cut, and a request sent after it is not run ---
my $c = kept_alive();
my $d = kept_alive();
$events = lock_table('evently.events');
send_request($d, GET => "/api/v1/events/$event");
sleep 2.8;    # c idle past REQUEST_HEAD_TIMEOUT, nothing of it unread: cut
send_request($c, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [ $seats[1] ] });
sleep 0.3;
$events->query_safe('COMMIT');
is(read_answer($d), 200, 'the request waiting for a lock is answered');
is(read_answer($c), 'closed', 'the idle connection was cut: no answer');
sleep 0.5;
is(holds_of_seat($seats[1]), 0, '... and the request written after the cut made no hold');
$events->quit;
close $_ for $c, $d;

unlike($t->log, qr/Failed to send/, 'no answer was lost on a cut connection');
done_testing();
