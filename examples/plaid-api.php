<?php
// SPDX-License-Identifier: Apache-2.0
// plaid_api('/accounts/balance/get', ['access_token' => $token]) calls Plaid
// through mod_plaid_link's gateway (SetHandler plaid-api on a loopback
// location, docs/php.md): no client_id or secret in PHP, and one kept-alive
// connection to Plaid instead of a TLS handshake per call. It returns
// Plaid's status and body as Plaid sent them, errors included
// (ITEM_LOGIN_REQUIRED: open Link in update mode). An empty body is {}.
function plaid_api(string $path, array $body,
                   string $gateway = 'http://127.0.0.1/plaid-api'): array
{
    $context = stream_context_create(['http' => [
        'method' => 'POST', 'timeout' => 30, 'ignore_errors' => true,
        'header' => "Content-Type: application/json\r\n",
        'content' => json_encode((object) $body)]]);
    $text = @file_get_contents($gateway . $path, false, $context);
    preg_match('{^HTTP/\S+ (\d{3})}', $http_response_header[0] ?? '', $m);
    return ['status' => (int)($m[1] ?? 0),
            'body' => json_decode($text === false ? 'null' : $text, true)];
}
