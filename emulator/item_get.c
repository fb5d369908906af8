/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /item/get: ItemGetRequest in, ItemGetResponse ({"item","status",
 * "request_id"}) out, for an access_token whose Item this emulator made
 * (items.c). The item is the one /accounts/get shows, with what
 * ItemWithConsentFields adds: institution_name (institutions.c),
 * auth_method (null), products (the billed ones) and created_at (the
 * exchange's time). An Item that /sandbox/item/reset_login reset shows
 * Plaid's ITEM_LOGIN_REQUIRED PlaidError in item.error, as Plaid's sandbox
 * does, while /item/get itself answers 200.
 */
#include "apr_strings.h"

#include "emu.h"

/* Every property of ItemGetRequest in the spec. */
static const emu_property item_get_request[] = {
    { "client_id",    K_STRING, 0,            NULL },
    { "secret",       K_STRING, 0,            NULL },
    { "access_token", K_STRING, EMU_REQUIRED, NULL },
    { NULL, 0, 0, NULL }
};

/* ItemStatusNullable: the last transactions update was the exchange. */
static json_t *item_status(const char *created_at)
{
    return json_pack("{s:n, s:{s:s?, s:n}, s:n}",
                     "investments",
                     "transactions", "last_successful_update", created_at,
                     "last_failed_update",
                     "last_webhook");
}

/* The Item of emu_item_json, with ItemWithConsentFields' additions:
 * a new reference, NULL if out of memory. item NULL: a made-up one. */
static json_t *item_with_consent(emu_call *c, const emu_item *item,
                                 const char **created_at)
{
    json_t *doc = emu_item_json(c, item);
    const char *institution;

    *created_at = item && item->created_at ? item->created_at
                                           : emu_iso8601(c->r->pool,
                                                         apr_time_now());
    if (!doc) {
        return NULL;
    }
    institution = json_string_value(json_object_get(doc, "institution_id"));
    json_object_set_new(doc, "institution_name",
                        emu_institution_name(institution)
                        ? json_string(emu_institution_name(institution))
                        : json_null());
    json_object_set_new(doc, "auth_method", json_null());
    json_object_set(doc, "products", json_object_get(doc, "billed_products"));
    json_object_set_new(doc, "created_at", json_string(*created_at));
    if (item && emu_item_login_required(c, item)) {
        json_t *error = emu_error_json(c->r,
                                       emu_plaid_error("ITEM_LOGIN_REQUIRED"),
                                       c->request_id);

        json_object_set_new(doc, "error", error ? error : json_null());
    }
    return doc;
}

/* ItemGetResponse, without "item" when item is NULL. */
static const char *item_body_of(emu_call *c, json_t *item,
                                const char *created_at, const char *padding)
{
    json_t *doc = json_object();

    if (item) {
        json_object_set(doc, "item", item);
    }
    json_object_set_new(doc, "status", item_status(created_at));
    return emu_json_end(c, doc, padding);
}

/* body= faults: a made-up Item; notoken leaves it out. */
static const char *item_body(emu_call *c, int with_item, const char *padding)
{
    const char *created_at, *text;
    json_t *item = item_with_consent(c, NULL, &created_at);

    text = item_body_of(c, with_item ? item : NULL, created_at, padding);
    json_decref(item);
    return text;
}

static int get_item(emu_call *c, json_t *body)
{
    const char *created_at, *text;
    emu_item item;
    json_t *doc;
    int rc;

    if (!emu_item_find(c, body, &item, &rc)) {
        return rc;
    }
    if (!(doc = item_with_consent(c, &item, &created_at))) {
        return emu_answer_internal(c, "out of memory");
    }
    text = item_body_of(c, doc, created_at, NULL);
    json_decref(doc);
    return emu_answer_json(c, text);
}

const emu_endpoint emu_item_get = {
    "/item/get",
    item_get_request,
    1,                      /* credentials */
    0,                      /* not called by a browser */
    get_item,
    item_body,
    NULL                    /* no options */
};
