<?php
// SPDX-License-Identifier: Apache-2.0
// The application behind PlaidExchangeHandoff: it notes the item_id of the
// Item that mod_plaid_link got for the signed-in user, and writes the
// answer the page gets. The module keeps the Item itself (PlaidItemStore
// dbd, docs/items.md): no access_token comes here. The module has
// exchanged Link's public_token with Plaid and redirected the browser's
// POST here internally, with the result in the environment ($_SERVER). A request straight to this URL gets 404 from the
// module, so these values are always the module's. The module read the
// browser's body: there is nothing to read here.
header('Content-Type: application/json');
header('Cache-Control: no-store');

// The database file comes from the httpd config (SetEnv PLAID_EXAMPLE_DB),
// outside the document root; httpd's user must be able to write it and its
// directory. The timeout waits (seconds) for another child's write.
$db = new PDO('sqlite:' . $_SERVER['PLAID_EXAMPLE_DB'], null, null,
              [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_TIMEOUT => 5]);
$db->exec('CREATE TABLE IF NOT EXISTS plaid_items (
             item_id        TEXT PRIMARY KEY,
             client_user_id TEXT NOT NULL,
             created_at     TEXT NOT NULL)');

// One row per Item: linking the same Item again keeps its row.
// PLAID_CLIENT_USER_ID is the signed-in user the
// module exchanged for (an application with its own login could use its
// $_SESSION user instead).
$db->prepare('INSERT INTO plaid_items (item_id, client_user_id, created_at)
              VALUES (?, ?, ?)
              ON CONFLICT (item_id) DO UPDATE SET client_user_id = excluded.client_user_id')
   ->execute([$_SERVER['PLAID_ITEM_ID'], $_SERVER['PLAID_CLIENT_USER_ID'],
              gmdate('Y-m-d\TH:i:s\Z')]);

// The page needs only the item_id.
echo json_encode(['item_id' => $_SERVER['PLAID_ITEM_ID']]), "\n";
