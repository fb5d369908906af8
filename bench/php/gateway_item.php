<?php
// SPDX-License-Identifier: Apache-2.0
// gateway.php by item_id: the module keeps the Item (PlaidItemStore) and
// puts its access_token in the call; PHP holds no token at all.
require __DIR__ . '/answer.php';
require __DIR__ . '/../../examples/plaid-api.php';

$t0 = hrtime(true);
$a = plaid_api(BALANCE, ['item_id' => item_id()], $_SERVER['BENCH_GATEWAY']);
answer($a['status'], $a['body'], $t0);
