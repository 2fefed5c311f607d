# Authentication over HTTP: register, login, refresh with rotation, logout
# that revokes, me, change-password; and every way a token can be wrong.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my ($status, $json);

# register: a USER with tokens; nobody registers as ADMIN
($status, $json) = $t->request(POST => '/api/v1/auth/register',
	{ first_name => 'Ann', last_name => 'Lee', email => 'ann@example.com', password => 'secret1' });
is($status, 201, 'register is 201');
is($json->{data}{user}{role}, 'USER', 'as a USER');
ok($json->{data}{access_token} && $json->{data}{refresh_token}, 'with both tokens');
is($json->{data}{expires_in}, 900, 'access tokens live 15 minutes');
for my $field (qw(id first_name last_name email role created_at updated_at))
{
	ok(exists $json->{data}{user}{$field}, "user has $field");
}
($status, $json) = $t->request(POST => '/api/v1/auth/register',
	{ first_name => 'Eve', last_name => 'Evil', email => 'eve@example.com', password => 'secret1', role => 'admin' });
is($status, 403, 'registering as ADMIN is refused');
($status, $json) = $t->request(POST => '/api/v1/auth/register',
	{ first_name => 'Ann', last_name => 'Lee', email => 'ANN@example.com', password => 'secret1' });
is($status, 409, 'an e-mail registers once, whatever its case');
($status, $json) = $t->request(POST => '/api/v1/auth/register',
	{ first_name => 'A', last_name => 'Lee', email => 'x@example.com', password => 'short' });
is($status, 422, 'validation failures are 422');
is_deeply([ sort keys %{ $json->{errors} } ], [ 'first_name', 'password' ], 'naming each bad field');

# login
my $ann = $t->login('ann@example.com', 'secret1');
($status, $json) = $t->request(POST => '/api/v1/auth/login', { email => 'ann@example.com', password => 'wrong-pw' });
is($status, 401, 'a wrong password is 401');
is($json->{message}, 'Invalid email or password', 'with the reference message');

# me: from the database, for the token's user
($status, $json) = $t->as($ann->{access_token}, GET => '/api/v1/auth/me');
is($status, 200, 'me answers');
is($json->{data}{email}, 'ann@example.com', 'for the token user');

# refresh rotates: the old refresh token is spent; reusing it ends every session
($status, $json) = $t->request(POST => '/api/v1/auth/refresh', { refresh_token => $ann->{refresh_token} });
is($status, 200, 'refresh works');
my $rotated = $json->{data};
isnt($rotated->{refresh_token}, $ann->{refresh_token}, 'and returns a new refresh token');
($status, $json) = $t->request(POST => '/api/v1/auth/refresh', { refresh_token => $ann->{refresh_token} });
is($status, 401, 'a spent refresh token is refused');
($status, $json) = $t->request(POST => '/api/v1/auth/refresh', { refresh_token => $rotated->{refresh_token} });
is($status, 401, 'and its reuse revoked the whole family');
($status, $json) = $t->request(POST => '/api/v1/auth/refresh', { refresh_token => $ann->{access_token} });
is($status, 401, 'an access token is no refresh token');

# logout revokes
$ann = $t->login('ann@example.com', 'secret1');
($status, $json) = $t->request(POST => '/api/v1/auth/logout', { refresh_token => $ann->{refresh_token} });
is($status, 200, 'logout');
($status, $json) = $t->request(POST => '/api/v1/auth/refresh', { refresh_token => $ann->{refresh_token} });
is($status, 401, 'a logged-out refresh token is refused');

# change-password: old password out, sessions ended
$ann = $t->login('ann@example.com', 'secret1');
($status, $json) = $t->as($ann->{access_token}, PUT => '/api/v1/auth/change-password',
	{ current_password => 'nope-nope', new_password => 'secret2' });
is($status, 401, 'the current password must match');
($status, $json) = $t->as($ann->{access_token}, PUT => '/api/v1/auth/change-password',
	{ current_password => 'secret1', new_password => 'secret2' });
is($status, 200, 'password changed');
($status, $json) = $t->request(POST => '/api/v1/auth/refresh', { refresh_token => $ann->{refresh_token} });
is($status, 401, 'older sessions are revoked');
ok($t->login('ann@example.com', 'secret2'), 'the new password logs in');

# every way a token can be wrong, on a route that needs one
my $user = $t->login('mitshah2406@gmail.com');
my $uid = $user->{user}{id};
my %claims = (iss => 'evently', sub => $uid, user_id => $uid, email => 'mitshah2406@gmail.com',
	role => 'USER', type => 'access', epoch => 0, iat => time, exp => time + 600);
my @cases = (
	[ 'no header', undef, 'Authorization header is required' ],
	[ 'wrong scheme', "Basic $user->{access_token}", 'authorization header format must be Bearer {token}' ],
	[ 'lower-case scheme', "bearer $user->{access_token}", 'authorization header format must be Bearer {token}' ],
	[ 'tampered signature', 'Bearer ' . $user->{access_token} =~ s/.$/$& eq 'A' ? 'B' : 'A'/er, 'invalid or expired token' ],
	[ 'alg none', 'Bearer ' . $t->sign({ alg => 'none', typ => 'JWT' }, \%claims), 'invalid or expired token' ],
	[ 'another secret', 'Bearer ' . $t->sign({ alg => 'HS256', typ => 'JWT' }, \%claims, 'x' x 40), 'invalid or expired token' ],
	[ 'expired', 'Bearer ' . $t->sign({ alg => 'HS256', typ => 'JWT' }, { %claims, exp => time - 1 }), 'invalid or expired token' ],
	[ 'another issuer', 'Bearer ' . $t->sign({ alg => 'HS256', typ => 'JWT' }, { %claims, iss => 'mallory' }), 'invalid or expired token' ],
	[ 'refresh as access', "Bearer $user->{refresh_token}", 'invalid token type' ],
	[ 'garbage', 'Bearer not.a.token', 'invalid or expired token' ],
);
for my $case (@cases)
{
	my ($name, $header, $message) = @$case;
	($status, $json) = $t->request(GET => '/api/v1/auth/me', undef,
		defined $header ? { Authorization => $header } : {});
	is($status, 401, "$name: 401");
	is($json->{message}, $message, "$name: $message");
}
my $forged = $t->sign({ alg => 'HS256', typ => 'JWT' }, \%claims);
($status, $json) = $t->as($forged, GET => '/api/v1/auth/me');
is($status, 200, 'a token signed with the right secret is accepted (the forger check is sound)');

# role checks: a USER on an ADMIN route, and a USER who claims ADMIN in a token they cannot sign
($status, $json) = $t->as($user->{access_token}, GET => '/api/v1/admin/bookings');
is($status, 403, 'USER on an ADMIN route is 403');
is($json->{message}, 'Insufficient permissions', 'Insufficient permissions');
my $admin = $t->login('admin@gmail.com');
($status, $json) = $t->as($admin->{access_token}, GET => '/api/v1/admin/bookings');
is($status, 200, 'ADMIN on the ADMIN route');

is($t->stop_shim, 0, 'clean stop');
done_testing();
