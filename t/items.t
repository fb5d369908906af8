# SPDX-License-Identifier: Apache-2.0
# PlaidItemStore dbd (SQLite through mod_dbd) and PlaidItemKey: the module
# keeps the Items, the application works by item_id.
#  - The exchange stores the Item (sealed) and hands off no access_token
#    (unless PlaidExchangeHandoffAccessToken on); the SQLite file holds no
#    access_token.
#  - The gateway puts the Item's access_token in place of an item_id; an
#    unknown Item is 404 with no call; a raw access_token is 400 unless
#    PlaidApiAllowAccessToken on.
#  - A row that does not open (another key, tampered, copied to another
#    user) is 502, one PL0172 line naming the Item, no call, the row kept.
#    A previous key still opens, and the row is sealed again with the new.
#  - SetHandler plaid-items: GET lists the user's Items, DELETE removes one
#    (/item/remove) and forgets it; another user's Item is 404, no call.
#  - The link-token endpoint makes an update-mode token for the user's
#    Item; another user's is 404, no call.
#  - ITEM webhooks keep the Item's status; so do Plaid's answers by
#    item_id (ITEM_LOGIN_REQUIRED, /item/get's item.error, whose "good" ends
#    an error and nothing else).
#  - The repair of a reset Item: Link's update mode (the emulator's
#    /link/complete), then POST <location>/<item_id> asks Plaid (/item/get)
#    and the Item is good again; another user's Item is 404, no call.
#  - The database locked: 503, one PL0171 line, no call.
#  - `apache2 -t` fails naming PlaidItemKey when it is missing or wrong.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::SHA qw(sha256_hex);
use File::Temp ();
use HTTP::Request ();
use IPC::Open2 ();
use JSON::PP ();
use LWP::UserAgent ();
use PlaidTest;

my $db = "$FindBin::Bin/state/items.db";
my $conf = "$FindBin::Bin/conf";
my $json = JSON::PP->new->canonical;

plan tests => 161;

# --- helpers -------------------------------------------------------------------

# A new Item of $user through $path (one test): the application's view.
sub new_item {
    my ($user, $path) = @_;
    my $res = request_token($path || '/items/exchange', user => $user,
        content => $json->encode({ public_token => public_token(),
                                   institution_id => 'ins_109508' }));
    is($res->code, 200, "an Item for $user exchanged") or diag($res->as_string);
    return json_body($res) || {};
}

sub sql {
    my $q = shift;
    open my $fh, '-|', 'sqlite3', '-batch', '-separator', '|', $db, $q
        or die "sqlite3: $!";
    my @rows = map { chomp; [split /\|/, $_, -1] } <$fh>;
    close $fh;
    return @rows;
}

sub row_of {
    my $item_id = shift;
    my ($row) = sql("SELECT environment, item_id, client_user_id, "
                    . "institution_id, status, sealed, created, updated "
                    . "FROM plaid_items WHERE item_id = '$item_id'");
    return $row;
}

# The site's code calling the gateway.
sub api {
    my ($path, $body) = @_;
    my $ua = LWP::UserAgent->new(timeout => 30);
    return $ua->request(HTTP::Request->new(POST => vhost_url(undef, $path),
        ['Content-Type' => 'application/json'], $json->encode($body)));
}

# The browser on the plaid-items location.
sub items {
    my ($method, $path, $user) = @_;
    return request_token($path, method => $method, user => $user,
                         content => undef,
                         headers => { 'X-Requested-With' => 'XMLHttpRequest' });
}

sub called {
    my ($path, @log) = @_;
    return scalar grep { m{plaid_emulator: \Q$path\E } } @log;
}

sub key_id {
    my $file = shift;
    open my $fh, '<', $file or die "$file: $!";
    (my $hex = <$fh>) =~ s/\s+//g;
    return substr(sha256_hex(pack 'H*', $hex), 0, 8);
}

# --- the exchange stores the Item ----------------------------------------------

my $alice = unique_user('alice');
my $bob = unique_user('bob');
my $item = new_item($alice);
my $item_id = $item->{item_id} // '';
{
    like($item_id, qr/\A\w{20,}\z/, 'the application gets PLAID_ITEM_ID');
    is($item->{client_user_id}, $alice, '... PLAID_CLIENT_USER_ID');
    like($item->{request_id} // '', qr/\A\w+\z/, '... PLAID_REQUEST_ID');
    is($item->{access_token_ok}, '0', '... and no PLAID_ACCESS_TOKEN');
    unlike($item->{plaid_vars} // '', qr/ACCESS_TOKEN/,
           '... not even an empty one');
    my $row = row_of($item_id) || [];
    is($row->[0], 'sandbox', 'the row: environment');
    is($row->[2], $alice, '... client_user_id');
    is($row->[3], 'ins_109508', '... institution_id');
    is($row->[4], 'good', '... status');
    like($row->[5] // '', qr/\Av1\.[0-9a-f]{8}\./, '... the sealed token');
    cmp_ok($row->[6] // 0, '>', 1_600_000_000, '... created');
}
{
    my $migrating = new_item(unique_user('mig'), '/items/exchange-migrating');
    is($migrating->{access_token_ok}, '1',
       'PlaidExchangeHandoffAccessToken on: PLAID_ACCESS_TOKEN handed off');
    ok(row_of($migrating->{item_id} // ''), '... and the Item kept');
}
{
    open my $fh, '<:raw', $db or die "$db: $!";
    my $bytes = do { local $/; <$fh> };
    ok(length $bytes > 0 && $bytes !~ /access-(?:sandbox|production)-/,
       'the SQLite file holds no access_token');
}

# --- the gateway by item_id --------------------------------------------------------

{
    my $mark = log_mark();
    my $res = api('/items/api/accounts/get', { item_id => $item_id });
    my @log = log_since($mark);
    is($res->code, 200, 'the gateway by item_id: 200')
        or diag($res->as_string, @log);
    my $answer = json_body($res) || {};
    is(($answer->{item} || {})->{item_id}, $item_id,
       "... Plaid's answer for that Item");
    ok(called('/accounts/get', @log), '... with its access_token');

    $mark = log_mark();
    $res = api('/items/api/accounts/get',
               { item_id => 'noSuchItem0000000000000000000' });
    @log = log_since($mark);
    error_answer_ok($res, 'an unknown Item', 404, 'Unknown Item', @log);
    ok(!called('/accounts/get', @log), '... and no call');
    ok(grep({ /PL0173: .*noSuchItem/ } @log), '... PL0173 names it')
        or diag(@log);

    $mark = log_mark();
    $res = api('/items/api/accounts/get', { access_token =>
               'access-sandbox-00000000-0000-4000-8000-000000000000' });
    @log = log_since($mark);
    error_answer_ok($res, 'a raw access_token', 400, 'Send the item_id, not '
                    . 'an access_token: this location keeps the Items', @log);
    ok(!called('/accounts/get', @log), '... and no call');

    $res = api('/items/api-migrating/accounts/get', { access_token =>
               'access-sandbox-00000000-0000-4000-8000-000000000000' });
    like($res->content, qr/"error_code"/,
         'PlaidApiAllowAccessToken on: the raw access_token goes to Plaid')
        or diag($res->as_string);

    # Any Item of the store in the same environment: the caller is the site.
    $res = api('/items/api/item/get', { item_id => $item_id });
    is($res->code, 200, '/item/get by item_id') or diag($res->as_string);
}

# --- rows that do not open ---------------------------------------------------------

# Five tests.
sub refused_no_call {
    my ($name, $res, $mark, $id, $path) = @_;
    my @log = log_since($mark);
    is($res->code, 502, "$name: 502") or diag($res->as_string, @log);
    my @lines = grep { /PL0172: / } @log;
    is(scalar @lines, 1, "$name: one PL0172 line") or diag(@log);
    like($lines[0] // '', qr/item_id="\Q$id\E"/, "$name: naming the Item");
    ok(!called($path, @log), "$name: no call to Plaid");
    unlike(join('', @log), qr/access-sandbox-[0-9a-f]{8}-/,
           "$name: no access_token logged");
}

{
    my $mark = log_mark();
    my $res = api('/items/otherkey/api/accounts/get', { item_id => $item_id });
    refused_no_call('another key', $res, $mark, $item_id, '/accounts/get');
    ok(row_of($item_id), '... the row kept');

    # A tampered row: a byte of the sealed token changed.
    my $victim = new_item($alice)->{item_id} // '';
    my $sealed = (row_of($victim) || [])->[5] // '';
    my $pos = length($sealed) - 10;
    my $c = substr($sealed, $pos, 1) eq 'A' ? 'B' : 'A';
    sql("UPDATE plaid_items SET sealed = substr(sealed, 1, $pos) || '$c' || "
        . "substr(sealed, " . ($pos + 2) . ") WHERE item_id = '$victim'");
    $mark = log_mark();
    $res = api('/items/api/accounts/get', { item_id => $victim });
    refused_no_call('a tampered row', $res, $mark, $victim, '/accounts/get');

    # A row copied to another user: it does not open for them.
    my $copied = new_item($alice)->{item_id} // '';
    sql("UPDATE plaid_items SET client_user_id = '$bob' "
        . "WHERE item_id = '$copied'");
    $mark = log_mark();
    $res = items('DELETE', "/items/manage/$copied", $bob);
    refused_no_call('a row copied to another user', $res, $mark, $copied,
                    '/item/remove');
    is((row_of($copied) || [])->[2], $bob, '... the row kept');
}

# --- key rotation ---------------------------------------------------------------

{
    my $old = new_item($alice)->{item_id} // '';
    my $res = api('/items/rotated/api/accounts/get', { item_id => $old });
    is($res->code, 200, 'the previous key still opens') or diag($res->as_string);
    my $new_id = key_id("$conf/secrets/items-new.key");
    like((row_of($old) || [])->[5] // '', qr/\Av1\.\Q$new_id\E\./,
         '... and the row is sealed again with the new key');
}

# --- SetHandler plaid-items -------------------------------------------------------

{
    my $carol = unique_user('carol');
    my $one = new_item($carol)->{item_id} // '';
    my $two = new_item($carol)->{item_id} // '';
    my $res = items('GET', '/items/manage', $carol);
    is($res->code, 200, "GET lists the user's Items") or diag($res->as_string);
    my $list = json_body($res) || {};
    is_deeply([sort map { $_->{item_id} } @{ $list->{items} || [] }],
              [sort $one, $two], '... exactly theirs');
    my ($first) = @{ $list->{items} || [] };
    is_deeply([sort keys %{ $first || {} }],
              [qw(created institution_id item_id status updated)],
              '... item_id, institution_id, status and times');
    unlike($res->content, qr/access-|v1\./, '... never a token');

    $res = items('GET', '/items/manage', unique_user('nobody'));
    is_deeply((json_body($res) || {})->{items}, [], 'another user: no Items');

    my $mark = log_mark();
    $res = items('DELETE', "/items/manage/$one", $bob);
    my @log = log_since($mark);
    error_answer_ok($res, "DELETE of another user's Item", 404,
                    'Unknown Item', @log);
    ok(!called('/item/remove', @log), '... and no call');
    ok(row_of($one), '... the Item kept');

    $mark = log_mark();
    $res = items('DELETE', "/items/manage/$one", $carol);
    @log = log_since($mark);
    is($res->code, 200, "DELETE of the user's Item: 200")
        or diag($res->as_string, @log);
    is((json_body($res) || {})->{removed}, $one, '... says which');
    ok(called('/item/remove', @log), '... /item/remove called');
    ok(!row_of($one), '... the row deleted');
    ok(grep({ /PL0177: Item removed/ } @log), '... PL0177') or diag(@log);

    $res = request_token('/items/manage', user => $carol, method => 'PUT');
    is($res->code, 405, 'PUT: 405');
    is($res->header('Allow'), 'GET, POST, DELETE',
       '... Allow: GET, POST, DELETE');
    $mark = log_mark();
    $res = request_token('/items/manage', user => $carol);
    @log = log_since($mark);
    is($res->code, 404, 'POST of the list itself: 404');
    ok(grep({ /PL0179: / } @log), '... PL0179') or diag(@log);
    $res = items('GET', '/items/manage', undef);
    is($res->code, 401, 'nobody signed in: 401');
    $res = request_token('/items/manage', method => 'GET', user => $carol,
                         content => undef);
    is($res->code, 415, 'without X-Requested-With or JSON: 415');

    # The gateway's /item/remove by item_id forgets the Item too.
    $res = api('/items/api/item/remove', { item_id => $two });
    is($res->code, 200, "the gateway's /item/remove by item_id")
        or diag($res->as_string);
    ok(!row_of($two), '... forgets the Item');
}

# --- Link's update mode -----------------------------------------------------------

{
    my $dave = unique_user('dave');
    my $id = new_item($dave)->{item_id} // '';
    my $mark = log_mark();
    my $res = request_token('/items/link-token', user => $dave,
                            content => $json->encode({ item_id => $id }));
    my @log = log_since($mark);
    is($res->code, 200, "update mode: a link_token for the user's Item")
        or diag($res->as_string, @log);
    like((json_body($res) || {})->{link_token} // '', token_re(),
         '... a link_token');
    my ($body) = emulator_bodies(@log);
    is(($body || {})->{access_token}, '[withheld]',
       '... made with its access_token');
    ok($body && !exists $body->{products}, '... and no products');
    unlike(join('', @log), qr/access-sandbox-[0-9a-f]{8}-/, '... none logged');

    $mark = log_mark();
    $res = request_token('/items/link-token', user => $bob,
                         content => $json->encode({ item_id => $id }));
    @log = log_since($mark);
    error_answer_ok($res, "update mode for another user's Item", 404,
                    'Unknown Item', @log);
    ok(!called('/link/token/create', @log), '... and no call');
}

# --- ITEM webhooks keep the status ------------------------------------------------

sub sign { return emulator_sign(shift, 'good')->{jwt} }

sub webhook {
    my %fields = @_;
    my $body = $json->encode({ webhook_type => 'ITEM',
                               environment => 'sandbox', %fields });
    my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
    return $ua->request(HTTP::Request->new(POST =>
        vhost_url(undef, '/items/webhook'),
        ['Content-Type' => 'application/json',
         'Plaid-Verification' => sign($body)], $body));
}

{
    my $erin = unique_user('erin');
    my $id = new_item($erin)->{item_id} // '';
    my $res = webhook(webhook_code => 'ERROR', item_id => $id,
                      error => { error_type => 'ITEM_ERROR',
                                 error_code => 'ITEM_LOGIN_REQUIRED' });
    is($res->code, 200, 'an ITEM ERROR webhook is handed off')
        or diag($res->as_string);
    is((row_of($id) || [])->[4], 'error:ITEM_LOGIN_REQUIRED',
       '... after the status is kept with its error_code');
    for my $case (['PENDING_EXPIRATION', 'pending_expiration'],
                  ['PENDING_DISCONNECT', 'pending_disconnect'],
                  ['USER_PERMISSION_REVOKED', 'revoked'],
                  ['LOGIN_REPAIRED', 'good']) {
        $res = webhook(webhook_code => $case->[0], item_id => $id);
        is((row_of($id) || [])->[4], $case->[1],
           "$case->[0]: status $case->[1]");
    }
    my $list = json_body(items('GET', '/items/manage', $erin)) || {};
    is((($list->{items} || [])->[0] || {})->{status}, 'good',
       'GET shows the status');
}

# --- Plaid's answers keep the status; the repair of a reset Item --------------

sub status_line {
    my ($id, $status, $from, @log) = @_;
    return scalar grep { /PL0178: Item status: .*item_id="\Q$id\E" status=\Q$status\E from=\Q$from\E/ } @log;
}

{
    my $gina = unique_user('gina');
    my $id = new_item($gina)->{item_id} // '';
    my $res = api('/items/api/sandbox/item/reset_login', { item_id => $id });
    is($res->code, 200, 'the sandbox resets the Item (by item_id)')
        or diag($res->as_string);

    my $mark = log_mark();
    $res = api('/items/api/accounts/balance/get', { item_id => $id });
    my @log = log_since($mark);
    is($res->code . ' ' . ((json_body($res) || {})->{error_code} // ''),
       '400 ITEM_LOGIN_REQUIRED',
       "a balance call by item_id: Plaid's ITEM_LOGIN_REQUIRED passed on");
    is((row_of($id) || [])->[4], 'error:ITEM_LOGIN_REQUIRED',
       '... and kept as the Item\'s status');
    ok(status_line($id, 'error:ITEM_LOGIN_REQUIRED', '/accounts/balance/get',
                   @log), '... said by PL0178, naming the call') or diag(@log);

    $res = items('POST', "/items/manage/$id", $gina);
    is($res->code, 200, 'POST <location>/<item_id>: 200')
        or diag($res->as_string);
    is(((json_body($res) || {})->{item} || {})->{status},
       'error:ITEM_LOGIN_REQUIRED', '... Plaid\'s /item/get: still in error');

    $mark = log_mark();
    $res = items('POST', "/items/manage/$id", $bob);
    @log = log_since($mark);
    error_answer_ok($res, "POST of another user's Item", 404, 'Unknown Item',
                    @log);
    ok(!called('/item/get', @log), '... and no call');

    # Link's update mode: the link_token for the Item, Link completed.
    $res = request_token('/items/link-token', user => $gina,
                         content => $json->encode({ item_id => $id }));
    my $link = (json_body($res) || {})->{link_token} // '';
    my $ua = LWP::UserAgent->new(timeout => 30);
    $res = $ua->request(HTTP::Request->new(POST =>
        vhost_url('plaid_emulator_http', '/sandbox/link/complete'),
        ['Content-Type' => 'application/json'],
        $json->encode({ link_token => $link })));
    is($res->code, 200, 'Link completes in update mode') or diag($res->as_string);

    $mark = log_mark();
    $res = items('POST', "/items/manage/$id", $gina);
    @log = log_since($mark);
    my $shown = (json_body($res) || {})->{item} || {};
    is($shown->{status}, 'good', 'then POST <location>/<item_id>: good')
        or diag($res->as_string, @log);
    is_deeply([sort keys %$shown],
              [qw(created institution_id item_id status updated)],
              '... the Item as GET lists it');
    unlike($res->content, qr/access-|v1\./, '... never a token');
    ok(called('/item/get', @log), '... Plaid was asked (/item/get)');
    is((row_of($id) || [])->[4], 'good', '... the status kept');
    ok(status_line($id, 'good', '/item/get', @log), '... and said (PL0178)')
        or diag(@log);
    unlike(join('', @log), qr/access-sandbox-[0-9a-f]{8}-/,
           '... no access_token logged');
    $res = api('/items/api/accounts/balance/get', { item_id => $id });
    is($res->code, 200, '... and the balance call works again')
        or diag($res->as_string);

    # Between webhooks, /item/get's "good" ends an error and nothing else.
    webhook(webhook_code => 'PENDING_EXPIRATION', item_id => $id);
    $res = api('/items/api/item/get', { item_id => $id });
    is($res->code . ' ' . (row_of($id) || [])->[4], '200 pending_expiration',
       "the gateway's /item/get with no item.error leaves "
       . 'pending_expiration');
    api('/items/api/sandbox/item/reset_login', { item_id => $id });
    $mark = log_mark();
    $res = api('/items/api/item/get', { item_id => $id });
    @log = log_since($mark);
    is($res->code . ' ' . (row_of($id) || [])->[4],
       '200 error:ITEM_LOGIN_REQUIRED',
       "... and keeps item.error's code when there is one");
    ok(status_line($id, 'error:ITEM_LOGIN_REQUIRED', '/item/get', @log),
       '... said by PL0178') or diag(@log);
}

# --- migration: an application's own token moved in ---------------------------

{
    my $ua = LWP::UserAgent->new(timeout => 30);
    my $res = $ua->request(HTTP::Request->new(POST =>
        vhost_url('plaid_emulator_http', '/sandbox/item/public_token/exchange'),
        ['Content-Type' => 'application/json',
         'PLAID-CLIENT-ID' => 'sandbox0client0id000001',
         'PLAID-SECRET' => 'sandbox-secret-Zq7Xv9'],
        $json->encode({ public_token => public_token() })));
    my $own = json_body($res) || {};
    like($own->{access_token} // '', qr/\Aaccess-sandbox-/,
         'an application holds an access_token of its own');
    my $frank = unique_user('frank');
    my $pid = IPC::Open2::open2(my $out, my $in,
        "$FindBin::Bin/../build/plaid-item-seal", "$conf/secrets/items.key",
        'sandbox', $own->{item_id} // '', $frank);
    print $in "$own->{access_token}\n";
    close $in;
    chomp(my $sealed = <$out> // '');
    waitpid $pid, 0;
    like($sealed, qr/\Av1\.[0-9a-f]{8}\./, 'plaid-item-seal seals it')
        or diag($sealed);
    sql("INSERT INTO plaid_items VALUES ('sandbox', '$own->{item_id}', "
        . "'$frank', '', 'good', '$sealed', 1, 1)");
    $res = api('/items/api/accounts/get', { item_id => $own->{item_id} });
    is($res->code, 200, '... and the gateway uses the moved Item by item_id')
        or diag($res->as_string);
    my $list = json_body(items('GET', '/items/manage', $frank)) || {};
    is((($list->{items} || [])->[0] || {})->{item_id}, $own->{item_id},
       '... which its user sees');
}

# --- the database locked ------------------------------------------------------------

{
    my $pid = IPC::Open2::open2(my $out, my $in, 'sqlite3', '-batch', $db);
    print $in "BEGIN EXCLUSIVE;\nSELECT 'locked';\n";
    $in->flush;
    my $said = <$out> // '';
    is($said, "locked\n", 'the test holds the database locked');
    my $mark = log_mark();
    my $res = api('/items/api/accounts/get', { item_id => $item_id });
    my @log = log_since($mark);
    print $in "COMMIT;\n.quit\n";
    close $in;
    waitpid $pid, 0;
    error_answer_ok($res, 'the database locked', 503, 'Unable to call Plaid',
                    @log);
    is(scalar(grep { /PL0171: / } @log), 1, '... one PL0171 line')
        or diag(@log);
    ok(!called('/accounts/get', @log), '... and no call');
}

# --- apache2 -t ------------------------------------------------------------------

{
    my $tmp = File::Temp->newdir('plaid-items-XXXXXX', TMPDIR => 1);
    my $key = "$tmp/items.key";
    write_file($key, ('ab' x 32) . "\n");
    write_file("$tmp/short.key", "abcdef\n");
    my $n = 0;
    my $check = sub {
        my ($body, $dbd) = @_;
        my $file = "$tmp/httpd-" . ++$n . '.conf';
        my $mods = '/usr/lib/apache2/modules';
        my $so = "$FindBin::Bin/../.libs/mod_plaid_link.so";
        write_file($file, join "\n",
            qq(ServerRoot "$tmp"), 'ServerName localhost',
            qq(DefaultRuntimeDir "$tmp"), qq(PidFile "$tmp/httpd.pid"),
            qq(ErrorLog "$tmp/error_log"), 'Listen 127.0.0.1:80',
            "LoadModule mpm_event_module $mods/mod_mpm_event.so",
            "LoadModule authz_core_module $mods/mod_authz_core.so",
            ($dbd ? ("LoadModule dbd_module $mods/mod_dbd.so",
                     'DBDriver sqlite3', "DBDParams $tmp/x.db") : ()),
            qq(LoadModule plaid_link_module "$so"),
            "LoadModule info_module $mods/mod_info.so",
            '<Location /plaid/exchange>',
            'SetHandler plaid-public-token-exchange', 'PlaidEnv sandbox',
            'PlaidClientId cfgclient0id000077', qq(PlaidSecret "file:$key"),
            'PlaidExchangeHandoff /app/item.php', $body, '</Location>', '');
        my $out = qx{/usr/sbin/apache2 -t -D DUMP_CONFIG -f '$file' 2>&1};
        return ($? >> 8, $out);
    };
    my ($rc, $out) = $check->("PlaidItemStore dbd\nPlaidItemKey file:$key", 1);
    is($rc, 0, 'apache2 -t: PlaidItemStore with its key passes') or diag($out);
    like($out, qr/PlaidItemKey \(hidden\)/,
         '... mod_info shows PlaidItemKey (hidden)') or diag($out);
    unlike($out, qr/(?:ab){32}/, '... never the key');
    ($rc, $out) = $check->('PlaidItemStore dbd', 1);
    isnt($rc, 0, 'PlaidItemStore without PlaidItemKey fails');
    like($out, qr/PL0170: .*PlaidItemKey.*\/plaid\/exchange/,
         '... naming PlaidItemKey and the location') or diag($out);
    ($rc, $out) = $check->("PlaidItemStore dbd\n"
                           . "PlaidItemKey file:$tmp/short.key", 1);
    isnt($rc, 0, 'a key that is not 64 hex digits fails');
    like($out, qr/PlaidItemKey.*64 hex digits/, '... naming PlaidItemKey')
        or diag($out);
    unlike($out, qr/abcdef/, '... not quoting the file');
    ($rc, $out) = $check->("PlaidItemStore dbd\n"
                           . "PlaidItemKey file:$tmp/none.key", 1);
    isnt($rc, 0, 'a missing key file fails');
    like($out, qr/PlaidItemKey/, '... naming PlaidItemKey') or diag($out);
    ($rc, $out) = $check->("PlaidItemStore dbd\nPlaidItemKey " . ('ab' x 32),
                           1);
    isnt($rc, 0, 'a key written inline fails');
    unlike($out, qr/(?:ab){32}/, '... not quoting it') or diag($out);
    ($rc, $out) = $check->("PlaidItemStore dbd\nPlaidItemKey file:$key", 0);
    isnt($rc, 0, 'PlaidItemStore without mod_dbd fails');
    like($out, qr/mod_dbd/, '... naming mod_dbd') or diag($out);
}

sub write_file {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh or die "$path: $!";
    chmod 0600, $path;
}

# --- nothing leaked ---------------------------------------------------------------

{
    open my $fh, '<', PlaidTest::error_log() or die "error_log: $!";
    my $bad = grep { /access-(?:sandbox|production)-[0-9a-f]{8}-/ } <$fh>;
    is($bad, 0, 'no access_token in the error log');
}
