/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Item behind a token, as every child sees it through the state
 * directory (state.c):
 *
 *     <public id>.public   {"institution_id","products","webhook"}
 *                          /sandbox/public_token/create, for its token
 *     <access id>.access   {"institution_id","products","webhook","item_id",
 *                           "created_at"}
 *                          the exchange; /item/remove unlinks it
 *     <access id>.login    empty: /sandbox/item/reset_login, the Item
 *                          needs its user's login again; /item/remove
 *                          unlinks it too
 *     <access id>.sync     empty: /transactions/sync's mutation fault
 *                          fired for the Item (once); /item/remove too
 *     <link id>.update     <access id>: /link/token/create made that
 *                          link_token for the Item (Link's update mode);
 *                          /link/complete with it repairs the Item's
 *                          login (removes its .login)
 *
 * A public token from /link/complete has no record: on Plaid the user
 * picks the institution in Link, and the link_token's products and webhook
 * are in no record either (/link/token/create is the benchmarks' hot path,
 * and writes nothing). Its Item is the one Plaid's sandbox hands out most:
 * First Platypus Bank (ins_109508), billed for auth and transactions, no
 * webhook.
 *
 * An access_token that is not one of this emulator's for its environment,
 * or whose Item was removed, is Plaid's 400 INVALID_INPUT/
 * INVALID_ACCESS_TOKEN: "provided access token is in an invalid format..."
 * for what is not access-<environment>-<id>, "could not find matching
 * access token" for the rest. The info line says which, never the token:
 *
 *     plaid_emulator: <path> refused: access_token <reason>
 */
#include <string.h>

#include "apr_strings.h"

#include "emu.h"

#define LINK_INSTITUTION "ins_109508"

#define MALFORMED_MESSAGE                                                   \
    "provided access token is in an invalid format. expected format: "      \
    "access-<environment>-<identifier>"
#define NOT_FOUND_MESSAGE "could not find matching access token"

/* What an Item offers besides what it is billed for (available_products
 * is these less billed_products); all in the spec's Products enum. */
static const char *const offered_products[] = {
    "assets", "auth", "balance", "identity", "investments", "liabilities",
    "transactions", NULL
};

/* The Item of a public token /link/complete made: a new reference. */
static json_t *link_item(void)
{
    return json_pack("{s:s, s:[s, s], s:n}", "institution_id",
                     LINK_INSTITUTION, "products", "auth", "transactions",
                     "webhook");
}

static apr_status_t decref_record(void *record)
{
    json_decref(record);
    return APR_SUCCESS;
}

apr_status_t emu_item_prepare(emu_call *c, const char *public_token,
                              json_t *request)
{
    char id[EMU_TOKEN_ID_LEN + 1];
    const char *why, *text;
    json_t *webhook = json_object_get(json_object_get(request, "options"),
                                      "webhook");
    json_t *record;
    apr_size_t len;

    if (emu_token_check(c->r->pool, public_token, "public", c->env,
                        EMU_PUBLIC_TOKEN_TTL, id, &why) != EMU_TOKEN_GOOD
        || !(record = json_pack("{s:O, s:O, s:O}", "institution_id",
                                json_object_get(request, "institution_id"),
                                "products",
                                json_object_get(request, "initial_products"),
                                "webhook",
                                json_is_string(webhook) ? webhook
                                                        : json_null()))) {
        return APR_EGENERAL;
    }
    text = emu_json_text(c->r->pool, record, &len);
    json_decref(record);
    return emu_state_put(c->r, id, "public", text);
}

apr_status_t emu_item_create(emu_call *c, const char *public_id,
                             const char *access_token, const char **item_id)
{
    char access_id[EMU_TOKEN_ID_LEN + 1];
    const char *why, *text;
    json_t *record;
    apr_size_t len;
    char *old;
    apr_status_t rv;

    if (emu_token_check(c->r->pool, access_token, "access", c->env,
                        EMU_ACCESS_TOKEN_TTL, access_id, &why)
        != EMU_TOKEN_GOOD) {
        return APR_EGENERAL;
    }
    rv = emu_state_get(c->r, public_id, "public", &old);
    if (rv == APR_ENOENT) {
        record = link_item();
    }
    else if (rv == APR_SUCCESS) {
        record = json_loads(old, 0, NULL);
    }
    else {
        return rv;
    }
    *item_id = emu_item_id(c->r);
    if (!json_is_object(record)
        || json_object_set_new(record, "item_id",
                               json_string(*item_id)) != 0
        || json_object_set_new(record, "created_at", json_string(
               emu_iso8601(c->r->pool, apr_time_now()))) != 0) {
        json_decref(record);
        return APR_EGENERAL;
    }
    text = emu_json_text(c->r->pool, record, &len);
    json_decref(record);
    return emu_state_put(c->r, access_id, "access", text);
}

static int refuse(emu_call *c, const char *why, const char *message)
{
    emu_error e;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: %s "
                  "refused: access_token %s", emu_log_name(c), why);
    e.status = 400;
    e.error_type = "INVALID_INPUT";
    e.error_code = "INVALID_ACCESS_TOKEN";
    e.error_message = message;
    return emu_answer_error(c, &e);
}

int emu_item_find(emu_call *c, json_t *body, emu_item *item, int *rc)
{
    const char *token = json_string_value(json_object_get(body,
                                                          "access_token"));
    const char *why;
    emu_token_state state;
    json_t *record;
    char *text;
    apr_status_t rv;

    memset(item, 0, sizeof(*item));
    state = emu_token_check(c->r->pool, token, "access", c->env,
                            EMU_ACCESS_TOKEN_TTL, item->id, &why);
    if (state != EMU_TOKEN_GOOD) {
        *rc = refuse(c, why, state == EMU_TOKEN_MALFORMED ? MALFORMED_MESSAGE
                                                          : NOT_FOUND_MESSAGE);
        return 0;
    }
    rv = emu_state_get(c->r, item->id, "access", &text);
    if (rv == APR_ENOENT) {
        /* Every exchange records its Item before it answers; a token
         * without one came in a fault's body. */
        *rc = refuse(c, "removed (or from a body= fault, which makes no "
                     "Item)", NOT_FOUND_MESSAGE);
        return 0;
    }
    record = rv == APR_SUCCESS ? json_loads(text, 0, NULL) : NULL;
    if (record) {
        apr_pool_cleanup_register(c->r->pool, record, decref_record,
                                  apr_pool_cleanup_null);
    }
    item->item_id = json_string_value(json_object_get(record, "item_id"));
    item->institution_id = json_string_value(json_object_get(record,
                                             "institution_id"));
    item->webhook = json_string_value(json_object_get(record, "webhook"));
    item->products = json_object_get(record, "products");
    item->created_at = json_string_value(json_object_get(record,
                                                         "created_at"));
    if (!item->item_id || !json_is_array(item->products)) {
        *rc = emu_answer_internal(c, "cannot read the Item's record (see "
                                  "PlaidEmulatorStateDir)");
        return 0;
    }
    return 1;
}

int emu_item_remove_record(emu_call *c, const emu_item *item, int *rc)
{
    apr_status_t rv = emu_state_remove(c->r, item->id, "access");

    if (rv == APR_ENOENT) {
        /* Another call removed it since emu_item_find read it. */
        *rc = refuse(c, "removed (by /item/remove)", NOT_FOUND_MESSAGE);
        return 0;
    }
    if (rv != APR_SUCCESS) {
        *rc = emu_answer_internal(c, "cannot remove the Item (see "
                                  "PlaidEmulatorStateDir)");
        return 0;
    }
    /* Most Items were never reset: no marker is the usual case. Its
     * token is refused from now on, so a marker left behind (a failure
     * logged by state.c) changes no answer. */
    emu_state_remove(c->r, item->id, "login");
    emu_state_remove(c->r, item->id, "sync");
    return 1;
}

int emu_item_reset_login(emu_call *c, const emu_item *item, int *rc)
{
    /* The marker's presence is the whole fact; a second reset finds it. */
    apr_status_t rv = emu_state_put(c->r, item->id, "login", "");

    if (rv != APR_SUCCESS && rv != APR_EEXIST) {
        *rc = emu_answer_internal(c, "cannot record the Item's login "
                                  "(see PlaidEmulatorStateDir)");
        return 0;
    }
    return 1;
}

int emu_item_login_required(emu_call *c, const emu_item *item)
{
    char *text;

    return emu_state_get(c->r, item->id, "login", &text) == APR_SUCCESS;
}

int emu_item_update_mode(emu_call *c, const emu_item *item,
                         const char *link_token, int *rc)
{
    char link_id[EMU_TOKEN_ID_LEN + 1];
    const char *why;
    apr_status_t rv = APR_EGENERAL;

    if (emu_token_check(c->r->pool, link_token, "link", c->env,
                        EMU_LINK_TOKEN_TTL, link_id, &why) == EMU_TOKEN_GOOD) {
        rv = emu_state_put(c->r, link_id, "update", item->id);
    }
    if (rv != APR_SUCCESS) {
        *rc = emu_answer_internal(c, "cannot record the update-mode "
                                  "link_token (see PlaidEmulatorStateDir)");
        return 0;
    }
    return 1;
}

const char *emu_item_repair(emu_call *c, const char *link_id)
{
    char *access_id, *text;
    json_t *record;
    const char *item_id = "(removed)";

    if (emu_state_get(c->r, link_id, "update", &access_id) != APR_SUCCESS
        || strlen(access_id) != EMU_TOKEN_ID_LEN) {
        return NULL;
    }
    /* Removed or never reset: nothing to repair, and nothing said. */
    if (emu_state_remove(c->r, access_id, "login") != APR_SUCCESS) {
        return NULL;
    }
    if (emu_state_get(c->r, access_id, "access", &text) == APR_SUCCESS
        && (record = json_loads(text, 0, NULL))) {
        const char *id = json_string_value(json_object_get(record,
                                                           "item_id"));

        item_id = id ? apr_pstrdup(c->r->pool, id) : item_id;
        json_decref(record);
    }
    return item_id;
}

int emu_item_first_mutation(emu_call *c, const emu_item *item)
{
    /* O_EXCL: of all the children, one call finds no marker. */
    return emu_state_put(c->r, item->id, "sync", "") == APR_SUCCESS;
}


static int billed(json_t *products, const char *name)
{
    json_t *v;
    size_t i;

    json_array_foreach(products, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0) {
            return 1;
        }
    }
    return 0;
}

json_t *emu_item_json(emu_call *c, const emu_item *item)
{
    json_t *made = item ? NULL : link_item();
    json_t *products = item ? item->products
                            : json_object_get(made, "products");
    json_t *available = json_array(), *doc;
    const char *const *name;

    for (name = offered_products; available && *name; name++) {
        if (!billed(products, *name)) {
            json_array_append_new(available, json_string(*name));
        }
    }
    doc = available && products
        ? json_pack("{s:s, s:s?, s:s?, s:n, s:O, s:O, s:n, s:s}",
                    "item_id", item ? item->item_id : emu_item_id(c->r),
                    "institution_id",
                    item ? item->institution_id : LINK_INSTITUTION,
                    "webhook", item ? item->webhook : NULL,
                    "error",
                    "available_products", available,
                    "billed_products", products,
                    "consent_expiration_time",
                    "update_type", "background")
        : NULL;
    json_decref(available);
    json_decref(made);
    return doc;
}
