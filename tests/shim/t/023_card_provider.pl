# The card provider's side of SPEC section 10, over real HTTP: the shim
# and the fake provider (tests/payments/evently-fake-provider, Stripe's
# shapes, loopback only) talking to each other.
#
#   - a card order: the shim creates the payment intent with the right
#     form fields, Bearer key and Idempotency-Key (the order id), records
#     it, and answers the order with its client_secret; a retry with the
#     same Idempotency-Key asks the provider nothing more;
#   - the provider refuses (4xx): intent_failed recorded, 502 PROVIDER_ERROR;
#     it fails (5xx) or does not answer in time: 502 PROVIDER_ERROR, nothing
#     recorded, the shim answering others meanwhile, and the worker then
#     creates the same intent (same Idempotency-Key) and records it;
#   - the worker's refunds: the provider's refund recorded, its refusal too;
#   - POST /payments/webhook/card: Stripe-Signature checked over the body's
#     exact bytes (forged, stale, missing, tampered, v0 only: 401
#     INVALID_SIGNATURE and no SQL; two v1 with one right: accepted), a body
#     that is no JSON object 400, one over 64 KiB 413, and a good one reaches
#     SQL as {"provider": "card", "body": <the event>}.
#
# STAND-IN: until extension/sql/54_payments.sql exists, the SQL side is the
# small stand-in below (it records each call in evently.test_calls); the
# assertions on what SQL does with the calls belong to the real functions'
# tests.
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

# the fake provider first (the shim's settings name its port), on a port of its own choosing
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
	PAYMENT_WEBHOOK_SECRET => $whsec, PAYMENT_TIMEOUT_MS => 1000, PAYMENT_SLOTS => 1,
	RATE_LIMIT_BURST => 1000000, RATE_LIMIT_PER_MINUTE => 1000000);
my $node = $t->node;
sub sql { return $node->safe_psql('evently', $_[0]) }

# STAND-IN for the lead's SQL (extension/sql/54_payments.sql): same names,
# arguments and result shapes as the contract; every call is recorded
sql(<<'SQL');
CREATE TABLE evently.test_calls (n serial PRIMARY KEY, fn text NOT NULL, arg jsonb);
CREATE TABLE evently.test_orders (key text PRIMARY KEY, made timestamptz NOT NULL DEFAULT clock_timestamp(),
                                  o jsonb NOT NULL);
CREATE TABLE evently.test_tasks (n serial PRIMARY KEY, task jsonb NOT NULL, taken boolean NOT NULL DEFAULT false);

CREATE OR REPLACE FUNCTION evently.api_order_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    k text := coalesce(req->>'idempotency_key', gen_random_uuid()::text);
    card boolean := req->'body'->>'payment_provider' = 'card';
    o jsonb;
BEGIN
    INSERT INTO evently.test_calls (fn, arg) VALUES ('api_order_create', jsonb_build_object('actor', actor, 'req', req));
    SELECT t.o INTO o FROM evently.test_orders t WHERE t.key = k;
    IF o IS NULL THEN
        o := jsonb_build_object('order_id', gen_random_uuid(), 'status', CASE WHEN card THEN 'PENDING' ELSE 'COMPLETED' END,
            'subtotal', 123.45, 'discount_amount', 0, 'total_amount', 123.45, 'currency', 'INR', 'items', '[]'::jsonb,
            'expires_at', now() + interval '10 minutes',
            'payment', jsonb_build_object('id', gen_random_uuid(), 'provider', req->'body'->>'payment_provider',
                'status', CASE WHEN card THEN 'PENDING' ELSE 'COMPLETED' END, 'amount', 123.45,
                'amount_minor', 12345, 'currency', 'INR', 'client_secret', NULL, 'provider_payment_id', NULL));
        INSERT INTO evently.test_orders (key, o) VALUES (k, o);
    END IF;
    RETURN o;
END $$;

CREATE OR REPLACE FUNCTION evently.payment_record(result jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    o jsonb;
BEGIN
    INSERT INTO evently.test_calls (fn, arg) VALUES ('payment_record', result);
    IF result->>'kind' IN ('refund_created', 'refund_failed') THEN
        RETURN jsonb_build_object('refund_id', result->'refund_id', 'status', coalesce(result->>'status', 'failed'));
    END IF;
    UPDATE evently.test_orders t
       SET o = CASE result->>'kind'
               WHEN 'intent_created' THEN jsonb_set(jsonb_set(t.o, '{payment,provider_payment_id}',
                                                              result->'provider_payment_id'),
                                                    '{payment,client_secret}', result->'client_secret')
               ELSE jsonb_set(jsonb_set(t.o, '{payment,status}', '"FAILED"'), '{status}', '"FAILED"') END
     WHERE t.o->'payment'->>'id' = result->>'payment_id'
    RETURNING t.o INTO o;
    RETURN o;
END $$;

-- card payments still without an intent 2 s after their order, and the test's refund tasks
CREATE OR REPLACE FUNCTION evently.payment_work(max_tasks int) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    tasks jsonb;
BEGIN
    WITH taken AS (UPDATE evently.test_tasks SET taken = true WHERE NOT taken RETURNING task)
    SELECT coalesce(jsonb_agg(x.task), '[]') INTO tasks FROM (
        SELECT jsonb_build_object('kind', 'create_intent', 'payment_id', o->'payment'->'id', 'order_id', o->'order_id',
                                  'amount_minor', o->'payment'->'amount_minor', 'currency', 'inr',
                                  'idempotency_key', o->'order_id') AS task
          FROM evently.test_orders
         WHERE o->'payment'->>'provider' = 'card' AND o->'payment'->>'status' = 'PENDING'
           AND o->'payment'->'provider_payment_id' = 'null' AND made < clock_timestamp() - interval '2 seconds'
        UNION ALL
        SELECT task FROM taken) x;
    IF tasks <> '[]' THEN
        INSERT INTO evently.test_calls (fn, arg) VALUES ('payment_work', tasks);
    END IF;
    RETURN tasks;
END $$;

CREATE OR REPLACE FUNCTION evently.api_payment_webhook(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evently.test_calls (fn, arg) VALUES ('api_payment_webhook', jsonb_build_object('actor', actor, 'req', req));
    RETURN jsonb_build_object('received', true, 'outcome', 'recorded by the stand-in');
END $$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['api_order_create(uuid, jsonb)', 'payment_record(jsonb)', 'payment_work(int)',
                             'api_payment_webhook(uuid, jsonb)'] LOOP
        EXECUTE format('ALTER FUNCTION evently.%s SECURITY DEFINER SET search_path = pg_catalog, evently, pg_temp', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION evently.%s TO evently_gateway', f);
    END LOOP;
END $$;
SQL

my ($status, $json, $res);
my $buyer = $t->login('mitshah2406@gmail.com')->{access_token};

sub fake
{
	my ($method, $path, $body) = @_;
	my $r = $http->request($method, "$fake_base$path",
		{ headers => { 'Content-Type' => 'application/json' }, defined $body ? (content => encode_json($body)) : () });
	return decode_json($r->{content});
}
sub provider_requests { return fake(GET => '/_control/requests')->{requests} }
sub requests_with_key { my ($k) = @_; return [ grep { ($_->{idempotency_key} // '') eq $k } @{ provider_requests() } ] }
sub calls { my ($fn) = @_; return sql("SELECT count(*) FROM evently.test_calls WHERE fn = '$fn'") }

# until SQL says something is there (a value other than '', 0 or f), at most 10 s
sub wait_for
{
	my ($query) = @_;
	for (1 .. 100)
	{
		my $v = sql($query);
		return $v if $v ne '' && $v ne '0' && $v ne 'f';
		sleep 0.1;
	}
	return '';
}

sub order
{
	my ($idempotency_key, $provider) = @_;
	return $t->as($buyer, POST => '/api/v1/orders',
		{ hold_id => '6f0f4f5e-0000-4000-8000-000000000001', payment_provider => $provider // 'card' },
		{ 'Idempotency-Key' => $idempotency_key });
}

# ---- a card order ----
($status, $json) = order('order-1');
is($status, 201, 'a card order is created') or diag explain $json;
my $o = $json->{data};
is($o->{payment}{status}, 'PENDING', 'its payment is pending');
like($o->{payment}{provider_payment_id}, qr/^pi_\w{24}$/, 'with the payment intent the provider created');
like($o->{payment}{client_secret}, qr/^\Q$o->{payment}{provider_payment_id}\E_secret_\w+$/,
	"and the intent's client_secret, for the client to confirm it");
my $pi = $o->{payment}{provider_payment_id};
my ($sent) = @{ requests_with_key($o->{order_id}) };
ok($sent, "the provider was asked with the order id as the Idempotency-Key");
is_deeply([ @$sent{qw(method path authorization content_type status)} ],
	[ 'POST', '/v1/payment_intents', "Bearer $key", 'application/x-www-form-urlencoded', 200 ],
	'POST /v1/payment_intents, the secret key as Bearer, a form body');
is_deeply($sent->{form}, { amount => '12345', currency => 'inr',
		metadata => { order_id => $o->{order_id}, payment_id => $o->{payment}{id} },
		automatic_payment_methods => { enabled => 'true' } },
	'amount in minor units, the currency in lower case, the order and payment in metadata');
is(sql(q{SELECT arg->>'kind' || ' ' || (arg->>'provider_payment_id') || ' ' || (arg->>'client_secret')
           FROM evently.test_calls WHERE fn = 'payment_record'}),
	"intent_created $pi $o->{payment}{client_secret}", 'payment_record(intent_created) got the intent');
is(scalar @{ provider_requests() }, 1, 'one provider call in all');

my $before = scalar @{ provider_requests() };
($status, $json) = order('order-1');
is($status, 201, 'the same Idempotency-Key again');
is($json->{data}{payment}{client_secret}, $o->{payment}{client_secret}, 'the same order and intent');
is(scalar @{ provider_requests() }, $before, 'and the provider is not asked again');
($status, $json) = order('order-mock', 'mock');
is_deeply([ $status, $json->{data}{payment}{status} ], [ 201, 'COMPLETED' ], 'a mock order');
is(scalar @{ provider_requests() }, $before, 'asks no provider');

# ---- the webhook: signed over the exact bytes ----
my $event = fake(POST => "/_control/intents/$pi/succeed")->{events}[0];
is($event->{event}{type}, 'payment_intent.succeeded', 'the provider sends payment_intent.succeeded');
like($event->{delivery}{signature}, qr/^t=\d+,v1=[0-9a-f]{64},v0=[0-9a-f]{64}$/, 'signed t=…,v1=…,v0=…');
is($event->{delivery}{status}, 200, 'the shim accepts it');
is_deeply($event->{delivery}{body}{data}, { received => JSON::PP::true, outcome => 'recorded by the stand-in' },
	"and answers what SQL answered");
my $got = decode_json(sql(q{SELECT arg FROM evently.test_calls WHERE fn = 'api_payment_webhook' ORDER BY n DESC LIMIT 1}));
is_deeply($got, { actor => undef, req => { provider => 'card', body => $event->{event} } },
	'SQL got {"provider": "card", "body": the event}, with no actor');

my $webhooks = calls('api_payment_webhook');
for my $case ([ forged => 'signed with another key' ], [ stale => 'signed 10 minutes ago' ])
{
	my ($mode, $what) = @$case;
	my $e = fake(POST => "/_control/intents/$pi/processing?signature=$mode")->{events}[0];
	is($e->{delivery}{status}, 401, "an event $what is refused");
	is($e->{delivery}{body}{code}, 'INVALID_SIGNATURE', 'INVALID_SIGNATURE');
}
is(calls('api_payment_webhook'), $webhooks, 'and neither reached SQL');
$event = fake(POST => '/_control/replay')->{events}[0];
is_deeply([ $event->{event}{id}, $event->{delivery}{status} ], [ $got->{req}{body}{id}, 200 ],
	'a replayed event (the same id, signed again) is delivered again');
is(calls('api_payment_webhook'), $webhooks + 1, 'and reaches SQL, which de-duplicates it by its id');

# by hand: Stripe's scheme to the letter
sub sign
{
	my ($body, %o) = @_;
	my $ts = $o{t} // time;
	return "t=$ts,v1=" . hmac_sha256_hex("$ts.$body", $o{secret} // $whsec);
}
sub webhook
{
	my ($body, $signature) = @_;
	return $t->request(POST => '/api/v1/payments/webhook/card', $body,
		defined $signature ? { 'Stripe-Signature' => $signature } : {});
}
my $body = qq|{\n  "id": "evt_by_hand_1",\n  "object": "event",  "type": "payment_intent.processing",\n|
  . qq|  "data": {"object": {"id": "$pi", "object": "payment_intent", "amount": 12345.0}}\n}|;
$webhooks = calls('api_payment_webhook');
my @refused = (
	[ 'no Stripe-Signature header', undef ],
	[ 'a signature of other bytes', sign("$body ") ],
	[ 'another secret', sign($body, secret => 'whsec_other') ],
	[ 'a timestamp 301 s old', sign($body, t => time - 301) ],
	[ 'a timestamp 305 s ahead', sign($body, t => time + 305) ],
	[ 'only a v0', do { (my $s = sign($body)) =~ s/v1=/v0=/; $s } ],
	[ 'two timestamps', sign($body) . ',t=' . time ],
	[ 'a timestamp that is no number', do { (my $s = sign($body)) =~ s/^t=(\d+)/t=$1x/; $s } ],
	[ 'an upper-case hex signature', uc(sign($body)) =~ s/^T=/t=/r =~ s/,V1=/,v1=/r ],
	[ 'a truncated signature', substr(sign($body), 0, -2) ],
	[ 'an empty header', '' ]);
for my $case (@refused)
{
	my ($what, $signature) = @$case;
	($status, $json) = webhook($body, $signature);
	is_deeply([ $status, $json->{code} ], [ 401, 'INVALID_SIGNATURE' ], "refused: $what") or diag explain $json;
}
is(calls('api_payment_webhook'), $webhooks, 'none reached SQL');
($status, $json) = webhook($body, 'v1=' . ('0' x 64) . ',' . sign($body, t => time - 290) . ' , v0=abc');
is($status, 200, 'accepted: a wrong v1 beside a right one (a secret being rolled), 290 s old, blanks and a v0')
  or diag explain $json;
$got = decode_json(sql(q{SELECT arg->'req'->'body' FROM evently.test_calls WHERE fn = 'api_payment_webhook' ORDER BY n DESC LIMIT 1}));
is_deeply($got, decode_json($body), 'SQL got the event as sent');
is(sql(q{SELECT arg->'req'->'body'->'data'->'object'->>'amount' FROM evently.test_calls
          WHERE fn = 'api_payment_webhook' ORDER BY n DESC LIMIT 1}), '12345.0', 'its numbers as written');
($status, $json) = webhook('[1, 2]', sign('[1, 2]'));
is_deeply([ $status, $json->{code} ], [ 400, 'INVALID_JSON' ], 'a signed body that is no JSON object: 400');
($status, $json) = webhook('{"id": ', sign('{"id": '));
is_deeply([ $status, $json->{code} ], [ 400, 'INVALID_JSON' ], 'nor JSON at all: 400');
my $big = '{"id": "evt_big", "pad": "' . ('x' x 70_000) . '"}';
($status, $json) = webhook($big, sign($big));
is_deeply([ $status, $json->{code} ], [ 413, 'PAYLOAD_TOO_LARGE' ], 'a body over 64 KiB: 413');
is(calls('api_payment_webhook'), $webhooks + 1, 'only the good one reached SQL');

# ---- refunds, by the worker ----
my $refund_id = '9a0f4f5e-0000-4000-8000-00000000000a';
my $too_much_id = '9a0f4f5e-0000-4000-8000-00000000000b';
sql(qq{INSERT INTO evently.test_tasks (task) VALUES
  ('{"kind": "create_refund", "refund_id": "$refund_id", "payment_intent": "$pi", "amount_minor": 2000,
     "idempotency_key": "$refund_id"}'),
  ('{"kind": "create_refund", "refund_id": "$too_much_id", "payment_intent": "$pi", "amount_minor": 999999,
     "idempotency_key": "$too_much_id"}')});
my $recorded = wait_for(qq{SELECT arg FROM evently.test_calls WHERE fn = 'payment_record' AND arg->>'refund_id' = '$refund_id'});
ok($recorded, 'the worker created the refund at the provider and recorded it');
$recorded = decode_json($recorded || '{}');
like($recorded->{provider_refund_id}, qr/^re_\w{24}$/, "refund_created with the provider's refund id");
is_deeply([ @$recorded{qw(kind status)} ], [ 'refund_created', 'pending' ], 'pending');
($sent) = @{ requests_with_key($refund_id) };
is_deeply([ @$sent{qw(path authorization)}, $sent->{form} ],
	[ '/v1/refunds', "Bearer $key", { payment_intent => $pi, amount => '2000', metadata => { refund_id => $refund_id } } ],
	'POST /v1/refunds: the intent, the amount in minor units, the refund id in metadata and as Idempotency-Key');
$recorded = decode_json(wait_for(qq{SELECT arg FROM evently.test_calls WHERE fn = 'payment_record' AND arg->>'refund_id' = '$too_much_id'}) || '{}');
is($recorded->{kind}, 'refund_failed', 'a refund the provider refuses (more than was paid) is recorded as failed');
like($recorded->{error}, qr/^HTTP 400 amount_too_large: /, "with the provider's reason");
my @events = @{ fake(POST => '/_control/refunds/' . decode_json(sql(qq{SELECT arg FROM evently.test_calls
	WHERE fn = 'payment_record' AND arg->>'refund_id' = '$refund_id'}))->{provider_refund_id} . '/complete')->{events} };
is_deeply([ map { [ $_->{event}{type}, $_->{delivery}{status} ] } @events ],
	[ [ 'charge.refunded', 200 ], [ 'refund.updated', 200 ] ], 'its completion: charge.refunded and refund.updated, accepted');
is($events[0]{event}{data}{object}{amount_refunded}, 2000, 'the charge shows the amount refunded');

# ---- the provider refuses, fails, does not answer ----
fake(POST => '/_control/behaviour', { fail_status => 400, count => 1 });
($status, $json) = order('order-refused');
is_deeply([ $status, $json->{code}, $json->{details}{retryable}, $json->{details}{provider_status} ],
	[ 502, 'PROVIDER_ERROR', JSON::PP::false, 400 ], 'a refusal (4xx): 502 PROVIDER_ERROR, not retryable')
  or diag explain $json;
my $refused_order = $json->{details}{order_id};
ok($refused_order, 'naming the order');
like(sql(qq{SELECT arg->>'kind' || ': ' || (arg->>'error') FROM evently.test_calls WHERE fn = 'payment_record'
             AND arg->>'payment_id' = (SELECT o->'payment'->>'id' FROM evently.test_orders WHERE key = 'order-refused')}),
	qr/^intent_failed: HTTP 400 fake_failure: /, 'payment_record(intent_failed) with the reason');

fake(POST => '/_control/behaviour', { fail_status => 503, count => 1 });
($status, $json) = order('order-5xx');
is_deeply([ $status, $json->{code}, $json->{details}{retryable}, $json->{details}{provider_status} ],
	[ 502, 'PROVIDER_ERROR', JSON::PP::true, 503 ], 'a 5xx: 502 PROVIDER_ERROR, retryable');
my $order_5xx = $json->{details}{order_id};
is(sql(qq{SELECT count(*) FROM evently.test_calls WHERE fn = 'payment_record'
           AND arg->>'payment_id' = (SELECT o->'payment'->>'id' FROM evently.test_orders WHERE key = 'order-5xx')}),
	0, 'nothing recorded');
ok(wait_for(q{SELECT o->'payment'->>'provider_payment_id' FROM evently.test_orders WHERE key = 'order-5xx'}),
	'the worker then creates the intent and records it');
is_deeply([ map { $_->{status} } @{ requests_with_key($order_5xx) } ], [ 503, 200 ],
	'with the same Idempotency-Key');

# a provider that answers too late: the order's request gives up after
# PAYMENT_TIMEOUT_MS (1 s), and the shim serves others meanwhile
fake(POST => '/_control/behaviour', { delay_ms => 4000, count => 1 });
my $slow_out = '';
my $slow = EventlyTest::start([ 'curl', '-s', '-w', '\n%{http_code} %{time_total}', '-X', 'POST',
		"http://127.0.0.1:$shim_port/api/v1/orders", '-H', "Authorization: Bearer $buyer",
		'-H', 'Content-Type: application/json', '-H', 'Idempotency-Key: order-slow',
		'-d', encode_json({ hold_id => '6f0f4f5e-0000-4000-8000-000000000001', payment_provider => 'card' }) ],
	'<', \undef, '>', \$slow_out, '2>', \$slow_out, IPC::Run::timeout(30));
for (1 .. 50) { last if @{ requests_with_key(sql(q{SELECT o->>'order_id' FROM evently.test_orders WHERE key = 'order-slow'}) || 'none') }; sleep 0.05 }
# (new connections: libmicrohttpd binds a connection to one of its threads,
# and the one waiting on the provider serves no other connection meanwhile,
# as with a slow SQL statement)
my $started = Time::HiRes::time();
$res = HTTP::Tiny->new(timeout => 10)->get("http://127.0.0.1:$shim_port/ping");
my $ping = Time::HiRes::time() - $started;
is($res->{status}, 200, 'while the provider keeps a card order waiting, the shim answers');
cmp_ok($ping, '<', 0.5, 'at once');
$res = HTTP::Tiny->new(timeout => 10)->post("http://127.0.0.1:$shim_port/api/v1/orders",
	{ headers => { Authorization => "Bearer $buyer", 'Content-Type' => 'application/json', 'Idempotency-Key' => 'order-busy' },
		content => encode_json({ hold_id => '6f0f4f5e-0000-4000-8000-000000000001', payment_provider => 'card' }) });
is_deeply([ $res->{status}, decode_json($res->{content})->{code} ], [ 503, 'BUSY' ],
	'and another card order finds the one payment slot taken: 503 BUSY');
is(sql(q{SELECT count(*) FROM evently.test_calls WHERE fn = 'api_order_create' AND arg->'req'->>'idempotency_key' = 'order-busy'}),
	0, 'before anything is written');
EventlyTest::finish($slow);
my ($slow_body, $slow_status, $slow_time) = $slow_out =~ /^(.*)\n(\d+) ([\d.]+)$/s;
$json = eval { decode_json($slow_body) } // {};
is_deeply([ $slow_status, $json->{code}, $json->{details}{retryable} ], [ 502, 'PROVIDER_ERROR', JSON::PP::true ],
	'the order answers 502 PROVIDER_ERROR, retryable') or diag $slow_out;
cmp_ok($slow_time, '<', 2.5, "after PAYMENT_TIMEOUT_MS, not the provider's 4 s");
is($json->{details}{order_id}, sql(q{SELECT o->>'order_id' FROM evently.test_orders WHERE key = 'order-slow'}),
	'naming the order, which stays pending');
my $slow_pi = wait_for(q{SELECT o->'payment'->>'provider_payment_id' FROM evently.test_orders WHERE key = 'order-slow'});
ok($slow_pi, 'the worker creates its intent');
($status, $json) = order('order-slow');
is_deeply([ $status, $json->{data}{payment}{provider_payment_id} ], [ 201, $slow_pi ],
	"the client's retry with the same Idempotency-Key gets the order with its intent");
ok($json->{data}{payment}{client_secret}, 'and its client_secret');
sleep 3;    # the late answer to the first request arrives, and is thrown away
my @slow_requests = @{ requests_with_key($json->{data}{order_id}) };
cmp_ok(scalar @slow_requests, '>=', 2, 'the provider was asked at least twice for it');
is(scalar(keys %{ { map { $_->{status} == 200 ? ($_->{replayed} ? 'replayed' : 'created') : ('other') => 1 } @slow_requests } }),
	2, 'and created one intent, the other answers its replays');

# a shim without a card provider: no card order, no webhook
my $port2 = PostgreSQL::Test::Cluster::get_free_port();
my $shim2 = EventlyTest::program('evently-shim', "$tmp/shim2.log", PORT => $port2, POOL_SIZE => 2,
	JWT_SECRET => $t->secret, DATABASE_URL => EventlyTest::database_url($node),
	PAYMENT_API_BASE => $fake_base, PAYMENT_SECRET_KEY => '', PAYMENT_WEBHOOK_SECRET => '');
for (1 .. 100) { last if $http->get("http://127.0.0.1:$port2/ping")->{success}; sleep 0.05 }
my $orders = calls('api_order_create');
$res = $http->post("http://127.0.0.1:$port2/api/v1/orders", { headers => { Authorization => "Bearer $buyer",
			'Content-Type' => 'application/json', 'Idempotency-Key' => 'order-nowhere' },
		content => encode_json({ hold_id => '6f0f4f5e-0000-4000-8000-000000000001', payment_provider => 'card' }) });
$json = decode_json($res->{content});
is_deeply([ $res->{status}, $json->{code}, $json->{message} ], [ 502, 'PROVIDER_ERROR', 'card payments are not available' ],
	'without PAYMENT_SECRET_KEY a card order is refused');
is(calls('api_order_create'), $orders, 'before anything is written');
$res = $http->post("http://127.0.0.1:$port2/api/v1/payments/webhook/card",
	{ headers => { 'Stripe-Signature' => sign($body) }, content => $body });
is_deeply([ $res->{status}, decode_json($res->{content})->{code} ], [ 401, 'INVALID_SIGNATURE' ],
	'without PAYMENT_WEBHOOK_SECRET every webhook is refused');
is(EventlyTest::stop($shim2), 0, 'that shim stops cleanly');
like(slurp_file("$tmp/shim2.log"), qr/card payments are off/, 'having said that card payments are off');

unlike($t->log, qr/\Q$key\E|\Q$whsec\E/, "the shim's log names neither secret");
is($t->stop_shim, 0, 'the shim stops cleanly');
is(EventlyTest::stop($fake), 0, 'the fake provider too');
done_testing();
