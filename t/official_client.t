# SPDX-License-Identifier: Apache-2.0
# Plaid's own client library works through the gateway: the npm plaid
# package (pinned in tests/official-client/package-lock.json), its basePath
# pointed at a SetHandler plaid-api location and no credentials given,
# makes an Item (sandboxPublicTokenCreate, itemPublicTokenExchange), reads
# it (itemGet, institutionsGetById, accountsGet), pulls its transactions
# with transactionsSync until has_more is false (in pages of 4, in one
# page, and restarting once on the emulator's
# TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION), makes an update-mode
# link_token (access_token, no products) and removes the Item; a PlaidError
# (the removed Item's token, a path the emulator does not serve) reaches
# the application as the client's own error, axios's with
# response.data.error_code. tests/official-client/client.js does the
# calls; this file runs it (npm ci first when its node_modules is missing
# or older than the lockfile) and checks what it printed. Then the same
# client by item_id: an Item exchanged through a location that keeps the
# Items (PlaidItemStore dbd, t/items.t's store), accountsGet with
# { item_id } and no access_token through a gateway of that store gives
# Plaid's answer for the Item; an unknown item_id is 404, the client's
# error. Skipped only when node is not installed (scripts/deps.sh --test
# installs it).
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Cwd ();
use JSON::PP ();
use PlaidTest;

my $dir = Cwd::abs_path("$FindBin::Bin/../tests/official-client");

sub have { system("command -v $_[0] >/dev/null 2>&1") == 0 }

plan skip_all => 'node is not installed (scripts/deps.sh --test installs '
                 . 'nodejs and npm)' unless have('node');
plan tests => 39;

# npm ci when the installed tree is missing or older than the lockfile.
my $installed = "$dir/node_modules/.package-lock.json";
if (!-e "$dir/node_modules/plaid/package.json"
    || (stat "$dir/package-lock.json")[9] > ((stat $installed)[9] // 0)) {
    my $out = `cd '$dir' && npm ci --no-audit --no-fund 2>&1`;
    diag("npm ci in $dir:\n$out") if $?;
}
ok(-e "$dir/node_modules/plaid/package.json",
   'tests/official-client: npm ci installed the plaid package');
my $version = eval {
    local $/;
    open my $fh, '<', "$dir/node_modules/plaid/package.json" or die;
    JSON::PP->new->decode(<$fh>)->{version};
} // '';
is($version, '47.0.0', '... the pinned version');

# An Item the module keeps, exchanged as a browser does (t/items.t): the
# application gets its item_id and never its access_token.
my $kept = json_body(request_token('/items/exchange',
    user => unique_user('official'),
    content => JSON::PP->new->encode({ public_token => public_token() })))
    || {};
like($kept->{item_id} // '', qr/\A\w{20,}\z/,
     'an Item kept by the module (PlaidItemStore), by its item_id');

# The client goes straight to the gateway: t/TEST's http_proxy (a
# listener that never answers) is for the module's tests, not for it.
my $output;
{
    local %ENV = %ENV;
    delete @ENV{qw(http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
                   all_proxy ALL_PROXY)};
    $ENV{PLAID_GATEWAY} = vhost_url(undef, '/plaid-api-official');
    $ENV{PLAID_GATEWAY_MUTATION} =
        vhost_url(undef, '/plaid-api-official-mutation');
    $ENV{PLAID_GATEWAY_ITEMS} = vhost_url(undef, '/items/api-official');
    $ENV{PLAID_ITEM_ID} = $kept->{item_id} // '';
    $output = `cd '$dir' && node client.js 2>&1`;
}
my $r = eval { JSON::PP->new->decode((split /\n/, $output)[-1] // '') }
        || {};
ok(!$r->{fatal} && $r->{after_remove}, 'client.js ran every call')
    or diag($output);

my $item_id = $r->{exchange}{item_id} // '';
is($r->{exchange}{status}, 200, 'itemPublicTokenExchange: 200');
like($item_id, qr/\A[A-Za-z0-9]{37}\z/, '... an item_id');
ok($r->{exchange}{access_token_issued}, '... and an access token');

is($r->{item_get}{status}, 200, 'itemGet: 200');
is($r->{item_get}{item_id}, $item_id, '... the same Item');
is($r->{item_get}{institution_name}, 'First Platypus Bank',
   '... at First Platypus Bank');
is_deeply($r->{item_get}{billed_products}, ['transactions'],
          '... billed for transactions');
is($r->{institution}{name}, 'First Platypus Bank',
   'institutionsGetById: its institution');

is($r->{accounts_get}{status}, 200, 'accountsGet: 200');
is_deeply($r->{accounts_get}{masks}, ['0000', '1111'],
          '... the sandbox user\'s two accounts');
is($r->{accounts_get}{item_id}, $item_id, '... of the same Item');

my ($pages, $whole, $mutation) = map { $r->{$_} || {} }
                                 qw(sync_pages sync_whole sync_mutation);
cmp_ok($pages->{pages} // 0, '>', 1,
       'transactionsSync in pages of 4: more than one page');
is($pages->{transactions}, 12, '... 12 transactions in the end');
ok($pages->{added} && $pages->{modified} && $pages->{removed},
   '... with added, modified and removed along the way')
    or diag(JSON::PP->new->encode($pages));
is($pages->{pending}, 1, '... one of them pending');
ok($pages->{next_cursor_set}, '... and a cursor to keep');
is($whole->{pages}, 1, 'transactionsSync with count 500: one page');
is($whole->{ids}, $pages->{ids}, '... the same transactions as the pages');
is($whole->{modified} + $whole->{removed}, 0,
   '... all of them in added, changes already applied');
is($mutation->{restarts}, 1,
   'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION mid-loop: one restart');
is($mutation->{ids}, $pages->{ids}, '... then the same transactions');

is($r->{link_token_update}{status}, 200,
   'linkTokenCreate in update mode (access_token, no products): 200');
ok($r->{link_token_update}{link_token}, '... a link_token');

is($r->{item_remove}{status}, 200, 'itemRemove: 200');

my $e = $r->{after_remove} || {};
ok($e->{is_axios_error}, 'itemGet after itemRemove: the client\'s error');
is($e->{status}, 400, '... with Plaid\'s 400');
is($e->{error_code}, 'INVALID_ACCESS_TOKEN',
   '... and response.data.error_code INVALID_ACCESS_TOKEN');

my $n = $r->{not_emulated} || {};
is($n->{status}, 404, 'a path the emulator lacks: 404 through the client');
is($n->{error_code}, 'NOT_FOUND', '... a PlaidError, NOT_FOUND');
like($n->{error_message} // '', qr{not emulated: \S*/institutions/search\b},
     '... whose message says not emulated and names the path');

my $by_id = $r->{accounts_by_item_id} || {};
is($by_id->{status}, 200,
   'accountsGet with { item_id } and no access_token, through a gateway '
   . 'that keeps the Items: 200') or diag($output);
is($by_id->{item_id}, $kept->{item_id}, "... Plaid's answer for that Item");
is_deeply($by_id->{masks}, ['0000', '1111'], '... with its two accounts');
my $unknown = $r->{unknown_item_id} || {};
ok($unknown->{is_axios_error}, 'an unknown item_id: the client\'s error');
is($unknown->{status}, 404, '... with the gateway\'s 404');
