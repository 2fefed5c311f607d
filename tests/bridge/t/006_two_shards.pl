# Issue 15, the outbox across shards: two shard databases (buckets 1 and 2)
# and the global primary holding the inbox (database evently), one broker,
# one bridge per shard (a second, standby one on shard 1), one evently-notify.
# The shards do the same things, so their outbox ids would be the same
# numbers without the ranges; with them every booking.confirmed of both
# shards is exactly once in Kafka, with its shard's evently-shard header,
# and exactly once in the inbox (problem P3 of the scale-out study: the same
# buyer's confirmation with the same id on the other shard took its slot).
# evently-notify connects to the proxy database, which composes each
# message's inbox rows and mails on its event's shard (the global primary
# has no events, bookings or tickets) and writes the inbox and mail_log on
# the global primary: every inbox row and mail names its event, and each
# confirmation's mail carries its tickets' codes from its shard.  A message
# without an event (organizer.*) composes on the global primary.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/..";
use BridgeTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $t = BridgeTest->new(setup => []);
my @shards = (1, 2);
$t->add_shard("shard$_", $_) for @shards;

# the users: on the global primary, and the same rows on every shard (where
# logical replication puts them in production)
$t->sql(q{SELECT evently.create_user('buyer@example.com', 'qwerty', 'Bea', 'Buyer')});
my $users = $t->sql('SELECT json_agg(u) FROM evently.users u');
for my $k (@shards)
{
	$t->sql("INSERT INTO evently.users SELECT * FROM json_populate_recordset(NULL::evently.users, \$\$$users\$\$)",
		"shard$k");
	$t->sql(slurp_file("$EventlyTest::root/tests/bridge/setup.sql"), "shard$k");
}
is($t->sql(q{SELECT count(DISTINCT bt.id('buyer')) || ' ' || bool_and(bt.id('buyer') = u.id)
               FROM evently.users u}, 'shard2'), '1 true', 'the buyer has the global id on the shards');
is(join(' ', map { $t->sql(q{SELECT string_agg(DISTINCT substr(id::text, 1, 4), ',') FROM evently.events}, "shard$_") }
		@shards), '0001 0002', 'each shard\'s events carry its bucket');

# one bridge per shard, and a second one on shard 1
$t->spawn('bridge1', 'evently-bridge', DATABASE => 'shard1');
$t->spawn('bridge1b', 'evently-bridge', DATABASE => 'shard1');
$t->spawn('bridge2', 'evently-bridge', DATABASE => 'shard2');
ok(BridgeTest::wait_until(sub { $t->log('bridge2') =~ /leading/ && ($t->log('bridge1') . $t->log('bridge1b')) =~ /leading/ },
	'a leader on each shard'), 'each shard has a leading bridge');

# the same bookings on both shards, then the inbox consumer
$t->sql('SELECT bt.book(40)', "shard$_") for @shards;
my %confirmed;    # shard => [outbox id, event id] of each booking.confirmed, in id order
for my $k (@shards)
{
	$confirmed{$k} = [ map { [ split /\|/ ] } split /\n/,
		$t->sql("SELECT id, event_id FROM evently.outbox WHERE type = 'booking.confirmed' ORDER BY id", "shard$k") ];
}
my $low = sub { my $k = shift; join ',', map { $_->[0] & ((1 << 48) - 1) } @{ $confirmed{$k} } };
is(scalar @{ $confirmed{1} }, 40, '40 confirmations on shard 1');
is($low->(1), $low->(2), 'without the ranges the two shards\' confirmations would have the same ids');
ok((grep { ($_->[0] >> 48) != 1 } @{ $confirmed{1} }) == 0 && (grep { ($_->[0] >> 48) != 2 } @{ $confirmed{2} }) == 0,
	'each shard\'s outbox ids are in its range');
# the proxy: partition p0 is the shard of bucket 2, p1 the shard of bucket 1
$t->add_proxy('proxy', 'shard2', 'shard1');
my %smtp = $t->start_mail_sink;
$t->spawn('notify', 'evently-notify', DATABASE => 'proxy', %smtp);
for my $k (@shards)
{
	ok(BridgeTest::wait_until(sub { $t->unpublished("shard$k") eq '0' }, "shard $k publishes"),
		"shard $k: all published");
}

# by now both of shard 1's bridges have asked for the lead
is($t->sql(q{SELECT string_agg(d.datname || ':' || n, ' ' ORDER BY d.datname)
               FROM (SELECT database, count(*) AS n FROM pg_locks
                      WHERE locktype = 'advisory' AND classid = 1163264004 AND objid = 0 AND granted
                      GROUP BY database) l JOIN pg_database d ON d.oid = l.database}),
	'shard1:1 shard2:1', 'the leader lock is per database: one granted on each shard');
is(scalar(grep { $t->log($_) =~ /leading/ } qw(bridge1 bridge1b)), 1, 'one of shard 1\'s two bridges leads');
my $header_line = qr/"the messages' evently-shard header \(evently.bucket\)","ts":\d+,"detail":"(\d+)"/;
is(join(' ', map { $t->log($_) =~ $header_line ? $1 : '-' } qw(bridge1 bridge1b bridge2)), '1 1 2',
	'each bridge read its shard\'s bucket (the standby too: it is connected)');

# Kafka: each confirmation once, with its shard's header, in order per event
my %in_kafka;    # "shard/id" => count
my ($right_shard, $right_key, %last_per_key) = (0, 0);
my $in_order = 1;
my @booked = grep { $_->{headers}{'evently-type'} eq 'booking.confirmed' } @{ $t->read_topic('evently.booking') };
my %event_of = map { my $k = $_; map { ("$k/$_->[0]" => $_->[1]) } @{ $confirmed{$k} } } @shards;
for my $m (@booked)
{
	my $shard = $m->{headers}{'evently-shard'} // '?';
	my $id = $m->{value}{id};
	$in_kafka{"$shard/$id"}++;
	$right_shard++ if $shard eq ($id >> 48) && $m->{headers}{'evently-outbox-id'} eq $id;
	$right_key++ if ($event_of{"$shard/$id"} // '') eq $m->{key};
	$in_order = 0 if ($last_per_key{ $m->{key} } // 0) > $id;
	$last_per_key{ $m->{key} } = $id;
}
is(scalar @booked, 80, '80 booking.confirmed messages in Kafka');
is(join(',', sort keys %in_kafka), join(',', sort keys %event_of), 'every confirmation of both shards is there');
is(scalar(grep { $_ != 1 } values %in_kafka), 0, 'each exactly once');
is($right_shard, 80, 'each with the evently-shard header of the shard whose outbox it left');
is($right_key, 80, 'each keyed by its event');
is(scalar keys %last_per_key, 4, 'four events, four keys');
ok($in_order, 'per event, in outbox id order');

# every outbox row of both shards, of every type, once (the topics they have)
my %everything;
for my $topic (split /\n/, $t->sql('SELECT DISTINCT aggregate FROM evently.outbox', 'shard1'))
{
	$everything{ ($_->{headers}{'evently-shard'} // '?') . '/' . $_->{value}{id} }++
	  for @{ $t->read_topic("evently.$topic") };
}
my $rows = 0;
$rows += $t->sql('SELECT count(*) FROM evently.outbox', "shard$_") for @shards;
is(scalar keys %everything, $rows, "all $rows outbox rows of both shards are in Kafka");
is(scalar(grep { $_ > 1 } values %everything), 0, 'none twice');

# the inbox on the global primary: each confirmation once
my $expected = join ',', sort map { $_->[0] } map { @{ $confirmed{$_} } } @shards;
my $inbox = sub {
	$t->sql(q{SELECT string_agg(outbox_id::text, ',' ORDER BY outbox_id::text COLLATE "C") FROM evently.notifications
               WHERE type = 'booking.confirmed'});
};
ok(BridgeTest::wait_until(sub { $inbox->() eq $expected }, 'the inbox has every confirmation'),
	'every confirmation of both shards is in the inbox, once');
is($t->sql('SELECT count(*) FROM evently.notifications'), 80, 'and nothing else');
is($t->sql('SELECT string_agg(DISTINCT (outbox_id >> 48)::text, \',\') FROM evently.notifications'), '1,2',
	'the inbox rows name their shards (outbox_id >> 48)');

# what the inbox and the mails should say, from the shards' own rows: the
# event's name, its text in a mail (name and start), the booking's codes
my %expect;    # outbox id => {body, subject, event, codes}
for my $k (@shards)
{
	for (split /\n/, $t->sql(q{
		  SELECT o.id, format('Your booking %s for %s is confirmed.', o.data->>'booking_ref', e.name),
		         'Your tickets for ' || e.name, evently._mail_event(e.id),
		         (SELECT string_agg(t.ticket_code, ',') FROM evently.tickets t WHERE t.booking_id = (o.data->>'booking_id')::uuid)
		    FROM evently.outbox o JOIN evently.events e ON e.id = o.event_id
		   WHERE o.type = 'booking.confirmed'}, "shard$k"))
	{
		my ($id, $body, $subject, $event, $codes) = split /\|/;
		$expect{$id} = { body => $body, subject => $subject, event => $event, codes => [ split /,/, $codes ] };
	}
}
is(scalar(grep { @{ $_->{codes} } == 1 } values %expect), 80, 'each confirmation has its ticket on its shard');
my %bodies = map { split /\|/, $_, 2 } split /\n/, $t->sql(q{SELECT outbox_id, body FROM evently.notifications});
is(scalar(grep { ($bodies{$_} // '') eq $expect{$_}{body} } keys %expect), 80,
	'each inbox row names its booking\'s event (composed on its shard)')
  or diag(join "\n", map { "$_: $bodies{$_}" } (sort keys %bodies)[ 0 .. 1 ]);
is($t->sql(q{SELECT string_agg(DISTINCT body, ',') FROM evently.notifications WHERE body LIKE '% for  is %'}), '',
	'none without the event\'s name');

# the mails: one per confirmation, to the buyer, with its event and its code
ok(BridgeTest::wait_until(sub { $t->mail_count >= 80 }, '80 mails'), 'a mail per confirmation');
my %mailed;    # outbox id => mails
push @{ $mailed{ $_->{outbox_id} // '?' } }, $_ for @{ $t->mails };
is(join(',', sort keys %mailed), join(',', sort keys %expect), 'the mails are those of the confirmations of both shards');
is(scalar(grep { @$_ != 1 } values %mailed), 0, 'each once');
my @right = grep {
	my ($m, $e) = ($mailed{$_}[0], $expect{$_});
	$m->{rcpt} eq 'buyer@example.com' && $m->{subject} eq $e->{subject} && index($m->{text}, $e->{event}) >= 0
	  && index($m->{text}, "Floor, row") >= 0 && index($m->{text}, $e->{codes}[0]) >= 0
	  && join(',', map { $_->{qr} // '-' } @{ $m->{attachments} }) eq $e->{codes}[0]
} keys %expect;
is(scalar @right, 80, 'each to the buyer, naming its event (name, start) and carrying its ticket\'s seat, code and QR')
  or diag(explain($mailed{ (sort keys %expect)[0] }));
my %by_shard;
$by_shard{ $_ >> 48 }++ for @right;
is(join(' ', map { "$_:$by_shard{$_}" } sort keys %by_shard), '1:40 2:40', 'forty from each shard');
ok(BridgeTest::wait_until(sub { $t->sql('SELECT count(*) || \' \' || count(DISTINCT outbox_id) FROM evently.mail_log') eq '80 80' },
	'mail_log has them'), 'mail_log on the global primary has each once');

# A shard whose ids are not in its range still publishes, but both programs
# say so: a row with a low id on shard 2, for the buyer
$t->sql(q{INSERT INTO evently.outbox (id, type, event_id, user_id, data) OVERRIDING SYSTEM VALUE
          VALUES (7, 'booking.confirmed', bt.id('one'), bt.id('buyer'), '{"booking_ref": "LOW"}')}, 'shard2');
ok(BridgeTest::wait_until(sub { $t->unpublished('shard2') eq '0' }, 'the low id publishes'), 'published all the same');
like($t->log('bridge2'), qr/outbox ids are not in this shard's range/, 'the bridge warns');
ok(BridgeTest::wait_until(sub { $t->log('notify') =~ /not in its range.*"detail":"evently-shard 2, outbox 7"/ },
	'the consumer warns'), 'the consumer warns, naming the shard and the id');
ok(BridgeTest::wait_until(sub { $t->sql('SELECT count(*) FROM evently.notifications WHERE outbox_id = 7') eq '1' },
	'the low id in the inbox'), 'and writes it');
is($t->sql('SELECT body FROM evently.notifications WHERE outbox_id = 7'), 'Your booking LOW for Bridge One is confirmed.',
	'composed on its event\'s shard');

# a message without an event, from the global primary's own bridge, is
# composed there: a user who is on the global primary alone (no shard
# could mail her) is told her organization is verified
$t->sql(q{SELECT evently.create_user('orga@example.com', 'qwerty', 'Olga', 'Organizer')});
$t->sql(q{SELECT evently._emit('organizer.verified', NULL, u.id, 'organizer', u.id,
                                              '{"organization_name": "Olga Events"}', NULL)
                           FROM evently.users u WHERE email = 'orga@example.com'});
$t->spawn('bridge0', 'evently-bridge');
ok(BridgeTest::wait_until(sub { $t->unpublished('evently') eq '0' }, 'the global primary publishes'),
	'the global primary\'s messages are published');
ok(BridgeTest::wait_until(sub { $t->mail_count >= 82 }, 'the organizer\'s mail'), 'the organizer is mailed');
my ($orga) = grep { $_->{rcpt} eq 'orga@example.com' } @{ $t->mails };
is($orga && $orga->{subject}, 'You are a verified organizer', 'the mail of organizer.verified');
is($t->sql(q{SELECT n.body FROM evently.notifications n JOIN evently.users u ON u.id = n.user_id
              WHERE u.email = 'orga@example.com' AND n.type = 'organizer.verified'}),
	'Olga Events is verified: sign in again to create events.', 'and her inbox has it');

is($t->stop($_), 0, "SIGTERM: $_ exits cleanly") for qw(bridge0 bridge1 bridge1b bridge2 notify);

# a bridge whose evently.bucket is no bucket publishes nothing: its header
# would lie about the shard
$t->sql(q{SELECT bt.book(1)}, 'shard2');
$t->spawn('bad', 'evently-bridge', DATABASE => 'shard2', PGOPTIONS => '-c evently.bucket=2x');
ok(BridgeTest::wait_until(sub { $t->log('bad') =~ /evently.bucket is not a bucket \(0..32767\)","ts":\d+,"detail":"2x"/ },
	'the bad bucket is refused'), 'a bridge refuses a bucket that is not one');
unlike($t->log('bad'), qr/leading/, 'and does not lead');
isnt($t->unpublished('shard2'), '0', 'nothing published');
is($t->stop('bad'), 0, 'SIGTERM: it exits cleanly');

done_testing;
