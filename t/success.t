# SPDX-License-Identifier: Apache-2.0
# The happy path: a signed-in user POSTs {} and gets a link_token made by
# the emulator from the location's configuration.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use PlaidTest;

plan tests => 42;

# --- one success, checked field by field ----------------------------------
my $user = unique_user('success');
my $mark = log_mark();
my $res  = post_token('/plaid/link-token', user => $user);
my @log  = log_since($mark);
my $json = json_body($res);

is($res->code, 200, 'POST {} answers 200') or diag($res->as_string, @log);
like($res->header('Content-Type') || '', qr{^application/json\b},
     'Content-Type application/json');
like($res->header('Cache-Control') || '', qr/\bno-store\b/,
     'Cache-Control no-store');
is($res->header('X-Content-Type-Options'), 'nosniff',
   'X-Content-Type-Options nosniff');
ok($json, 'the body is a JSON object') or diag($res->content);
$json ||= {};
is_deeply([sort keys %$json], [qw(expiration link_token request_id)],
          'exactly link_token, expiration and request_id');
like($json->{link_token} || '', token_re(), 'link_token is link-sandbox-<uuid>');
like($json->{link_token} || '', qr/^link-sandbox-/, '... a sandbox token');
like($json->{expiration} || '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/,
     'expiration is an RFC 3339 time');
like($json->{request_id} || '', qr/^\S{8,}$/, 'request_id is set');

my ($sent) = emulator_bodies(@log);
ok($sent, 'the emulator logged the body it accepted') or diag(@log);
$sent ||= {};
is($sent->{user}{client_user_id}, $user,
   'PlaidUserId %{HTTP:X-Test-User} became user.client_user_id');
is($sent->{client_name}, 'mod_plaid_link tests', 'client_name from the server');
is($sent->{language}, 'en', 'language');
is_deeply($sent->{country_codes}, [qw(US CA)], 'country_codes in order');
is_deeply($sent->{products}, [qw(auth transactions)], 'products in order');
ok(!exists $sent->{client_id} && !exists $sent->{secret},
   'credentials are not in the logged body');

my $id = $json->{request_id} || 'none';
my @ok_lines = grep { /PL0101/ } @log;
is(scalar @ok_lines, 1, 'one PL0101 success line at debug') or diag(@log);
like($ok_lines[0] || '', qr/\[plaid_link:debug\]/, '... logged by plaid_link');
like($ok_lines[0] || '', qr/\bid=\Q$id\E\b/, '... with the correlation id');
like($ok_lines[0] || '', qr{location=/plaid/link-token\b}, '... and location');
ok(!grep({ /PL0100/ } @log), 'no failure line');

# --- a second request gets its own token and id ---------------------------
my $res2  = post_token('/plaid/link-token');
my $json2 = json_body($res2) || {};
is($res2->code, 200, 'a second request succeeds');
isnt($json2->{link_token}, $json->{link_token}, '... with a new link_token');
isnt($json2->{request_id}, $json->{request_id}, '... and a new request_id');

# --- every optional field, validated by the emulator ----------------------
$mark = log_mark();
$res  = post_token('/plaid/full');
@log  = log_since($mark);
is($res->code, 200, 'all optional directives: 200') or diag($res->as_string, @log);
($sent) = emulator_bodies(@log);
$sent ||= {};
is_deeply([@{$sent}{qw(optional_products required_if_supported_products
                         additional_consented_products)}],
          [[qw(identity)], [qw(investments)], [qw(liabilities)]],
          '... optional, required_if_supported and additional_consented sent');
is($sent->{webhook}, 'https://example.com/plaid/webhook', '... webhook sent');
is($sent->{link_customization_name}, 'default', '... customization sent');
is_deeply($sent->{account_filters},
          {depository => {account_subtypes => ['checking']}},
          '... PlaidLinkTokenExtra merged into the body');

# --- a real login: the default PlaidUserId is REMOTE_USER ------------------
$mark = log_mark();
$res  = request_token('/login/link-token', user => undef,
                      username => 'alice', password => 'alice-password');
@log  = log_since($mark);
is($res->code, 200, 'basic auth user alice gets a token')
    or diag($res->as_string, @log);
ok(grep({ /"client_user_id":"alice"/ } @log),
   '... and alice is user.client_user_id') or diag(@log);
like(join('', grep { /PL0101/ } @log), qr{location=/login/link-token\b},
     '... logged with its location') or diag(@log);

# --- the headers Plaid needs besides the credentials -----------------------
$mark = log_mark();
$res  = post_token('/plaid/link-token');
@log  = log_since($mark);
my ($headers) = grep { /plaid_emulator: \S+ headers / } @log;
$headers ||= '';
like($headers, qr/\bplaid-version=2020-09-14\b/, 'Plaid-Version: 2020-09-14 sent')
    or diag(@log);
like($headers, qr{\buser-agent=mod_plaid_link/\d+\.\d+\.\d+\b},
     'User-Agent names the module and its version') or diag($headers);
like($headers, qr{\bcontent-type=application/json\b}, 'Content-Type: application/json')
    or diag($headers);

# --- mod_unique_id's UNIQUE_ID is the correlation id -----------------------
$mark = log_mark();
$res  = post_token('/plaid/unique-id');
@log  = log_since($mark);
is(json_body($res) && json_body($res)->{request_id}, 'test-unique-id-Zx81',
   'UNIQUE_ID is the request_id the browser sees') or diag($res->as_string);
like(join('', grep { /PL0100/ } @log), qr/\bid=test-unique-id-Zx81\b/,
     '... and the id= of the log line') or diag(@log);

# --- the module's URLs are no files ---------------------------------------
# <Directory "htdocs/nofile"> denies all: a file there is refused, the
# link-token location below it answers (no directory walk for it), and a
# <Location> Require still refuses.
is(Apache::TestRequest::GET('/nofile/index.html')->code, 403,
   'a file below the denying <Directory> is refused');
$res = post_token('/nofile/link-token');
is($res->code, 200, '<Directory> does not apply to a link-token URL')
    or diag($res->as_string);
like(json_body($res) && json_body($res)->{link_token} || '', token_re(),
     '... it answers a link_token');
is(post_token('/nofile/located')->code, 403,
   '<Location> Require applies to it');
