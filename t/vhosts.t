# SPDX-License-Identifier: Apache-2.0
# Two vhosts, each with its own PlaidEnv and credentials (sandbox with a
# file: secret, production with an env: secret), get tokens from their own
# environment. Their locations hold only SetHandler: everything else is
# inherited from the vhost.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use PlaidTest;

my %want = (
    plaid_sandbox => {
        env => 'sandbox', client_name => 'sandbox vhost', language => 'fr',
        country_codes => ['FR'], products => ['transactions'],
    },
    plaid_production => {
        env => 'production', client_name => 'production vhost',
        language => 'de', country_codes => ['DE'], products => ['auth'],
    },
);

plan tests => 9 * keys(%want) + 2;

my %token;
for my $vhost (sort keys %want) {
    my $w    = $want{$vhost};
    my $user = unique_user($vhost);
    my $mark = log_mark();
    my $res  = post_token('/plaid/link-token', vhost => $vhost, user => $user);
    my @log  = log_since($mark);
    my $json = json_body($res) || {};

    is($res->code, 200, "$vhost: 200") or diag($res->as_string, @log);
    like($json->{link_token} || '', qr/^link-\Q$w->{env}\E-/,
         "$vhost: link-$w->{env}- token");
    like($json->{link_token} || '', token_re(), "$vhost: token shape");
    $token{$vhost} = $json->{link_token};

    my ($sent) = grep { ($_->{user}{client_user_id} || '') eq $user }
                 emulator_bodies(@log);
    ok($sent, "$vhost: the emulator saw this user") or diag(@log);
    $sent ||= {};
    is($sent->{client_name}, $w->{client_name},
       "$vhost: client_name inherited from the vhost");
    is($sent->{language}, $w->{language}, "$vhost: language");
    is_deeply([$sent->{country_codes}, $sent->{products}],
              [$w->{country_codes}, $w->{products}],
              "$vhost: country_codes and products");

    my ($line) = grep { /PL0101/ } @log;
    like($line || '', qr/vhost=/, "$vhost: PL0101 names the vhost")
        or diag(@log);
    like($line || '', qr{location=/plaid/link-token\b},
         "$vhost: PL0101 names the handler's location") or diag($line);
}

isnt($token{plaid_sandbox}, $token{plaid_production},
     'the two vhosts got different tokens');

# The main server is unaffected by the vhosts' settings.
my $res = post_token('/plaid/link-token');
like((json_body($res) || {})->{link_token} || '', qr/^link-sandbox-/,
     'the main server still gets sandbox tokens');
