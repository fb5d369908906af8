# SPDX-License-Identifier: Apache-2.0
# Start-up validation: `apache2 -t` on small generated configurations.
# A configuration the module cannot serve must fail the syntax check, with
# a message naming the directive, the value and the <Location> at fault;
# a good one must pass. Secrets never appear in the output.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Cwd ();
use File::Temp ();
use FindBin ();

my $top    = Cwd::abs_path("$FindBin::Bin/..");
my $httpd  = '/usr/sbin/apache2';
my $mods   = '/usr/lib/apache2/modules';
my $so     = "$top/.libs/mod_plaid_link.so";
my $tmp    = File::Temp->newdir('plaid-config-XXXXXX', TMPDIR => 1);
my $loc    = '/plaid/link-token';
my $secret = 'cfg-secret-Pq9Wd4';
my $inline = 'inline-secret-Vb7Qx2';
my $proxy_pw = 'proxy-pass-Ty5Rm8';

write_file("$tmp/secret", "$secret\n");
chmod 0600, "$tmp/secret";
write_file("$tmp/tab.secret", "cfg-sec\tret-Zz9\n");
write_file("$tmp/hash.key", "0123456789abcdef0123456789abcdef\n");
write_file("$tmp/short.key", "shortkey\n");
write_file("$tmp/readable.secret", "$secret\n");
chmod 0644, "$tmp/readable.secret";
delete $ENV{PLAID_TEST_UNSET_VAR};

# The complete, minimal set; cases below drop or replace entries.
my @complete = (
    [PlaidEnv          => 'sandbox'],
    [PlaidClientId     => 'cfgclient0id000077'],
    [PlaidSecret       => "file:$tmp/secret"],
    [PlaidClientName   => '"Config Test"'],
    [PlaidLanguage     => 'en'],
    [PlaidCountryCodes => 'US CA'],
    [PlaidProducts     => 'auth transactions'],
);

my @required = qw(PlaidClientId PlaidSecret PlaidClientName PlaidLanguage
                  PlaidCountryCodes PlaidProducts);

# [name, {drop => [...], set => {D => v}}, expect ok?, [patterns the output
# must match]]
my @bad = (
    ['PlaidEnv development', {set => {PlaidEnv => 'development'}},
     [qr/PlaidEnv/i, qr/retired/i]],
    ['unknown product', {set => {PlaidProducts => 'auth balance'}},
     [qr/\bbalance\b/, qr/PlaidProducts/i]],
    ['product not allowed in optional_products',
     {set => {PlaidOptionalProducts => 'assets'}},
     [qr/\bassets\b/, qr/optional/i]],
    ['unknown country', {set => {PlaidCountryCodes => 'US XX'}},
     [qr/\bXX\b/, qr/PlaidCountryCodes/i, qr/\bGB\b.*\bDE\b/]],
    # Plaid's quickstart (.env) separates lists with commas; httpd, with
    # spaces: the message says so, and how the line reads with spaces.
    ['country codes with commas', {set => {PlaidCountryCodes => 'US,CA'}},
     [qr/separated by spaces, not commas: PlaidCountryCodes US CA \(in /]],
    ['country codes with a comma and a space',
     {set => {PlaidCountryCodes => 'US, CA'}},
     [qr/separated by spaces, not commas: PlaidCountryCodes US CA \(in /]],
    ['products with commas', {set => {PlaidProducts => 'auth,transactions'}},
     [qr/products are separated by spaces, not commas: PlaidProducts auth transactions \(in /]],
    ['optional products with commas',
     {set => {PlaidOptionalProducts => 'identity,investments'}},
     [qr/not commas: PlaidOptionalProducts identity investments \(in /]],
    # One "origin" that no browser ever sends, passed before.
    ['origins with commas',
     {set => {PlaidAllowedOrigins => 'https://a.example,https://b.example'}},
     [qr/not commas: PlaidAllowedOrigins https:\/\/a\.example https:\/\/b\.example \(in /]],
    ['unknown language', {set => {PlaidLanguage => 'xx'}},
     [qr/\bxx\b/, qr/PlaidLanguage/i]],
    ['http base URL', {set => {PlaidBaseURL => 'http://example.com'}},
     [qr/PlaidBaseURL/i, qr/https/i]],
    ['unreadable secret file',
     {set => {PlaidSecret => 'file:/nonexistent/plaid.secret'}},
     [qr{/nonexistent/plaid\.secret}, qr/PlaidSecret/i]],
    ['unset secret variable', {set => {PlaidSecret => 'env:PLAID_TEST_UNSET_VAR'}},
     [qr/PLAID_TEST_UNSET_VAR/, qr/PlaidSecret/i]],
    ['PlaidLinkTokenExtra not JSON',
     {set => {PlaidLinkTokenExtra => q('{"account_filters": ')}},
     [qr/PlaidLinkTokenExtra/i, qr/position|column/i]],
    ['PlaidLinkTokenExtra sets user',
     {set => {PlaidLinkTokenExtra => q('{"user":{}}')}},
     [qr/PlaidLinkTokenExtra/i, qr/\buser\b/]],
    ['PlaidLinkTokenExtra sets secret',
     {set => {PlaidLinkTokenExtra => q('{"secret":"x"}')}},
     [qr/PlaidLinkTokenExtra/i, qr/\bsecret\b/]],
    ['PlaidLinkTokenExtra sets client_id',
     {set => {PlaidLinkTokenExtra => q('{"client_id":"x"}')}},
     [qr/PlaidLinkTokenExtra/i, qr/\bclient_id\b/]],
    ['PlaidLinkTokenExtra not an object',
     {set => {PlaidLinkTokenExtra => q('[1,2]')}},
     [qr/PlaidLinkTokenExtra/i, qr/object/i]],
    ['bad PlaidUserId expression', {set => {PlaidUserId => '"%{HTTP:X-User"'}},
     [qr/PlaidUserId/i]],
    ['zero PlaidTimeout', {set => {PlaidTimeout => '0 5'}},
     [qr/PlaidTimeout/i]],
    ['PlaidUserId without a variable part', {set => {PlaidUserId => '"user"'}},
     [qr/PlaidUserId/, qr/variable part/, qr/\Q$loc\E/]],
    ['client id with a space', {set => {PlaidClientId => '"cfgclient 0id"'}},
     [qr/PlaidClientId/, qr/a space/]],
    ['secret with a control character',
     {set => {PlaidSecret => "file:$tmp/tab.secret"}},
     [qr/PlaidSecret/, qr/control character/]],
    ['secret path is a directory', {set => {PlaidSecret => "file:$tmp"}},
     [qr/PlaidSecret/, qr/is a directory/]],
    ['inline PlaidUserIdHashKey',
     {set => {PlaidUserIdHashKey => '0123456789abcdef0123456789abcdef'}},
     [qr/PlaidUserIdHashKey/, qr/file:/]],
    ['short PlaidUserIdHashKey',
     {set => {PlaidUserIdHashKey => "file:$tmp/short.key"}},
     [qr/PlaidUserIdHashKey/, qr/at least 16/]],
    ['PlaidProxy not a proxy URL', {set => {PlaidProxy => 'ftp://proxy'}},
     [qr/PlaidProxy/, qr/none/]],
    # The refused URL is quoted, its password hidden (checked at the end).
    ['PlaidProxy with a password, refused',
     {set => {PlaidProxy => "ftp://puser:$proxy_pw\@proxy:21"}},
     [qr/PlaidProxy/, qr{ftp://\(hidden\)\@proxy:21}]],
    ['PlaidMaxInFlight in a location', {set => {PlaidMaxInFlight => 4}},
     [qr/PlaidMaxInFlight/, qr/not allowed/]],
);

my @good = (
    ['loopback http base URL', {set => {PlaidBaseURL => 'http://127.0.0.1:9'}}],
    ['base URL with a path prefix',
     {set => {PlaidBaseURL => 'https://localhost:8443/sandbox/'}}],
    ['PlaidBaseURL without PlaidEnv',
     {drop => ['PlaidEnv'], set => {PlaidBaseURL => 'https://localhost:8443'}}],
    ['production', {set => {PlaidEnv => 'production'}}],
    ['every optional directive', {set => {
        PlaidOptionalProducts            => 'identity',
        PlaidRequiredIfSupportedProducts => 'investments',
        PlaidAdditionalConsentedProducts => 'balance_plus liabilities',
        PlaidWebhook                     => 'https://example.com/hook',
        PlaidRedirectURI                 => 'https://example.com/oauth',
        PlaidAndroidPackageName          => 'com.example.app',
        PlaidLinkCustomization           => 'default',
        PlaidLinkTokenExtra              => q('{"account_filters":{}}'),
        PlaidUserId                      => '"%{HTTP:X-User}"',
        PlaidTimeout                     => '2 5',
        PlaidCACertificate               => '/etc/ssl/certs/ca-certificates.crt',
        PlaidUserIdHashKey               => "file:$tmp/hash.key",
        PlaidProxy                       => 'http://proxy.example.com:3128',
    }}],
    ['PlaidProxy none', {set => {PlaidProxy => 'none'}}],
    ['PlaidUserId with a constant part',
     {set => {PlaidUserId => '"tenant7-%{REMOTE_USER}"'}}],
);

plan tests => 2                   # complete config
            + 3 * (@required + 1) # each required directive missing
            + 3 * @bad            # bad values
            + @good
            + 3                   # inline secret
            + 2                   # inheritance from the vhost
            + 3                   # client id and secret go together
            + 10                  # shared-server checks
            + 1                   # PlaidProxy's userinfo in DUMP_CONFIG
            + 4                   # the gateway's lists with commas
            + 2;                  # no secret in any output

my @outputs;

{
    my ($rc, $out) = check(location_conf(\@complete));
    is($rc, 0, 'complete configuration passes') or diag($out);
    like($out, qr/Syntax OK/, '... and says Syntax OK');
}

for my $d (@required, 'PlaidEnv') {
    my @drop = $d eq 'PlaidEnv' ? qw(PlaidEnv PlaidBaseURL) : ($d);
    my $what = $d eq 'PlaidEnv' ? 'PlaidEnv and PlaidBaseURL' : $d;
    my ($rc, $out) = check(location_conf(edit(\@complete, {drop => \@drop})));
    isnt($rc, 0, "missing $what fails");
    like($out, $d eq 'PlaidEnv' ? qr/PlaidEnv|PlaidBaseURL/i : qr/\Q$d\E/i,
         "... naming $d") or diag($out);
    like($out, qr/\Q$loc\E/, "... and the location $loc") or diag($out);
}

for my $case (@bad) {
    my ($name, $edit, $patterns) = @$case;
    my ($rc, $out) = check(location_conf(edit(\@complete, $edit)));
    isnt($rc, 0, "$name fails") or diag($out);
    my @miss = grep { $out !~ $_ } @$patterns;
    ok(!@miss, "... with a message matching @$patterns") or diag($out);
    # Format and width are free; the message must be one an admin can act on.
    ok(length($out) < 4000 && $out =~ /\S/, '... short and not empty')
        or diag($out);
}

for my $case (@good) {
    my ($name, $edit) = @$case;
    my ($rc, $out) = check(location_conf(edit(\@complete, $edit)));
    is($rc, 0, "$name passes") or diag($out);
}

{
    my ($rc, $out) = check(location_conf(edit(\@complete,
                                              {set => {PlaidSecret => $inline}})));
    is($rc, 0, 'an inline secret passes') or diag($out);
    like($out, qr/file:/, '... with a warning advising file:') or diag($out);
    unlike($out, qr/\Q$inline\E/, '... that does not quote the secret');
}

{
    my ($rc, $out) = check(vhost_conf('inherit.example.com', \@complete));
    is($rc, 0, 'a location inheriting everything from its vhost passes')
        or diag($out);

    ($rc, $out) = check(vhost_conf('partial.example.com',
                                   edit(\@complete, {drop => ['PlaidProducts']})));
    isnt($rc, 0, '... and fails when the vhost lacks PlaidProducts');
}

# A client id and its secret go together: a location that names another
# client id does not borrow the vhost's secret (sandbox keys against a
# production id are the classic misconfiguration).
{
    my ($rc, $out) = check(vhost_conf('pair.example.com', \@complete,
                                      'PlaidClientId another0client0id0000009'));
    isnt($rc, 0, 'a location with its own client id but no secret fails');
    like($out, qr/PlaidSecret/, '... naming PlaidSecret') or diag($out);
    like($out, qr/pair\.example\.com/, '... and the vhost') or diag($out);
}

# Where Debian's sites put credentials: a vhost. Its inline secret is
# warned about by `apache2 -t` too.
{
    my ($rc, $out) = check(vhost_conf('inline.example.com',
        edit(\@complete, {set => {PlaidSecret => $inline}})));
    is($rc, 0, 'an inline secret in a vhost passes') or diag($out);
    like($out, qr/PL0001: .*inline.*<VirtualHost>/, '... with the PL0001 warning '
         . 'naming the vhost') or diag($out);
}

{
    my ($rc, $out) = check(vhost_conf('constant.example.com',
        edit(\@complete, {set => {PlaidUserId => 'same-for-all'}})));
    isnt($rc, 0, 'a constant PlaidUserId in a vhost fails');
    like($out, qr/PlaidUserId.*variable part.*<VirtualHost>/,
         '... naming the directive and the vhost') or diag($out);
}

{
    my ($rc, $out) = check(location_conf(edit(\@complete,
        {set => {PlaidSecret => "file:$tmp/readable.secret"}})));
    is($rc, 0, 'a secret file every user can read passes');
    like($out, qr/PL0004: .*readable\.secret.*chmod/,
         '... with a PL0004 warning') or diag($out);
}

{
    my ($rc, $out) = check("PlaidMaxInFlight 0\n" . location_conf(\@complete));
    isnt($rc, 0, 'PlaidMaxInFlight 0 fails');
    ($rc, $out) = check("<VirtualHost *:80>\nPlaidMaxInFlight 4\n</VirtualHost>\n"
                        . location_conf(\@complete));
    isnt($rc, 0, 'PlaidMaxInFlight in a vhost fails (it is server-wide)');
}

# mod_info's dump of the configuration shows neither the inline secret nor
# the whole client id.
{
    my ($rc, $out) = check(location_conf(edit(\@complete,
        {set => {PlaidSecret => $inline}})), dump => 1);
    like($out, qr/PlaidSecret \(hidden\)/, 'DUMP_CONFIG shows (hidden)')
        or diag($out);
    unlike($out, qr/\Q$inline\E|cfgclient0id000077/,
           '... and neither the secret nor the whole client id');
}

# Nor PlaidProxy's password: mod_info shows the userinfo as (hidden).
{
    my ($rc, $out) = check(location_conf(edit(\@complete,
        {set => {PlaidProxy => "http://puser:$proxy_pw\@proxy.example.com:3128"}})),
        dump => 1);
    like($out, qr{PlaidProxy http://\(hidden\)\@proxy\.example\.com:3128},
         'DUMP_CONFIG shows PlaidProxy with (hidden) for its userinfo')
        or diag($out);
}

# The gateway's lists, with commas.
for my $case (['PlaidApiPaths', '/accounts/get,/accounts/balance/get',
               '/accounts/get /accounts/balance/get'],
              ['PlaidApiAllowFrom', '127.0.0.1,::1', '127.0.0.1 ::1']) {
    my ($d, $value, $spaced) = @$case;
    my ($rc, $out) = check(join "\n", '<Location /plaid-api>',
        '    SetHandler plaid-api', '    PlaidEnv sandbox',
        '    PlaidClientId cfgclient0id000077', "    PlaidSecret file:$tmp/secret",
        ($d eq 'PlaidApiPaths' ? () : '    PlaidApiPaths /accounts/get'),
        "    $d $value", '</Location>');
    isnt($rc, 0, "$d with commas fails") or diag($out);
    like($out, qr/separated by spaces, not commas: \Q$d $spaced\E \(in /,
         '... saying to separate them with spaces') or diag($out);
}

ok(!grep({ /\Q$secret\E/ } @outputs), 'no output quotes the file: secret');
ok(!grep({ /\Q$proxy_pw\E/ } @outputs), "... nor PlaidProxy's password");

# ---------------------------------------------------------------------------

sub edit {
    my ($base, $edit) = @_;
    my %drop = map { $_ => 1 } @{ $edit->{drop} || [] };
    my %set  = %{ $edit->{set} || {} };
    my @out;
    for my $d (@$base) {
        next if $drop{ $d->[0] };
        push @out, [$d->[0], exists $set{ $d->[0] } ? delete $set{ $d->[0] }
                                                     : $d->[1]];
    }
    push @out, map { [$_ => $set{$_}] } sort keys %set;
    return \@out;
}

# A vhost holding the directives, with the handler's <Location> inside it
# holding only SetHandler and any extra lines.
sub vhost_conf {
    my ($name, $directives, @location_lines) = @_;
    return join "\n", '<VirtualHost *:80>', "    ServerName $name",
        (map { "    $_->[0] $_->[1]" } @$directives),
        "    <Location $loc>", '        SetHandler plaid-link-token',
        (map { "        $_" } @location_lines), '    </Location>',
        '</VirtualHost>';
}

sub location_conf {
    my $directives = shift;
    return join "\n", "<Location $loc>", '    SetHandler plaid-link-token',
        (map { "    $_->[0] $_->[1]" } @$directives), '</Location>';
}

my $n = 0;
sub check {
    my ($body, %opt) = @_;
    my $conf = "$tmp/httpd-" . ++$n . '.conf';
    write_file($conf, <<"EOF" . $body . "\n");
ServerRoot "$tmp"
ServerName localhost
DefaultRuntimeDir "$tmp"
PidFile "$tmp/httpd.pid"
ErrorLog "$tmp/error_log"
Listen 127.0.0.1:80
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule plaid_link_module "$so"
EOF
    my $dump = '';
    if ($opt{dump}) {
        $dump = '-D DUMP_CONFIG';
        open my $fh, '>>', $conf or die "$conf: $!";
        print $fh "LoadModule info_module $mods/mod_info.so\n";
        close $fh;
    }
    my $out = qx{$httpd -t $dump -f '$conf' 2>&1};
    my $rc  = $? >> 8;
    push @outputs, $out;
    return ($rc, $out);
}

sub write_file {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh or die "$path: $!";
}
