# SPDX-License-Identifier: Apache-2.0
# src/plaid_known.c must list exactly what Plaid's OpenAPI description
# (spec/plaid-openapi-extract.yml, see spec/README.md) lists: the Products enum, the
# products each LinkTokenCreateRequest array shows, CountryCode, the
# languages in LinkTokenCreateRequest.language, and PlaidErrorType.
# The emulator's property tables (emulator/*.c, one per request schema it
# validates, named after it: link_token_create_request for
# LinkTokenCreateRequest) must be the spec's too: the same properties (what
# it does not answer UNKNOWN_FIELDS), the same required ones (MISSING_FIELDS),
# and for each property written out in the schema the same nullable,
# minLength/minItems, type, and "balance is not a valid value"; likewise the
# tables of options objects (accounts_get_request_options for
# AccountsGetRequestOptions). The webhook codes /sandbox/item/fire_webhook
# fires (fire_webhook_codes[] in emulator/fire_webhook.c) must be the enum of
# its webhook_code, the reason codes /item/remove takes
# (item_remove_reason_codes[] in emulator/item_remove.c) ItemRemoveReasonCode,
# and the products an emulated Item offers (offered_products[] in
# emulator/items.c) and its sandbox institutions offer
# (institution_products[] in emulator/institutions.c) values of Products.
# Every endpoint the emulator serves (emu_endpoint's path in emulator/*.c)
# is a POST path of the spec, but for its own /link/complete and
# /webhook/sign, and is in the tables of emulator/README.md and
# docs/design.md.
# The files are read textually; no YAML module is needed.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Cwd ();
use FindBin ();

my $top  = Cwd::abs_path("$FindBin::Bin/..");
my $spec = "$top/spec/plaid-openapi-extract.yml";
my $csrc = "$top/src/plaid_known.c";
my @emu  = sort glob "$top/emulator/*.c";

# The request schemas the emulator serves, each with its table, and the
# schemas of the options objects it checks.
my @emu_schemas = qw(LinkTokenCreateRequest ItemPublicTokenExchangeRequest
                     SandboxPublicTokenCreateRequest
                     WebhookVerificationKeyGetRequest
                     SandboxItemFireWebhookRequest
                     AccountsGetRequest AccountsGetRequestOptions
                     AccountsBalanceGetRequest AccountsBalanceGetRequestOptions
                     ItemRemoveRequest SandboxItemResetLoginRequest
                     ItemGetRequest
                     TransactionsSyncRequest TransactionsSyncRequestOptions
                     InstitutionsGetByIdRequest
                     InstitutionsGetByIdRequestOptions);

my @product_fields = qw(products optional_products
                        required_if_supported_products
                        additional_consented_products);
my %flag_field = (P => 'products', O => 'optional_products',
                  R => 'required_if_supported_products',
                  A => 'additional_consented_products');

plan tests => 5 + 2 * (@product_fields + 4) + 1 + 9 * @emu_schemas + 2 + 2
              + 2 + 2 + 2 + 4;

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

# One property of a schema's block (properties at indent 8).
sub schema_property {
    my ($schema, $name, @schema) = @_;
    my ($i) = grep { $schema[$_] eq "        $name:" } 0 .. $#schema;
    die "$schema.$name not found\n" unless defined $i;
    my @block;
    for my $line (@schema[$i + 1 .. $#schema]) {
        last if $line =~ /^ {0,8}\S/;
        push @block, $line;
    }
    return @block;
}

my @ltcr = schema_block('LinkTokenCreateRequest');
sub ltcr_property { schema_property('LinkTokenCreateRequest', shift, @ltcr) }

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

# --- the emulator's property tables ----------------------------------------

# Each table: { "name", K_KIND, FLAGS, "unless" or NULL }, with the flag
# macros of its file (#define REQ EMU_REQUIRED) resolved.
my %emu_tables;
for my $file (@emu) {
    my $src = join '', map { "$_\n" } read_lines($file);
    my %define = $src =~ /^#define\s+(\w+)\s+(EMU_\w+)\s*$/mg;
    while ($src =~ /emu_property\s+(\w+)\[\]\s*=\s*\{(.*?)\n\};/sg) {
        my ($table, $body) = ($1, $2);
        my @rows;
        for my $row ($body =~ /\{\s*("\w+"[^}]*)\}/g) {
            my ($name, $kind, $flags, $unless) = $row =~
                /^"(\w+)"\s*,\s*(K_\w+)\s*,\s*([^,]+?)\s*,\s*(NULL|"\w+")\s*$/
                or die "cannot read row {$row} of $table in $file\n";
            my %f = map { ($define{$_} // $_) => 1 }
                    grep { $_ ne '0' } split /\s*\|\s*/, $flags;
            $unless = $unless eq 'NULL' ? undef : substr $unless, 1, -1;
            push @rows, {name => $name, kind => $kind, flags => \%f,
                         unless => $unless};
        }
        $emu_tables{$table} = \@rows;
    }
}

# The schema a table stands for: link_token_create_request is
# LinkTokenCreateRequest. Tables not ending in _request or _request_options
# are the emulator's own (/link/complete) and have no schema.
sub schema_of { join '', map { ucfirst } split /_/, shift }
sub table_of {
    (my $t = shift) =~ s/(?<=[a-z])([A-Z])/_\l$1/g;
    return lcfirst $t;
}

my @unknown_schemas = grep { my $s = schema_of($_);
                             !grep { $_ eq "    $s:" } @spec }
                      grep { /_request(?:_options)?$/ } sort keys %emu_tables;
is_deeply(\@unknown_schemas, [],
          'every emulator table named *_request(_options) names a schema '
          . 'of the spec');

# What the spec says of one property, read from its block.
sub spec_facts {
    my @block = @_;
    my $text = join "\n", @block;
    my %f;
    ($f{type}) = $text =~ /^ {10}type: (\w+)/m;
    ($f{ref}) = $text =~ /^ {10}\$ref: '#\/components\/schemas\/(\w+)'/m;
    ($f{items_ref}) = $text =~ /^ {12}\$ref: '#\/components\/schemas\/(\w+)'/m;
    ($f{items_type}) = $text =~ /^ {12}type: (\w+)/m;
    $f{nullable} = $text =~ /^ {10}nullable: true\s*$/m ? 1 : 0;
    $f{nonempty} = $text =~ /^ {10}min(?:Length|Items): [1-9]/m ? 1 : 0;
    $f{no_balance} = $text =~ /`balance` is \*not\* a valid value/ ? 1 : 0;
    $f{enum} = $text =~ /^ {10}enum:\s*$/m ? 1 : 0;
    return \%f;
}

# The kinds a property written out in the spec may have; behind a $ref to
# an enum the emulator checks, that enum's kind; behind another $ref (not
# kept in the extract) an object or string kind.
sub allowed_kinds {
    my $f = shift;
    return 'K_REMOVE_REASON' if ($f->{ref} // '') eq 'ItemRemoveReasonCode';
    return qw(K_OBJECT K_STRING K_USER K_REDIRECT_URI K_APPEARANCE_MODE)
        if $f->{ref};
    my $t = $f->{type} // '';
    return 'K_BOOLEAN' if $t eq 'boolean';
    return 'K_INTEGER' if $t eq 'integer';
    return 'K_WEBHOOK_CODE' if $t eq 'string' && $f->{enum};
    return qw(K_STRING K_LANGUAGE) if $t eq 'string';
    if ($t eq 'array') {
        my $items = $f->{items_ref} // $f->{items_type} // '';
        return 'K_PRODUCTS' if $items eq 'Products';
        return 'K_COUNTRY_CODES' if $items eq 'CountryCode';
        return 'K_STRING_ARRAY' if $items eq 'string';
    }
    return 'K_OBJECT' if $t eq 'object';
    return;
}

for my $schema (@emu_schemas) {
    my $table = table_of($schema);
    my @block = schema_block($schema);
    my @want  = map { /^ {8}(\w+):$/ ? $1 : () } @block;
    my @rows  = @{ $emu_tables{$table} || [] };
    my %row   = map { $_->{name} => $_ } @rows;

    ok(scalar @rows, "emulator table $table present for $schema");
    # A request has client_id, secret and at least one of its own; an
    # options object may have one property.
    cmp_ok(scalar @want, '>=', $schema =~ /Options$/ ? 1 : 3,
           "spec parser found the properties of $schema");
    is_deeply([sort map { $_->{name} } @rows], [sort @want],
              "$table knows exactly the properties of $schema")
        or diag("only in the emulator: @{[ minus([map { $_->{name} } @rows], \@want) ]}\n",
                "only in spec: @{[ minus(\@want, [map { $_->{name} } @rows]) ]}");
    is_deeply([sort map { $_->{name} }
               grep { $_->{flags}{EMU_REQUIRED} && !$_->{unless} } @rows],
              [sort(list_items('required', 6, @block))],
              "$table requires what $schema requires");
    my %is_property = map { $_ => 1 } @want;
    is_deeply([map { "$_->{name} unless $_->{unless}" }
               grep { !$_->{flags}{EMU_REQUIRED}
                      || !$is_property{ $_->{unless} } }
               grep { $_->{unless} } @rows], [],
              "$table: a conditional requirement names a property of $schema");

    my (%bad, $f);
    for my $name (grep { $row{$_} } @want) {
        my $r = $row{$name};
        $f = spec_facts(schema_property($schema, $name, @block));
        push @{ $bad{nullable} }, $name
            if $f->{nullable} != !!$r->{flags}{EMU_NULLABLE}
               && !($f->{ref} && $r->{flags}{EMU_NULLABLE});
        push @{ $bad{nonempty} }, $name
            if $f->{nonempty} != !!$r->{flags}{EMU_NONEMPTY} && !$f->{ref};
        push @{ $bad{no_balance} }, $name
            if $f->{no_balance} != !!$r->{flags}{EMU_NO_BALANCE};
        push @{ $bad{kind} }, "$name ($r->{kind})"
            unless grep { $_ eq $r->{kind} } allowed_kinds($f);
    }
    is_deeply($bad{nullable} || [], [],
              "$table: EMU_NULLABLE where $schema says nullable");
    is_deeply($bad{nonempty} || [], [],
              "$table: EMU_NONEMPTY where $schema says minLength/minItems");
    is_deeply($bad{no_balance} || [], [],
              "$table: EMU_NO_BALANCE where $schema says balance is not valid");
    is_deeply($bad{kind} || [], [], "$table: kinds match the types of $schema");
}

# The webhook codes the emulator fires: the first string of each row.
{
    my $file = "$top/emulator/fire_webhook.c";
    my $src = join '', map { "$_\n" } read_lines($file);
    my ($rows) = $src =~ /\bfire_webhook_codes\[\]\s*=\s*\{(.*?)\n\};/s;
    my @have = defined $rows ? $rows =~ /\{\s*"(\w+)"/g : ();
    my @want = list_items('enum', 10,
                          schema_property('SandboxItemFireWebhookRequest',
                                          'webhook_code',
                                          schema_block('SandboxItemFireWebhookRequest')));
    cmp_ok(scalar @want, '>=', 10,
           'spec parser found the webhook codes of SandboxItemFireWebhookRequest');
    is_deeply([sort @have], [sort @want],
              'fire_webhook_codes[] lists exactly the webhook_code enum')
        or diag("only in the emulator: @{[ minus(\@have, \@want) ]}\n",
                "only in spec: @{[ minus(\@want, \@have) ]}");
}

# --- the gateway's table of Plaid's POST paths ---------------------------------

{
    my (@want, $path);
    my ($start) = grep { $spec[$_] eq 'paths:' } 0 .. $#spec;
    for my $line (@spec[$start + 1 .. $#spec]) {
        last if $line =~ /^\S/;
        $path = $1 if $line =~ m{^  (/\S*):$};
        push @want, $path if $line eq '    post:' && defined $path;
    }
    my ($table) = join('', map { "$_\n" } read_lines("$top/src/plaid_paths.c"))
        =~ /plaid_api_paths\[\]\s*=\s*\{(.*?)\n\};/s;
    my @have = ($table // '') =~ /"(\/[^"]*)"/g;
    cmp_ok(scalar @want, '>', 300, "spec parser found Plaid's POST paths");
    is_deeply(\@have, [sort @want],
              'src/plaid_paths.c lists exactly the spec\'s POST paths, sorted')
        or diag("only in C: @{[ minus(\@have, \@want) ]}\n",
                "only in spec: @{[ minus(\@want, \@have) ]}");
}

# The C strings of a NULL-terminated array of strings in an emulator file.
sub c_strings {
    my ($name, $var) = @_;
    my $src = join '', map { "$_\n" } read_lines("$top/emulator/$name");
    my ($rows) = $src =~ /\b$var\[\]\s*=\s*\{(.*?)\n\};/s;
    return defined $rows ? $rows =~ /"(\w+)"/g : ();
}

{
    my @have = c_strings('item_remove.c', 'item_remove_reason_codes');
    my @want = list_items('enum', 6, schema_block('ItemRemoveReasonCode'));
    cmp_ok(scalar @want, '>=', 5,
           'spec parser found the ItemRemoveReasonCode enum');
    is_deeply([sort @have], [sort @want],
              'item_remove_reason_codes[] lists exactly ItemRemoveReasonCode')
        or diag("only in the emulator: @{[ minus(\@have, \@want) ]}\n",
                "only in spec: @{[ minus(\@want, \@have) ]}");

    my @offered = c_strings('items.c', 'offered_products');
    cmp_ok(scalar @offered, '>=', 3, 'offered_products[] read from items.c');
    is_deeply([minus(\@offered, $spec_lists{Products})], [],
              'the products an emulated Item offers are values of Products');

    my @products = c_strings('institutions.c', 'institution_products');
    cmp_ok(scalar @products, '>=', 3,
           'institution_products[] read from institutions.c');
    is_deeply([minus(\@products, $spec_lists{Products})], [],
              'the products a sandbox institution offers are values of Products');
}

# --- the emulator's endpoints --------------------------------------------------

{
    my (@post, $path);
    my ($start) = grep { $spec[$_] eq 'paths:' } 0 .. $#spec;
    for my $line (@spec[$start + 1 .. $#spec]) {
        last if $line =~ /^\S/;
        $path = $1 if $line =~ m{^  (/\S*):$};
        push @post, $path if $line eq '    post:' && defined $path;
    }
    my @served;
    for my $file (@emu) {
        my $src = join '', map { "$_\n" } read_lines($file);
        push @served, $src =~ /\bconst emu_endpoint \w+ = \{\s*"(\/[^"]+)"/g;
    }
    my %own = map { $_ => 1 } qw(/link/complete /webhook/sign);
    cmp_ok(scalar @served, '>=', 14, 'the emulator\'s endpoints read from '
           . 'emulator/*.c');
    is_deeply([grep { !$own{$_} } minus(\@served, \@post)], [],
              'every endpoint the emulator serves is a POST path of the spec');
    for my $doc ('emulator/README.md', 'docs/design.md') {
        my $text = join "\n", read_lines("$top/$doc");
        my @rows = $text =~ /^\| `(\/[^`]+)`/mg;
        is_deeply([sort(minus(\@served, \@rows))], [],
                  "$doc: its table of endpoints has every one the emulator serves");
    }
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
