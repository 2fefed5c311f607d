# The read cache (SPEC section 12, shim/readcache.c) from a hostile
# reviewer's side: requests that share a cache key must deserve the same
# answer, HEAD and 304 speak HTTP correctly, a flight that fails does not
# strand its waiters, and what a header can make the cache do.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep);

my $t = ShimTest->new(POOL_SIZE => 8, STATEMENT_TIMEOUT_MS => 1000,
	RATE_LIMIT_BURST => 1000000, RATE_LIMIT_PER_MINUTE => 1000000);
my $node = $t->node;
my $sql = sub { $node->safe_psql('evently', shift) };

$t->track_statements;    # database calls are counted by pg_stat_statements
my ($port) = $t->{base} =~ /:(\d+)$/;

my $event = $sql->("SELECT id FROM evently.events WHERE name = 'Tech Conference 2024'");
my $path = "/api/v1/events/$event";

# raw HTTP/1.1 requests, all sent at once on fresh connections; the answers
# as "status body" once every one has come back
sub send_all
{
	my @sockets;
	for my $request (@_)
	{
		my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 20) or die $!;
		print $c $request;
		push @sockets, $c;
	}
	return @sockets;
}

sub answers
{
	my @out;
	for my $c (@_)
	{
		local $/;
		my $text = <$c> // '';
		my ($code) = $text =~ m{^HTTP/1\.1 (\d+)};
		my ($body) = $text =~ /\r\n\r\n(.*)\z/s;
		push @out, ($code // 'none') . ' ' . ($body // '');
	}
	return @out;
}

sub get_request
{
	my ($target, $headers) = @_;
	return "GET $target HTTP/1.1\r\nHost: x\r\n" . ($headers // '') . "Connection: close\r\n\r\n";
}

# the first call of this SQL function waits on a lock (the flight is in the air)
sub wait_for_lock
{
	my ($function) = @_;
	$t->wait_for_lock_waiter($function) or die "no call of $function waited for the lock";
}

# --- HEAD: GET without the body -------------------------------------------------
my ($status, $json, $get) = $t->request(GET => $path);
my $head = $t->{http}->request('HEAD', "$t->{base}$path");
is($head->{status}, 200, 'HEAD on a public read answers as GET does (RFC 9110 9.3.2)');
is($head->{headers}{etag}, $get->{headers}{etag}, 'with the same ETag');
is($head->{headers}{'content-length'}, length($get->{content}), 'and the length of the body it leaves out');
is($head->{content} // '', '', 'which it leaves out');
is($head->{headers}{'cache-control'}, 'public, max-age=1', 'public like the GET');
$head = $t->{http}->request('HEAD', "$t->{base}$path", { headers => { 'If-None-Match' => $get->{headers}{etag} } });
is($head->{status}, 304, 'HEAD with If-None-Match: 304');

# --- 304: the 200's length or none, and nothing after it read as a body ----------------
my ($c) = send_all(get_request($path, "If-None-Match: $get->{headers}{etag}\r\n") =~ s/Connection: close\r\n//r
	. get_request('/ping'));
my $text = do { local $/; <$c> };
my ($not_modified, $after) = split /(?=HTTP\/1\.1 )/, $text, 2;
like($not_modified, qr{^HTTP/1\.1 304 }, 'a 304 on a kept-alive connection');
my ($length) = $not_modified =~ /^Content-Length: (\d+)\r$/mi;
ok(!defined $length || $length == length($get->{content}),
	'says no Content-Length, or the 200\'s (RFC 9110 8.6), not 0') or diag $not_modified;
unlike($not_modified, qr/^Content-Type:/mi, 'and no Content-Type: it has no content (RFC 9110 15.4.5)');
like($after // '', qr{^HTTP/1\.1 200 .*"pong"}s, 'the next answer on the connection reads right');

# --- a slug that looks like a uuid is not a uuid ------------------------------------
# the key lower-cases uuid parameters; the SQL compares a slug as typed, so
# the two spellings deserve two answers (the second a 404)
my $slug = 'deadbeef-0000-4000-8000-00000000abcd';
$sql->("INSERT INTO evently.tags (name, slug) VALUES ('$slug', '$slug')");
my $upper = uc $slug;
($status) = $t->request(GET => "/api/v1/tags/slug/$upper", undef, { 'Cache-Control' => 'no-cache' });
is($status, 404, 'the database knows no tag by the upper-case spelling');
($status) = $t->request(GET => "/api/v1/tags/slug/$slug");
is($status, 200, 'it knows the tag by its slug (now in the cache)');
($status) = $t->request(GET => "/api/v1/tags/slug/$upper");
is($status, 404, 'the upper-case spelling is not served the slug\'s cached answer');
# and in flight: the upper-case read flies first, the slug's read must not share its 404
sleep 1.1;
my $lock = $node->background_psql('evently');
$lock->query_safe('BEGIN; LOCK TABLE evently.tags IN ACCESS EXCLUSIVE MODE');
my @upper = send_all(get_request("/api/v1/tags/slug/$upper"));
wait_for_lock('api_tag_by_slug');
my @lower = send_all(get_request("/api/v1/tags/slug/$slug"));
sleep 0.3;
$lock->query_safe('COMMIT');
my ($upper_answer) = answers(@upper);
my ($lower_answer) = answers(@lower);
like($upper_answer, qr/^404 /, 'in flight: the upper-case spelling 404');
like($lower_answer, qr/^200 /, 'and the slug read that came meanwhile its own 200');

# --- the same key, the same SQL input: duplicate and encoded query arguments --------------
for my $query ('limit=1&limit=3', 'limit=3&limit=1', 'lim%69t=2', 'limit=2&limit')
{
	my (undef, $cached) = $t->request(GET => "/api/v1/events/upcoming?$query");
	my (undef, $fresh) = $t->request(GET => "/api/v1/events/upcoming?$query", undef, { 'Cache-Control' => 'no-cache' });
	is_deeply($cached, $fresh, "?$query: the cached answer is the database's");
}

# --- a flight that fails: its waiters share the failure, nobody hangs -------------------
# STATEMENT_TIMEOUT_MS=1000: the flight waits on a lock held longer than that
sleep 1.1;
my $cold = $sql->("SELECT id FROM evently.events WHERE name <> 'Tech Conference 2024' AND status = 'published'
                    ORDER BY name LIMIT 1");
$lock->query_safe('BEGIN; LOCK TABLE evently.events IN ACCESS EXCLUSIVE MODE');
my @first = send_all(get_request("/api/v1/events/$cold"));
wait_for_lock('api_event_get');
my @waiters = send_all(map { get_request("/api/v1/events/$cold") } 1 .. 5);
my @failed = answers(@first, @waiters);
$lock->query_safe('COMMIT');
is(scalar(grep { /^503 / } @failed), 6, 'the flight timed out: it and its waiters answer 503, none hangs')
  or diag explain \@failed;
($status) = $t->request(GET => "/api/v1/events/$cold");
is($status, 200, 'the next read flies again and succeeds');

# --- what a header can do: a reload storm ---------------------------------------
# A browser's reload sends Cache-Control: max-age=0; served as any other
# request (at most READ_CACHE_MS old), 64 clients reloading an on-sale page
# at once make one database call, not 64.
sleep 1.1;
$sql->('SELECT pg_stat_statements_reset()');
$lock->query_safe('BEGIN; LOCK TABLE evently.events IN ACCESS EXCLUSIVE MODE');
my @storm = send_all(get_request($path, "Cache-Control: max-age=0\r\n"));
wait_for_lock('api_event_get');
push @storm, send_all(map { get_request($path, "Cache-Control: max-age=0\r\n") } 2 .. 64);
$lock->query_safe('COMMIT');
my @reloaded = answers(@storm);
is(scalar(grep { /^200 / } @reloaded), 64, 'a reload storm is answered');
my $calls = $sql->("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE 'SELECT evently.api_event_get(%'");
is($calls, 1, "64 reloads at once (max-age=0): one database call");

# --- an answer too large to keep does not push the others out -----------------------
# READ_CACHE_MB=4: 256 KiB a shard; a section of 2,000 more seats answers
# some 560 KB, never kept, but counted while its waiters read it, it made
# its shard evict every other answer
sub metric
{
	my (undef, undef, $res) = $t->request(GET => '/metrics');
	return $res->{content} =~ /^$_[0] (\d+)$/m ? $1 : die "no $_[0] in /metrics";
}
$t->stop_shim;
$t->{env}{READ_CACHE_MB} = 4;
$t->{env}{STATEMENT_TIMEOUT_MS} = 5000;    # the flights below wait on locks
$t->start_shim;
($port) = $t->{base} =~ /:(\d+)$/;
my $section = $sql->('SELECT id FROM evently.venue_sections ORDER BY name, id LIMIT 1');
$sql->(qq{INSERT INTO evently.seats (section_id, seat_number, "row", position)
          SELECT '$section', 'Z' || g, 'Z' || (g / 100), 1000 + g FROM generate_series(1, 2000) g});
$t->request(GET => "/api/v1/events?limit=100&probe=$_") for 1 .. 320;
my ($entries, $evictions) = map { metric("evently_read_cache_$_") } qw(entries evictions_total);
is($evictions, 0, '320 answers of some 5 kB fit in 4 MiB');
$lock->query_safe('BEGIN; LOCK TABLE evently.seats IN ACCESS EXCLUSIVE MODE');
my @big = send_all(get_request("/api/v1/sections/$section/seats"));
wait_for_lock('api_section_seats');
push @big, send_all(map { get_request("/api/v1/sections/$section/seats") } 1 .. 5);
sleep 0.3;
$lock->query_safe('COMMIT');
my @seats = answers(@big);
cmp_ok(length($seats[0]), '>', 256 * 1024, 'a section\'s seats: more than a shard\'s share');
is(scalar(grep { /^200 / } @seats), 6, 'answered to the flight and its waiters');
is(metric('evently_read_cache_evictions_total'), 0, 'without evicting anything');
is(metric('evently_read_cache_entries'), $entries, 'every other answer is still kept');

# --- SIGTERM with a flight and its waiters in the air: every one is answered -------------
# (the shim ran them to the end, then closed their connections unanswered)
$lock->query_safe('BEGIN; LOCK TABLE evently.events IN ACCESS EXCLUSIVE MODE');
my @stopping = send_all(get_request($path));
wait_for_lock('api_event_get');
push @stopping, send_all(get_request($path), get_request($path, "Cache-Control: no-cache\r\n"));
sleep 0.3;
$t->{shim}->signal('TERM');
sleep 0.3;
$lock->query_safe('COMMIT');
my @stopped = answers(@stopping);
is(scalar(grep { /^200 / } @stopped), 3, 'SIGTERM: the flight, its waiter and a no-cache read in the air are answered')
  or diag explain \@stopped;
ok(EventlyTest::finish($t->{shim}), 'and the shim stops cleanly');
$lock->quit;

done_testing();
