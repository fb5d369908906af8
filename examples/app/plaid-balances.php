<?php
// SPDX-License-Identifier: Apache-2.0
// The signed-in user's balances, as JSON for the page: every Item that
// examples/app/plaid-item.php stored for the user, each asked for its
// balances through mod_plaid_link's gateway (SetHandler plaid-api,
// docs/php.md). No Plaid credential here: the gateway adds them.
//
//   {"items": [{"item_id", "accounts": [{"name", "mask", "type", "subtype",
//                                        "current", "available",
//                                        "iso_currency_code"}, ...]},
//              {"item_id", "error_code", "message", "update_mode": true,
//               "request_id"}, ...]}
//
// An Item that failed has a "message" for the customer, "error_code"
// (Plaid's, null when Plaid did not answer) and "request_id" (Plaid's, or
// the module's when Plaid did not answer) to quote to support. The
// gateway takes the item_id and puts the Item's access_token, which the
// module keeps (PlaidItemStore dbd), in its place: this application never
// holds one. An Item the user removed (the page's "Remove", which asks
// the module) is unknown to the gateway (404): it is left out.
require __DIR__ . '/../plaid-api.php';   // examples/plaid-api.php

header('Content-Type: application/json');
header('Cache-Control: no-store');

// From the httpd config (SetEnv): the database plaid-item.php writes, and
// the gateway, on a loopback address (only loopback callers are admitted).
$path = $_SERVER['PLAID_EXAMPLE_DB'];
$gateway = $_SERVER['PLAID_API_URL'];

// This page only reads: no database yet means no Item yet.
if (!is_file($path)) {
    echo json_encode(['items' => []]), "\n";
    exit;
}
$db = new PDO('sqlite:' . $path, null, null,
              [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_TIMEOUT => 5,
               PDO::SQLITE_ATTR_OPEN_FLAGS => PDO::SQLITE_OPEN_READONLY]);

// The user's Items, by the client_user_id the exchange stored: the
// module's PlaidUserId, REMOTE_USER by default. With another PlaidUserId
// (PlaidUserIdHashKey, a claim), look the user up by that same value.
$items = $db->prepare('SELECT item_id FROM plaid_items
                       WHERE client_user_id = ? ORDER BY created_at, rowid');
$items->execute([$_SERVER['REMOTE_USER'] ?? '']);

$out = [];
foreach ($items->fetchAll(PDO::FETCH_ASSOC) as $item) {
    $r = plaid_api('/accounts/balance/get', ['item_id' => $item['item_id']], $gateway);
    $body = is_array($r['body']) ? $r['body'] : [];
    if ($r['status'] === 404 && ($body['error'] ?? null) === 'Unknown Item') {
        continue;
    }
    if ($r['status'] === 200 && is_array($body['accounts'] ?? null)) {
        $accounts = [];
        foreach ($body['accounts'] as $a) {
            $accounts[] = ['name' => $a['name'], 'mask' => $a['mask'],
                           'type' => $a['type'], 'subtype' => $a['subtype'],
                           'current' => $a['balances']['current'],
                           'available' => $a['balances']['available'],
                           'iso_currency_code' => $a['balances']['iso_currency_code']];
        }
        $out[] = ['item_id' => $item['item_id'], 'accounts' => $accounts];
        continue;
    }
    // Plaid's error_code when Plaid answered; the module's "error" when it
    // did not (a status of 0: the gateway itself did not answer). The
    // request_id finds the module's PL0100 line, which says why.
    $code = $body['error_code'] ?? null;
    $failed = ['item_id' => $item['item_id'], 'error_code' => $code,
               'request_id' => $body['request_id'] ?? null];
    if ($code === 'ITEM_LOGIN_REQUIRED') {
        // Nothing is wrong but the bank wants the user again: the
        // application would open Link in update mode for this Item (a
        // link_token for its item_id, docs/items.md).
        $failed['message'] = 'Your bank needs you to sign in again.';
        $failed['update_mode'] = true;
    } else {
        $failed['message'] = 'We couldn’t get this account’s balances right now.';
        error_log(sprintf('plaid-balances: item_id=%s status=%d %s request_id=%s',
                          $item['item_id'], $r['status'],
                          $code ?? $body['error'] ?? 'no answer',
                          $failed['request_id'] ?? '-'));
    }
    $out[] = $failed;
}
echo json_encode(['items' => $out]), "\n";
