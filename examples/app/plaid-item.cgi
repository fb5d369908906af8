#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
#
# The demo's application behind PlaidExchangeHandoff (scripts/run.sh): it
# notes the item_id of the Item that mod_plaid_link exchanged for the
# signed-in user, and answers the page with it. The module keeps the Item
# itself (PlaidItemStore dbd, docs/items.md): no access_token comes here.
# Perl and its core modules only, which Debian's apache2 brings: the demo
# installs nothing more.
# plaid-item.php beside it does the same in PHP, with SQLite.
#
# The module redirected the browser's POST here internally, with the Item
# in the environment (PLAID_ITEM_ID, PLAID_CLIENT_USER_ID); a request
# straight to this URL gets 404 from the module, so these values are
# always the module's.
#
# The store is the file PLAID_EXAMPLE_DB (SetEnv), outside the document
# root: one JSON object per line, {"item_id", "client_user_id",
# "created_at"}, one line per item_id: mode 600, in a directory only
# httpd's user can enter.
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

my ($item_id, $user) = @ENV{qw(PLAID_ITEM_ID PLAID_CLIENT_USER_ID)};
my $path = $ENV{PLAID_EXAMPLE_DB};
answer('500 Internal Server Error', {error => 'no Item was handed over'})
    unless $item_id && defined $user && $path;

# Linking the same Item again keeps its line. The lock makes concurrent
# exchanges take turns.
umask 077;
my $fh;
sysopen($fh, $path, O_RDWR | O_CREAT, 0600) && flock($fh, LOCK_EX)
    or answer('500 Internal Server Error', {error => 'the store cannot be written'});
my @items = map { $json->decode($_) } grep { /\S/ } <$fh>;
my ($same) = grep { $_->{item_id} eq $item_id } @items;
if ($same) {
    $same->{client_user_id} = $user;
}
else {
    push @items, {item_id => $item_id, client_user_id => $user,
                  created_at => strftime('%Y-%m-%dT%H:%M:%SZ', gmtime)};
}
seek($fh, 0, 0);
truncate($fh, 0);
print {$fh} map { $json->encode($_) . "\n" } @items;
close($fh) or answer('500 Internal Server Error', {error => 'the store cannot be written'});

# The page needs only the item_id.
answer('200 OK', {item_id => $item_id});
