# Discount codes, provider fees and the payout report over HTTP (issue 12
# items 7 and 8): the seeded organizer makes, lists and changes a code of its
# event; the shim refuses values outside the declared bounds, the SQL the
# rest in its own words; a USER gets 404 on every per-event route; an ADMIN
# sets the provider fees; the payout report answers its organizer and ADMINs.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my $node = $t->node;
my ($status, $json);
my $admin = $t->login('admin@gmail.com')->{access_token};
my $organizer = $t->login('organizer@example.com')->{access_token};
my $buyer = $t->login('mitshah2406@gmail.com')->{access_token};
my $sql = sub { $node->safe_psql('evently', $_[0]) };
my $event = $sql->("SELECT id FROM evently.events WHERE name = 'Classical Music Evening'");
my $codes = "/api/v1/events/$event/discount-codes";

# POST /events/:id/discount-codes
($status, $json) = $t->as($organizer, POST => $codes,
	{ code => 'spring-25', percent_off => 12.5, max_uses => 2, valid_to => '2999-01-01T00:00:00Z' });
is($status, 201, 'the organizer makes a code');
my $code = $json->{data};
is_deeply([ @$code{qw(code percent_off amount_off max_uses used_count remaining_uses is_active)} ],
	[ 'SPRING-25', 12.5, undef, 2, 0, 2, JSON::PP::true ], 'upper-cased, 12.5 % off, 2 uses');
is($json->{message}, 'Discount code created successfully', 'with its message');
is($sql->("SELECT count(*) FROM evently.outbox WHERE type = 'discount.created' AND event_id = '$event'"), 1,
	'discount.created is in the outbox');

# the shim's bounds, then the SQL's words
for my $case ([ 'percent_off over 100', { code => 'BIG', percent_off => 100.01 }, 'percent_off' ],
	[ 'a 2-character code', { code => 'AB', percent_off => 5 }, 'code' ],
	[ 'a tier that is not a uuid', { code => 'TIER', percent_off => 5, tier_ids => ['vip'] }, 'tier_ids' ],
	[ 'max_uses 0', { code => 'NONE', percent_off => 5, max_uses => 0 }, 'max_uses' ])
{
	my ($what, $body, $field) = @$case;
	($status, $json) = $t->as($organizer, POST => $codes, $body);
	is($status, 422, "$what: 422");
	ok(exists $json->{errors}{$field}, "$what: naming $field");
}
for my $case ([ 'both amounts', { code => 'BOTH', percent_off => 5, amount_off => 5 }, 422, 'INVALID_ARGUMENT',
		qr/not both and not neither/ ],
	[ 'neither amount', { code => 'NEITHER' }, 422, 'INVALID_ARGUMENT', qr/not both and not neither/ ],
	[ 'a space in the code', { code => 'NO GOOD', amount_off => 5 }, 422, 'INVALID_ARGUMENT', qr/letters, digits/ ],
	[ 'three decimals', { code => 'CENTS', amount_off => 1.005 }, 422, 'INVALID_ARGUMENT', qr/kept to 2 decimals/ ],
	[ 'an unknown tier', { code => 'TIER', percent_off => 5, tier_ids => ['00000000-0000-4000-8000-000000000000'] },
		404, 'NOT_FOUND', qr/has no ticket tier/ ],
	[ 'the same code in another case', { code => 'Spring-25', amount_off => 5 }, 409, 'ALREADY_EXISTS',
		qr/already has discount code SPRING-25/ ],
	[ 'valid_to before valid_from',
		{ code => 'LATE', percent_off => 5, valid_from => '2030-01-02T00:00:00Z', valid_to => '2030-01-01T00:00:00Z' },
		422, 'INVALID_ARGUMENT', qr/is not after valid_from/ ])
{
	my ($what, $body, $want, $stable, $detail) = @$case;
	($status, $json) = $t->as($organizer, POST => $codes, $body);
	is("$status $json->{code}", "$want $stable", "$what: $want $stable");
	like($json->{details}{detail} // '', $detail, "$what: the detail says why");
}
($status, $json) = $t->as($buyer, POST => $codes, { code => 'MINE', percent_off => 50 });
is("$status $json->{code}", '404 NOT_FOUND', "a USER cannot make a code for someone's event");

# GET /events/:id/discount-codes
($status, $json) = $t->as($organizer, GET => $codes);
is($status, 200, 'the organizer lists its codes');
is_deeply([ map { $_->{code} } @{ $json->{data}{discount_codes} } ], ['SPRING-25'], 'the one code');
($status, $json) = $t->as($admin, GET => $codes);
is($json->{data}{total_count}, 1, 'an ADMIN sees it too');
($status, $json) = $t->as($buyer, GET => $codes);
is("$status $json->{code}", '404 NOT_FOUND', 'a USER sees nothing');

# two orders hold a use (the order functions claim it; here, directly)
my $claim = "SELECT evently._claim_discount('$event', 'spring-25', "
  . "jsonb_build_array(jsonb_build_object('tier_id', null, 'quantity', 2, 'unit_price', 40)))->>'discount_amount'";
is($sql->($claim), '10.00', 'a claim: 12.5 % of 80.00');
$sql->($claim);
my ($ret, $out, $err) = $node->psql('evently', $claim);
like($err, qr/discount code is used up/, 'a third claim is refused: used up');

# PUT /discount-codes/:id
my $put = "/api/v1/discount-codes/$code->{id}";
($status, $json) = $t->as($organizer, PUT => $put, { max_uses => 1 });
is("$status $json->{code}", '422 INVALID_ARGUMENT', 'max_uses cannot go below the uses taken');
like($json->{details}{detail}, qr/held by 2 orders/, 'saying how many');
($status, $json) = $t->as($organizer, PUT => $put, { max_uses => undef, is_active => JSON::PP::false });
is($status, 200, 'no limit, and inactive');
is_deeply([ @{ $json->{data} }{qw(max_uses remaining_uses is_active used_count)} ], [ undef, undef, JSON::PP::false, 2 ],
	'as asked');
($status, $json) = $t->as($organizer, PUT => $put, { code => 'RENAMED' });
is($status, 422, 'the code itself does not change');
($status, $json) = $t->as($buyer, PUT => $put, { is_active => JSON::PP::true });
is("$status $json->{code}", '404 NOT_FOUND', "a USER cannot touch the organizer's code");

# provider fees
($status, $json) = $t->as($admin, POST => '/api/v1/admin/provider-fees',
	{ provider => 'card', percent_fee => 2.9, fixed_fee => 0.3 });
is($status, 200, 'an ADMIN sets the card fee');
is_deeply($json->{data}, { provider => 'card', percent_fee => 2.9, fixed_fee => 0.3 }, 'as sent');
($status, $json) = $t->as($organizer, POST => '/api/v1/admin/provider-fees',
	{ provider => 'card', percent_fee => 0, fixed_fee => 0 });
is($status, 403, 'an organizer may not');
($status, $json) = $t->as($admin, POST => '/api/v1/admin/provider-fees',
	{ provider => 'paypal', percent_fee => 1, fixed_fee => 0 });
is("$status $json->{code}", '422 INVALID_ARGUMENT', 'an unknown provider is refused');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/provider-fees');
is_deeply([ map { "$_->{provider} $_->{percent_fee} $_->{fixed_fee}" } @{ $json->{data}{provider_fees} } ],
	[ 'card 2.9 0.3', 'mock 0 0', 'offline 0 0' ], 'every provider, free without a contract');
is($sql->("SELECT evently._payment_fee('card', 90)"), '2.91', 'a payment of 90.00 by card costs 2.91');

# GET /organizer/events/:id/payouts
($status, $json) = $t->as($organizer, GET => "/api/v1/organizer/events/$event/payouts");
is($status, 200, 'the organizer reads its payout report');
is_deeply([ @{ $json->{data} }{qw(event_id currency orders_paid gross discounts fees refunds net)} ],
	[ $event, 'INR', 0, 0, 0, 0, 0, 0 ], 'nothing paid through an order yet');
is_deeply($json->{data}{by_provider}, [], 'no provider');
($status, $json) = $t->as($admin, GET => "/api/v1/organizer/events/$event/payouts");
is($status, 200, 'an ADMIN reads it too');
($status, $json) = $t->as($buyer, GET => "/api/v1/organizer/events/$event/payouts");
is("$status $json->{code}", '404 NOT_FOUND', 'a USER gets 404');

is($t->stop_shim, 0, 'clean stop');
done_testing();
