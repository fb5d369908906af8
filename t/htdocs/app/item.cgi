#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# The application behind PlaidExchangeHandoff in t/exchange.t: what a
# site's own code receives from the exchange, answered as JSON. It says
# whether it got an access_token that looks like one, never the token.
use strict;
use warnings;

my $token = $ENV{PLAID_ACCESS_TOKEN};
my %seen = (
    item_id        => $ENV{PLAID_ITEM_ID},
    client_user_id => $ENV{PLAID_CLIENT_USER_ID},
    request_id     => $ENV{PLAID_REQUEST_ID},
    access_token_ok => (defined $token
                        && $token =~ /\Aaccess-(?:sandbox|production)-[0-9a-f-]{36}\z/
                        ? 1 : 0),
    cookie         => $ENV{HTTP_COOKIE},
    method         => $ENV{REQUEST_METHOD},
    plaid_vars     => join(',', sort grep { /PLAID_(?:ACCESS_TOKEN|ITEM_ID|CLIENT_USER_ID|REQUEST_ID)/ } keys %ENV),
);
print "Content-Type: application/json\n\n";
print '{', join(',', map {
    my $v = $seen{$_};
    defined $v ? do { (my $e = $v) =~ s/(["\\])/\\$1/g; qq("$_":"$e") } : qq("$_":null)
} sort keys %seen), "}\n";
