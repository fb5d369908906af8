<?php
// SPDX-License-Identifier: Apache-2.0
// Plaid called through mod_plaid_link's gateway with the helper in
// examples/plaid-api.php: no credentials in PHP, and the module's kept
// TLS connection instead of a handshake per call.
require __DIR__ . '/answer.php';
require __DIR__ . '/../../examples/plaid-api.php';

$t0 = hrtime(true);
$a = plaid_api(BALANCE, ['access_token' => access_token()],
               $_SERVER['BENCH_GATEWAY']);
answer($a['status'], $a['body'], $t0);
