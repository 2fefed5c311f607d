# Event search over HTTP, GET /api/v1/events/search (issue 11), on events
# this test creates, all with the made-up word "wombat" somewhere: a name
# match ranked above a venue match above a description match, a filter,
# pages, an organizer's draft never found (then found once approved), a bad
# parameter refused in the envelope, and the route matched before
# /events/:eventId.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my ($status, $json);
my $admin = $t->login('admin@gmail.com')->{access_token};
my $organizer = $t->login('organizer@example.com')->{access_token};

my $template = $t->node->safe_psql('evently', "SELECT id FROM evently.venue_templates WHERE name = 'Small Theater'");
my $premium = $t->node->safe_psql('evently',
	"SELECT id FROM evently.venue_sections WHERE template_id = '$template' AND name = 'Premium'");
# RFC 3339, days from now
sub in_days
{
	my ($days) = @_;
	return $t->node->safe_psql('evently',
		qq{SELECT to_char(now() AT TIME ZONE 'UTC' + interval '$days days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')});
}

# three published events: the word in the name, in the venue, in the description
for my $event (
	[ 'Wombat Jazz Night', 'Dockside Hall',   'Swing until late.',             30, 10 ],
	[ 'Evening Market',    'The Wombat Club', 'Street food and music.',        10, 20 ],
	[ 'Harbour Swing',     'Pier Stage',      'Every wombat favourite, live.', 60, 5 ])
{
	my ($name, $venue, $description, $price, $days) = @$event;
	($status, $json) = $t->as($admin, POST => '/api/v1/admin/events', {
		name => $name, venue => $venue, description => $description, base_price => $price,
		date_time => in_days($days), venue_template_id => $template,
		section_pricing => [ { section_id => $premium, price_multiplier => 1.5 } ] });
	is($status, 201, "$name is published");
}

# an organizer's draft: never found
($status, $json) = $t->as($organizer, POST => '/api/v1/events', {
	name => 'Wombat Folk Festival', venue => 'Meadow Stage', description => 'Fiddles and wombats.',
	base_price => 45, date_time => in_days(30), venue_template_id => $template, category => 'festival' });
is($status, 201, 'the organizer creates a draft');
my $draft = $json->{data}{id};
is($json->{data}{status}, 'draft', 'a draft');

# the route is matched as itself, not as /events/:eventId with the id "search"
($status, $json) = $t->request(GET => '/api/v1/events/search?q=wombat');
is($status, 200, 'GET /events/search is a route of its own, public');
is($json->{message}, 'Events retrieved successfully', 'with its message');
is_deeply([ map { $_->{name} } @{ $json->{data}{events} } ], [ 'Wombat Jazz Night', 'Evening Market', 'Harbour Swing' ],
	'name match, then venue, then description; the draft is not found');
my @ranks = map { $_->{rank} } @{ $json->{data}{events} };
ok($ranks[0] > $ranks[1] && $ranks[1] > $ranks[2], "ranked @ranks");
is($json->{data}{total_count}, 3, 'three found');
ok(defined $json->{data}{events}[0]{available_tickets} && $json->{data}{events}[0]{status} eq 'published',
	'each one as GET /events/:id shows it');

($status, $json) = $t->request(GET => "/api/v1/events/$draft");
is($status, 404, 'the draft itself is not found either');
($status, $json) = $t->as($admin, GET => '/api/v1/events/search?q=folk%20festival');
is($json->{data}{total_count}, 0, 'not even by an ADMIN searching');

# a filter: price, both ends included
($status, $json) = $t->request(GET => '/api/v1/events/search?q=wombat&min_price=10&max_price=30');
is_deeply([ map { $_->{name} } @{ $json->{data}{events} } ], [ 'Wombat Jazz Night', 'Evening Market' ],
	'min_price and max_price');
($status, $json) = $t->request(GET => '/api/v1/events/search?q=wombat&location=WOMBAT%20club');
is_deeply([ map { $_->{name} } @{ $json->{data}{events} } ], ['Evening Market'], 'location, any case');

# pages: the same order, the total on each
($status, $json) = $t->request(GET => '/api/v1/events/search?q=wombat&limit=2');
is_deeply([ (map { $_->{name} } @{ $json->{data}{events} }), @{ $json->{data} }{qw(total_count limit offset)} ],
	[ 'Wombat Jazz Night', 'Evening Market', 3, 2, 0 ], 'page 1 of 2');
($status, $json) = $t->request(GET => '/api/v1/events/search?q=wombat&limit=2&offset=2');
is_deeply([ (map { $_->{name} } @{ $json->{data}{events} }), @{ $json->{data} }{qw(total_count limit offset)} ],
	[ 'Harbour Swing', 3, 2, 2 ], 'page 2 of 2');
($status, $json) = $t->request(GET => '/api/v1/events/search?q=wombat&sort=date');
is_deeply([ map { $_->{name} } @{ $json->{data}{events} } ], [ 'Harbour Swing', 'Wombat Jazz Night', 'Evening Market' ],
	'sort=date');

# the draft, submitted and approved, is found, and by its category
($status) = $t->as($organizer, POST => "/api/v1/events/$draft/submit");
is($status, 200, 'submitted');
($status, $json) = $t->request(GET => '/api/v1/events/search?q=wombat');
is($json->{data}{total_count}, 3, 'under review: still not found');
($status) = $t->as($admin, POST => "/api/v1/admin/events/$draft/approve");
is($status, 200, 'approved');
($status, $json) = $t->request(GET => '/api/v1/events/search?q=wombat&category=festival');
is_deeply([ map { [ $_->{name}, $_->{category}, $_->{status} ] } @{ $json->{data}{events} } ],
	[ [ 'Wombat Folk Festival', 'festival', 'published' ] ], 'published: found, by its category');

# a bad parameter: 422 in the envelope, naming it
($status, $json) = $t->request(GET => '/api/v1/events/search?q=wombat&min_price=-5');
is($status, 422, 'a negative min_price is refused');
is_deeply([ @$json{qw(status status_code code message)} ], [ 'error', 422, 'INVALID_ARGUMENT', 'Invalid query parameters' ],
	'the error envelope, INVALID_ARGUMENT');
like($json->{details}{detail}, qr/^min_price=-5 is not a number/, 'the detail names the parameter');
for my $bad ('sort=name', 'limit=0', 'from=tomorrow', 'status=draft', 'category=%25%25')
{
	($status, $json) = $t->request(GET => "/api/v1/events/search?$bad");
	is("$status $json->{code}", '422 INVALID_ARGUMENT', "$bad is refused");
}
# words that are only stop words find nothing, and leave no NOTICE in the shim's log
($status, $json) = $t->request(GET => '/api/v1/events/search?q=the%20and%20of');
is_deeply([ $status, $json->{data}{total_count} ], [ 200, 0 ], 'stop words only: nothing');
unlike($t->log, qr/NOTICE/, "no NOTICE in the shim's log");

is($t->stop_shim, 0, 'clean stop');
done_testing();
