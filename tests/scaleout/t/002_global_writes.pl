# Global writes that shards depend on (SPEC section 13): venues and tags
# live on the global primary and reach the shards by logical replication,
# which checks no foreign key.  Through the proxy, deleting a template,
# section, seat or tag that an event of a shard uses is refused with one
# database's error (EV014), and nothing is deleted anywhere; a renamed tag
# or section shows in the event's read on its shard; a seat blocked on the
# global primary is blocked in the shard's upcoming events; a seat's label
# cannot change under an event.
use strict;
use warnings;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/../../lib';
use IPC::Run ();
use JSON::PP;
use ScaleoutCluster;
use Test::More;

my $c = ScaleoutCluster->new('global');
my $proxy = sub { $c->psql_on($c->proxy_su, $_[0]) };
my $global = sub { $c->psql_on($c->global_su, $_[0]) };
my $admin = $global->("SELECT id FROM evently.users WHERE email = 'admin\@gmail.com'");

# a template with a section, and an event using it on a shard
my $template = $proxy->("SELECT evently.create_venue_template('Hazard Hall')");
my $section = $proxy->("SELECT evently.add_section('$template', 'Pit', 'A', 'A', 4)");
my $tag = $proxy->("SELECT evently.create_tag('Hazards')");
my $event = $proxy->("SELECT evently.create_event('Hazard Night', '$template', now() + interval '9 days', 40,
	'$admin', NULL, NULL, '{}', ARRAY['hazards'])");
my $bucket = hex(substr($event, 0, 4));
my $shard = sub { $c->psql_on($c->shard_su($bucket - 1), $_[0]) };
my $seat = $global->("SELECT id FROM evently.seats WHERE section_id = '$section' ORDER BY position LIMIT 1");
ok($bucket >= 1 && $bucket <= $c->shard_count, "the event is on shard $bucket");

# the call on the proxy, and the same call in one database (the reporting
# database holds the same rows; rolled back there): [SQLSTATE, message, detail]
sub refusal
{
	my ($conn, $call) = @_;
	my ($ret, $out, $err) = $c->psql_on_full($conn, "\\set VERBOSITY verbose\nBEGIN;\n$call;\nROLLBACK;");
	my ($state, $message) = $err =~ /ERROR:\s+(\w{5}): (.*)/;
	my ($detail) = $err =~ /DETAIL:\s+(.*)/;
	# PL/Proxy's prefixes, which the shim strips (shim/pool.c)
	$message =~ s/^.*?\] REMOTE ERROR: // if defined $message;
	$detail =~ s/^Remote detail: // if defined $detail;
	return [ $state, $message, $detail ];
}
sub api { my ($fn, $req) = @_; return sprintf("SELECT evently.%s('%s', %s::jsonb)", $fn, $admin, $c->quote(encode_json($req))) }

for my $case ([ api_template_delete => { path => { id => $template } }, 'the template' ],
	[ api_section_delete => { path => { id => $section } }, 'its section' ],
	[ api_seat_delete => { path => { id => $seat } }, 'a seat of it' ],
	[ api_seat_update => { path => { id => $seat }, body => { seat_number => 'Z9' } }, "a seat's label" ],
	[ api_tag_delete => { path => { id => $tag } }, 'the tag' ])
{
	my ($fn, $req, $what) = @$case;
	$c->report_catch_up;
	my $sharded = refusal($c->proxy_su, api($fn, $req));
	is($sharded->[0], 'EV014', "$fn of $what an event uses: EV014");
	is_deeply($sharded, refusal($c->report_su, api($fn, $req)), '... with the message and detail of one database');
}
is($global->("SELECT count(*) FROM evently.venue_templates WHERE id = '$template'"), 1, 'the template is still there');
is($shard->("SELECT count(*) FROM evently.seats WHERE section_id = '$section'"), 4, 'and its seats on the shard');
is($shard->("SELECT count(*) FROM evently.event_seats WHERE event_id = '$event'"), 4, 'and the event keeps its inventory');

# a rename reaches the event's catalog on its shard, at once
$proxy->(api(api_tag_update => { path => { id => $tag }, body => { name => 'Hazards Renamed' } }));
my $read = decode_json($proxy->("SELECT evently.api_event_get(NULL, jsonb_build_object('path', jsonb_build_object('eventId', '$event')))"));
is_deeply([ map { $_->{name} } @{ $read->{tags} } ], ['Hazards Renamed'], 'a renamed tag shows in the event read through the proxy');
is($shard->('SELECT count(*) FROM evently.events WHERE catalog <> evently._event_catalog(id, base_price)'), 0,
	'no catalog on the shard is stale');
$proxy->(api(api_section_update => { path => { id => $section }, body => { name => 'Front Pit' } }));
$read = decode_json($proxy->("SELECT evently.api_event_get(NULL, jsonb_build_object('path', jsonb_build_object('eventId', '$event')))"));
is($read->{venue_sections}[0]{name}, 'Front Pit', 'and a renamed section');

# a seat blocked on the global primary is blocked in the event on its shard
$proxy->(api(api_seat_update => { path => { id => $seat }, body => { status => 'BLOCKED' } }));
is($shard->("SELECT status FROM evently.event_seats WHERE event_id = '$event' AND seat_id = '$seat'"), 'BLOCKED',
	'a blocked seat is BLOCKED in the upcoming event');
$proxy->(api(api_seat_update => { path => { id => $seat }, body => { status => 'AVAILABLE' } }));
is($shard->("SELECT status FROM evently.event_seats WHERE event_id = '$event' AND seat_id = '$seat'"), 'AVAILABLE',
	'and back');

# a delete racing an event's creation (the check on the shards and the
# delete on the global primary are two transactions): the template is
# retired on the global primary first, so the event made meanwhile is found
# in use, or refused; never an event left without its template
my $race = $proxy->("SELECT evently.create_venue_template('Race Hall')");
my $race_section = $proxy->("SELECT evently.add_section('$race', 'Main', 'A', 'B', 3)");
my $lock = $c->background_psql('evently');
$lock->query_safe('BEGIN');
$lock->query_safe("SELECT 1 FROM evently.venue_templates WHERE id = '$race' FOR UPDATE");    # on the global primary
my ($out, $err) = ('', '');
my $delete = IPC::Run::start([ 'psql', '-X', '-qAt', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose', '-d', $c->proxy_su,
		'-c', api(api_template_delete => { path => { id => $race } }) ], '>', \$out, '2>', \$err);
sleep 1;    # the delete waits on the global primary's lock
my $raced = $proxy->("SELECT evently.create_event('Race Night', '$race', now() + interval '9 days', 20, '$admin')");
$lock->query_safe('COMMIT');
$delete->finish;
like($err, qr/EV014/, 'a delete racing an event made from the template is refused as in use');
my $raced_shard = $c->shard_su(hex(substr($raced, 0, 4)) - 1);
is($c->psql_on($raced_shard, "SELECT count(*) FROM evently.event_seats es JOIN evently.seats st ON st.id = es.seat_id
                               JOIN evently.venue_templates t ON t.id = '$race' WHERE es.event_id = '$raced'"), 6,
	'the event keeps its template and seats on its shard');
is($global->("SELECT retired_at IS NULL FROM evently.venue_templates WHERE id = '$race'"), 't',
	'and the template is live again');

# while a template is retired (its delete under way), no shard makes an event of it
$global->("SELECT evently.retire('template', '$race', true)");
my ($ret, undef, $refused) = $c->psql_on_full($c->proxy_su,
	"\\set VERBOSITY verbose\nSELECT evently.create_event('Too Late', '$race', now() + interval '9 days', 20, '$admin')");
like($refused, qr/EV002: .*venue template not found/, 'an event of a retired template is refused: not found');
$global->("SELECT evently.retire('template', '$race', false)");
ok($proxy->("SELECT evently.create_event('In Time', '$race', now() + interval '9 days', 20, '$admin')"),
	'and made once it is live again');
my $slug = $global->("SELECT slug FROM evently.tags WHERE id = '$tag'");
$global->("SELECT evently.retire('tag', '$tag', true)");
my $late = $proxy->("SELECT evently.create_event('Tagged Late', '$race', now() + interval '9 days', 20, '$admin',
	NULL, NULL, '{}', ARRAY['$slug'])");
is($c->psql_on($c->shard_su(hex(substr($late, 0, 4)) - 1), "SELECT count(*) FROM evently.event_tags WHERE event_id = '$late'"),
	0, 'nor takes up a retired tag');
$global->("SELECT evently.retire('tag', '$tag', false)");

# once no event uses them, they go, on every database
$proxy->(api(api_event_delete => { path => { eventId => $event } }));
$proxy->(api(api_tag_delete => { path => { id => $tag } }));
$proxy->(api(api_template_delete => { path => { id => $template } }));
for my $k (0 .. $c->shard_count - 1)
{
	is($c->psql_on($c->shard_su($k), "SELECT count(*) FROM evently.seats WHERE section_id = '$section'"), 0,
		'an unused template is deleted, its seats gone on shard ' . ($k + 1));
}

$c->teardown;
done_testing();
