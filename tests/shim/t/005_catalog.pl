# The catalogue over HTTP: event lists with filters and pages, upcoming
# events, tags, sections and the seat layout (holds shown as held).
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my ($status, $json);

($status, $json) = $t->request(GET => '/api/v1/events');
is($status, 200, 'list events');
is_deeply([ @{ $json->{data} }{qw(total_count page limit total_pages)} ], [ 6, 1, 10, 1 ], 'all six seeded events, one page');
my @dates = map { $_->{date_time} } @{ $json->{data}{events} };
is_deeply(\@dates, [ sort @dates ], 'soonest first');

($status, $json) = $t->request(GET => '/api/v1/events?limit=4&page=2');
is(scalar @{ $json->{data}{events} }, 2, 'page 2 of 4 has the last two');
is($json->{data}{total_pages}, 2, 'two pages');
($status, $json) = $t->request(GET => '/api/v1/events?search=tech');
is_deeply([ sort map { $_->{name} } @{ $json->{data}{events} } ],
	[ 'Tech Conference 2024' ], 'search is case-insensitive over name, description and venue');
($status, $json) = $t->request(GET => '/api/v1/events?tags=Business');
is($json->{data}{total_count}, 3, 'tag filter by name');
($status, $json) = $t->request(GET => '/api/v1/events?tags=Business,Music');
is($json->{data}{total_count}, 4, 'any of several tags');
($status, $json) = $t->request(GET => '/api/v1/events?venue=opera');
is($json->{data}{total_count}, 1, 'venue substring');
my $in40 = $t->node->safe_psql('evently', "SELECT to_char(now() + interval '40 days', 'YYYY-MM-DD')");
($status, $json) = $t->request(GET => "/api/v1/events?date_to=$in40");
is($json->{data}{total_count}, 3, 'events up to a date (inclusive)');
($status, $json) = $t->request(GET => "/api/v1/events?date_from=$in40&status=published");
is($json->{data}{total_count}, 3, 'events from a date');

for my $bad ('limit=0', 'limit=101', 'page=0', 'page=abc', 'status=draft', 'date_from=yesterday',
	'date_to=2026-13-45', "search=%27%3B%20DROP%20TABLE%20evently.events%3B--")
{
	($status, $json) = $t->request(GET => "/api/v1/events?$bad");
	if ($bad =~ /^search/)
	{
		is($status, 200, 'SQL metacharacters in search are just text');
		is($json->{data}{total_count}, 0, 'matching nothing');
	}
	else
	{
		is($status, 422, "$bad is refused");
	}
}

($status, $json) = $t->request(GET => '/api/v1/events/upcoming?limit=2');
is(scalar @{ $json->{data} }, 2, 'upcoming with a limit');
is($json->{data}[0]{name}, 'Startup Pitch Night', 'soonest first');
($status, $json) = $t->request(GET => '/api/v1/events/upcoming?limit=-5');
is(scalar @{ $json->{data} }, 6, 'a bad limit means the default');

($status, $json) = $t->request(GET => '/api/v1/tags/active');
is_deeply([ map { $_->{name} } @{ $json->{data} } ],
	[ qw(Arts Business Food Music Sports Technology) ], 'active tags by name');
($status, $json) = $t->request(GET => '/api/v1/tags/slug/music');
is($json->{data}{color}, '#EF4444', 'tag by slug');
($status, $json) = $t->request(GET => '/api/v1/tags/slug/polka');
is($status, 404, 'unknown slug is 404');

# sections and layout need a token (any role: the reference's admin 403 was a bug)
my $user = $t->login('mitshah2406@gmail.com');
my $admin = $t->login('admin@gmail.com');
my $event = $t->node->safe_psql('evently', "SELECT id FROM evently.events WHERE name = 'Classical Music Evening'");
($status, $json) = $t->request(GET => "/api/v1/events/$event/sections");
is($status, 401, 'sections need a token');
($status, $json) = $t->as($admin->{access_token}, GET => "/api/v1/events/$event/sections");
is($status, 200, 'an ADMIN may read them');
is_deeply([ map { "$_->{name}:$_->{total_seats}" } @{ $json->{data} } ], [ 'Premium:13', 'Standard:13' ], 'both sections');

my $seat = $t->node->safe_psql('evently', "SELECT seat_id FROM evently.event_seats('$event') WHERE seat_number = 'A1'");
$t->as($user->{access_token}, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [$seat] });
($status, $json) = $t->as($user->{access_token}, GET => "/api/v1/events/$event/venue/layout");
is($status, 200, 'layout');
is($json->{data}{total_seats}, 26, '26 seats');
is($json->{data}{available_seats}, 25, 'one of them held');
my ($premium) = grep { $_->{name} eq 'Premium' } @{ $json->{data}{sections} };
is($premium->{price}, 1440, 'Premium costs 800 x 1.8');
my ($a1) = grep { $_->{seat_number} eq 'A1' } @{ $premium->{seats} };
is($a1->{status}, 'HELD', 'the held seat shows HELD');
ok($a1->{is_held}, 'and is_held');
($status, $json) = $t->as($user->{access_token}, GET => '/api/v1/events/00000000-0000-4000-8000-000000000000/venue/layout');
is($status, 404, 'layout of an unknown event is 404');

is($t->stop_shim, 0, 'clean stop');
done_testing();
