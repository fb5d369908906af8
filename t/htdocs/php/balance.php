<?php
// SPDX-License-Identifier: Apache-2.0
// t/api.t under prefork: PHP calls Plaid through the gateway with the
// helper in examples/plaid-api.php. The test POSTs the gateway's URL and
// an access_token (never in a URL: access logs keep URLs).
require __DIR__ . '/../../../examples/plaid-api.php';
header('Content-Type: application/json');
$in = json_decode(file_get_contents('php://input'), true);
$answer = plaid_api($in['path'], ['access_token' => $in['access_token']],
                    $in['gateway']);
echo json_encode(['status' => $answer['status'],
                  'error_code' => $answer['body']['error_code'] ?? null,
                  'accounts' => count($answer['body']['accounts'] ?? []),
                  'available' => $answer['body']['accounts'][0]['balances']['available'] ?? null]), "\n";
