#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# The application behind PlaidWebhookHandoff in t/webhook.t: what a site's
# own code receives of a verified webhook, answered as JSON: the three
# variables and the body it read on its standard input, by its SHA-256.
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);

binmode STDIN;
my $body = do { local $/; <STDIN> } // '';
my %seen = (
    webhook_type   => $ENV{PLAID_WEBHOOK_TYPE},
    webhook_code   => $ENV{PLAID_WEBHOOK_CODE},
    item_id        => $ENV{PLAID_ITEM_ID},
    body_sha256    => sha256_hex($body),
    body_length    => length $body,
    method         => $ENV{REQUEST_METHOD},
    access_token   => $ENV{PLAID_ACCESS_TOKEN},
);
print "Content-Type: application/json\n\n";
print '{', join(',', map {
    my $v = $seen{$_};
    defined $v ? do { (my $e = $v) =~ s/(["\\])/\\$1/g; qq("$_":"$e") } : qq("$_":null)
} sort keys %seen), "}\n";
