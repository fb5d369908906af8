<?php
// SPDX-License-Identifier: Apache-2.0
// What the pages of bench/gateway.sh share: the Item's access_token and
// item_id (the application's database in real life; here the bench's
// environment), and the answer, which tells the driver how long the call
// to Plaid took.
const BALANCE = '/accounts/balance/get';

function access_token(): string
{
    return $_SERVER['BENCH_ACCESS_TOKEN'];
}

function item_id(): string
{
    return $_SERVER['BENCH_ITEM_ID'];
}

// 200 with the number of accounts when Plaid answered 200 with accounts,
// else 502 with Plaid's status; X-Call-Us: the call in microseconds.
function answer(int $status, $body, int $t0): void
{
    header('X-Call-Us: ' . intdiv(hrtime(true) - $t0, 1000));
    header('Content-Type: application/json');
    $accounts = count($body['accounts'] ?? []);
    http_response_code($status === 200 && $accounts > 0 ? 200 : 502);
    echo json_encode(['status' => $status, 'accounts' => $accounts]), "\n";
}
