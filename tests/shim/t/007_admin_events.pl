# Event administration over HTTP: create with section pricing and tags,
# read, update (prices follow, only published events change), cancel (holds
# released, waitlist closed), delete (only when never held).
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new;
my ($status, $json);
my $admin = $t->login('admin@gmail.com')->{access_token};
my $user = $t->login('mitshah2406@gmail.com')->{access_token};

my $template = $t->node->safe_psql('evently', "SELECT id FROM evently.venue_templates WHERE name = 'Small Theater'");
my ($premium, $standard) = split /\n/, $t->node->safe_psql('evently',
	"SELECT id FROM evently.venue_sections WHERE template_id = '$template' ORDER BY name");
my $when = $t->node->safe_psql('evently', q{SELECT to_char(now() + interval '20 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')});
my %event = (name => 'Jazz Night', venue => 'Blue Room', venue_template_id => $template, date_time => $when,
	base_price => 0, tags => ['music'], section_pricing => [ { section_id => $premium, price_multiplier => 2 } ]);

($status, $json) = $t->as($user, POST => '/api/v1/admin/events', \%event);
is($status, 403, 'a USER may not create events');
($status, $json) = $t->as($admin, POST => '/api/v1/admin/events', \%event);
is($status, 201, 'an ADMIN creates an event, free of charge (base_price 0 is allowed)');
my $id = $json->{data}{id};
is_deeply([ @{ $json->{data} }{qw(status total_capacity available_tickets)} ], [ 'published', 26, 26 ],
	'published with the template\'s 26 seats');
is_deeply([ map { $_->{name} } @{ $json->{data}{tags} } ], ['Music'], 'tagged');

for my $bad (
	[ 'a past date', { date_time => '2001-01-01T00:00:00Z' } ],
	[ 'a date without a zone', { date_time => '2099-01-01T00:00:00' } ],
	[ 'an unknown tag', { tags => ['polka'] } ],
	[ 'a section of another template', { section_pricing => [ { section_id => '00000000-0000-4000-8000-000000000000', price_multiplier => 1 } ] } ],
	[ 'a section priced twice', { section_pricing => [ map { { section_id => $premium, price_multiplier => 1 } } 1 .. 2 ] } ],
	[ 'a multiplier over 10', { section_pricing => [ { section_id => $premium, price_multiplier => 11 } ] } ],
	[ 'a negative price', { base_price => -1 } ],
	[ 'no section pricing', { section_pricing => [] } ])
{
	my ($what, $change) = @$bad;
	($status, $json) = $t->as($admin, POST => '/api/v1/admin/events', { %event, %$change });
	ok($status == 422, "$what is 422") or diag explain $json;
}

# update: the price of unsold seats follows
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$id", { base_price => 100, name => 'Jazz Night II' });
is($status, 200, 'update');
my ($p) = grep { $_->{name} eq 'Premium' } @{ $json->{data}{venue_sections} };
is($p->{price}, 200, 'Premium now 100 x 2');
is($json->{data}{name}, 'Jazz Night II', 'renamed');
($status, $json) = $t->as($admin, GET => "/api/v1/admin/events/$id");
is($json->{data}{base_price}, 100, 'admin reads it');
($status, $json) = $t->as($admin, GET => '/api/v1/admin/events?search=jazz');
is($json->{data}{total_count}, 1, 'admin lists it');

# a hold and a waitlist entry, then cancel the event
my @seats = split /\n/, $t->node->safe_psql('evently', "SELECT seat_id FROM evently.event_seats('$id') LIMIT 2");
($status, $json) = $t->as($user, POST => '/api/v1/seats/hold', { event_id => $id, seat_ids => \@seats });
is($json->{data}{total_price}, 400, 'a hold at the new price: two Premium seats at 200');
($status, $json) = $t->as($admin, POST => '/api/v1/waitlist', { event_id => $id });
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$id", { status => 'cancelled' });
is($json->{data}{status}, 'cancelled', 'cancelled');
is($json->{data}{available_tickets}, 26, 'its holds released');
is($t->node->safe_psql('evently', "SELECT string_agg(status, ',') FROM evently.waitlist_entries WHERE event_id = '$id'"),
	'CANCELLED', 'its waitlist closed');
is($t->node->safe_psql('evently', "SELECT count(*) FROM evently.outbox WHERE type = 'event.cancelled' AND event_id = '$id'"),
	1, 'event.cancelled in the outbox');
($status, $json) = $t->as($admin, PUT => "/api/v1/admin/events/$id", { name => 'Back from the dead' });
is($status, 409, 'a cancelled event is final');
($status, $json) = $t->as($user, POST => '/api/v1/seats/hold', { event_id => $id, seat_ids => \@seats });
is($status, 409, 'and cannot be held');

# delete: refused once held, allowed for an untouched event
($status, $json) = $t->as($admin, DELETE => "/api/v1/admin/events/$id");
is($status, 409, 'an event that was held cannot be deleted');
($status, $json) = $t->as($admin, POST => '/api/v1/admin/events', { %event, name => 'Never Mind' });
my $other = $json->{data}{id};
($status, $json) = $t->as($admin, DELETE => "/api/v1/admin/events/$other");
is($status, 200, 'an untouched event is deleted');
($status, $json) = $t->request(GET => "/api/v1/events/$other");
is($status, 404, 'and gone');

is($t->stop_shim, 0, 'clean stop');
is($t->stale_catalogs, '0', 'every event catalog still matches its tags, prices and sections');
done_testing();
