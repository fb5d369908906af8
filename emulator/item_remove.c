/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /item/remove: ItemRemoveRequest in, ItemRemoveResponse
 * ({"request_id"}) out, for an access_token whose Item this emulator made
 * (items.c). The Item's record goes (state.c): from then on, in every
 * child, the access_token is refused as Plaid refuses a removed Item's,
 * 400 INVALID_INPUT/INVALID_ACCESS_TOKEN, "could not find matching access
 * token", a second /item/remove included. Of two removals at once, one
 * succeeds. The info line names the Item, never the token:
 *
 *     plaid_emulator: /item/remove removed item_id=<item_id>
 */
#include <string.h>

#include "apr_strings.h"

#include "emu.h"

/* Every property of ItemRemoveRequest in the spec. reason_code
 * (ItemRemoveReasonCode, nullable) is one of item_remove_reason_codes. */
static const emu_property item_remove_request[] = {
    { "client_id",    K_STRING,        0,            NULL },
    { "secret",       K_STRING,        0,            NULL },
    { "access_token", K_STRING,        EMU_REQUIRED, NULL },
    { "reason_code",  K_REMOVE_REASON, EMU_NULLABLE, NULL },
    { "reason_note",  K_STRING,        EMU_NULLABLE, NULL },
    { NULL, 0, 0, NULL }
};

/* ItemRemoveReasonCode's enum (t/spec_tables.t checks the names). */
static const char *const item_remove_reason_codes[] = {
    "FRAUD_FIRST_PARTY",
    "FRAUD_FALSE_IDENTITY",
    "FRAUD_ABUSE",
    "FRAUD_OTHER",
    "CONNECTION_IS_NON_FUNCTIONAL",
    "OTHER",
    NULL
};

/* ItemRemoveRequest.reason_note's maxLength, in characters. */
#define REASON_NOTE_MAX 512

int emu_remove_reason_known(const char *code)
{
    const char *const *r;

    for (r = item_remove_reason_codes; code && *r; r++) {
        if (strcmp(*r, code) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Characters, as JSON Schema counts them: UTF-8 lead bytes. */
static apr_size_t characters(const char *s)
{
    apr_size_t n = 0;

    for (; *s; s++) {
        n += ((unsigned char)*s & 0xc0) != 0x80;
    }
    return n;
}

static const char *removed_body(emu_call *c, int with_token,
                                const char *padding)
{
    (void)with_token;   /* nothing to leave out */
    return apr_pstrcat(c->r->pool, "{", emu_sample_end(c, padding), NULL);
}

static int remove_item(emu_call *c, json_t *body)
{
    const char *note = json_string_value(json_object_get(body,
                                                         "reason_note"));
    emu_item item;
    emu_error e;
    int rc;

    if (note && characters(note) > REASON_NOTE_MAX) {
        emu_request_error(&e, "INVALID_FIELD", apr_psprintf(c->r->pool,
                          "reason_note must be at most %d characters",
                          REASON_NOTE_MAX));
        return emu_answer_error(c, &e);
    }
    if (!emu_item_find(c, body, &item, &rc)
        || !emu_item_remove_record(c, &item, &rc)) {
        return rc;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: %s "
                  "removed item_id=%s", emu_log_name(c), item.item_id);
    return emu_answer_json(c, removed_body(c, 1, NULL));
}

const emu_endpoint emu_item_remove = {
    "/item/remove",
    item_remove_request,
    1,                      /* credentials */
    0,                      /* not called by a browser */
    remove_item,
    removed_body,
    NULL                    /* no options */
};
