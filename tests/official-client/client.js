// SPDX-License-Identifier: Apache-2.0
//
// Plaid's own Node client (npm plaid, pinned in package.json) used as an
// application uses it, with one change: basePath names the module's
// plaid-api gateway instead of Plaid, and no credentials are configured
// (the gateway adds them). t/official_client.t runs it against the test
// server and turns what it prints into TAP.
//
//   PLAID_GATEWAY=http://localhost:PORT/plaid-api-official \
//   PLAID_GATEWAY_MUTATION=http://localhost:PORT/plaid-api-official-mutation \
//   PLAID_GATEWAY_ITEMS=http://localhost:PORT/items/api-official \
//   PLAID_ITEM_ID=<an Item the module kept> \
//   node client.js
//
// With PLAID_GATEWAY_ITEMS and PLAID_ITEM_ID (a gateway with
// PlaidItemStore, and an Item exchanged through the module), it also
// calls accountsGet with { item_id } and no access_token, as an
// application does once the module keeps its Items (docs/items.md).
//
// It prints one JSON object: what each call gave, never an access_token
// (only whether one came back), so the test's output holds no credential.
'use strict';

const { Configuration, PlaidApi, Products, CountryCode } = require('plaid');

function client(basePath) {
  return new PlaidApi(new Configuration({ basePath }));
}

// What a failed call gives an application: axios's error, with Plaid's
// PlaidError as response.data.
function failure(err) {
  return {
    is_axios_error: err.isAxiosError === true,
    status: err.response ? err.response.status : null,
    error_type: err.response ? err.response.data.error_type : null,
    error_code: err.response ? err.response.data.error_code : null,
    error_message: err.response ? err.response.data.error_message : String(err),
  };
}

async function failureOf(promise) {
  try {
    await promise;
    return { status: 200 };
  } catch (err) {
    return failure(err);
  }
}

// Plaid's documented loop: pages until has_more is false; on
// TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION, start again from the
// cursor the loop began with. The Item's transactions, by id, in the end.
async function syncAll(plaid, access_token, count) {
  const start = '';
  const seen = { pages: 0, restarts: 0, added: 0, modified: 0, removed: 0 };
  let state, cursor, hasMore;

  for (;;) {
    state = new Map();
    cursor = start;
    hasMore = true;
    try {
      while (hasMore) {
        const { data } = await plaid.transactionsSync({ access_token, cursor, count });
        seen.pages++;
        seen.added += data.added.length;
        seen.modified += data.modified.length;
        seen.removed += data.removed.length;
        for (const t of data.added.concat(data.modified)) state.set(t.transaction_id, t);
        for (const t of data.removed) state.delete(t.transaction_id);
        cursor = data.next_cursor;
        hasMore = data.has_more;
      }
      break;
    } catch (err) {
      const f = failure(err);
      if (f.error_code !== 'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION' || seen.restarts > 2) {
        throw err;
      }
      seen.restarts++;
    }
  }
  const ids = [...state.keys()].sort();
  return {
    ...seen,
    transactions: ids.length,
    ids: ids.join(','),
    pending: [...state.values()].filter((t) => t.pending).length,
    next_cursor_set: typeof cursor === 'string' && cursor.length > 0,
  };
}

async function main() {
  const plaid = client(process.env.PLAID_GATEWAY);
  const out = {};

  const created = await plaid.sandboxPublicTokenCreate({
    institution_id: 'ins_109508',
    initial_products: [Products.Transactions],
  });
  const exchanged = await plaid.itemPublicTokenExchange({
    public_token: created.data.public_token,
  });
  const access_token = exchanged.data.access_token;
  out.exchange = {
    status: exchanged.status,
    item_id: exchanged.data.item_id,
    access_token_issued: /^access-sandbox-/.test(access_token),
  };

  const item = await plaid.itemGet({ access_token });
  out.item_get = {
    status: item.status,
    item_id: item.data.item.item_id,
    institution_id: item.data.item.institution_id,
    institution_name: item.data.item.institution_name,
    billed_products: item.data.item.billed_products,
  };

  const institution = await plaid.institutionsGetById({
    institution_id: item.data.item.institution_id,
    country_codes: [CountryCode.Us],
  });
  out.institution = { status: institution.status, name: institution.data.institution.name };

  const accounts = await plaid.accountsGet({ access_token });
  out.accounts_get = {
    status: accounts.status,
    accounts: accounts.data.accounts.length,
    masks: accounts.data.accounts.map((a) => a.mask),
    item_id: accounts.data.item.item_id,
  };

  out.sync_pages = await syncAll(plaid, access_token, 4);
  out.sync_whole = await syncAll(plaid, access_token, 500);
  out.sync_mutation = await syncAll(client(process.env.PLAID_GATEWAY_MUTATION), access_token, 4);

  // Link's update mode: the Item's access_token, no products.
  const update = await plaid.linkTokenCreate({
    client_name: 'official client test',
    language: 'en',
    country_codes: [CountryCode.Us],
    user: { client_user_id: 'official-client-user' },
    access_token,
  });
  out.link_token_update = {
    status: update.status,
    link_token: /^link-sandbox-/.test(update.data.link_token),
    expiration: typeof update.data.expiration === 'string',
  };

  // A Plaid path the gateway allows but the emulator does not serve.
  out.not_emulated = await failureOf(plaid.institutionsSearch({
    query: 'Platypus',
    products: [Products.Transactions],
    country_codes: [CountryCode.Us],
  }));

  const removed = await plaid.itemRemove({ access_token });
  out.item_remove = { status: removed.status, request_id: typeof removed.data.request_id === 'string' };

  // The removed Item's token: Plaid's PlaidError, as the client's error.
  out.after_remove = await failureOf(plaid.itemGet({ access_token }));

  if (process.env.PLAID_GATEWAY_ITEMS && process.env.PLAID_ITEM_ID) {
    Object.assign(out, await byItemId(client(process.env.PLAID_GATEWAY_ITEMS),
                                      process.env.PLAID_ITEM_ID));
  }

  process.stdout.write(JSON.stringify(out) + '\n');
}

// The Item by item_id, through a gateway that keeps the Items. The
// client's AccountsGetRequest type wants an access_token; the request is
// a plain object, and axios sends what it is given.
// A failure is printed as what it was, beside the rest.
async function byItemId(plaid, item_id) {
  let accounts_by_item_id;
  try {
    const accounts = await plaid.accountsGet({ item_id });
    accounts_by_item_id = {
      status: accounts.status,
      accounts: accounts.data.accounts.length,
      masks: accounts.data.accounts.map((a) => a.mask),
      item_id: accounts.data.item.item_id,
    };
  } catch (err) {
    accounts_by_item_id = failure(err);
  }
  return {
    accounts_by_item_id,
    unknown_item_id: await failureOf(plaid.accountsGet({
      item_id: 'noSuchItem0000000000000000000',
    })),
  };
}

main().catch((err) => {
  // The call that failed, without its config (whose body may hold the
  // access_token).
  process.stdout.write(JSON.stringify({ fatal: failure(err) }) + '\n');
  process.exitCode = 1;
});
