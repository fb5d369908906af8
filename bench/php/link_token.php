<?php
// SPDX-License-Identifier: Apache-2.0
// bench/run.sh's PHP peer: a link token as a LAMP page gets one, with a
// new curl handle per request (PHP keeps nothing between requests), so a
// TCP connection and a full TLS handshake per call. The same fields as
// the module's bench location sends; Plaid's URL, the credentials and the
// CA file come from the environment httpd passes (SetEnv), so the relay
// pass can point the same page elsewhere.
$body = json_encode([
    'client_name' => 'bench',
    'language' => 'en',
    'country_codes' => ['US'],
    'user' => ['client_user_id' => 'bench-user'],
    'products' => ['auth'],
]);
$ch = curl_init($_SERVER['BENCH_PLAID_URL'] . '/link/token/create');
curl_setopt_array($ch, [
    CURLOPT_POST => true,
    CURLOPT_POSTFIELDS => $body,
    CURLOPT_HTTPHEADER => [
        'Content-Type: application/json',
        'Plaid-Version: 2020-09-14',
        'PLAID-CLIENT-ID: ' . $_SERVER['BENCH_PLAID_CLIENT_ID'],
        'PLAID-SECRET: ' . $_SERVER['BENCH_PLAID_SECRET'],
    ],
    CURLOPT_RETURNTRANSFER => true,
    CURLOPT_TIMEOUT => 30,
    CURLOPT_CAINFO => $_SERVER['BENCH_CA_BUNDLE'],
]);
$text = curl_exec($ch);
$status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
curl_close($ch);

$answer = $text === false ? null : json_decode($text, true);
header('Content-Type: application/json');
if ($status !== 200 || !isset($answer['link_token'])) {
    http_response_code(502);
    echo json_encode(['error' => $text === false ? 'no answer' : $status]);
    return;
}
echo json_encode(['link_token' => $answer['link_token']]);
