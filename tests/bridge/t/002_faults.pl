# Faults: kill -9 of the bridge in a 10,000-row backlog, the broker going
# down while bookings go on, a PostgreSQL restart, two bridges at once.
# Every outbox id reaches Kafka; duplicates only around a crash.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/..";
use BridgeTest;
use Test::More;

my $t = BridgeTest->new;
my $node = $t->node;

sub drained { BridgeTest::wait_until(sub { $t->unpublished eq '0' }, $_[0]) }

# ids in Kafka -> number of copies
sub copies
{
	my %copies;
	$copies{ $_->{value}{id} }++ for @{ $t->read_all_topics };
	return \%copies;
}

# --- kill -9 in the middle of a 10,000-row backlog
# small batches, so the 10,000 rows take a few seconds and the kill lands
# in the middle
$t->sql('SELECT bt.backlog(10000)');
$t->spawn('bridge', 'evently-bridge', BRIDGE_BATCH_SIZE => 20);
BridgeTest::wait_until(sub { $t->unpublished < 9500 }, 'a part is published');
$t->crash('bridge');
my $left = $t->unpublished;
ok($left > 0 && $left < 10000, "killed mid-backlog ($left rows unpublished)");
my %unpublished_at_kill = map { $_ => 1 }
  split /\n/, $t->sql('SELECT id FROM evently.outbox WHERE published_at IS NULL');

$t->spawn('bridge', 'evently-bridge', BRIDGE_BATCH_SIZE => 20);
ok(drained('the restarted bridge drains'), 'restarted bridge drains the rest');
my $copies = copies();
is(scalar(grep { !$copies->{$_} } split /\n/, $t->sql('SELECT id FROM evently.outbox')), 0,
	'every outbox id reached Kafka');
my @twice = grep { $copies->{$_} > 1 } keys %$copies;
ok(@twice <= 20, scalar(@twice) . ' duplicates, at most the one batch in flight');
is(scalar(grep { !$unpublished_at_kill{$_} } @twice), 0, 'duplicates are only rows unmarked at the kill');

# --- the broker goes down, bookings go on, the broker comes back
$t->signal('broker', 'USR1');
sleep 1;
is($t->sql('SELECT bt.book(30)'), '30', 'bookings go on while Kafka is down');
sleep 3;
is($t->unpublished, $t->sql("SELECT count(*) FROM evently.outbox WHERE id > (SELECT max(id) - 60 FROM evently.outbox)"),
	'nothing is marked published while Kafka is down');
my $asked = time;
is($t->stop('bridge'), 0, 'SIGTERM while Kafka is down: the bridge still exits cleanly');
ok(time - $asked <= 15, 'after at most its 10 s grace for the batch in flight');
$t->spawn('bridge', 'evently-bridge');
$t->signal('broker', 'USR2');
ok(drained('the backlog drains once Kafka is back'), 'Kafka back: backlog drained');
$copies = copies();
is(scalar(grep { !$copies->{$_} } split /\n/, $t->sql('SELECT id FROM evently.outbox')), 0,
	'nothing lost across the broker outage');

# --- PostgreSQL restarts under the bridge
$node->restart;
is($t->sql('SELECT bt.book(5)'), '5', 'bookings after the restart');
ok(drained('the bridge reconnects by itself'), 'bridge reconnected and published');
like($t->log('bridge'), qr/lost PostgreSQL, reconnecting/, 'it noticed the restart');

# --- a second bridge is a standby; it takes over when the leader dies
$t->spawn('bridge2', 'evently-bridge');
sleep 1;
my $before = $t->sql('SELECT max(id) FROM evently.outbox');
$t->sql('SELECT bt.book(1)') for 1 .. 20;
ok(drained('two bridges publish'), 'published with two bridges running');
$copies = copies();
is(scalar(grep { $copies->{$_} != 1 } split /\n/, $t->sql("SELECT id FROM evently.outbox WHERE id > $before")),
	0, 'two bridges at once: each new row published exactly once');
unlike($t->log('bridge2'), qr/leading/, 'the second bridge stayed a standby');
$t->crash('bridge');
$t->sql('SELECT bt.book(3)');
ok(drained('the standby takes over'), 'the standby took over after the leader died');
like($t->log('bridge2'), qr/leading: publishing the outbox/, 'and says it leads');

done_testing;
