# Every operation of /openapi.json with hostile input: wrong types, SQL
# metacharacters, unicode, huge strings, nulls, unknown ids, in the body and
# in the query string.  Nothing may answer 5xx, every answer is the JSON
# envelope, no answer carries PostgreSQL's own text or a refusal the SQL did
# not design (a generic code the shim gives PostgreSQL's errors), and the
# shim and the data survive.
use strict;
use warnings;
use lib "$ENV{EVENTLY_ROOT}/tests/shim";
use ShimTest;
use Test::More;

my $t = ShimTest->new(RATE_LIMIT_BURST => 1000000, RATE_LIMIT_PER_MINUTE => 1000000);
my ($status, $json);
my $admin = $t->login('admin@gmail.com')->{access_token};
my $users_before = $t->node->safe_psql('evently', 'SELECT count(*) FROM evently.users');

($status, $json) = $t->request(GET => '/openapi.json');
my $paths = $json->{paths};

my $meta = q{'; DROP TABLE evently.users; -- " \\ %s %n $1 /* */};
my @hostile = ($meta, "日本語 ✓ ünïcödé 🎟️", 'x' x 100_000, '', ' ', 0, -1, 1e300, 12345678901234567890,
	JSON::PP::true, undef, [], [ $meta ], {}, { '$ne' => 1 });
my %path_value = (slug => $meta, file => '..%2F..%2Fetc%2Fpasswd');

# a value of the declared type and bounds
sub plausible
{
	my ($schema) = @_;
	my $type = $schema->{type} // 'string';
	return '00000000-0000-4000-8000-000000000000' if ($schema->{format} // '') eq 'uuid';
	return ['00000000-0000-4000-8000-000000000000'] if $type eq 'array' && ($schema->{items}{format} // '') eq 'uuid';
	return [] if $type eq 'array';
	return {} if $type eq 'object';
	return JSON::PP::true if $type eq 'boolean';
	return $schema->{minimum} // 1 if $type eq 'integer' || $type eq 'number';
	return 'a' x ($schema->{minLength} || 3);
}

# PostgreSQL's words, which must never reach a client
my $postgres_text = qr/invalid input syntax|violates|relation "|column "|does not exist|syntax error at|
	field overflow|value too long|null value in|duplicate key|permission denied|division by zero|
	cannot cast|cannot extract|malformed|invalid regular expression|time zone displacement|
	date\/time field value|PL\/pgSQL|SQL statement/x;
# the codes of PostgreSQL's errors that no SQL adapter turned into its own
my %undesigned = map { $_ => 1 } qw(INVALID_INPUT CONSTRAINT_VIOLATION CONFLICT INTERNAL);

my ($requests, $fives, $leaks) = (0, 0, 0);
sub check_answer
{
	my ($what, $s, $j, $res) = @_;
	$requests++;
	if ($s >= 500 || !defined $j || !defined $j->{status})
	{
		$fives++;
		diag "$what -> $s: " . substr($res->{content} // '', 0, 200);
		return;
	}
	return if $j->{status} ne 'error';
	my $text = join ' | ', grep { defined } $j->{message}, $j->{error}, $j->{details}{detail}, $j->{hint};
	if ($text =~ $postgres_text || $undesigned{ $j->{code} // '' })
	{
		$leaks++;
		diag "$what -> $s $j->{code}: " . substr($text, 0, 200);
	}
}
for my $path (sort keys %$paths)
{
	for my $method (sort keys %{ $paths->{$path} })
	{
		my $op = $paths->{$path}{$method};
		(my $url = $path) =~ s/\{(\w+)\}/$path_value{$1} \/\/ '00000000-0000-4000-8000-000000000000'/ge;
		my $props = $op->{requestBody}{content}{'application/json'}{schema}{properties} // {};
		my @fields = sort keys %$props;
		# a body that passes the declared types, so the SQL is reached; then
		# each field in turn gets each hostile value
		my %valid = map { $_ => plausible($props->{$_}) } @fields;
		my @bodies = ({}, \%valid);
		for my $field (@fields)
		{
			push @bodies, { %valid, $field => $_ } for @hostile;
		}
		push @bodies, '{"unterminated": ', "\x00\x01\x02", '[' x 10000 if @fields;
		for my $body (@bodies)
		{
			check_answer("$method $url", $t->as($admin, uc $method, $url, $body));
		}
		next unless $method eq 'get';
		# the query parameters the list routes read, and the search's own
		# where it reads them, each with each hostile value
		for my $param (qw(page limit offset search venue status sort_by sort_order date_from date_to
			tags is_active layout_type months event_id),
			$path =~ m{/events/search$} ? qw(q category from to min_price max_price location sort) : ())
		{
			for my $value ('abc', '-1', '99999999999', '%', "' OR 1=1 --", '2024-13-45', 'x' x 5000)
			{
				(my $q = $value) =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge;
				check_answer("GET $url?$param=", $t->as($admin, GET => "$url?$param=$q"));
			}
		}
	}
}
cmp_ok($requests, '>', 1000, "$requests hostile requests sent");
is($fives, 0, 'none answered 5xx or outside the envelope');
is($leaks, 0, "no answer carried PostgreSQL's text or an undesigned refusal");
($status) = $t->request(GET => '/ping');
is($status, 200, 'the shim is still up');
is($t->node->safe_psql('evently', 'SELECT count(*) FROM evently.users'), $users_before, 'and the data is intact');

is($t->stop_shim, 0, 'clean stop');
done_testing();
