# evently-notify turns booking.confirmed, booking.cancelled and
# waitlist.offered into inbox rows, commits offsets only after the row, and
# survives kill -9 without losing or doubling a row.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/..";
use BridgeTest;
use Test::More;

my $t = BridgeTest->new;
$t->spawn('bridge', 'evently-bridge');

# real flows: bookings, a cancellation, a waitlist offer
$t->sql('SELECT bt.book(4)');
$t->sql(q{
  SELECT evently.set_cancellation_policy(bt.id('one'), true, now() + interval '1 hour', 'NONE', 0);
  SELECT evently.cancel_with_policy(
           (SELECT id FROM evently.bookings WHERE event_id = bt.id('one') ORDER BY created_at LIMIT 1),
           bt.id('buyer'), 'changed my mind')});
my $offers = $t->sql(q{
  WITH fan AS (SELECT evently.create_user('fan@example.com', 'qwerty', 'Fan', 'F') AS id),
       hall AS (SELECT evently.create_venue_template('Tiny') AS id),
       sec AS (SELECT evently.add_section(hall.id, 'Only', 'A', 'A', 1) FROM hall),
       ev AS (SELECT evently.create_event('Tiny Show', hall.id, now() + interval '9 days', 5) AS id FROM hall, sec)
  SELECT ev.id || ' ' || fan.id FROM ev, fan});
my ($tiny, $fan) = split / /, $offers;
$t->sql(qq{
  SELECT evently.confirm_booking((evently.hold_seats('$tiny', bt.id('buyer'),
           ARRAY(SELECT seat_id FROM evently.event_seats WHERE event_id = '$tiny')) ->> 'hold_id')::uuid,
         bt.id('buyer'), 'card');
  SELECT evently.join_waitlist('$tiny', '$fan', 1);
  SELECT evently.set_cancellation_policy('$tiny', true, now() + interval '1 hour', 'NONE', 0);
  SELECT evently.cancel_with_policy((SELECT id FROM evently.bookings WHERE event_id = '$tiny'),
                                    bt.id('buyer'), 'cannot go')});
is($t->sql("SELECT count(*) FROM evently.outbox WHERE type = 'waitlist.offered'"), '1', 'the freed seat is offered');

$t->spawn('notify', 'evently-notify');
my $expected = $t->sql(q{SELECT count(*) FROM evently.outbox
                          WHERE type IN ('booking.confirmed', 'booking.cancelled', 'waitlist.offered')});
ok(BridgeTest::wait_until(sub { $t->sql('SELECT count(*) FROM evently.notifications') eq $expected },
	'the inbox fills'), "$expected inbox rows, one per relevant event");
is($t->sql("SELECT type || ': ' || title FROM evently.notifications WHERE user_id = '$fan'"),
	'waitlist.offered: Seats are waiting for you', 'the fan is told about the offer');
like($t->sql("SELECT body FROM evently.notifications WHERE type = 'booking.confirmed' ORDER BY outbox_id LIMIT 1"),
	qr/^Your booking \S+ for Bridge (One|Two) is confirmed\.$/, 'a confirmation reads well');
is($t->sql("SELECT count(*) FROM evently.notifications WHERE type = 'booking.cancelled'"), '2',
	'both cancellations are in the inbox');
is($t->sql(q{SELECT count(*) FROM evently.notifications n JOIN evently.outbox o ON o.id = n.outbox_id
              WHERE o.user_id <> n.user_id OR o.type <> n.type}), '0', 'each row belongs to its event\'s user');

# a redelivered message writes nothing; a malformed one is refused with EV001
is($t->sql(q{SELECT evently.record_notification(jsonb_build_object('id', o.id, 'type', o.type,
               'user_id', o.user_id, 'event_id', o.event_id, 'data', o.data, 'occurred_at', o.occurred_at))
             FROM evently.outbox o WHERE type = 'booking.confirmed' ORDER BY id LIMIT 1}), 'f',
	'a redelivery writes nothing');
my ($rc, $out, $err) = $t->node->psql('evently', q{SELECT evently.record_notification('{"type": "booking.confirmed"}')});
like($err, qr/invalid notification message/, 'a message without id is refused');

# kill -9 in the middle of 2,000 confirmations: none lost, none doubled
$t->stop('notify');
$t->sql('SELECT bt.backlog(2000)');
ok(BridgeTest::wait_until(sub { $t->unpublished eq '0' }, 'the bridge publishes'), 'backlog in Kafka');
$t->spawn('notify', 'evently-notify');
my $target = $expected + 2000;
BridgeTest::wait_until(sub { $t->sql('SELECT count(*) FROM evently.notifications') > $expected + 300 },
	'part of the backlog is written');
$t->crash('notify');
my $at_kill = $t->sql('SELECT count(*) FROM evently.notifications');
ok($at_kill < $target, "killed with $at_kill of $target rows written");
$t->spawn('notify', 'evently-notify');
ok(BridgeTest::wait_until(sub { $t->sql('SELECT count(*) FROM evently.notifications') eq $target },
	'the restarted consumer catches up'), 'every confirmation is in the inbox after the restart');
is($t->sql(q{SELECT count(*) FROM evently.outbox o WHERE type = 'booking.confirmed'
              AND NOT EXISTS (SELECT 1 FROM evently.notifications n WHERE n.outbox_id = o.id)}), '0',
	'no confirmation lost');
is($t->stop('notify'), 0, 'SIGTERM: the consumer exits cleanly');

done_testing;
