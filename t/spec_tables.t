# src/plaid_known.c must list exactly what Plaid's OpenAPI description
# (spec/plaid-openapi-extract.yml, see spec/README.md) lists: the Products enum, the
# products each LinkTokenCreateRequest array shows, CountryCode, the
# languages in LinkTokenCreateRequest.language, and PlaidErrorType. The
# emulator's list of LinkTokenCreateRequest properties (what it does not
# answer UNKNOWN_FIELDS) must be the spec's too.
# The files are read textually; no YAML module is needed.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Cwd ();
use FindBin ();

my $top  = Cwd::abs_path("$FindBin::Bin/..");
my $spec = "$top/spec/plaid-openapi-extract.yml";
my $csrc = "$top/src/plaid_known.c";
my $emu  = "$top/emulator/mod_plaid_emulator.c";

my @product_fields = qw(products optional_products
                        required_if_supported_products
                        additional_consented_products);
my %flag_field = (P => 'products', O => 'optional_products',
                  R => 'required_if_supported_products',
                  A => 'additional_consented_products');

plan tests => 5 + 2 * (@product_fields + 4) + 2;

ok(-r $spec, "OpenAPI spec present at $spec")
    or BAIL_OUT("cannot read $spec");
ok(-r $csrc, "$csrc present") or BAIL_OUT("cannot read $csrc");

my @spec = read_lines($spec);
my %c    = parse_c(join '', map { "$_\n" } read_lines($csrc));

# --- the spec ---------------------------------------------------------------

# The block of lines of a schema under components/schemas (indent 4).
sub schema_block {
    my $name = shift;
    my ($start) = grep { $spec[$_] eq "    $name:" } 0 .. $#spec;
    die "schema $name not found in spec\n" unless defined $start;
    return block_after($start, 4);
}

# Lines after $start that are indented deeper than $indent.
sub block_after {
    my ($start, $indent) = @_;
    my @block;
    for my $i ($start + 1 .. $#spec) {
        my $line = $spec[$i];
        if ($line =~ /\S/) {
            my ($lead) = $line =~ /^( *)/;
            last if length $lead <= $indent;
        }
        push @block, $line;
    }
    return @block;
}

# The "- value" items of a list key (e.g. "enum:") directly inside a block.
sub list_items {
    my ($key, $indent, @block) = @_;
    my $pad = ' ' x $indent;
    my ($i) = grep { $block[$_] eq "$pad$key:" } 0 .. $#block;
    return unless defined $i;
    my @items;
    for my $line (@block[$i + 1 .. $#block]) {
        last unless $line =~ /^$pad- (.+?)\s*$/;
        (my $v = $1) =~ s/^(["'])(.*)\1$/$2/;
        push @items, $v;
    }
    return @items;
}

# One property of LinkTokenCreateRequest (properties at indent 8).
my @ltcr = schema_block('LinkTokenCreateRequest');
sub ltcr_property {
    my $name = shift;
    my ($i) = grep { $ltcr[$_] eq "        $name:" } 0 .. $#ltcr;
    die "LinkTokenCreateRequest.$name not found\n" unless defined $i;
    my @block;
    for my $line (@ltcr[$i + 1 .. $#ltcr]) {
        last if $line =~ /^ {0,8}\S/;
        push @block, $line;
    }
    return @block;
}

my %spec_lists = (
    Products       => [list_items('enum', 6, schema_block('Products'))],
    CountryCode    => [list_items('enum', 6, schema_block('CountryCode'))],
    PlaidErrorType => [list_items('enum', 6, schema_block('PlaidErrorType'))],
    language       => [map { /^\s*- [A-Z][\w ]*\(`'([a-z]{2})'`\)\s*$/ ? $1 : () }
                       ltcr_property('language')],
);
for my $field (@product_fields) {
    $spec_lists{$field} = [list_items('x-override-enum-values-shown', 10,
                                      ltcr_property($field))];
}

# --- the C tables -----------------------------------------------------------

sub parse_c {
    my $src = shift;
    my %t;
    my ($products) = $src =~ /plaid_products\[\]\s*=\s*\{(.*?)\n\};/s
        or die "plaid_products[] not found in $csrc\n";
    for my $row ($products =~ /\{\s*("[^"]*"[^}]*)\}/g) {
        my ($name, $flags) = $row =~ /^"([^"]+)"\s*,\s*(.+?)\s*$/
            or die "cannot read product row {$row}\n";
        my @flags = split /\s*\|\s*/, $flags;
        for my $f (@flags) {
            die "unknown flag $f for $name\n" unless $f eq 'E' or $flag_field{$f};
            push @{ $t{ $f eq 'E' ? 'Products' : $flag_field{$f} } }, $name;
        }
    }
    for ([plaid_country_codes => 'CountryCode'],
         [plaid_languages => 'language'],
         [plaid_error_types => 'PlaidErrorType']) {
        my ($var, $key) = @$_;
        my ($body) = $src =~ /\b$var\[\]\s*=\s*\{(.*?)\};/s
            or die "$var\[] not found in $csrc\n";
        $t{$key} = [$body =~ /"([^"]*)"/g];
    }
    return %t;
}

# --- compare ------------------------------------------------------------------

sub dups { my %n; $n{$_}++ for @_; return sort grep { $n{$_} > 1 } keys %n }

cmp_ok(scalar @{ $spec_lists{Products} }, '>', 30,
       'spec parser found the Products enum');
cmp_ok(scalar @{ $spec_lists{language} }, '>', 10,
       'spec parser found the language list');
ok(grep({ $_ eq 'NO' } @{ $spec_lists{CountryCode} }),
   'quoted "NO" country code read from the spec');

for my $key ('Products', @product_fields, 'CountryCode', 'language',
             'PlaidErrorType') {
    my @want = @{ $spec_lists{$key} || [] };
    my @have = @{ $c{$key} || [] };
    is_deeply([dups(@have)], [], "no duplicates in C list for $key");
    is_deeply([sort @have], [sort @want],
              "src/plaid_known.c matches the spec for $key")
        or diag("only in C: @{[ minus(\@have, \@want) ]}\n",
                "only in spec: @{[ minus(\@want, \@have) ]}");
}

# --- the emulator's property list ------------------------------------------

{
    my @want = map { /^ {8}(\w+):$/ ? $1 : () } @ltcr;
    my ($table) = join('', map { "$_\n" } read_lines($emu))
        =~ /link_token_create_properties\[\]\s*=\s*\{(.*?)\n\};/s;
    my @have = ($table // '') =~ /\{\s*"(\w+)"\s*,/g;
    cmp_ok(scalar @want, '>', 40, 'spec parser found the properties of '
                                  . 'LinkTokenCreateRequest');
    is_deeply([sort @have], [sort @want],
              'the emulator knows exactly the spec\'s properties')
        or diag("only in the emulator: @{[ minus(\@have, \@want) ]}\n",
                "only in spec: @{[ minus(\@want, \@have) ]}");
}

sub minus {
    my ($a, $b) = @_;
    my %b = map { $_ => 1 } @$b;
    return grep { !$b{$_} } @$a;
}

sub read_lines {
    my $file = shift;
    open my $fh, '<', $file or return ();
    chomp(my @lines = <$fh>);
    return @lines;
}
