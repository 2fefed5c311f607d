# Moderation over HTTP (issue 11, item 5): an ADMIN bans a user who holds
# seats: the user's old token is refused at once, a login with the right
# password is 403 ACCOUNT_BANNED (a wrong one the usual 401), the held seats
# go back on sale; an unban lets the user sign in again.  The users list and
# the audit log with their filters; an organizer reads its own event's
# audit trail and nobody else's; a non-admin is refused; hostile filter
# values are refused in our words.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new(RATE_LIMIT_BURST => 1000000, RATE_LIMIT_PER_MINUTE => 1000000);
my ($status, $json);
my $sql = sub { $t->node->safe_psql('evently', shift) };

# a query string from pairs, each value percent-encoded
sub query
{
	my @pairs = @_;
	my @parts;
	while (my ($k, $v) = splice @pairs, 0, 2)
	{
		(my $e = $v) =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge;
		push @parts, "$k=$e";
	}
	return '?' . join '&', @parts;
}

my $admin_login = $t->login('admin@gmail.com');
my $admin = $admin_login->{access_token};
my $troll = $t->login('mitshah2406@gmail.com');
my $buyer = $t->login('mitshah2406.work@gmail.com')->{access_token};
my $troll_id = $troll->{user}{id};

# a four-seat event of the test's own
my $event = $sql->(q{
	WITH tpl AS (SELECT evently.create_venue_template('Moderation Room') AS id),
	     sec AS (SELECT evently.add_section(id, 'Main', 'A', 'A', 4) FROM tpl)
	SELECT evently.create_event('Moderation Show', (SELECT id FROM tpl), now() + interval '10 days', 50)
	  FROM sec});
my @seats = split /\n/, $sql->("SELECT seat_id FROM evently.event_seats('$event') ORDER BY seat_number");

($status, $json) = $t->as($troll->{access_token}, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [ @seats[0, 1] ] });
is($status, 200, 'the user holds two seats');
my $hold = $json->{data}{hold_id};
($status, $json) = $t->as($buyer, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [ $seats[0] ] });
is("$status $json->{code}", '409 SEAT_UNAVAILABLE', 'which nobody else can hold');

# --- who may moderate --------------------------------------------------------
for my $route ([ POST => "/api/v1/admin/users/$troll_id/ban", { reason => 'spam' } ],
	[ POST => "/api/v1/admin/users/$troll_id/unban", {} ], [ GET => '/api/v1/admin/users' ],
	[ GET => '/api/v1/admin/audit-logs' ])
{
	($status, $json) = $t->as($buyer, @$route);
	is("$status $json->{code}", '403 FORBIDDEN', "a USER: $route->[0] $route->[1] is 403");
}
($status) = $t->request(GET => '/api/v1/admin/users');
is($status, 401, 'without a token: 401');

# --- refusals of a ban ---------------------------------------------------------
($status, $json) = $t->as($admin, POST => "/api/v1/admin/users/$troll_id/ban", {});
is("$status $json->{errors}{reason}", '422 is required', 'a ban needs a reason');
($status, $json) = $t->as($admin, POST => "/api/v1/admin/users/$troll_id/ban", { reason => 'x' x 501 });
is($status, 422, 'of at most 500 characters');
($status, $json) = $t->as($admin, POST => "/api/v1/admin/users/$troll_id/ban", { reason => '   ' });
is("$status $json->{code} $json->{message}", '422 INVALID_ARGUMENT reason is required', 'not only spaces');
($status, $json) = $t->as($admin, POST => '/api/v1/admin/users/00000000-0000-4000-8000-000000000000/ban', { reason => 'spam' });
is("$status $json->{code}", '404 NOT_FOUND', 'an unknown user is 404');
($status, $json) = $t->as($admin, POST => "/api/v1/admin/users/$admin_login->{user}{id}/ban", { reason => 'spam' });
is("$status $json->{code} $json->{message}", '403 FORBIDDEN cannot ban yourself', 'an ADMIN cannot ban itself');
($status, $json) = $t->as($admin, POST => '/api/v1/admin/users/not-a-uuid/ban', { reason => 'spam' });
is($status, 400, 'a path id that is not a uuid is refused by the shim');

# --- the ban ---------------------------------------------------------------------
($status, $json) = $t->as($admin, POST => "/api/v1/admin/users/$troll_id/ban", { reason => 'scalping tickets' });
is($status, 200, 'an ADMIN bans the user');
is_deeply([ @{ $json->{data}{user} }{qw(status ban_reason)}, $json->{data}{released_holds} ],
	[ 'BANNED', 'scalping tickets', 1 ], 'BANNED with the reason, one hold released');

($status, $json) = $t->as($troll->{access_token}, GET => '/api/v1/auth/me');
is("$status $json->{code}", '401 UNAUTHENTICATED', 'the old access token is refused at once');
($status, $json) = $t->as($troll->{access_token}, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [ $seats[2] ] });
is($status, 401, '... for a hold too');
($status, $json) = $t->request(POST => '/api/v1/auth/refresh', { refresh_token => $troll->{refresh_token} });
is("$status $json->{code}", '401 UNAUTHENTICATED', 'the refresh token is refused');

($status, $json) = $t->request(POST => '/api/v1/auth/login', { email => 'mitshah2406@gmail.com', password => 'wrong-password' });
is("$status $json->{code} $json->{message}", '401 UNAUTHENTICATED Invalid email or password',
	'a wrong password on the banned account: the usual 401, which says nothing of the ban');
($status, $json) = $t->request(POST => '/api/v1/auth/login', { email => 'mitshah2406@gmail.com', password => 'qwerty' });
is("$status $json->{code} $json->{message}", '403 ACCOUNT_BANNED account is banned', 'the right password: 403 ACCOUNT_BANNED');
is($json->{details}{detail}, 'This account was banned: scalping tickets', 'with the reason');
ok(!exists $json->{data}{access_token}, 'and no token');

# the held seats are back on sale
($status, $json) = $t->as($admin, GET => "/api/v1/seats/hold/$hold");
is("$status $json->{data}{status}", '200 RELEASED', 'the hold is RELEASED');
($status, $json) = $t->as($buyer, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [ @seats[0, 1] ] });
is($status, 200, 'another user holds the freed seats');
is($sql->("SELECT type || ' ' || aggregate || ' ' || (data->>'reason') FROM evently.outbox WHERE type = 'user.banned' AND user_id = '$troll_id'"),
	'user.banned user scalping tickets', 'user.banned is in the outbox');

($status, $json) = $t->as($admin, POST => "/api/v1/admin/users/$troll_id/ban", { reason => 'again' });
is("$status $json->{code}", '409 INVALID_TRANSITION', 'banning a banned user is 409');

# --- the users list -------------------------------------------------------------
($status, $json) = $t->as($admin, GET => '/api/v1/admin/users' . query(status => 'BANNED'));
is($status, 200, 'an ADMIN lists users');
is_deeply([ map { "$_->{email} $_->{status} $_->{ban_reason}" } @{ $json->{data}{users} } ],
	['mitshah2406@gmail.com BANNED scalping tickets'], 'status=BANNED: the banned user, with the reason');
is($json->{data}{total_count}, 1, 'total_count');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/users' . query(search => 'ORGANIZER@EXAMPLE', role => 'ORGANIZER'));
is_deeply([ map { "$_->{email} $_->{role} $_->{organizer}{verification_status}" } @{ $json->{data}{users} } ],
	['organizer@example.com ORGANIZER VERIFIED'], 'search and role, with the organizer application');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/users' . query(search => 'mitshah2406', limit => 1, offset => 1));
is_deeply([ scalar @{ $json->{data}{users} }, @{ $json->{data} }{qw(total_count limit offset)} ], [ 1, 2, 1, 1 ],
	'a page of one: limit, offset, total_count');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/users' . query(search => '%'));
is($json->{data}{total_count}, 0, '% in a search is a character');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/users' . query(role => 'ROOT'));
is("$status $json->{code}", '422 INVALID_ARGUMENT', 'an unknown role is 422');

# --- the audit log --------------------------------------------------------------
($status, $json) = $t->as($admin, GET => '/api/v1/admin/audit-logs' . query(object_id => $troll_id, action => 'user.banned'));
is($status, 200, 'an ADMIN reads the audit log');
my ($row) = @{ $json->{data}{audit_logs} };
is_deeply([ $json->{data}{total_count}, @$row{qw(action object_type actor_id)}, $row->{details}{reason} ],
	[ 1, 'user.banned', 'user', $admin_login->{user}{id}, 'scalping tickets' ], 'the ban\'s row: who, what, why');
ok(exists $row->{db_user} && exists $row->{occurred_at}, 'with db_user and occurred_at');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/audit-logs'
	. query(actor_id => $troll_id, object_type => 'hold', action => 'hold.created'));
is_deeply([ map { $_->{object_id} } @{ $json->{data}{audit_logs} } ], [$hold], 'actor_id, object_type, action');
my $today = $sql->(q{SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')});
($status, $json) = $t->as($admin, GET => '/api/v1/admin/audit-logs'
	. query(object_id => $troll_id, from => $today, to => "${today}T23:59:59+00:00"));
my @rows = @{ $json->{data}{audit_logs} };
ok((grep { $_->{action} eq 'user.banned' } @rows), 'a time range: today\'s rows have the ban');
is_deeply([ map { $_->{id} } @rows ], [ sort { $b <=> $a } map { $_->{id} } @rows ], 'newest first');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/audit-logs' . query(object_id => $troll_id, to => '2000-01-01'));
is($json->{data}{total_count}, 0, 'nothing before 2000');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/audit-logs' . query(limit => 2, offset => 1));
is_deeply([ scalar @{ $json->{data}{audit_logs} }, @{ $json->{data} }{qw(limit offset)} ], [ 2, 2, 1 ], 'pagination');
ok($json->{data}{audit_logs}[0]{id} > $json->{data}{audit_logs}[1]{id}, 'newest first');
for my $bad ([ actor_id => 'nope' ], [ object_id => '1' ], [ from => 'yesterday' ], [ to => '2024-02-30T10:00:00Z' ],
	[ from => '2024-02-02', to => '2024-02-01' ], [ limit => 101 ], [ offset => -1 ])
{
	($status, $json) = $t->as($admin, GET => '/api/v1/admin/audit-logs' . query(@$bad));
	is("$status $json->{code}", '422 INVALID_ARGUMENT', "audit-logs @$bad: 422 in our words");
}

# --- an organizer's event audit trail -----------------------------------------------
my $organizer = $t->login('organizer@example.com')->{access_token};
my $own = $sql->("SELECT id FROM evently.events WHERE name = 'Classical Music Evening'");
($status, $json) = $t->as($organizer, GET => "/api/v1/organizer/events/$own/audit-logs");
is($status, 200, 'the organizer reads its event\'s audit trail');
ok((grep { $_->{action} eq 'event.created' && $_->{object_id} eq $own } @{ $json->{data}{audit_logs} }),
	'which has the event\'s creation');
ok(!exists $json->{data}{audit_logs}[0]{db_user}, 'without database role names');
($status, $json) = $t->as($organizer, GET => "/api/v1/organizer/events/$event/audit-logs");
is("$status $json->{code}", '404 NOT_FOUND', 'another\'s event is 404');
($status, $json) = $t->as($buyer, GET => "/api/v1/organizer/events/$own/audit-logs");
is("$status $json->{code}", '404 NOT_FOUND', 'so it is to a USER');
($status, $json) = $t->as($admin, GET => "/api/v1/organizer/events/$event/audit-logs" . query(action => 'hold.released'));
is_deeply([ map { "$_->{object_id} $_->{actor_id}" } @{ $json->{data}{audit_logs} } ],
	["$hold $admin_login->{user}{id}"], 'an ADMIN reads any event\'s: the ban released the hold');

# --- unban ---------------------------------------------------------------------
($status, $json) = $t->as($admin, POST => "/api/v1/admin/users/$troll_id/unban", {});
is("$status $json->{data}{user}{status}", '200 ACTIVE', 'an ADMIN lifts the ban');
ok(!defined $json->{data}{user}{ban_reason}, 'the reason is cleared');
($status, $json) = $t->as($admin, POST => "/api/v1/admin/users/$troll_id/unban", {});
is("$status $json->{code}", '409 INVALID_TRANSITION', 'unbanning an active user is 409');
($status, $json) = $t->as($troll->{access_token}, GET => '/api/v1/auth/me');
is($status, 401, 'the old token stays dead');
my $again = $t->login('mitshah2406@gmail.com');
($status, $json) = $t->as($again->{access_token}, GET => '/api/v1/auth/me');
is("$status $json->{data}{email}", '200 mitshah2406@gmail.com', 'the user signs in again');

# --- hostile filter values: refused in our words, never PostgreSQL's --------------
my $postgres_text = qr/invalid input syntax|violates|relation "|column "|does not exist|syntax error at|
	out of range|cannot cast|malformed|invalid regular expression|time zone|date\/time field value/x;
my ($fives, $leaks) = (0, 0);
for my $path ('/api/v1/admin/users', '/api/v1/admin/audit-logs', "/api/v1/organizer/events/$own/audit-logs")
{
	for my $param (qw(role status search actor_id object_type object_id action from to limit offset))
	{
		for my $value ('abc', '-1', '99999999999', '%', "' OR 1=1 --", '2024-13-45', '0000-01-01',
			'9999-12-31T23:59:59+14:00', '2024-01-01T00:00:00+99:99', 'x' x 5000, "\x{65e5}\x{672c}")
		{
			my $q = $value;
			utf8::encode($q);
			($status, $json) = $t->as($admin, GET => $path . query($param => $q));
			$fives++, diag "$path $param: $status" if $status >= 500 || !defined $json;
			my $text = join ' ', grep { defined } $json->{message}, $json->{details}{detail};
			$leaks++, diag "$path $param: $text" if $text =~ $postgres_text || ($json->{code} // '') =~ /^(INVALID_INPUT|INTERNAL|CONFLICT)$/;
		}
	}
}
is($fives, 0, 'no hostile filter value answered 5xx');
is($leaks, 0, 'none carried PostgreSQL\'s words');

is($t->stop_shim, 0, 'clean stop');
done_testing();
