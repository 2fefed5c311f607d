# Venue administration and seat reads over HTTP.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my ($status, $json);
my $admin = $t->login('admin@gmail.com')->{access_token};
my $user = $t->login('mitshah2406@gmail.com')->{access_token};

my %template = (name => 'Arena', default_rows => 10, default_seats_per_row => 20, layout_type => 'STADIUM');
($status, $json) = $t->as($user, POST => '/api/v1/admin/venue-templates', \%template);
is($status, 403, 'a USER may not create templates');
($status, $json) = $t->as($admin, POST => '/api/v1/admin/venue-templates', \%template);
is($status, 201, 'create a template');
my $tpl = $json->{data}{id};
is_deeply([ @{ $json->{data} }{qw(layout_type default_rows default_seats_per_row)} ], [ 'STADIUM', 10, 20 ], 'as asked');
($status, $json) = $t->as($admin, POST => '/api/v1/admin/venue-templates', \%template);
is($status, 409, 'names are unique');
($status, $json) = $t->as($admin, POST => '/api/v1/admin/venue-templates', { %template, name => 'Dome', layout_type => 'DOME' });
is($status, 422, 'an unknown layout is 422');

($status, $json) = $t->as($admin, POST => "/api/v1/admin/venue-templates/$tpl/sections",
	{ name => 'Floor', row_start => '1', row_end => '3', seats_per_row => 4, total_seats => 12 });
is($status, 201, 'a section, its seats generated');
my $floor = $json->{data}{id};
($status, $json) = $t->as($admin, POST => "/api/v1/admin/venue-templates/$tpl/sections",
	{ name => 'Upper', row_start => 'A', row_end => 'B', seats_per_row => 4, total_seats => 9 });
is($status, 422, 'a total that does not match rows x seats is 422');
like($json->{message}, qr/generated seat count \(8\)/, 'saying why');
($status, $json) = $t->as($admin, GET => "/api/v1/admin/venue-templates/$tpl/sections");
is_deeply([ map { $_->{name} } @{ $json->{data} } ], ['Floor'], 'the failed section left nothing behind');
is($json->{data}[0]{template}{name}, 'Arena', 'with its template');

($status, $json) = $t->request(GET => "/api/v1/sections/$floor/seats");
is_deeply([ (map { $_->{seat_number} } @{ $json->{data} })[0 .. 4] ], [ '1-1', '1-2', '1-3', '1-4', '2-1' ], 'seats in order');
my $seat = $json->{data}[0]{id};
($status, $json) = $t->as($user, GET => "/api/v1/seats/$seat");
is($json->{data}{section}{name}, 'Floor', 'a seat with its section');
($status, $json) = $t->as($user, GET => '/api/v1/seats/hold');
is($status, 400, 'GET /seats/hold is a malformed seat id, not a 500');

($status, $json) = $t->as($admin, PUT => "/api/v1/admin/seats/$seat", { status => 'BLOCKED' });
is($json->{data}{status}, 'BLOCKED', 'block a seat');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/seats/$seat", { status => 'BROKEN' });
is($status, 422, 'an unknown seat status is 422');

($status, $json) = $t->as($admin, GET => '/api/v1/admin/venue-templates?layout_type=stadium');
is($json->{data}{total_count}, 1, 'list by layout');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/venue-templates/$tpl", { name => 'Small Theater' });
is($status, 409, 'renaming onto another template is 409');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/venue-templates/$tpl", { description => 'big' });
is($json->{data}{description}, 'big', 'update');

# an event fixes the template's shape; the blocked seat is blocked in it
my $when = $t->node->safe_psql('evently', q{SELECT to_char(now() + interval '9 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')});
($status, $json) = $t->as($admin, POST => '/api/v1/admin/events', { name => 'Derby', venue => 'Arena',
	venue_template_id => $tpl, date_time => $when, base_price => 10,
	section_pricing => [ { section_id => $floor, price_multiplier => 1 } ] });
my $event = $json->{data}{id};
is($json->{data}{available_tickets}, 11, 'the blocked seat is not for sale');
($status, $json) = $t->request(GET => "/api/v1/sections/$floor/seats/available?event_id=$event");
is(scalar @{ $json->{data} }, 11, 'available seats of the section');
($status, $json) = $t->request(GET => "/api/v1/sections/$floor/seats/available");
is($status, 422, 'the event is required');
($status, $json) = $t->as($user, POST => '/api/v1/seats/availability', { event_id => $event, seat_ids => [ $seat ] });
is_deeply([ @{ $json->{data}{seats}[0] }{qw(available status)} ], [ JSON::PP::false, 'UNAVAILABLE' ], 'a blocked seat is unavailable');
($status, $json) = $t->as($admin, DELETE => "/api/v1/admin/sections/$floor");
is($status, 409, 'a section of a template in use cannot be deleted');
($status, $json) = $t->as($admin, DELETE => "/api/v1/admin/venue-templates/$tpl");
is($status, 409, 'nor the template');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/sections/$floor", { name => 'Pitch' });
is($json->{data}{name}, 'Pitch', 'a section can be renamed');

# hold validation for its owner
($status, $json) = $t->request(GET => "/api/v1/sections/$floor/seats/available?event_id=$event");
my @two = map { $_->{id} } @{ $json->{data} }[0 .. 1];
($status, $json) = $t->as($user, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => \@two });
my $hold = $json->{data}{hold_id};
($status, $json) = $t->as($user, GET => "/api/v1/seats/hold/$hold/validate");
is($json->{data}{valid}, JSON::PP::true, 'a live hold validates');
($status, $json) = $t->as($admin, GET => "/api/v1/seats/hold/$hold/validate");
is($status, 404, 'for its owner only');

# an unused template goes, with its sections and seats
($status, $json) = $t->as($admin, POST => '/api/v1/admin/venue-templates', { %template, name => 'Shed' });
my $shed = $json->{data}{id};
$t->as($admin, POST => "/api/v1/admin/venue-templates/$shed/sections", { name => 'All', row_start => 'A', row_end => 'A', seats_per_row => 2 });
($status, $json) = $t->as($admin, DELETE => "/api/v1/admin/venue-templates/$shed");
is($status, 200, 'an unused template is deleted');
($status, $json) = $t->as($admin, GET => "/api/v1/admin/venue-templates/$shed");
is($status, 404, 'and gone');

is($t->stop_shim, 0, 'clean stop');
is($t->stale_catalogs, '0', 'every event catalog still matches its tags, prices and sections');
done_testing();
