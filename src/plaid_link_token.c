/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /link/token/create. The body is built as a jansson tree (jansson
 * allocates with malloc), dumped straight into a buffer from the request's
 * pool, then released: what outlives a function here is pool memory only.
 */
#include <string.h>

#include <apr_strings.h>

#include "plaid_link_token.h"

static int set_string(json_t *obj, const char *key, const char *value)
{
    return value ? json_object_set_new(obj, key, json_string(value)) : 0;
}

static int set_array(json_t *obj, const char *key,
                     const apr_array_header_t *values)
{
    json_t *arr;
    int i;

    if (!values) {
        return 0;
    }
    arr = json_array();
    for (i = 0; i < values->nelts; i++) {
        json_array_append_new(arr, json_string(APR_ARRAY_IDX(values, i,
                                                             const char *)));
    }
    return json_object_set_new(obj, key, arr);
}

char *plaid_link_token_body(apr_pool_t *p, const plaid_link_fields *f,
                            const char *client_user_id, apr_size_t *len)
{
    json_t *body;
    char *out;
    int bad = 0;

    /* A deep copy: the config's tree is shared by every thread. */
    body = f->extra ? json_deep_copy(f->extra) : json_object();
    if (!body) {
        return NULL;
    }
    bad |= set_string(body, "client_name", f->client_name);
    bad |= set_string(body, "language", f->language);
    bad |= set_array(body, "country_codes", f->country_codes);
    bad |= json_object_set_new(body, "user",
                               json_pack("{s:s}", "client_user_id",
                                         client_user_id));
    bad |= set_array(body, "products", f->products);
    bad |= set_array(body, "optional_products", f->optional_products);
    bad |= set_array(body, "required_if_supported_products",
                     f->required_if_supported_products);
    bad |= set_array(body, "additional_consented_products",
                     f->additional_consented_products);
    bad |= set_string(body, "webhook", f->webhook);
    bad |= set_string(body, "redirect_uri", f->redirect_uri);
    bad |= set_string(body, "android_package_name", f->android_package_name);
    bad |= set_string(body, "link_customization_name",
                      f->link_customization_name);
    out = bad ? NULL : plaid_json_dump(p, body, len);
    json_decref(body);
    return out;
}

/* The id's stand-in while the template is dumped: control characters, so
 * jansson writes it escaped and no user id (plaid_check_user_id refuses
 * control characters) or directive value is likely to spell it. */
#define PLACEHOLDER "\x01plaid-user\x02"
#define PLACEHOLDER_DUMPED "\"\\u0001plaid-user\\u0002\""

plaid_body_template *plaid_body_template_make(apr_pool_t *p,
                                              const plaid_link_fields *f)
{
    static const char mark[] = PLACEHOLDER_DUMPED;
    plaid_body_template *t;
    apr_size_t len;
    char *text = plaid_link_token_body(p, f, PLACEHOLDER, &len);
    char *at;

    if (!text || !(at = strstr(text, mark))
        || strstr(at + 1, mark)) {
        return NULL;
    }
    t = apr_palloc(p, sizeof(*t));
    t->head = text;
    t->head_len = (apr_size_t)(at - text);
    t->tail = at + sizeof(mark) - 1;
    t->tail_len = len - t->head_len - (sizeof(mark) - 1);
    return t;
}

char *plaid_body_from_template(apr_pool_t *p, const plaid_body_template *t,
                               const char *client_user_id, apr_size_t *len)
{
    const unsigned char *u = (const unsigned char *)client_user_id;
    apr_size_t n = strlen(client_user_id), used;
    char *out;
    int step;

    /* jansson refuses a string that is not UTF-8; so does this. */
    while (*u) {
        if (!(step = plaid_utf8_len(u))) {
            return NULL;
        }
        u += step;
    }
    /* At most six bytes per byte of the id (\u00XX), and the quotes. */
    out = apr_palloc(p, t->head_len + 6 * n + 2 + t->tail_len + 1);
    memcpy(out, t->head, t->head_len);
    used = t->head_len + plaid_json_quote(out + t->head_len, client_user_id);
    memcpy(out + used, t->tail, t->tail_len);
    used += t->tail_len;
    out[used] = '\0';
    if (len) {
        *len = used;
    }
    return out;
}

void plaid_link_token_read(apr_pool_t *p, const json_t *answer,
                           plaid_result *res, plaid_link_token *out)
{
    json_error_t err;
    const char *token, *expiration;

    if (json_unpack_ex((json_t *)answer, &err, 0, "{s:s, s:s}", "link_token",
                       &token, "expiration", &expiration) != 0) {
        plaid_result_unusable(res, apr_psprintf(p, "the answer is not a "
                                                "LinkTokenCreateResponse: %s",
                                                err.text));
        return;
    }
    if (!*token) {
        plaid_result_unusable(res, "the answer's link_token is empty");
        return;
    }
    out->link_token = apr_pstrdup(p, token);
    out->expiration = apr_pstrdup(p, expiration);
}
