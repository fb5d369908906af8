/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PlaidLinkTokenExtra: the directive's text (a C string, as httpd gives
 * it) through plaid_parse_extra, and, when accepted, merged into a
 * /link/token/create body, both ways the handler builds one: with jansson
 * per request, and from the start-up template.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *text = fuzz_cstring(p, data, size);
    json_t *extra = NULL;
    const char *err;

    err = plaid_parse_extra(p, text, &extra);
    if (err) {
        FUZZ_CHECK(*err, "empty error message");
    }
    else {
        plaid_link_fields f;
        apr_size_t len = 0;
        char *body;
        json_t *back, *user;

        FUZZ_CHECK(json_is_object(extra), "accepted extra is not an object");
        fuzz_fields(p, &f);
        f.extra = extra;
        body = plaid_link_token_body(p, &f, "user-1", &len);
        FUZZ_CHECK(body != NULL, "no body from an accepted extra");
        FUZZ_CHECK(strlen(body) == len, "body length");
        {
            /* The start-up template, when the extra leaves the id's place
             * unambiguous, makes the same bytes. */
            plaid_body_template *t = plaid_body_template_make(p, &f);
            apr_size_t tlen = 0;
            char *tbody = t ? plaid_body_from_template(p, t, "user-1", &tlen)
                            : NULL;

            FUZZ_CHECK(!t || (tbody && tlen == len
                              && memcmp(tbody, body, len) == 0),
                       "the template's body differs from jansson's");
        }
        back = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_CHECK(json_is_object(back), "the body is not a JSON object");
        user = json_object_get(back, "user");
        FUZZ_CHECK(json_object_size(user) == 1
                   && json_is_string(json_object_get(user, "client_user_id")),
                   "extra changed the user");
        FUZZ_CHECK(!json_object_get(back, "client_id")
                   && !json_object_get(back, "secret"),
                   "credentials in the body");
        json_decref(back);
    }
    apr_pool_destroy(p);   /* releases extra */
    return 0;
}
