<?php
// SPDX-License-Identifier: Apache-2.0
// The application behind PlaidWebhookHandoff under prefork with mod_php
// (t/webhook.t): the body from php://input, the variables from $_SERVER.
header('Content-Type: application/json');
$body = file_get_contents('php://input');
echo json_encode([
    'webhook_type' => $_SERVER['PLAID_WEBHOOK_TYPE'] ?? null,
    'webhook_code' => $_SERVER['PLAID_WEBHOOK_CODE'] ?? null,
    'item_id' => $_SERVER['PLAID_ITEM_ID'] ?? null,
    'body_sha256' => hash('sha256', $body),
    'body_length' => strlen($body),
]), "\n";
