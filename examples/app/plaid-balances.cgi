#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
#
# The signed-in user's balances, as JSON for the page (scripts/run.sh's
# demo): every Item plaid-item.cgi stored for the user, each asked for its
# balances through mod_plaid_link's gateway (SetHandler plaid-api,
# docs/php.md). No Plaid credential here: the gateway adds them. The same
# answer as plaid-balances.php, in Perl and its core modules only:
#
#   {"items": [{"item_id", "accounts": [{"name", "mask", "type", "subtype",
#                                        "current", "available",
#                                        "iso_currency_code"}, ...]},
#              {"item_id", "error_code", "message", "update_mode": true,
#               "request_id"}, ...]}
#
# The gateway takes the item_id and puts the Item's access_token, which
# the module keeps (PlaidItemStore dbd), in its place: this application
# never holds one. An Item the user removed (the page's "Remove", which
# asks the module) is unknown to the gateway (404): it is left out.
use strict;
use warnings;
use utf8;

use Fcntl qw(:flock);
use HTTP::Tiny ();
use JSON::PP ();

my $json = JSON::PP->new->utf8->canonical;
# From the httpd config (SetEnv): the store plaid-item.cgi writes, and the
# gateway, on a loopback address (only loopback callers are admitted).
my $path = $ENV{PLAID_EXAMPLE_DB} // '';
my $gateway = $ENV{PLAID_API_URL} // '';
my $http = HTTP::Tiny->new(timeout => 30);

# The user's Items, by the client_user_id the exchange stored: the module's
# PlaidUserId, REMOTE_USER by default. No store yet means no Item yet.
sub stored_items {
    my $user = $ENV{REMOTE_USER} // '';
    open(my $fh, '<', $path) or return ();
    flock($fh, LOCK_SH);
    return grep { $_->{client_user_id} eq $user }
           map { $json->decode($_) } grep { /\S/ } <$fh>;
}

# Plaid's status and body, through the gateway; status 0 when the gateway
# did not answer.
sub plaid_api {
    my ($plaid_path, $body) = @_;
    my $r = $http->post("$gateway$plaid_path", {
        headers => {'Content-Type' => 'application/json'},
        content => $json->encode($body)});
    my $answer = eval { $json->decode($r->{content}) };
    return ($r->{status} == 599 ? 0 : $r->{status},
            ref $answer eq 'HASH' ? $answer : {});
}

sub balances {
    my ($item) = @_;
    my ($status, $body) = plaid_api('/accounts/balance/get',
                                    {item_id => $item->{item_id}});
    return () if $status == 404 && ($body->{error} // '') eq 'Unknown Item';
    if ($status == 200 && ref $body->{accounts} eq 'ARRAY') {
        return {item_id => $item->{item_id}, accounts => [map { {
            name => $_->{name}, mask => $_->{mask}, type => $_->{type},
            subtype => $_->{subtype}, current => $_->{balances}{current},
            available => $_->{balances}{available},
            iso_currency_code => $_->{balances}{iso_currency_code},
        } } @{ $body->{accounts} }]};
    }
    # Plaid's error_code when Plaid answered, null when it did not; the
    # request_id finds the module's PL0100 line, which says why.
    my $code = $body->{error_code};
    my $failed = {item_id => $item->{item_id}, error_code => $code,
                  request_id => $body->{request_id}};
    if (($code // '') eq 'ITEM_LOGIN_REQUIRED') {
        # The application would open Link in update mode for this Item.
        $failed->{message} = 'Your bank needs you to sign in again.';
        $failed->{update_mode} = JSON::PP::true;
    }
    else {
        $failed->{message} = 'We couldn’t get this account’s balances right now.';
        printf STDERR "plaid-balances: item_id=%s status=%d %s request_id=%s\n",
            $item->{item_id}, $status, $code // $body->{error} // 'no answer',
            $body->{request_id} // '-';
    }
    return $failed;
}

my @out = map { balances($_) } stored_items();
print "Content-Type: application/json\r\nCache-Control: no-store\r\n\r\n",
      $json->encode({items => \@out}), "\n";
