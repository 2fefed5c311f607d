# evently-notify's e-mail (issue 13): a booking's confirmation reaches the
# SMTP sink addressed to the buyer, its text carries each ticket's code and
# each PNG attachment is a QR code that zbarimg decodes to exactly one of
# them; a transfer mails both parties, the recipient with the new code; a
# cancellation and an event's cancellation are mailed (the holder of a
# transferred ticket too); mail_log has each (outbox id, recipient) once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/..";
use BridgeTest;
use Test::More;

my $t = BridgeTest->new;
$t->spawn('bridge', 'evently-bridge');
my %smtp = $t->start_mail_sink;
$t->spawn('notify', 'evently-notify', %smtp);

# the mails of one outbox id, once the sink has as many as expected
sub mails_of
{
	my ($outbox_id, $count) = @_;
	my $mails;
	BridgeTest::wait_until(sub {
			$mails = [ grep { ($_->{outbox_id} // '') eq $outbox_id } @{ $t->mails } ];
			@$mails >= $count
		}, "$count mail(s) of outbox $outbox_id");
	return $mails;
}

# a booking of two seats: two codes, two QR attachments
my $booking = $t->sql(q{
  SELECT evently.confirm_booking((evently.hold_seats(bt.id('one'), bt.id('buyer'),
           ARRAY(SELECT seat_id FROM evently.event_seats WHERE event_id = bt.id('one') AND status = 'AVAILABLE'
                  ORDER BY seat_order LIMIT 2)) ->> 'hold_id')::uuid, bt.id('buyer'), 'card') ->> 'booking_id'});
my @codes = split /\n/, $t->sql("SELECT ticket_code FROM evently.tickets WHERE booking_id = '$booking' ORDER BY ticket_code");
is(scalar @codes, 2, 'two tickets');
my $confirmed = $t->sql("SELECT id FROM evently.outbox WHERE type = 'booking.confirmed' AND data->>'booking_id' = '$booking'");
my ($mail) = @{ mails_of($confirmed, 1) };
ok($mail, 'the confirmation is in the sink');
is($mail->{rcpt}, 'buyer@example.com', 'sent to the buyer (envelope)');
is($mail->{to}, 'buyer@example.com', 'addressed to the buyer');
like($mail->{from}, qr/tickets\@evently\.test/, 'from MAIL_FROM');
is($mail->{subject}, 'Your tickets for Bridge One', 'subject names the event');
is($mail->{content_type}, 'multipart/mixed', 'multipart/mixed');
like($mail->{text}, qr/^Hello Bea,/, 'the text greets the buyer');
like($mail->{text}, qr/\Q$_\E/, "the text carries code $_") for @codes;
is_deeply([ sort map { $_->{content_type} } @{ $mail->{attachments} } ], [ 'image/png', 'image/png' ],
	'one PNG per ticket');
is_deeply([ sort map { $_->{qr} // 'undecodable' } @{ $mail->{attachments} } ], \@codes,
	'each QR decodes (zbarimg) to exactly one ticket code');
is($t->sql("SELECT count(*) || ' ' || min(subject) FROM evently.mail_log WHERE outbox_id = $confirmed"),
	'1 Your tickets for Bridge One', 'mail_log has it once');

# a transfer mails both parties; the recipient's mail carries the new code
my $friend = $t->sql(q{SELECT evently.create_user('friend@example.com', 'qwerty', 'Fred', 'Friend')});
my ($ticket, $old_code) = split / /, $t->sql(qq{SELECT id || ' ' || ticket_code FROM evently.tickets
                                               WHERE booking_id = '$booking' ORDER BY ticket_code LIMIT 1});
$t->sql(qq{SELECT evently.transfer_ticket('$ticket', 'friend\@example.com', bt.id('buyer'))});
my $new_code = $t->sql("SELECT ticket_code FROM evently.tickets WHERE id = '$ticket'");
isnt($new_code, $old_code, 'the transfer gave the ticket a new code');
my $transferred = $t->sql("SELECT id FROM evently.outbox WHERE type = 'ticket.transferred' AND data->>'ticket_id' = '$ticket'");
my %by_rcpt = map { ($_->{rcpt} => $_) } @{ mails_of($transferred, 2) };
is_deeply([ sort keys %by_rcpt ], [ 'buyer@example.com', 'friend@example.com' ], 'both parties are mailed');
is($by_rcpt{'friend@example.com'}{subject}, 'A ticket for Bridge One was transferred to you', "the recipient's subject");
like($by_rcpt{'friend@example.com'}{text}, qr/Bea Buyer transferred a ticket .*\Q$new_code\E/s,
	"the recipient's text: who from, and the new code");
is_deeply([ map { $_->{qr} } @{ $by_rcpt{'friend@example.com'}{attachments} } ], [$new_code],
	'its one QR decodes to the new code');
is($by_rcpt{'buyer@example.com'}{subject}, 'You transferred a ticket for Bridge One', "the previous holder's subject");
unlike($by_rcpt{'buyer@example.com'}{text}, qr/\Q$new_code\E|\Q$old_code\E/, 'and no code in it');
is_deeply($by_rcpt{'buyer@example.com'}{attachments}, [], 'nor a QR');
ok(BridgeTest::wait_until(sub { $t->sql("SELECT count(*) FROM evently.notifications WHERE outbox_id = $transferred") eq '2' },
	'both inbox rows'), 'the inbox tells both parties too');

# the buyer cancels another booking: mailed, no code
$t->sql('SELECT bt.book(2)');    # one seat on each event
my $other = $t->sql(q{SELECT id FROM evently.bookings WHERE event_id = bt.id('two') ORDER BY created_at DESC LIMIT 1});
$t->sql(qq{
  SELECT evently.set_cancellation_policy(bt.id('two'), true, now() + interval '1 hour', 'NONE', 0);
  SELECT evently.cancel_with_policy('$other', bt.id('buyer'), 'changed my mind')});
my $cancelled = $t->sql("SELECT id FROM evently.outbox WHERE type = 'booking.cancelled' AND data->>'booking_id' = '$other'");
($mail) = @{ mails_of($cancelled, 1) };
is($mail->{subject}, 'Booking cancelled: Bridge Two', 'the cancellation is mailed');
like($mail->{text}, qr/Reason: changed my mind/, 'with its reason');
is_deeply($mail->{attachments}, [], 'and no QR code');

# Bridge One is cancelled by an ADMIN: the buyer hears of the event's
# cancellation and refund per booking; the friend holding the transferred
# ticket by ticket.revoked; the buyer not of their own tickets' revocation
my $admin = $t->sql(q{SELECT evently.create_user('admin@example.com', 'qwerty', 'Ada', 'Admin', 'ADMIN')});
$t->sql(qq{SELECT evently.api_event_cancel('$admin',
             jsonb_build_object('path', jsonb_build_object('eventId', bt.id('one')), 'body', '{"reason": "the band split"}'::jsonb))});
my $refunded = $t->sql("SELECT id FROM evently.outbox WHERE type = 'booking.cancelled' AND data->>'booking_id' = '$booking'");
($mail) = @{ mails_of($refunded, 1) };
is("$mail->{rcpt}: $mail->{subject}", 'buyer@example.com: Event cancelled: Bridge One',
	"the buyer's mail says the event is cancelled");
like($mail->{text}, qr/is cancelled: the band split\.\nYour booking is cancelled and refunded in full/, 'and refunded');
my $revoked = $t->sql("SELECT id FROM evently.outbox WHERE type = 'ticket.revoked' AND data->>'ticket_id' = '$ticket'");
($mail) = @{ mails_of($revoked, 1) };
is("$mail->{rcpt}: $mail->{subject}", 'friend@example.com: Ticket cancelled: Bridge One',
	'the holder of the transferred ticket is told it is cancelled');
is($t->sql(qq{SELECT count(*) || ' ' || count(m.*) FROM evently.outbox o
               LEFT JOIN evently.mail_for_message(jsonb_build_object('id', o.id, 'type', o.type, 'user_id', o.user_id,
                                                   'event_id', o.event_id, 'data', o.data)) m ON true
              WHERE o.type = 'ticket.revoked' AND o.data->>'ticket_id' <> '$ticket'}), '3 0',
	"no mail for the buyer's own three tickets revoked: the cancellation told them");
my $event_cancelled = $t->sql("SELECT id FROM evently.outbox WHERE type = 'event.cancelled' AND event_id = bt.id('one')");
is_deeply([ map { $_->{rcpt} } @{ mails_of($event_cancelled, 1) } ], ['admin@example.com'],
	'the event.cancelled mail goes to who it is for');

# every mail of the run is in mail_log once, and nothing else is
my %sent = map { ("$_->{outbox_id} $_->{rcpt}" => 1) } @{ $t->mails };
is_deeply([ sort split /\n/, $t->sql("SELECT outbox_id || ' ' || recipient FROM evently.mail_log") ], [ sort keys %sent ],
	'mail_log names exactly the mails the sink got');
is($t->stop('notify'), 0, 'SIGTERM: evently-notify exits cleanly');

done_testing;
