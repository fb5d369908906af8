#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
#
# The demo's application behind PlaidWebhookHandoff (scripts/run.sh): the
# module verified the webhook's signature and, for an ITEM webhook, kept
# the Item's new status (the page's "Linked accounts" shows it) before it
# redirected Plaid's POST here internally, with its body as it came and
# PLAID_WEBHOOK_TYPE, PLAID_WEBHOOK_CODE and PLAID_ITEM_ID. This demo only
# notes the webhook in httpd's error log and answers 200, so that Plaid
# does not send it again. plaid-webhook.php beside it does the same in PHP.
use strict;
use warnings;

my ($type, $code, $item_id) =
    @ENV{qw(PLAID_WEBHOOK_TYPE PLAID_WEBHOOK_CODE PLAID_ITEM_ID)};
printf STDERR "plaid-webhook: %s %s item_id=%s\n", $type // '-', $code // '-',
    $item_id // '-';
print "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{}\n";
