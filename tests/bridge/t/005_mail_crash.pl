# E-mail is at least once, recorded once (issue 13): evently-notify is
# killed with -9 while the confirmations of 200 bookings go out; restarted,
# it sends the rest.  Every expected (outbox id, recipient) reaches the SMTP
# sink at least once, with its ticket's code, and mail_log has each exactly
# once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/..";
use BridgeTest;
use Test::More;

my $n = 200;
my $t = BridgeTest->new;
$t->spawn('bridge', 'evently-bridge');
my %smtp = $t->start_mail_sink;

$t->sql("SELECT bt.book($n)");
ok(BridgeTest::wait_until(sub { $t->unpublished eq '0' }, 'the bridge publishes'), "$n confirmations in Kafka");
# what must arrive: each confirmation, to its buyer, with its one code
my %expected = map { my ($id, $rcpt, $code) = split / /; ("$id $rcpt" => $code) } split /\n/, $t->sql(q{
  SELECT o.id || ' ' || u.email || ' ' || t.ticket_code
    FROM evently.outbox o JOIN evently.users u ON u.id = o.user_id
    JOIN evently.tickets t ON t.booking_id = (o.data->>'booking_id')::uuid
   WHERE o.type = 'booking.confirmed'});
is(scalar keys %expected, $n, "$n mails expected");

$t->spawn('notify', 'evently-notify', %smtp);
BridgeTest::wait_until(sub { $t->mail_count >= 20 }, 'mails are going out');
$t->crash('notify');
my $at_kill = $t->sql('SELECT count(*) FROM evently.mail_log');
ok($at_kill < $n, "killed with $at_kill of $n mails recorded");

$t->spawn('notify', 'evently-notify', %smtp);
ok(BridgeTest::wait_until(sub { $t->sql('SELECT count(*) FROM evently.mail_log') == $n }, 'the rest is sent'),
	'the restarted consumer records the rest');
is($t->stop('notify'), 0, 'SIGTERM: evently-notify exits cleanly');

my %arrived;
for my $mail (@{ $t->mails })
{
	my @qr = map { $_->{qr} // 'undecodable' } @{ $mail->{attachments} };
	push @{ $arrived{"$mail->{outbox_id} $mail->{rcpt}"} }, "@qr";
}
is_deeply([ grep { !$arrived{$_} } sort keys %expected ], [], 'every expected mail arrived at least once');
is_deeply([ grep { !exists $expected{$_} } sort keys %arrived ], [], 'and no other');
my @wrong = grep { my $k = $_; grep { $_ ne $expected{$k} } @{ $arrived{$k} } } grep { $expected{$_} } sort keys %arrived;
is_deeply(\@wrong, [], "each copy's QR decodes to its ticket's code");
my $copies = 0;
$copies += @{ $arrived{$_} } for keys %arrived;
diag(sprintf('%d mails, %d sent twice after the kill', $copies, $copies - scalar keys %arrived));
is($t->sql(q{SELECT count(*) || ' ' || count(DISTINCT (outbox_id, recipient)) FROM evently.mail_log}), "$n $n",
	'mail_log has each exactly once');
is_deeply([ sort split /\n/, $t->sql('SELECT outbox_id || \' \' || recipient FROM evently.mail_log') ],
	[ sort keys %expected ], 'and names exactly the expected mails');

done_testing;
