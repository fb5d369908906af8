# SPDX-License-Identifier: Apache-2.0
# The documentation agrees with the code; no server needed.
#  - Every directive of the command table (plaid_cmds in module/cmds.c)
#    has a section in docs/directives.md with the httpd manual's fields, and
#    every section there is a directive of the table.
#  - Every directive appears in docs/reference.md's directive table, and the
#    table names no other.
#  - docs/reference.md's table of log lines lists exactly the PLLOGNO numbers.
#  - docs/testing.md's table names every file of t/.
#  - Every relative link of README.md and docs/*.md names a file that exists.
#  - Every source file of the checkout carries its SPDX licence line.
#  - Every log line number (PLLOGNO) has a section in docs/troubleshooting.md,
#    and so does every error_code of the hints table in src/plaid_error.c.
#  - docs/design.md, the map, names every file of module/, src/ and
#    include/ and every handler of the table in module/handlers.c, and
#    names no file that is not there.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use Test::More;

my $top = "$FindBin::Bin/..";

sub slurp {
    my $file = shift;
    open my $fh, '<:encoding(UTF-8)', "$top/$file" or die "$top/$file: $!\n";
    local $/;
    return scalar <$fh>;
}

sub same_set {
    my ($got, $want, $name) = @_;
    my %got  = map { $_ => 1 } @$got;
    my %want = map { $_ => 1 } @$want;
    my @missing = sort grep { !$got{$_} } keys %want;
    my @extra   = sort grep { !$want{$_} } keys %got;
    ok(!@missing && !@extra, $name)
        or diag("missing: @missing\nnot in the module: @extra");
}

# --- the command table ----------------------------------------------------
my $cmds = slurp('module/cmds.c');
my ($table) = $cmds =~ /\bcommand_rec\s+plaid_cmds\[\]\s*=\s*\{(.*?)\n\};/s;
ok($table, 'module/cmds.c has the command table plaid_cmds')
    or BAIL_OUT('no plaid_cmds table to check the docs against');
# Only the Plaid* names are ours: the table also holds a SetHandler entry,
# read before core's to note where the handler was set, which core
# documents and handles.
my @directives = grep { /^Plaid/ }
    $table =~ /\bAP_INIT_[A-Z0-9_]+\(\s*"([^"]+)"/g;
cmp_ok(scalar @directives, '>=', 20, 'the table lists the directives')
    or diag("found: @directives");

# --- docs/directives.md ---------------------------------------------------
my $doc = slurp('docs/directives.md');
my @sections = split /^(?=## \S+ Directive$)/m, $doc;
my %section;
for (@sections) {
    $section{$1} = $_ if /\A## (\S+) Directive$/m;
}
same_set([keys %section], \@directives,
         'docs/directives.md documents exactly the directives of plaid_cmds');

for my $name (@directives) {
    my $text = $section{$name} or next;
    my @lacking = grep { $text !~ /^\| \*\*\Q$_\E:\*\* \| \S/m }
        qw(Description Syntax Default Context Status Module);
    ok(!@lacking, "$name: Description, Syntax, Default, Context, Status, Module")
        or diag("lacking: @lacking");
    like($text, qr/^\| \*\*Syntax:\*\* \| `\Q$name\E[ `]/m,
         "$name: the syntax starts with the directive's name");
    like($text, qr/^\| \*\*Module:\*\* \| mod_plaid_link \|$/m,
         "$name: Module is mod_plaid_link");
    like($text, qr/^```apache\n(?:.*\n)*?\s*\Q$name\E\b/m,
         "$name: an example that uses it");
    ok($doc =~ /^- \[\Q$name\E\]\(#\L\Q$name\E\E-directive\)$/m,
       "$name: in the index at the top");
}

# --- docs/reference.md's directive table ----------------------------------
my $readme = slurp('README.md');
my $reference = slurp('docs/reference.md');
my @reference = $reference =~ /^\| `(Plaid\w+)[ `]/mg;
same_set(\@reference, \@directives,
         "docs/reference.md's directive table lists exactly the directives of plaid_cmds");

# --- docs/reference.md's log table ----------------------------------------
# The glue's files: mod_plaid_link.c and module/*.c.
opendir my $dir, "$top/module" or die "$top/module: $!\n";
my $source = join '', map { slurp($_) } 'mod_plaid_link.c',
    map { "module/$_" } sort grep { /\.c\z/ } readdir $dir;
my %lognos = map { $_ => 1 } $source =~ /\bPLLOGNO\((\d{4})\)/g;
cmp_ok(scalar keys %lognos, '>=', 10, 'the glue numbers its log lines');
# Its rows start with the number: "| PL0100 | error | ... |".
my @reference_lognos = $reference =~ /^\| (PL\d{4}) \|/mg;
same_set(\@reference_lognos, [map { "PL$_" } keys %lognos],
         "docs/reference.md's log table lists exactly the PLLOGNO numbers");

# --- docs/troubleshooting.md ----------------------------------------------
my $trouble = slurp('docs/troubleshooting.md');
for my $n (sort keys %lognos) {
    ok($trouble =~ /^##+ .*\bPL$n\b/m,
       "docs/troubleshooting.md has a section for PL$n");
}
my $hints = slurp('src/plaid_error.c');
my ($hint_table) = $hints =~ /\berror_hints\[\]\s*=\s*\{(.*?)\n\};/s;
ok($hint_table, 'src/plaid_error.c has the error_hints table');
my %codes = map { $_ => 1 } ($hint_table || '') =~ /^\s*\{\s*"([A-Z_]+)"/mg;
for my $code (sort keys %codes) {
    ok($trouble =~ /`\Q$code\E`/, "docs/troubleshooting.md explains $code");
}

# --- docs/design.md: the map -----------------------------------------------
my $design = slurp('docs/design.md');
my @files;
for my $d (qw(module src include)) {
    opendir my $dh, "$top/$d" or die "$top/$d: $!\n";
    push @files, map { "$d/$_" } sort grep { /\.[ch]\z/ } readdir $dh;
}
for my $file ('mod_plaid_link.c', @files) {
    ok($design =~ /`\Q$file\E`/, "docs/design.md names $file");
}
my ($layout) = $design =~ /^## Layout\n(.*?)(?=^## |\z)/ms;
for my $named (($layout // '') =~ /`((?:module|src|include)\/[\w.]+\.[ch])`/g) {
    ok(-e "$top/$named", "docs/design.md's layout names $named, which exists");
}
my ($rows) = slurp('module/handlers.c')
    =~ /\bplaid_handler\s+handlers\[\]\s*=\s*\{(.*?)\n\};/s;
my @handlers = ($rows // '') =~ /\.name\s*=\s*"([^"]+)"/g;
cmp_ok(scalar @handlers, '>=', 5, 'module/handlers.c has the handler table')
    or diag($rows // 'no table');
for my $h (@handlers) {
    ok($design =~ /`\Q$h\E`/, "docs/design.md names the handler $h");
    ok($readme =~ /^\| `\Q$h\E` \|/m, "README.md's table of handlers has $h");
    ok($doc =~ /`\Q$h\E`/, "docs/directives.md names the handler $h");
}

# --- docs/testing.md names every test file --------------------------------
my $testing = slurp('docs/testing.md');
opendir my $tdir, "$top/t" or die "$top/t: $!\n";
for my $t (sort grep { /\.t\z/ } readdir $tdir) {
    ok($testing =~ /^\| `\Q$t\E` \|/m, "docs/testing.md's table has t/$t");
}

# --- docs/php.md's helper is examples/plaid-api.php's ----------------------
{
    my ($shown) = slurp('docs/php.md')
        =~ /^## The helper\n.*?```php\n(function plaid_api\(.*?^\})\n```/ms;
    my ($real) = slurp('examples/plaid-api.php')
        =~ /^(function plaid_api\(.*?^\})/ms;
    ok(defined $shown && defined $real && $shown eq $real,
       "docs/php.md shows examples/plaid-api.php's plaid_api as it is")
        or diag("docs:\n", $shown // '(none)', "\nexample:\n", $real // '(none)');
}

# --- links ---------------------------------------------------------------------
opendir my $ddir, "$top/docs" or die "$top/docs: $!\n";
for my $page ('README.md', map { "docs/$_" } sort grep { /\.md\z/ } readdir $ddir) {
    my $text = slurp($page);
    (my $base = $page) =~ s{[^/]*\z}{};
    my @broken = grep { !-e "$top/$base$_" }
        map { s/#.*//r } grep { !m{^(?:[a-z]+:|#)} }
        $text =~ /\]\(([^)\s]+)\)/g;
    ok(!@broken, "$page: every relative link names a file") or diag("@broken");
}

# --- SPDX ------------------------------------------------------------------------
SKIP: {
    my @files = -e "$top/.git" ? split /\n/, qx{git -C '$top' ls-files} : ();
    skip 'not a git checkout: no list of the sources', 1 unless @files;
    my @sources = grep {
        !m{^(?:fuzz/corpus|spec)/} && !m{^t/htdocs/(?:addhandler|htaccess)-endpoint/}
        && (/\.(?:c|h|js|php|lua|sh|t|pl|pm|cgi|conf|in|load|supp)\z/
            || m{(?:^|/)(?:Makefile|TEST|\.ci/run|debian/rules)\z}
            || $_ eq 'examples/link.html')
    } @files;
    my @lacking = grep {
        open my $fh, '<', "$top/$_" or die "$top/$_: $!\n";
        my $head = join '', grep { defined } map { scalar <$fh> } 1 .. 3;
        $head !~ /SPDX-License-Identifier: Apache-2\.0/;
    } @sources;
    ok(@sources > 100 && !@lacking,
       scalar(@sources) . ' source files carry SPDX-License-Identifier: Apache-2.0')
        or diag("lacking: @lacking");
}

done_testing();
