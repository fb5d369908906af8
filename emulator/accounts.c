/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /accounts/get (AccountsGetRequest) and /accounts/balance/get
 * (AccountsBalanceGetRequest): one answer for both, AccountsGetResponse
 * ({"accounts","item","request_id"}), as the spec has it, for an
 * access_token whose Item this emulator made (items.c). Two endpoints in
 * one file, as they differ only in their path and schema.
 *
 * Every Item has the two accounts of Plaid's sandbox test user, with the
 * sandbox's balances; their account_ids are derived from the item_id, so
 * that every child and every call gives the same ones:
 *
 *     Plaid Checking  0000  depository/checking  available 100, current 110
 *     Plaid Saving    1111  depository/savings   available 200, current 210
 *
 * options.account_ids keeps the accounts it names (all when it is empty);
 * one the Item does not have is Plaid's 400
 * INVALID_INPUT/INVALID_ACCOUNT_ID. Nothing here is real-time: a balance
 * is the same whichever endpoint gives it.
 *
 * /accounts/balance/get asks the bank, /accounts/get answers Plaid's
 * cached data: for an Item that /sandbox/item/reset_login reset, the first
 * answers Plaid's 400 ITEM_ERROR/ITEM_LOGIN_REQUIRED, the second as before
 * (its item.error stays null here).
 */
#include <string.h>

#include "apr_strings.h"

#include "emu.h"

/* Every property of AccountsGetRequest in the spec; options is checked
 * against AccountsGetRequestOptions. The access_token (AccessToken) is a
 * string behind a $ref. */
static const emu_property accounts_get_request[] = {
    { "client_id",    K_STRING, 0,            NULL },
    { "secret",       K_STRING, 0,            NULL },
    { "access_token", K_STRING, EMU_REQUIRED, NULL },
    { "options",      K_OBJECT, 0,            NULL },
    { NULL, 0, 0, NULL }
};

static const emu_property accounts_get_request_options[] = {
    { "account_ids", K_STRING_ARRAY, 0, NULL },
    { NULL, 0, 0, NULL }
};

/* The same for AccountsBalanceGetRequest. min_last_updated_datetime
 * matters only for one institution (ins_128026): taken, not used. */
static const emu_property accounts_balance_get_request[] = {
    { "access_token", K_STRING, EMU_REQUIRED, NULL },
    { "secret",       K_STRING, 0,            NULL },
    { "client_id",    K_STRING, 0,            NULL },
    { "options",      K_OBJECT, 0,            NULL },
    { NULL, 0, 0, NULL }
};

static const emu_property accounts_balance_get_request_options[] = {
    { "account_ids",               K_STRING_ARRAY, 0, NULL },
    { "min_last_updated_datetime", K_STRING,       0, NULL },
    { NULL, 0, 0, NULL }
};

/* Plaid's sandbox user_good at First Platypus Bank, first two accounts. */
static const struct {
    const char *mask;
    const char *name;
    const char *official_name;
    const char *subtype;
    json_int_t available;
    json_int_t current;
} sandbox_accounts[] = {
    { "0000", "Plaid Checking", "Plaid Gold Standard 0% Interest Checking",
      "checking", 100, 110 },
    { "1111", "Plaid Saving", "Plaid Silver Standard 0.1% Interest Saving",
      "savings", 200, 210 },
};

#define ACCOUNTS (sizeof(sandbox_accounts) / sizeof(sandbox_accounts[0]))

static int named(json_t *ids, const char *account_id)
{
    json_t *v;
    size_t i;

    json_array_foreach(ids, i, v) {
        if (strcmp(json_string_value(v), account_id) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The Item's accounts (AccountBase), those ids names when it names any:
 * a new reference; NULL with *unknown set when ids names an account the
 * Item lacks, NULL alone when out of memory. ids is NULL or an array of
 * strings (validate.c). */
static json_t *accounts_of(emu_call *c, const char *item_id, json_t *ids,
                           int *unknown)
{
    const char *account_id[ACCOUNTS];
    json_t *list, *v;
    size_t i, k;

    *unknown = 0;
    for (k = 0; k < ACCOUNTS; k++) {
        account_id[k] = emu_account_id(c->r->pool, item_id,
                                       sandbox_accounts[k].mask);
    }
    json_array_foreach(ids, i, v) {
        for (k = 0; k < ACCOUNTS; k++) {
            if (strcmp(json_string_value(v), account_id[k]) == 0) {
                break;
            }
        }
        if (k == ACCOUNTS) {
            *unknown = 1;
            return NULL;
        }
    }
    list = json_array();
    for (k = 0; list && k < ACCOUNTS; k++) {
        if (json_array_size(ids) && !named(ids, account_id[k])) {
            continue;
        }
        if (json_array_append_new(list, json_pack(
                "{s:s, s:{s:I, s:I, s:s, s:n, s:n}, s:s, s:s, s:s, s:s, s:s}",
                "account_id", account_id[k],
                "balances",
                "available", sandbox_accounts[k].available,
                "current", sandbox_accounts[k].current,
                "iso_currency_code", "USD",
                "limit",
                "unofficial_currency_code",
                "mask", sandbox_accounts[k].mask,
                "name", sandbox_accounts[k].name,
                "official_name", sandbox_accounts[k].official_name,
                "subtype", sandbox_accounts[k].subtype,
                "type", "depository")) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return list;
}

json_t *emu_item_accounts(emu_call *c, const char *item_id)
{
    int unknown;

    return accounts_of(c, item_id, NULL, &unknown);
}

/* AccountsGetResponse, without "accounts" when accounts is NULL. */

static const char *accounts_body_of(emu_call *c, json_t *accounts,
                                    json_t *item, const char *padding)
{
    json_t *doc = json_object();

    if (accounts) {
        json_object_set(doc, "accounts", accounts);
    }
    json_object_set(doc, "item", item);
    return emu_json_end(c, doc, padding);
}

/* body= faults: a made-up Item's accounts; notoken leaves them out. */
static const char *accounts_body(emu_call *c, int with_accounts,
                                 const char *padding)
{
    json_t *item = emu_item_json(c, NULL), *accounts = NULL;
    const char *text;
    int unknown;

    if (with_accounts) {
        accounts = accounts_of(c, json_string_value(json_object_get(item,
                               "item_id")), NULL, &unknown);
    }
    text = accounts_body_of(c, accounts, item, padding);
    json_decref(accounts);
    json_decref(item);
    return text;
}

static int get_accounts(emu_call *c, json_t *body)
{
    json_t *ids = json_object_get(json_object_get(body, "options"),
                                  "account_ids");
    json_t *accounts, *item_doc;
    emu_item item;
    const char *text;
    int rc, unknown;
    emu_error e;

    if (!emu_item_find(c, body, &item, &rc)) {
        return rc;
    }
    if (c->endpoint == &emu_accounts_balance_get
        && emu_item_login_required(c, &item)) {
        return emu_answer_error(c, emu_plaid_error("ITEM_LOGIN_REQUIRED"));
    }
    accounts = accounts_of(c, item.item_id, ids, &unknown);
    if (unknown) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: %s "
                      "refused: options.account_ids names an account that "
                      "item_id=%s does not have", emu_log_name(c),
                      item.item_id);
        e.status = 400;
        e.error_type = "INVALID_INPUT";
        e.error_code = "INVALID_ACCOUNT_ID";
        e.error_message = "failed to find requested account ID for "
                          "requested item";
        return emu_answer_error(c, &e);
    }
    item_doc = emu_item_json(c, &item);
    if (!accounts || !item_doc) {
        json_decref(accounts);
        json_decref(item_doc);
        return emu_answer_internal(c, "out of memory");
    }
    text = accounts_body_of(c, accounts, item_doc, NULL);
    json_decref(accounts);
    json_decref(item_doc);
    return emu_answer_json(c, text);
}

const emu_endpoint emu_accounts_get = {
    "/accounts/get",
    accounts_get_request,
    1,                      /* credentials */
    0,                      /* not called by a browser */
    get_accounts,
    accounts_body,
    accounts_get_request_options
};

const emu_endpoint emu_accounts_balance_get = {
    "/accounts/balance/get",
    accounts_balance_get_request,
    1,                      /* credentials */
    0,                      /* not called by a browser */
    get_accounts,
    accounts_body,
    accounts_balance_get_request_options
};
