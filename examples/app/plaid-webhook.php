<?php
// SPDX-License-Identifier: Apache-2.0
// The application behind PlaidWebhookHandoff: the module verified the
// webhook's signature and, for an ITEM webhook, kept the Item's new status
// (the page's "Linked accounts" shows it) before it redirected Plaid's
// POST here internally, with its body as it came and PLAID_WEBHOOK_TYPE,
// PLAID_WEBHOOK_CODE and PLAID_ITEM_ID. This example only notes the
// webhook in httpd's error log and answers 200, so that Plaid does not
// send it again.
header('Content-Type: application/json');
error_log(sprintf('plaid-webhook: %s %s item_id=%s',
                  $_SERVER['PLAID_WEBHOOK_TYPE'] ?? '-',
                  $_SERVER['PLAID_WEBHOOK_CODE'] ?? '-',
                  $_SERVER['PLAID_ITEM_ID'] ?? '-'));
echo "{}\n";
