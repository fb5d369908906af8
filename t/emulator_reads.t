# SPDX-License-Identifier: Apache-2.0
# The emulator's read endpoints, asked directly: /item/get, /transactions/sync
# and /institutions/get_by_id answer with every member the spec's response
# schemas require (spec/plaid-openapi-extract.yml: ItemGetResponse and
# Item, TransactionsSyncResponse, Transaction, TransactionBase,
# RemovedTransaction, Location, PaymentMeta, InstitutionsGetByIdResponse,
# Institution); /transactions/sync pages by cursor with count honoured,
# has_more and next_cursor, the same transactions for the same Item every
# time, a page's net changes (added, modified, removed), options.account_id,
# "now", refusals (a cursor of another Item, count out of range), and the
# "mutation" fault segment's TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION
# once per Item; /link/token/create in update mode takes only an Item's
# access_token, and /link/complete with that link_token repairs a reset
# Item (a link_token of no Item, or of another Item, repairs nothing); and a path the emulator does not serve is a PlaidError that
# says "not emulated" and names it.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Cwd ();
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use PlaidTest;

plan tests => 61;

my $json = JSON::PP->new->canonical;
my $top  = Cwd::abs_path("$FindBin::Bin/..");
my @spec = do {
    open my $fh, '<', "$top/spec/plaid-openapi-extract.yml"
        or die "spec extract: $!";
    map { chomp; $_ } <$fh>;
};

# Every name in a required: list of the schema (allOf parts included).
sub required_of {
    my $name = shift;
    my ($start) = grep { $spec[$_] eq "    $name:" } 0 .. $#spec;
    die "schema $name not in the extract\n" unless defined $start;
    my (@names, $pad);
    for my $line (@spec[$start + 1 .. $#spec]) {
        last if $line =~ /^ {0,4}\S/;
        if ($line =~ /^( +)required:$/) {
            $pad = $1;
            next;
        }
        if (defined $pad && $line =~ /^\Q$pad\E- (\w+)$/) {
            push @names, $1;
            next;
        }
        undef $pad;
    }
    return @names;
}

# The required members $doc lacks, named "$what.member".
sub lacking {
    my ($what, $doc, @schemas) = @_;
    return ("$what: not an object") unless ref $doc eq 'HASH';
    return map { "$what.$_" } grep { !exists $doc->{$_} }
           map { required_of($_) } @schemas;
}

sub emulator {
    my ($path, $body, %opt) = @_;
    my $ua = LWP::UserAgent->new(timeout => 30);
    my $res = $ua->request(HTTP::Request->new(
        $opt{method} // 'POST',
        vhost_url('plaid_emulator_http', "/sandbox$path"),
        ['Content-Type' => 'application/json',
         'PLAID-CLIENT-ID' => 'sandbox0client0id000001',
         'PLAID-SECRET' => 'sandbox-secret-Zq7Xv9'], $json->encode($body)));
    return ($res->code, json_body($res) || {});
}

sub new_item {
    my (undef, $p) = emulator('/sandbox/public_token/create', {
        institution_id => 'ins_109508', initial_products => ['transactions'] });
    my (undef, $x) = emulator('/item/public_token/exchange', {
        public_token => $p->{public_token} // '' });
    return ($x->{access_token} // '', $x->{item_id} // '');
}

my ($token, $item_id) = new_item();
ok(length $token, 'an Item to read');

# --- /item/get ---------------------------------------------------------------

{
    my ($code, $body) = emulator('/item/get', { access_token => $token });
    is($code, 200, '/item/get: 200');
    is_deeply([lacking('body', $body, 'ItemGetResponse'),
               lacking('item', $body->{item}, 'Item')], [],
              '... every member ItemGetResponse and Item require');
    is($body->{item}{item_id}, $item_id, '... the exchange\'s item_id');
    is($body->{item}{institution_name}, 'First Platypus Bank',
       '... its institution\'s name');
    like($body->{item}{created_at} // '', qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\z/,
         '... created_at in ISO 8601');
    is($body->{item}{error}, undef, '... and no error');

    my ($reset) = new_item();
    emulator('/sandbox/item/reset_login', { access_token => $reset });
    ($code, $body) = emulator('/item/get', { access_token => $reset });
    is($code, 200, 'a reset Item\'s /item/get: 200');
    is(($body->{item}{error} || {})->{error_code}, 'ITEM_LOGIN_REQUIRED',
       '... with ITEM_LOGIN_REQUIRED in item.error');

    ($code, $body) = emulator('/item/get', { access_token => 'access-sandbox-x' });
    is($body->{error_code}, 'INVALID_ACCESS_TOKEN',
       'an access_token of no Item: INVALID_ACCESS_TOKEN');
    ($code, $body) = emulator('/item/get', { access_token => $token, x => 1 });
    is($body->{error_code}, 'UNKNOWN_FIELDS', 'a field ItemGetRequest lacks: '
       . 'UNKNOWN_FIELDS');
}

# --- /transactions/sync ------------------------------------------------------

sub sync {
    my ($body, $prefix) = @_;
    return emulator(($prefix // '') . '/transactions/sync',
                    { access_token => $token, %$body });
}

# All pages from the start in pages of $count: the pages and the final set.
sub pull {
    my ($count, %more) = @_;
    my ($cursor, @pages, %state) = ('');
    for (1 .. 50) {
        my ($code, $page) = sync({ cursor => $cursor, count => $count, %more });
        push @pages, $page;
        last if $code != 200;
        $state{ $_->{transaction_id} } = $_
            for @{ $page->{added} }, @{ $page->{modified} };
        delete $state{ $_->{transaction_id} } for @{ $page->{removed} };
        $cursor = $page->{next_cursor};
        last unless $page->{has_more};
    }
    return (\@pages, \%state);
}

{
    my ($code, $page) = sync({});
    is($code, 200, '/transactions/sync without a cursor: 200');
    my @added = @{ $page->{added} || [] };
    my @missing = lacking('body', $page, 'TransactionsSyncResponse');
    for my $i (0 .. $#added) {
        push @missing, lacking("added[$i]", $added[$i], 'TransactionBase',
                               'Transaction'),
                       lacking("added[$i].location", $added[$i]{location},
                               'Location'),
                       lacking("added[$i].payment_meta",
                               $added[$i]{payment_meta}, 'PaymentMeta');
    }
    is_deeply(\@missing, [], '... every member the response schemas require');
    is(scalar @added, 12, '... 12 transactions added, in one page of 100');
    ok(!$page->{has_more} && !@{ $page->{modified} } && !@{ $page->{removed} },
       '... nothing more, nothing modified or removed: changes applied')
        or diag($json->encode([@$page{qw(has_more modified removed)}]));
    is(scalar(grep { $_->{pending} } @added), 1, '... one pending');
    my ($posted) = grep { $_->{pending_transaction_id} } @added;
    ok($posted, '... one posted with the pending transaction it replaced');
    is((grep { $_->{merchant_name} && $_->{merchant_name} eq 'SparkFun' }
        @added)[0]{name} // '', 'SPARKFUN ELECTRONICS',
       '... SparkFun as modified');
    my %accounts = map { $_->{account_id} => 1 } @{ $page->{accounts} };
    is(scalar(grep { !$accounts{ $_->{account_id} } } @added), 0,
       '... each of an account of the Item');
    like($added[0]{amount} // '', qr/\A-?\d+(?:\.\d{1,2})?\z/,
         '... amounts in cents, as 6.33');
    ok((grep { $_ eq ($page->{transactions_update_status} // '') }
        list_enum('TransactionsUpdateStatus')),
       '... a transactions_update_status of the spec\'s enum');

    my ($again) = (sync({}))[1];
    is($json->encode($again->{added}), $json->encode($page->{added}),
       'the same Item: the same transactions, dates and ids');
    my ($other) = new_item();
    my (undef, $o) = emulator('/transactions/sync', { access_token => $other });
    isnt(($o->{added}[0] || {})->{transaction_id} // '',
         $added[0]{transaction_id} // '', 'another Item: other ids');

    my ($pages, $state) = pull(4);
    cmp_ok(scalar @$pages, '==', 4, 'count 4: four pages (15 updates)');
    is_deeply([map { $_->{has_more} ? 1 : 0 } @$pages], [1, 1, 1, 0],
              '... has_more on all but the last');
    is_deeply([map { scalar @{ $_->{added} } } @$pages], [4, 4, 4, 1],
              '... at most 4 updates a page');
    my $last = $pages->[-1];
    is(scalar @{ $last->{modified} } . '/' . scalar @{ $last->{removed} }, '1/1',
       '... the last page: one modified, one removed');
    is_deeply([sort keys %$state], [sort map { $_->{transaction_id} } @added],
              '... and in the end the transactions of the single page');
    my $end = $last->{next_cursor};
    ($code, $page) = sync({ cursor => $end });
    ok($code == 200 && !@{ $page->{added} } && !$page->{has_more}
       && $page->{next_cursor} eq $end,
       'from the last next_cursor: nothing new, the same cursor');
    ($code, $page) = sync({ cursor => 'now' });
    ok($code == 200 && !@{ $page->{added} } && $page->{next_cursor} eq $end,
       '"now": nothing, and the end\'s cursor');

    my $saving = $page->{accounts}[1]{account_id};
    ($code, $page) = sync({ options => { account_id => $saving } });
    ok($code == 200 && @{ $page->{added} } == 2
       && !grep({ $_->{account_id} ne $saving } @{ $page->{added} }),
       'options.account_id: that account\'s transactions only')
        or diag($json->encode($page));
    ($code, $page) = sync({ options => { account_id => 'nope' } });
    is($page->{error_code}, 'INVALID_ACCOUNT_ID',
       '... an account the Item lacks: INVALID_ACCOUNT_ID');

    for my $case (['count 0', { count => 0 }],
                  ['count 501', { count => 501 }],
                  ['count "5"', { count => '5' }],
                  ['a cursor not this emulator\'s', { cursor => 'abc' }],
                  ['another Item\'s cursor', { cursor => $o->{next_cursor} }],
                  ['options.days_requested 731',
                   { options => { days_requested => 731 } }]) {
        my ($name, $body) = @$case;
        ($code, $page) = sync($body);
        is("$code $page->{error_code}", '400 INVALID_FIELD',
           "$name: 400 INVALID_FIELD") or diag($json->encode($page));
    }

    # The mutation fault: a page after one with has_more, once per Item.
    my ($first, $second);
    ($code, $first) = sync({ count => 5 }, '/mutation');
    is($code, 200, 'mutation fault: the first page answers');
    ($code, $second) = sync({ count => 5, cursor => $first->{next_cursor} },
                            '/mutation');
    is("$code $second->{error_type}/$second->{error_code}",
       '400 TRANSACTIONS_ERROR/TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION',
       '... the next: TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION');
    like($second->{error_message} // '', qr/restart pagination/i,
         '... with Plaid\'s message');
    ($code) = sync({ count => 5, cursor => $first->{next_cursor} },
                   '/mutation');
    is($code, 200, '... once: the same page again answers');
    my ($fault) = (emulator('/error_code=TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION'
                            . '/transactions/sync', {}))[1];
    is($fault->{error_type}, 'TRANSACTIONS_ERROR',
       'the error_code= fault: Plaid\'s type for the code');
}

sub list_enum {
    my $name = shift;
    my ($start) = grep { $spec[$_] eq "    $name:" } 0 .. $#spec;
    my @values;
    for my $line (@spec[$start + 1 .. $#spec]) {
        last if $line =~ /^ {0,4}\S/;
        push @values, $1 if $line =~ /^      - (\w+)$/;
    }
    return @values;
}

# --- /institutions/get_by_id -------------------------------------------------

{
    my ($code, $body) = emulator('/institutions/get_by_id', {
        institution_id => 'ins_109508', country_codes => ['US'],
        options => { include_optional_metadata => JSON::PP::true } });
    is($code, 200, '/institutions/get_by_id: 200');
    is_deeply([lacking('body', $body, 'InstitutionsGetByIdResponse'),
               lacking('institution', $body->{institution}, 'Institution')],
              [], '... every member the response schemas require');
    is($body->{institution}{name}, 'First Platypus Bank', '... its name');
    ok($body->{institution}{url}, '... and with the optional metadata a url');
    for my $case (['an unknown institution_id',
                   { institution_id => 'ins_1', country_codes => ['US'] },
                   'INVALID_INSTITUTION'],
                  ['a country it is not in',
                   { institution_id => 'ins_109508', country_codes => ['GB'] },
                   'INVALID_INSTITUTION'],
                  ['no country_codes', { institution_id => 'ins_109508' },
                   'MISSING_FIELDS'],
                  ['an option the schema lacks',
                   { institution_id => 'ins_109508', country_codes => ['US'],
                     options => { foo => 1 } }, 'UNKNOWN_FIELDS']) {
        my ($name, $req, $want) = @$case;
        ($code, $body) = emulator('/institutions/get_by_id', $req);
        is("$code $body->{error_code}", "400 $want", "$name: 400 $want");
    }
}

# --- update mode, and a path it does not serve ------------------------------

{
    my %link = (client_name => 'x', language => 'en', country_codes => ['US'],
                user => { client_user_id => 'u' });
    my ($code, $body) = emulator('/link/token/create',
                                 { %link, access_token => $token });
    is($code, 200, '/link/token/create with an Item\'s access_token: 200');
    ($code, $body) = emulator('/link/token/create',
                              { %link, access_token => 'access-sandbox-nope' });
    is($body->{error_code}, 'INVALID_ACCESS_TOKEN',
       '... with another: INVALID_ACCESS_TOKEN');

    # Link's update mode repairs a reset Item: only that Item, only with
    # its own update-mode link_token.
    my ($reset, $reset_id) = new_item();
    my ($other) = new_item();
    emulator("/sandbox/item/reset_login", { access_token => $_ })
        for $reset, $other;
    my $error_of = sub {
        my (undef, $b) = emulator('/item/get', { access_token => shift });
        return (($b->{item} || {})->{error} || {})->{error_code} // 'none';
    };
    my (undef, $plain) = emulator('/link/token/create', \%link);
    ($code, $body) = emulator('/link/complete',
                              { link_token => $plain->{link_token} // '' });
    is("$code " . $error_of->($reset), '200 ITEM_LOGIN_REQUIRED',
       '/link/complete with a link_token of no Item: the reset Item stays '
       . 'reset');
    my (undef, $update) = emulator('/link/token/create',
                                   { %link, access_token => $reset });
    ($code, $body) = emulator('/link/complete',
                              { link_token => $update->{link_token} // '' });
    is($code, 200, '/link/complete with the Item\'s update-mode link_token: '
       . '200');
    like($body->{public_token} // '', qr/\Apublic-sandbox-/,
         '... a public_token, as Link\'s onSuccess gets in update mode');
    is($error_of->($reset), 'none', '... and the Item is repaired: no '
       . 'item.error');
    is($error_of->($other), 'ITEM_LOGIN_REQUIRED',
       '... the other reset Item is not');
    ($code, $body) = emulator('/accounts/balance/get', { access_token => $reset });
    is($code, 200, '... and /accounts/balance/get answers the repaired Item '
       . 'again');

    ($code, $body) = emulator('/transfer/create', {});
    is("$code $body->{error_type}/$body->{error_code}",
       '404 INVALID_REQUEST/NOT_FOUND',
       'a Plaid path the emulator does not serve: 404 PlaidError');
    like($body->{error_message} // '', qr{not emulated: /sandbox/transfer/create\b},
         '... saying "not emulated" and naming the path');
}
