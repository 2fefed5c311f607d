# Tag administration over HTTP, ADMIN only (the reference let any user in).
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my ($status, $json);
my $admin = $t->login('admin@gmail.com')->{access_token};
my $user = $t->login('mitshah2406@gmail.com')->{access_token};

($status, $json) = $t->as($user, POST => '/api/v1/admin/tags', { name => 'Jazz' });
is($status, 403, 'a USER may not create tags');
($status, $json) = $t->as($user, GET => '/api/v1/admin/tags');
is($status, 403, 'nor list them');

($status, $json) = $t->as($admin, POST => '/api/v1/admin/tags', { name => 'Smooth  Jazz!', color => '#123ABC', description => 'late' });
is($status, 201, 'create');
is_deeply([ @{ $json->{data} }{qw(name slug color is_active)} ], [ 'Smooth  Jazz!', 'smooth-jazz', '#123ABC', JSON::PP::true ],
	'slug made from the name');
my $id = $json->{data}{id};
($status, $json) = $t->as($admin, POST => '/api/v1/admin/tags', { name => 'smooth jazz' });
is($status, 409, 'a tag with the same slug is 409');
($status, $json) = $t->as($admin, POST => '/api/v1/admin/tags', { name => 'Blues', color => 'blue!!!' });
is($status, 422, 'a colour that is not #RRGGBB is 422');

($status, $json) = $t->as($admin, GET => '/api/v1/admin/tags?limit=3&sort_by=name&sort_order=desc');
is_deeply([ map { $_->{name} } @{ $json->{data}{tags} } ], [ 'Technology', 'Sports', 'Smooth  Jazz!' ], 'sorted, paged');
is_deeply([ @{ $json->{data} }{qw(total_count total_pages)} ], [ 7, 3 ], 'seven tags on three pages');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/tags?search=JAZZ');
is($json->{data}{total_count}, 1, 'search ignores case');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/tags?sort_by=color');
is($status, 422, 'an unknown sort is 422');

($status, $json) = $t->as($admin, PUT => "/api/v1/admin/tags/$id", { is_active => JSON::PP::false, name => 'Cool Jazz' });
is_deeply([ @{ $json->{data} }{qw(name slug is_active)} ], [ 'Cool Jazz', 'cool-jazz', JSON::PP::false ], 'update renames and deactivates');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/tags/$id", { name => 'Music' });
is($status, 409, 'renaming onto another tag is 409');
($status, $json) = $t->request(GET => '/api/v1/tags/active');
ok(!(grep { $_->{name} eq 'Cool Jazz' } @{ $json->{data} }), 'an inactive tag is not active');
($status, $json) = $t->as($admin, GET => "/api/v1/admin/tags/$id");
is($json->{data}{name}, 'Cool Jazz', 'read by id');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/tags/active');
is(scalar @{ $json->{data} }, 6, 'the admin list of active tags leaves it out');

my $music = $t->node->safe_psql('evently', "SELECT id FROM evently.tags WHERE slug = 'music'");
($status, $json) = $t->as($admin, DELETE => "/api/v1/admin/tags/$music");
is($status, 409, 'a tag in use cannot be deleted');
like($json->{message}, qr/being used by 1 event/, 'and says by how many events');
($status, $json) = $t->as($admin, DELETE => "/api/v1/admin/tags/$id");
is($status, 200, 'an unused tag is deleted');
($status, $json) = $t->as($admin, GET => "/api/v1/admin/tags/$id");
is($status, 404, 'and gone');

is($t->stop_shim, 0, 'clean stop');
is($t->stale_catalogs, '0', 'every event catalog still matches its tags, prices and sections');
done_testing();
