/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-request user id (PlaidUserId's result: a header, REMOTE_USER, an
 * expression of them; attacker-controlled in the worst configuration)
 * through plaid_check_user_id, then into the /link/token/create body. An id
 * the check accepts must make a body that carries it back unchanged; one it
 * refuses must still not crash the body builder. For any id, the start-up
 * template (plaid_body_from_template) makes the bytes jansson makes.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *id = fuzz_cstring(p, data, size);
    const char *why = plaid_check_user_id(id);
    plaid_link_fields f;
    apr_size_t len = 0;
    char *body;

    fuzz_fields(p, &f);
    body = plaid_link_token_body(p, &f, id, &len);
    {
        /* The start-up template makes the same bytes for any id. */
        plaid_body_template *t = plaid_body_template_make(p, &f);
        apr_size_t tlen = 0;
        char *tbody;

        FUZZ_CHECK(t != NULL, "no template");
        tbody = plaid_body_from_template(p, t, id, &tlen);
        FUZZ_CHECK((!tbody && !body) || (tbody && body && tlen == len
                                         && memcmp(tbody, body, len) == 0),
                   "the template's body differs from jansson's");
    }
    if (!why) {
        json_t *back;
        const char *got = NULL;

        FUZZ_CHECK(strlen(id) <= PLAID_USER_ID_MAX, "accepted a long id");
        FUZZ_CHECK(body != NULL, "no body for an accepted user id");
        back = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_CHECK(back != NULL, "the body is not JSON");
        FUZZ_CHECK(json_unpack(back, "{s:{s:s}}", "user", "client_user_id",
                               &got) == 0 && strcmp(got, id) == 0,
                   "client_user_id does not round-trip");
        json_decref(back);
        FUZZ_CHECK(plaid_log_quote(p, id, PLAID_USER_ID_MAX) != NULL,
                   "cannot quote the id");
    }
    apr_pool_destroy(p);
    return 0;
}
