<?php
// SPDX-License-Identifier: Apache-2.0
// Plaid called as a LAMP developer writes it: a new curl handle per
// request (PHP keeps nothing between requests), so a TCP connection and a
// TLS handshake per call, and the credentials in PHP (here from the
// environment httpd passes; in the code itself is as common).
require __DIR__ . '/answer.php';

$t0 = hrtime(true);
$ch = curl_init($_SERVER['BENCH_PLAID_URL'] . BALANCE);
curl_setopt_array($ch, [
    CURLOPT_POST => true,
    CURLOPT_HTTPHEADER => ['Content-Type: application/json'],
    CURLOPT_POSTFIELDS => json_encode([
        'client_id' => $_SERVER['BENCH_PLAID_CLIENT_ID'],
        'secret' => $_SERVER['BENCH_PLAID_SECRET'],
        'access_token' => access_token()]),
    CURLOPT_RETURNTRANSFER => true,
    CURLOPT_TIMEOUT => 30,
    // The system's CAs and the bench's: what the default would load, plus
    // the emulator's issuer.
    CURLOPT_CAINFO => $_SERVER['BENCH_CA_BUNDLE'],
]);
$text = curl_exec($ch);
$status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
curl_close($ch);
answer($status, json_decode($text === false ? 'null' : $text, true), $t0);
