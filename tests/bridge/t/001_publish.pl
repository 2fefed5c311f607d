# N bookings give N booking.confirmed messages on evently.booking, in order
# per event key, with the documented JSON and headers; rows are marked
# published only once Kafka has them; the lag shows in evently.health().
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/..";
use BridgeTest;
use Test::More;

my $t = BridgeTest->new;

# a backlog before the bridge starts: nothing publishes it yet
is($t->sql('SELECT bt.book(40)'), '40', '40 bookings made');
is($t->sql("SELECT count(*) FROM evently.outbox WHERE type = 'booking.confirmed' AND published_at IS NULL"),
	'40', 'all unpublished before the bridge runs');
like($t->sql("SELECT evently.health()->>'outbox_lag_rows'"), qr/^[1-9]\d*$/, 'health reports the lag');

$t->spawn('bridge', 'evently-bridge', BRIDGE_BATCH_SIZE => 7);
ok(BridgeTest::wait_until(sub { $t->unpublished eq '0' }, 'the backlog drains'), 'backlog drained');
is($t->sql("SELECT evently.health()->>'outbox_lag_rows'"), '0', 'no lag left');

# after the backlog, live bookings are published on the NOTIFY
$t->sql('SELECT bt.book(10)');
ok(BridgeTest::wait_until(sub { $t->unpublished eq '0' }, 'live bookings publish'), 'live rows published');

my @booked = grep { $_->{headers}{'evently-type'} eq 'booking.confirmed' } @{ $t->read_topic('evently.booking') };
is(scalar @booked, 50, '50 bookings, 50 booking.confirmed messages');

my %expected = map { my ($id, $ev, $user) = split /\|/; ($id => [ $ev, $user ]) }
  split /\n/, $t->sql("SELECT id, event_id, user_id FROM evently.outbox WHERE type = 'booking.confirmed'");
my ($ok_value, $ok_key, $ok_header, %last_per_key, $in_order) = (0, 0, 0);
$in_order = 1;
for my $m (@booked)
{
	my $v = $m->{value};
	$ok_value++ if $expected{ $v->{id} }
	  && join(',', sort keys %$v) eq 'data,event_id,id,occurred_at,type,user_id'
	  && $v->{type} eq 'booking.confirmed'
	  && $v->{event_id} eq $expected{ $v->{id} }[0]
	  && $v->{user_id} eq $expected{ $v->{id} }[1]
	  && $v->{data}{booking_ref};
	$ok_key++ if $m->{key} eq $v->{event_id};
	$ok_header++ if $m->{headers}{'evently-outbox-id'} eq $v->{id} && $m->{headers}{'evently-shard'} eq '0';
	$in_order = 0 if ($last_per_key{ $m->{key} } // 0) > $v->{id};
	$last_per_key{ $m->{key} } = $v->{id};
}
is($ok_value, 50, 'each value is {id, type, occurred_at, event_id, user_id, data} of its outbox row');
is($ok_key, 50, 'each key is the event id');
is($ok_header, 50, 'each evently-outbox-id header is the outbox id, and evently-shard 0 (one database)');
is(scalar keys %last_per_key, 2, 'two events, two keys');
ok($in_order, 'per key, messages come in outbox id order');

# every outbox row, of every type, reached its topic exactly once
my %seen;
$seen{ $_->{value}{id} }++ for @{ $t->read_all_topics };
my $rows = $t->sql('SELECT count(*) FROM evently.outbox');
is(scalar keys %seen, $rows, "all $rows outbox rows are in Kafka");
is(scalar(grep { $_ > 1 } values %seen), 0, 'none twice');
is(scalar @{ $t->read_topic('evently.hold') },
	$t->sql("SELECT count(*) FROM evently.outbox WHERE aggregate = 'hold'"), 'hold.* rows on evently.hold');

like($t->log('bridge'), qr/"message":"published","rows":7,"acked":7/, 'one log line per batch');
is($t->stop('bridge'), 0, 'SIGTERM: the bridge exits cleanly');
like($t->log('bridge'), qr/evently-bridge stopped/, 'and says so');

# published rows past the retention are pruned, unpublished ones never
$t->sql("UPDATE evently.outbox SET published_at = now() - interval '8 days' WHERE id <= 10");
$t->sql("INSERT INTO evently.outbox (type, occurred_at) VALUES ('hold.created', now() - interval '9 days')");
is($t->sql("SELECT evently.outbox_prune('7 days')"), '10', 'ten old published rows pruned');
is($t->sql("SELECT count(*) FROM evently.outbox WHERE published_at IS NULL"), '1', 'the unpublished old row stays');

done_testing;
