#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
#
# The demo's application behind PlaidExchangeHandoff (scripts/run.sh): it
# stores the Item that mod_plaid_link exchanged for the signed-in user, and
# answers the page with its item_id. Perl and its core modules only, which
# Debian's apache2 brings: the demo installs nothing more.
# plaid-item.php beside it does the same in PHP, with SQLite.
#
# The module redirected the browser's POST here internally, with the Item
# in the environment (PLAID_ITEM_ID, PLAID_ACCESS_TOKEN,
# PLAID_CLIENT_USER_ID); a request straight to this URL gets 404 from the
# module, so these values are always the module's.
#
# The store is the file PLAID_EXAMPLE_DB (SetEnv), outside the document
# root: one JSON object per line, {"item_id", "client_user_id",
# "access_token", "created_at"}, one line per item_id. It holds access
# tokens: mode 600, in a directory only httpd's user can enter.
use strict;
use warnings;

use Fcntl qw(:flock O_RDWR O_CREAT);
use JSON::PP ();
use POSIX qw(strftime);

my $json = JSON::PP->new->utf8->canonical;

sub answer {
    my ($status, $body) = @_;
    print "Status: $status\r\nContent-Type: application/json\r\n",
          "Cache-Control: no-store\r\n\r\n", $json->encode($body), "\n";
    exit 0;
}

my ($item_id, $access_token, $user) =
    @ENV{qw(PLAID_ITEM_ID PLAID_ACCESS_TOKEN PLAID_CLIENT_USER_ID)};
my $path = $ENV{PLAID_EXAMPLE_DB};
answer('500 Internal Server Error', {error => 'no Item was handed over'})
    unless $item_id && $access_token && defined $user && $path;

# Linking the same Item again keeps its line and takes the new
# access_token. The lock makes concurrent exchanges take turns.
umask 077;
my $fh;
sysopen($fh, $path, O_RDWR | O_CREAT, 0600) && flock($fh, LOCK_EX)
    or answer('500 Internal Server Error', {error => 'the store cannot be written'});
my @items = map { $json->decode($_) } grep { /\S/ } <$fh>;
my ($same) = grep { $_->{item_id} eq $item_id } @items;
if ($same) {
    @$same{qw(client_user_id access_token)} = ($user, $access_token);
}
else {
    push @items, {item_id => $item_id, client_user_id => $user,
                  access_token => $access_token,
                  created_at => strftime('%Y-%m-%dT%H:%M:%SZ', gmtime)};
}
seek($fh, 0, 0);
truncate($fh, 0);
print {$fh} map { $json->encode($_) . "\n" } @items;
close($fh) or answer('500 Internal Server Error', {error => 'the store cannot be written'});

# The page needs only the item_id. Never send the access_token to the
# browser: it is the credential for every later call about this Item.
answer('200 OK', {item_id => $item_id});
