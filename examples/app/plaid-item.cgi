#!/bin/sh
# The demo's application behind PlaidExchangeHandoff (scripts/run.sh): it
# answers the page with the item_id the module handed over and stores
# nothing, so the demo needs no package beyond apache2. A real application
# stores PLAID_ITEM_ID and PLAID_ACCESS_TOKEN for PLAID_CLIENT_USER_ID:
# plaid-item.php beside this file does, in SQLite. Never send the
# access_token to the browser.
case ${PLAID_ITEM_ID:-} in
    '' | *[!A-Za-z0-9_-]*)
        # Not what Plaid's item_ids look like: not written into JSON.
        printf 'Status: 500 Internal Server Error\r\nContent-Type: application/json\r\n\r\n'
        printf '{"error": "unexpected item_id"}\n'
        exit 0 ;;
esac
printf 'Content-Type: application/json\r\nCache-Control: no-store\r\n\r\n'
printf '{"item_id": "%s"}\n' "$PLAID_ITEM_ID"
