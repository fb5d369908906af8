<?php
// SPDX-License-Identifier: Apache-2.0
// The application behind PlaidExchangeHandoff under prefork with mod_php
// (t/exchange.t): the same as t/htdocs/app/item.cgi, from $_SERVER.
header('Content-Type: application/json');
$token = $_SERVER['PLAID_ACCESS_TOKEN'] ?? null;
$vars = array_values(array_filter(array_keys($_SERVER), function ($k) {
    return preg_match('/PLAID_(ACCESS_TOKEN|ITEM_ID|CLIENT_USER_ID|REQUEST_ID)/', $k);
}));
sort($vars);
echo json_encode([
    'item_id' => $_SERVER['PLAID_ITEM_ID'] ?? null,
    'client_user_id' => $_SERVER['PLAID_CLIENT_USER_ID'] ?? null,
    'request_id' => $_SERVER['PLAID_REQUEST_ID'] ?? null,
    'access_token_ok' => ($token !== null
        && preg_match('/^access-(sandbox|production)-[0-9a-f-]{36}$/', $token)) ? 1 : 0,
    'cookie' => $_SERVER['HTTP_COOKIE'] ?? null,
    'session' => $_COOKIE['PHPSESSID'] ?? null,
    'method' => $_SERVER['REQUEST_METHOD'],
    'plaid_vars' => implode(',', $vars),
]), "\n";
