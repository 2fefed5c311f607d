# GET /api/v1/tickets/:id/qr (issue 13): the holder gets the ticket's code
# as a QR image -- SVG by default, PNG when Accept asks for it -- that a
# decoder (zbarimg; the SVG rendered by rsvg-convert) reads back as the code
# GET /tickets/:id answers; nobody else gets it (404), not even those who
# may see the ticket; no cache may keep it.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use File::Temp qw(tempdir);
use IPC::Run qw(run);
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my ($status, $json, $res);
my $dir = tempdir(CLEANUP => 1);

# the QR code zbarimg reads in an image (PNG bytes, or SVG rendered first)
sub decode_qr
{
	my ($bytes, $type) = @_;
	my $file = "$dir/qr." . ($type eq 'image/png' ? 'png' : 'svg');
	open(my $f, '>:raw', $file) or die $!;
	print $f $bytes;
	close $f;
	if ($type ne 'image/png')
	{
		run([ 'rsvg-convert', '-b', 'white', '-o', "$dir/svg.png", $file ]) or return 'rsvg-convert failed';
		$file = "$dir/svg.png";
	}
	my ($out, $err) = ('', '');
	run([ 'zbarimg', '-Sdisable', '-Sqrcode.enable', '--raw', '-q', $file ], '>', \$out, '2>', \$err) or return 'undecodable';
	chomp $out;
	return $out;
}

my $event = $t->node->safe_psql('evently', q{
	WITH tpl AS (SELECT evently.create_venue_template('QR Room') AS id),
	     sec AS (SELECT evently.add_section(id, 'Main', 'A', 'A', 2) FROM tpl)
	SELECT evently.create_event('QR Night', (SELECT id FROM tpl), now() + interval '10 days', 100)
	  FROM sec});
my $seat = $t->node->safe_psql('evently', "SELECT seat_id FROM evently.event_seats('$event') ORDER BY seat_number LIMIT 1");
my $a = $t->login('mitshah2406@gmail.com')->{access_token};
my $b = $t->login('mitshah2406.work@gmail.com')->{access_token};
my $admin = $t->login('admin@gmail.com')->{access_token};

($status, $json) = $t->as($a, POST => '/api/v1/seats/hold', { event_id => $event, seat_ids => [$seat] });
($status, $json) = $t->as($a, POST => '/api/v1/bookings/confirm',
	{ hold_id => $json->{data}{hold_id}, event_id => $event, payment_method => 'card' });
is($status, 201, 'A books a seat');
($status, $json) = $t->as($a, GET => '/api/v1/tickets/my-tickets');
my $ticket = $json->{data}{tickets}[0]{id};
($status, $json) = $t->as($a, GET => "/api/v1/tickets/$ticket");
my $code = $json->{data}{code};
ok($code, "GET /tickets/:id gives the holder the code ($code)");

# SVG by default
($status, undef, $res) = $t->as($a, GET => "/api/v1/tickets/$ticket/qr");
is($status, 200, 'the holder gets the QR');
is($res->{headers}{'content-type'}, 'image/svg+xml', 'SVG by default');
is($res->{headers}{'cache-control'}, 'private, no-store', 'no cache keeps it');
my $vary = $res->{headers}{vary} // '';
like(join(', ', ref $vary ? @$vary : $vary), qr/\bAccept\b/, 'Vary: Accept');
like($res->{content}, qr{^<\?xml[^>]*>\s*<svg xmlns="http://www.w3.org/2000/svg"}, 'an SVG document');
is(scalar(() = $res->{content} =~ /<path /g), 1, 'with one path');
is(decode_qr($res->{content}, 'image/svg+xml'), $code, 'the SVG decodes to the code');

# PNG when Accept asks for it
($status, undef, $res) = $t->as($a, GET => "/api/v1/tickets/$ticket/qr", undef, { Accept => 'image/png' });
is($status, 200, 'Accept: image/png');
is($res->{headers}{'content-type'}, 'image/png', 'answers a PNG');
is(substr($res->{content}, 0, 8), "\x89PNG\r\n\x1a\n", 'PNG bytes');
is(decode_qr($res->{content}, 'image/png'), $code, 'the PNG decodes to the code');
is($res->{headers}{'cache-control'}, 'private, no-store', 'no cache keeps it either');

my %choice = ('image/png, image/svg+xml' => 'image/png', 'image/svg+xml, image/png' => 'image/svg+xml',
	'image/png;q=0.5, image/svg+xml' => 'image/svg+xml', 'image/svg+xml;q=0.1, image/png' => 'image/png',
	'*/*' => 'image/svg+xml', 'image/png;q=0' => 'image/svg+xml', 'text/html, image/*' => 'image/svg+xml');
for my $accept (sort keys %choice)
{
	($status, undef, $res) = $t->as($a, GET => "/api/v1/tickets/$ticket/qr", undef, { Accept => $accept });
	is("$status $res->{headers}{'content-type'}", "200 $choice{$accept}", "Accept: $accept");
}

# nobody else: another user, an ADMIN who may see the ticket but not its code, an unknown ticket
($status, $json) = $t->as($b, GET => "/api/v1/tickets/$ticket/qr");
is("$status $json->{code}", '404 NOT_FOUND', 'another user: 404 NOT_FOUND');
($status, $json) = $t->as($admin, GET => "/api/v1/tickets/$ticket");
ok($status == 200 && !exists $json->{data}{code}, 'an ADMIN sees the ticket without its code');
($status, $json, $res) = $t->as($admin, GET => "/api/v1/tickets/$ticket/qr", undef, { Accept => 'image/png' });
is("$status $json->{code} $res->{headers}{'content-type'}", '404 NOT_FOUND application/json',
	'and gets 404 for its QR, as JSON');
($status, $json) = $t->as($a, GET => '/api/v1/tickets/00000000-0000-0000-0000-000000000000/qr');
is("$status $json->{code}", '404 NOT_FOUND', 'an unknown ticket: 404');
($status, $json) = $t->request(GET => "/api/v1/tickets/$ticket/qr");
is($status, 401, 'no token: 401');

# transferred: the old holder's QR is gone, the new one's decodes to the new code
($status, $json) = $t->as($a, POST => "/api/v1/tickets/$ticket/transfer", { email => 'mitshah2406.work@gmail.com' });
is($status, 200, 'A transfers the ticket to B');
($status, $json) = $t->as($a, GET => "/api/v1/tickets/$ticket/qr");
is($status, 404, 'A no longer gets its QR');
($status, $json) = $t->as($b, GET => "/api/v1/tickets/$ticket");
my $new_code = $json->{data}{code};
isnt($new_code, $code, 'B holds it with a new code');
($status, undef, $res) = $t->as($b, GET => "/api/v1/tickets/$ticket/qr", undef, { Accept => 'image/png' });
is(decode_qr($res->{content}, 'image/png'), $new_code, "B's QR decodes to the new code");

# /openapi.json says what the route answers
($status, $json) = $t->request(GET => '/openapi.json');
is_deeply([ sort keys %{ $json->{paths}{'/api/v1/tickets/{id}/qr'}{get}{responses}{200}{content} } ],
	[ 'image/png', 'image/svg+xml' ], '/openapi.json lists both image types');

done_testing;
