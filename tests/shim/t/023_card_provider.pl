# Card payments over real HTTP (issue 12, "How it must be proven"): the real
# shim over the real payment SQL (extension/sql/52_orders.sql, 54_payments.sql,
# 56_refunds.sql) and the fake provider (tests/payments/evently-fake-provider,
# Stripe's shapes, loopback only), which this test starts and stops.  The
# seeded organizer sells two tiers of its Classical Music Evening; buyers
# reserve units and order them.
#
#   1. a card order: the intent is created at the provider, its signed
#      webhooks (processing, succeeded) pay the order and issue the tickets;
#   2. a replayed webhook (same provider event id) changes nothing;
#   3. forged and stale signatures are 401 INVALID_SIGNATURE and reach no SQL;
#   4. out-of-order deliveries: a success before its processing event, the
#      held-back processing event after it, a failure after success, a wrong
#      amount: refused and recorded as the SQL says;
#   5. a late payment whose units are still free: accepted, tickets issued;
#   6. a late payment whose units were sold meanwhile: refunded through the
#      provider automatically, the order marked so, no ticket over capacity;
#   7. an offline order: the organizer marks it paid, tickets issued;
#   8. a refund request, approved, the provider's refund webhooks: refunded,
#      tickets cancelled, the units back on sale;
#   9. the provider failing (5xx, 4xx, too slow): 502 PROVIDER_ERROR while the
#      shim keeps serving, and a retry with the same key gets the intent.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use EventlyTest;
use Digest::SHA qw(hmac_sha256_hex);
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my $root = $ENV{EVENTLY_ROOT};
my $tmp = PostgreSQL::Test::Utils::tempdir();
my $key = 'sk_test_evently_0123456789';
my $whsec = 'whsec_evently_test_0123456789';
my $shim_port = PostgreSQL::Test::Cluster::get_free_port();
my $http = HTTP::Tiny->new(timeout => 15);

# ---- the fake provider first (the shim's settings name its port) ----
my $fake = do
{
	local $ENV{PAYMENT_SECRET_KEY} = $key;
	local $ENV{PAYMENT_WEBHOOK_SECRET} = $whsec;
	EventlyTest::start([ "$root/tests/payments/evently-fake-provider", '--port-file', "$tmp/fake.port",
			'--webhook-url', "http://127.0.0.1:$shim_port/api/v1/payments/webhook/card" ],
		'<', \undef, '>>', "$tmp/fake.log", '2>>', "$tmp/fake.log");
};
for (1 .. 100) { last if -s "$tmp/fake.port"; sleep 0.05 }
-s "$tmp/fake.port" or BAIL_OUT('the fake provider did not start: ' . slurp_file("$tmp/fake.log"));
chomp(my $fake_port = slurp_file("$tmp/fake.port"));
my $fake_base = "http://127.0.0.1:$fake_port";

my $t = ShimTest->new(PORT => $shim_port, PAYMENT_API_BASE => $fake_base, PAYMENT_SECRET_KEY => $key,
	PAYMENT_WEBHOOK_SECRET => $whsec, PAYMENT_TIMEOUT_MS => 1000, PAYMENT_SLOTS => 2,
	RATE_LIMIT_BURST => 1000000, RATE_LIMIT_PER_MINUTE => 1000000);
my $node = $t->node;
my ($status, $json);
my $event;    # the seeded organizer's Classical Music Evening, below

# ---- helpers ----

sub sql { return $node->safe_psql('evently', $_[0]) }

# a control or API call to the fake provider: its decoded answer
sub fake
{
	my ($method, $path, $body) = @_;
	my $r = $http->request($method, "$fake_base$path",
		{ headers => { 'Content-Type' => 'application/json' }, defined $body ? (content => encode_json($body)) : () });
	return decode_json($r->{content});
}

# the API requests the fake received with this Idempotency-Key
sub provider_requests
{
	my ($k) = @_;
	return [ grep { ($_->{idempotency_key} // '') eq $k } @{ fake(GET => '/_control/requests')->{requests} } ];
}

# What a control route's events did: "type status outcome" per delivery
# (outcome: what api_payment_webhook answered, or the refusal's code).
sub deliveries
{
	my ($answer) = @_;
	return [ map {
			my $d = $_->{delivery};
			my $body = ref $d->{body} ? $d->{body} : {};
			join(' ', $_->{event}{type}, $d->{status},
				$body->{data} ? ($body->{data}{duplicate} ? 'duplicate, was ' : '') . $body->{data}{outcome}
				: $body->{code} // '?')
	} @{ $answer->{events} } ];
}

# the provider acts on an intent or refund: succeed, processing, fail, complete
# (query: signature=forged|stale, deliver=0)
sub provider
{
	my ($what, $id, $action, $query) = @_;
	return fake(POST => "/_control/$what/$id/$action" . ($query ? "?$query" : ''));
}

# Stripe's signature scheme, by hand: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">
sub sign
{
	my ($body, %o) = @_;
	my $ts = $o{t} // time;
	return "t=$ts,v1=" . hmac_sha256_hex("$ts.$body", $o{secret} // $whsec);
}

# POST a webhook body (text) with a Stripe-Signature header (none if undef)
sub post_webhook
{
	my ($body, $signature) = @_;
	return $t->request(POST => '/api/v1/payments/webhook/card', $body,
		defined $signature ? { 'Stripe-Signature' => $signature } : {});
}

# An event as the provider would send it, for the hand-signed cases
sub event_text
{
	my ($id, $type, $object) = @_;
	return JSON::PP->new->canonical->encode({ id => $id, object => 'event', type => $type, data => { object => $object } });
}

sub webhook_rows { return sql('SELECT count(*) FROM evently.webhook_events') }

# until the code returns something true, at most 10 s
sub wait_for
{
	my ($code) = @_;
	for (1 .. 100)
	{
		my $v = $code->();
		return $v if $v;
		sleep 0.1;
	}
	return undef;
}

# reserve(TOKEN, TIER, QUANTITY) -> the hold id
sub reserve
{
	my ($token, $tier, $quantity) = @_;
	my ($s, $j) = $t->as($token, POST => '/api/v1/tickets/reserve',
		{ event_id => $event, items => [ { tier_id => $tier, quantity => $quantity } ] });
	is($s, 200, "reserved $quantity unit(s)") or diag explain $j;
	return $j->{data}{hold_id};
}

# order(TOKEN, HOLD, PROVIDER, IDEMPOTENCY_KEY) -> (status, json)
sub order
{
	my ($token, $hold, $provider, $k) = @_;
	return $t->as($token, POST => '/api/v1/orders', { hold_id => $hold, payment_provider => $provider },
		{ 'Idempotency-Key' => $k });
}

sub get_order { my ($token, $id) = @_; return ($t->as($token, GET => "/api/v1/orders/$id"))[1]{data} }
sub get_booking { my ($token, $id) = @_; return ($t->as($token, GET => "/api/v1/bookings/$id"))[1]{data} }

# a tier as GET /events/:id/tiers shows it right now (no-cache: the public
# read cache may serve an answer up to a second old, SPEC section 12)
sub tier
{
	my ($id) = @_;
	my (undef, $j) = $t->request(GET => "/api/v1/events/$event/tiers", undef, { 'Cache-Control' => 'no-cache' });
	my ($tier) = grep { $_->{id} eq $id } @{ $j->{data} };
	return $tier;
}

# outbox rows of this type about an order or a refund
sub outbox
{
	my ($type, $id) = @_;
	return sql("SELECT count(*) FROM evently.outbox WHERE type = '$type'
	             AND '$id' IN (data->>'order_id', data->>'refund_id')");
}
sub valid_tickets { my ($booking) = @_; return sql("SELECT count(*) FROM evently.tickets WHERE booking_id = '$booking' AND status = 'VALID'") }

# A hold's time runs out (regress: t.lapse), and the sweeper's pass expires
# its order.
sub lapse
{
	my ($hold) = @_;
	sql("UPDATE evently.holds SET expires_at = now() - interval '1 second' WHERE id = '$hold';
	     UPDATE evently.tier_units SET held_until = now() - interval '1 second' WHERE hold_id = '$hold';
	     SELECT evently.expire_holds();");
}

# ---- the cast: an organizer, three buyers, two tiers ----
my $organizer = $t->login('organizer@example.com')->{access_token};
my $ana = $t->login('mitshah2406@gmail.com')->{access_token};
my $ben = $t->login('mitshah2406.work@gmail.com')->{access_token};
($status, $json) = $t->request(POST => '/api/v1/auth/register',
	{ first_name => 'Cat', last_name => 'Card', email => 'cat@example.com', password => 'secret1' });
my $cat = $json->{data}{access_token};
$event = sql("SELECT id FROM evently.events WHERE name = 'Classical Music Evening'");
my %tier;
for my $new ([ floor => { name => 'Floor', price => 100, total_quantity => 10 } ],
	[ late => { name => 'Late', price => 40, total_quantity => 2 } ])
{
	($status, $json) = $t->as($organizer, POST => "/api/v1/events/$event/tiers", $new->[1]);
	is($status, 201, "the organizer adds tier $new->[1]{name}") or diag explain $json;
	$tier{ $new->[0] } = $json->{data}{id};
}

my ($card1, $pi1, $booking1);
subtest '1. card order -> signed webhooks -> PAID with tickets' => sub {
	my $hold = reserve($ana, $tier{floor}, 2);
	($status, $json) = order($ana, $hold, 'card', 'card-1');
	is($status, 201, 'a card order is created') or diag explain $json;
	my $o = $json->{data};
	$card1 = $o->{order_id};
	$pi1 = $o->{payment}{provider_payment_id};
	is_deeply([ @$o{qw(status total_amount currency)}, @{ $o->{payment} }{qw(provider status amount_minor)} ],
		[ 'PENDING', 200, 'INR', 'card', 'AUTHORIZED', 20000 ], 'PENDING, its payment AUTHORIZED: the intent exists');
	like($pi1, qr/^pi_\w{24}$/, "with the provider's intent id");
	like($o->{payment}{client_secret}, qr/^\Q$pi1\E_secret_\w+$/, "and the intent's client_secret");
	my ($sent) = @{ provider_requests($card1) };
	is_deeply([ @$sent{qw(method path authorization status)}, $sent->{form} ],
		[ 'POST', '/v1/payment_intents', "Bearer $key", 200,
			{ amount => '20000', currency => 'inr', automatic_payment_methods => { enabled => 'true' },
				metadata => { order_id => $card1, payment_id => $o->{payment}{id} } } ],
		'the intent: amount in minor units, the order id as Idempotency-Key and in metadata');

	is_deeply(deliveries(provider(intents => $pi1, 'processing')), ['payment_intent.processing 200 applied: PROCESSING'],
		'payment_intent.processing is accepted and applied');
	is_deeply([ @{ get_order($ana, $card1) }{qw(status)}, get_order($ana, $card1)->{payment}{status} ],
		[ 'PENDING', 'PROCESSING' ], 'the order waits, its payment PROCESSING');
	is_deeply(deliveries(provider(intents => $pi1, 'succeed')), ['payment_intent.succeeded 200 applied: COMPLETED'],
		'payment_intent.succeeded is accepted and applied');
	$o = get_order($ana, $card1);
	is_deeply([ $o->{status}, $o->{payment}{status} ], [ 'PAID', 'COMPLETED' ], 'GET /orders/:id: PAID, COMPLETED');
	ok($o->{paid_at} && $o->{booking_id}, 'paid, with its booking');
	$booking1 = $o->{booking_id};
	my $b = get_booking($ana, $booking1);
	is_deeply([ $b->{status}, $b->{order_id}, [ map { "$_->{tier_name} $_->{ticket_status}" } @{ $b->{tickets} } ] ],
		[ 'CONFIRMED', $card1, [ 'Floor VALID', 'Floor VALID' ] ], 'GET /bookings/:id: two valid Floor tickets');
	(undef, $json) = $t->as($ana, GET => '/api/v1/users/bookings');
	ok((grep { $_->{id} eq $booking1 } @{ $json->{data}{bookings} }), "in the buyer's bookings");
	($status, $json) = $t->as($ana, GET => '/api/v1/orders/my-orders');
	is_deeply([ $status, $json->{data}{total_count}, map { "$_->{order_id} $_->{status}" } @{ $json->{data}{orders} } ],
		[ 200, 1, "$card1 PAID" ], 'GET /orders/my-orders: the one order, PAID');
	is_deeply([ @{ tier($tier{floor}) }{qw(sold_quantity available_quantity)} ], [ 2, 8 ], 'the tier shows 2 sold');
	is(outbox('order.paid', $card1), 1, 'one order.paid in the outbox');
};

subtest '2. a replayed webhook changes nothing' => sub {
	my $rows = webhook_rows();
	my $answer = fake(POST => '/_control/replay');
	is_deeply(deliveries($answer), ['payment_intent.succeeded 200 duplicate, was applied: COMPLETED'],
		'the last event again (same id, same bytes): 200, a duplicate');
	is(valid_tickets($booking1), 2, 'still two tickets');
	is(outbox('order.paid', $card1), 1, 'no new order.paid');
	is(webhook_rows(), $rows, 'no new delivery recorded');
	my ($processing) = grep { $_->{type} eq 'payment_intent.processing' } @{ fake(GET => '/_control/events')->{events} };
	is_deeply(deliveries(fake(POST => "/_control/events/$processing->{id}/replay")),
		['payment_intent.processing 200 duplicate, was applied: PROCESSING'],
		'an older event replayed is a duplicate too');
	is(get_order($ana, $card1)->{payment}{status}, 'COMPLETED', 'and moves nothing back');
};

my ($card2, $pi2);
subtest '3. forged or stale signatures: 401, nothing reaches SQL' => sub {
	my $hold = reserve($ben, $tier{floor}, 1);
	($status, $json) = order($ben, $hold, 'card', 'card-2');
	is($status, 201, "another buyer's card order");
	($card2, $pi2) = ($json->{data}{order_id}, $json->{data}{payment}{provider_payment_id});
	my $rows = webhook_rows();
	for my $mode (qw(forged stale))
	{
		my ($e) = @{ provider(intents => $pi2, 'succeed', "signature=$mode")->{events} };
		is_deeply([ $e->{delivery}{status}, $e->{delivery}{body}{code} ], [ 401, 'INVALID_SIGNATURE' ],
			"a success signed $mode: 401 INVALID_SIGNATURE");
	}
	my $body = event_text('evt_by_hand_1', 'payment_intent.succeeded',
		{ id => $pi2, object => 'payment_intent', amount => 10000 });
	for my $case ([ 'no Stripe-Signature header', undef, 'no Stripe-Signature header' ],
		[ 'another secret', sign($body, secret => 'whsec_other'), 'no v1 signature matches the body' ],
		[ 'a signature of other bytes', sign("$body "), 'no v1 signature matches the body' ],
		[ 'a timestamp 301 s old', sign($body, t => time - 301), 'the signature\'s timestamp is more than 5 minutes from now' ],
		# (ahead by more than 301 s: a second passing before the shim reads it would bring 301 back to 300)
		[ 'a timestamp 310 s ahead', sign($body, t => time + 310), 'the signature\'s timestamp is more than 5 minutes from now' ],
		[ 'only a v0', sign($body) =~ s/v1=/v0=/r, 'the Stripe-Signature header is not t=<unix time>,v1=<hex>' ])
	{
		my ($what, $signature, $why) = @$case;
		($status, $json) = post_webhook($body, $signature);
		is_deeply([ $status, $json->{code}, $json->{error} ], [ 401, 'INVALID_SIGNATURE', $why ], "refused: $what");
	}
	is(webhook_rows(), $rows, 'no delivery recorded');
	my $o = get_order($ben, $card2);
	is_deeply([ $o->{status}, $o->{payment}{status}, $o->{booking_id} ], [ 'PENDING', 'AUTHORIZED', undef ],
		'the order is still unpaid');
	my $other = event_text('evt_by_hand_2', 'customer.created', { id => 'cus_1' });
	($status, $json) = post_webhook($other, sign($other, t => time - 290));
	is_deeply([ $status, $json->{data}{outcome} ], [ 200, 'ignored: unhandled event type' ],
		'a good signature 290 s old is accepted (an event type we do not handle: recorded, ignored)');
};

subtest '4. out-of-order deliveries and illegal jumps' => sub {
	my ($p) = @{ provider(intents => $pi2, 'processing', 'deliver=0')->{events} };
	is($p->{delivery}, undef, 'the provider holds payment_intent.processing back');
	my $wrong = event_text('evt_by_hand_3', 'payment_intent.succeeded',
		{ id => $pi2, object => 'payment_intent', amount => 1 });
	($status, $json) = post_webhook($wrong, sign($wrong));
	is_deeply([ $status, $json->{data}{outcome} ], [ 200, 'refused: amount 1 is not the payment\'s 10000.00' ],
		'a success for another amount is refused');
	is(get_order($ben, $card2)->{status}, 'PENDING', 'and pays nothing');
	is_deeply(deliveries(provider(intents => $pi2, 'succeed')), ['payment_intent.succeeded 200 applied: COMPLETED'],
		'succeeded arrives first: AUTHORIZED -> COMPLETED, a forward skip');
	my $o = get_order($ben, $card2);
	is_deeply([ $o->{status}, $o->{payment}{status}, valid_tickets($o->{booking_id}) ], [ 'PAID', 'COMPLETED', 1 ],
		'PAID with its ticket');
	is_deeply(deliveries(fake(POST => "/_control/events/$p->{event}{id}/replay")),
		['payment_intent.processing 200 refused: illegal jump COMPLETED -> PROCESSING'],
		'the held-back processing event arrives late: refused');
	is_deeply(deliveries(provider(intents => $pi2, 'fail')),
		['payment_intent.payment_failed 200 refused: illegal jump COMPLETED -> FAILED'],
		'a failure after the success: refused');
	$o = get_order($ben, $card2);
	is_deeply([ $o->{status}, $o->{payment}{status}, valid_tickets($o->{booking_id}) ], [ 'PAID', 'COMPLETED', 1 ],
		'the order stays PAID with its ticket');
	is(sql(qq{SELECT string_agg(outcome, ' | ' ORDER BY received_at, event_id) FROM evently.webhook_events
	           WHERE payment_id = '$o->{payment}{id}' AND outcome LIKE 'refused%'}),
		"refused: amount 1 is not the payment's 10000.00 | refused: illegal jump COMPLETED -> PROCESSING | "
		  . 'refused: illegal jump COMPLETED -> FAILED',
		'each refusal recorded with its delivery');
	is(sql(qq{SELECT string_agg(action || ' ' || coalesce(details->>'from', '') || '->' || coalesce(details->>'to', ''), ', ' ORDER BY id)
	           FROM evently.audit_log WHERE object_id = '$o->{payment}{id}'
	            AND action IN ('payment.jump_refused', 'payment.amount_mismatch')}),
		'payment.amount_mismatch ->, payment.jump_refused COMPLETED->PROCESSING, payment.jump_refused COMPLETED->FAILED',
		'and audited');
	is(outbox('payment.failed', $card2), 0, 'no payment.failed');
};

subtest '5. late payment, units still free: accepted' => sub {
	my $hold = reserve($cat, $tier{late}, 1);
	($status, $json) = order($cat, $hold, 'card', 'late-1');
	is($status, 201, 'a card order of the Late tier');
	my ($id, $pi) = ($json->{data}{order_id}, $json->{data}{payment}{provider_payment_id});
	lapse($hold);
	is(get_order($cat, $id)->{status}, 'EXPIRED', 'its hold lapses: the order EXPIRED');
	is(outbox('order.expired', $id), 1, 'order.expired');
	is_deeply(deliveries(provider(intents => $pi, 'succeed')), ['payment_intent.succeeded 200 applied: COMPLETED'],
		'then the payment succeeds');
	my $o = get_order($cat, $id);
	is_deeply([ $o->{status}, $o->{payment}{status}, $o->{status_note} ],
		[ 'PAID', 'COMPLETED', 'paid after its hold lapsed; its tickets were still free' ], 'accepted: PAID, saying why');
	is_deeply([ map { $_->{tier_name} } @{ get_booking($cat, $o->{booking_id})->{tickets} } ], ['Late'], 'with its ticket');
	is_deeply([ @{ tier($tier{late}) }{qw(sold_quantity held_quantity available_quantity)} ], [ 1, 0, 1 ],
		'one Late unit sold, one free');
};

subtest '6. late payment, units sold meanwhile: refunded through the provider' => sub {
	my $hold = reserve($ana, $tier{late}, 1);
	($status, $json) = order($ana, $hold, 'card', 'late-2');
	my ($id, $pi) = ($json->{data}{order_id}, $json->{data}{payment}{provider_payment_id});
	lapse($hold);
	my $other = reserve($ben, $tier{late}, 1);
	($status, $json) = order($ben, $other, 'mock', 'late-2-other');
	is_deeply([ $status, $json->{data}{status} ], [ 201, 'PAID' ], 'someone else buys the last Late unit meanwhile');
	is_deeply(deliveries(provider(intents => $pi, 'succeed')), ['payment_intent.succeeded 200 applied: COMPLETED'],
		'then the late payment succeeds');
	my $o = get_order($ana, $id);
	is_deeply([ $o->{status}, $o->{booking_id}, $o->{status_note} ],
		[ 'EXPIRED', undef, 'paid late (its hold lapsed and its tickets were taken): refunded in full' ],
		'the order stays EXPIRED until its refund ends, no booking, saying why');
	my $refund = $o->{refunds}[0];
	is_deeply([ @$refund{qw(status amount automatic)} ], [ 'REFUNDING', 40, JSON::PP::true ],
		'an automatic refund of it all is under way');
	my $asked = wait_for(sub { provider_requests($refund->{refund_id})->[0] });
	ok($asked, 'the worker asks the provider for the refund');
	is_deeply([ @$asked{qw(method path status)}, $asked->{form} ],
		[ 'POST', '/v1/refunds', 200, { payment_intent => $pi, amount => '4000', metadata => { refund_id => $refund->{refund_id} } } ],
		'POST /v1/refunds: the intent, 4000 minor units, the refund id as metadata and Idempotency-Key');
	my $re = wait_for(sub { get_order($ana, $id)->{refunds}[0]{provider_refund_id} });
	like($re, qr/^re_\w{24}$/, "the provider's refund id is recorded");
	is_deeply(deliveries(provider(refunds => $re, 'complete')),
		[ 'charge.refunded 200 applied: REFUNDED', 'refund.updated 200 ignored: refund already REFUNDED' ],
		"the provider's refund webhooks: the first ends the refund");
	$o = get_order($ana, $id);
	is_deeply([ $o->{status}, $o->{payment}{status}, $o->{payment}{refund_amount}, $o->{refunds}[0]{status} ],
		[ 'REFUNDED', 'REFUNDED', 40, 'REFUNDED' ], 'all 40.00 back');
	is_deeply([ @{ tier($tier{late}) }{qw(total_quantity sold_quantity held_quantity available_quantity)} ], [ 2, 2, 0, 0 ],
		'the Late tier: 2 sold of 2, never more');
	is(sql("SELECT count(*) FROM evently.tickets WHERE tier_id = '$tier{late}' AND status = 'VALID'"), 2, 'two Late tickets in all');
};

subtest '7. offline order -> mark-paid by the organizer -> tickets' => sub {
	my $hold = reserve($ben, $tier{floor}, 1);
	($status, $json) = order($ben, $hold, 'offline', 'offline-1');
	is($status, 201, 'an offline order');
	my $o = $json->{data};
	is_deeply([ $o->{status}, $o->{payment}{status} ], [ 'PENDING', 'PENDING' ], 'PENDING');
	like($o->{payment}{reference}, qr/^EVT-[0-9A-F]{12}$/, 'with a payment reference');
	like($o->{payment}{instructions}, qr/^Transfer 100\.00 INR by bank with the reference \Q$o->{payment}{reference}\E before /,
		'and instructions');
	cmp_ok(sql("SELECT '$o->{expires_at}'::timestamptz > now() + interval '2 days 23 hours'"), 'eq', 't',
		'waiting 3 days, the payment term');
	($status, $json) = $t->as($ben, POST => "/api/v1/admin/orders/$o->{order_id}/mark-paid");
	is_deeply([ $status, $json->{code} ], [ 404, 'NOT_FOUND' ], 'the buyer cannot mark it paid');
	($status, $json) = $t->as($organizer, POST => "/api/v1/admin/orders/$o->{order_id}/mark-paid");
	is($status, 200, 'the organizer marks it paid') or diag explain $json;
	is_deeply([ $json->{data}{status}, $json->{data}{payment}{status} ], [ 'PAID', 'COMPLETED' ], 'PAID');
	is_deeply([ map { "$_->{tier_name} $_->{ticket_status}" } @{ get_booking($ben, $json->{data}{booking_id})->{tickets} } ],
		['Floor VALID'], 'the buyer has the ticket');
	($status, $json) = $t->as($organizer, POST => "/api/v1/admin/orders/$o->{order_id}/mark-paid");
	is($json->{code}, 'ALREADY_PROCESSED', 'marked paid once only');
	is(outbox('order.paid', $o->{order_id}), 1, 'one order.paid');
};

subtest '8. refund request -> approve -> provider webhook -> refunded, units back on sale' => sub {
	my $before = tier($tier{floor});
	($status, $json) = $t->as($ana, POST => "/api/v1/orders/$card1/refund", { reason => 'cannot come', amount => 200 });
	is_deeply([ $status, $json->{code}, $json->{message} ], [ 422, 'LIMIT_EXCEEDED', 'refund over what the policy allows' ],
		'not more than the cancellation policy gives back (200.00 less its 50.00 fee)');
	($status, $json) = $t->as($ana, POST => "/api/v1/orders/$card1/refund", { reason => 'cannot come' });
	is($status, 201, 'the buyer asks for a refund') or diag explain $json;
	my $refund = $json->{data};
	is_deeply([ @$refund{qw(status amount automatic)}, scalar @{ $refund->{ticket_ids} } ],
		[ 'REQUESTED', 150, JSON::PP::false, 2 ], 'REQUESTED, 150.00 for both tickets (the fee kept)');
	($status, $json) = $t->as($ben, POST => "/api/v1/organizer/refunds/$refund->{refund_id}/approve");
	is($status, 404, 'another buyer cannot approve it');
	($status, $json) = $t->as($organizer, POST => "/api/v1/organizer/refunds/$refund->{refund_id}/approve");
	is_deeply([ $status, $json->{data}{status} ], [ 200, 'REFUNDING' ], 'the organizer approves: REFUNDING');
	is(get_order($ana, $card1)->{payment}{status}, 'REFUNDING', 'the payment is REFUNDING');
	is(valid_tickets($booking1), 2, 'the tickets stay valid until the provider says so');
	my $asked = wait_for(sub { provider_requests($refund->{refund_id})->[0] });
	is_deeply([ $asked->{path}, $asked->{form}{payment_intent}, $asked->{form}{amount} ], [ '/v1/refunds', $pi1, '15000' ],
		'the worker asks the provider to refund 15000 of the intent');
	my $re = wait_for(sub { get_order($ana, $card1)->{refunds}[0]{provider_refund_id} });
	ok($re, "the provider's refund is recorded");
	is_deeply(deliveries(provider(refunds => $re, 'complete')),
		[ 'charge.refunded 200 applied: REFUNDED', 'refund.updated 200 ignored: refund already REFUNDED' ],
		'charge.refunded ends it; refund.updated then changes nothing');
	my $o = get_order($ana, $card1);
	is_deeply([ $o->{status}, $o->{payment}{status}, $o->{payment}{refund_amount}, $o->{refunds}[0]{status} ],
		[ 'PARTIALLY_REFUNDED', 'PARTIALLY_REFUNDED', 150, 'REFUNDED' ], 'the order and payment PARTIALLY_REFUNDED');
	my $b = get_booking($ana, $booking1);
	is_deeply([ $b->{status}, map { $_->{ticket_status} } @{ $b->{tickets} } ], [ 'CANCELLED', 'CANCELLED', 'CANCELLED' ],
		'the booking and its tickets cancelled');
	my $after = tier($tier{floor});
	is_deeply([ $after->{available_quantity} - $before->{available_quantity}, $before->{sold_quantity} - $after->{sold_quantity} ],
		[ 2, 2 ], 'GET /events/:id/tiers: the two units back on sale');
	is(outbox('refund.completed', $refund->{refund_id}), 1, 'refund.completed in the outbox');
	is_deeply(deliveries(fake(POST => '/_control/replay')), ['refund.updated 200 duplicate, was ignored: refund already REFUNDED'],
		'a replay of the last refund event changes nothing');
};

subtest '9. the provider failing: 502 PROVIDER_ERROR, the shim keeps serving' => sub {
	my $hold = reserve($cat, $tier{floor}, 1);
	fake(POST => '/_control/behaviour', { fail_status => 503, count => 1 });
	($status, $json) = order($cat, $hold, 'card', 'down-1');
	is_deeply([ $status, $json->{code}, $json->{details}{retryable}, $json->{details}{provider_status} ],
		[ 502, 'PROVIDER_ERROR', JSON::PP::true, 503 ], 'a 5xx: 502 PROVIDER_ERROR, retryable') or diag explain $json;
	my $id = $json->{details}{order_id};
	ok($id, 'naming the order');
	my $o = get_order($cat, $id);
	is_deeply([ $o->{status}, $o->{payment}{status}, $o->{payment}{provider_payment_id} ], [ 'PENDING', 'PENDING', undef ],
		'which stays PENDING, without an intent');
	($status) = $t->request(GET => "/api/v1/events/$event/tiers");
	is($status, 200, 'the shim keeps serving');
	($status, $json) = order($cat, $hold, 'card', 'down-1');
	is_deeply([ $status, $json->{data}{order_id}, $json->{data}{payment}{status} ], [ 201, $id, 'AUTHORIZED' ],
		'the retry with the same Idempotency-Key: the same order, its intent created');
	ok($json->{data}{payment}{client_secret}, 'with its client_secret');
	is_deeply([ map { $_->{status} } @{ provider_requests($id) } ], [ 503, 200 ], 'the provider asked twice with one key');

	$hold = reserve($ana, $tier{floor}, 1);
	fake(POST => '/_control/behaviour', { fail_status => 400, count => 1 });
	($status, $json) = order($ana, $hold, 'card', 'refused-1');
	is_deeply([ $status, $json->{code}, $json->{details}{retryable}, $json->{details}{provider_status} ],
		[ 502, 'PROVIDER_ERROR', JSON::PP::false, 400 ], 'a refusal (4xx): 502 PROVIDER_ERROR, not retryable');
	$o = get_order($ana, $json->{details}{order_id});
	is_deeply([ $o->{status}, $o->{payment}{status} ], [ 'FAILED', 'FAILED' ], 'recorded: the order FAILED');
	is(outbox('payment.failed', $o->{order_id}), 1, 'payment.failed');

	# too slow: the order gives up after PAYMENT_TIMEOUT_MS (1 s) while others are served
	fake(POST => '/_control/behaviour', { delay_ms => 3000, count => 1 });
	my $slow_out = '';
	my $slow = EventlyTest::start([ 'curl', '-s', '-w', '\n%{http_code} %{time_total}', '-X', 'POST',
			"http://127.0.0.1:$shim_port/api/v1/orders", '-H', "Authorization: Bearer $ana",
			'-H', 'Content-Type: application/json', '-H', 'Idempotency-Key: refused-1-again',
			'-d', encode_json({ hold_id => $hold, payment_provider => 'card' }) ],
		'<', \undef, '>', \$slow_out, '2>', \$slow_out, IPC::Run::timeout(30));
	wait_for(sub { sql(q{SELECT count(*) FROM evently.orders WHERE idempotency_key = 'refused-1-again'}) });
	# (a new connection: libmicrohttpd binds each to one of its threads, and
	# the one waiting on the provider serves no other meanwhile)
	my $started = Time::HiRes::time();
	my $res = HTTP::Tiny->new(timeout => 10)->get("http://127.0.0.1:$shim_port/api/v1/orders/my-orders",
		{ headers => { Authorization => "Bearer $ben" } });
	is($res->{status}, 200, 'while the provider keeps a card order waiting, the shim answers others');
	cmp_ok(Time::HiRes::time() - $started, '<', 0.5, 'at once');
	EventlyTest::finish($slow);
	my ($body, $code, $time) = $slow_out =~ /^(.*)\n(\d+) ([\d.]+)$/s;
	$json = eval { decode_json($body) } // {};
	is_deeply([ $code, $json->{code}, $json->{details}{retryable} ], [ 502, 'PROVIDER_ERROR', JSON::PP::true ],
		'the slow one: 502 PROVIDER_ERROR, retryable') or diag $slow_out;
	cmp_ok($time, '<', 2.5, "after PAYMENT_TIMEOUT_MS, not the provider's 3 s");
};

subtest 'invariants' => sub {
	is(sql(q{SELECT count(*) FROM evently.tickets t JOIN evently.bookings b ON b.id = t.booking_id
	          LEFT JOIN evently.payments p ON p.booking_id = b.id
	         WHERE t.tier_id IS NOT NULL AND t.status = 'VALID'
	           AND (p.id IS NULL OR p.status NOT IN ('COMPLETED', 'REFUNDING', 'PARTIALLY_REFUNDED'))}),
		0, 'no valid ticket without a completed payment');
	is(sql(q{SELECT count(*) FROM evently.ticket_tiers t
	         WHERE (SELECT count(*) FROM evently.tier_units u WHERE u.tier_id = t.id AND u.status IN ('HELD', 'BOOKED'))
	               > t.total_quantity}), 0, 'no tier sold or held over its total');
	is(sql('SELECT count(*) FROM evently.payments WHERE coalesce(refund_amount, 0) > amount'), 0, 'no refund over what was paid');
};

unlike($t->log, qr/\Q$key\E|\Q$whsec\E/, "the shim's log names neither secret");
is($t->stop_shim, 0, 'the shim stops cleanly');
is(EventlyTest::stop($fake), 0, 'the fake provider too');
done_testing();
