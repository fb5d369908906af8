/*
 * The /link/token/create body. Built as a jansson tree (jansson allocates
 * with malloc), dumped straight into a buffer from the request's pool, then
 * released: what outlives this function is pool memory only.
 */
#include <string.h>

#include <apr_strings.h>

#include "plaid_link.h"

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

struct pool_buffer {
    apr_pool_t *p;
    char *data;
    apr_size_t len, cap;
};

void plaid_reserve(apr_pool_t *p, char **data, apr_size_t len,
                   apr_size_t *cap, apr_size_t need)
{
    char *grown;

    if (len + need <= *cap) {
        return;
    }
    *cap = len + need > 2 * *cap ? len + need : 2 * *cap;
    grown = apr_palloc(p, *cap);
    if (len) {
        memcpy(grown, *data, len);
    }
    *data = grown;
}

static int append_to_buffer(const char *chunk, size_t size, void *data)
{
    struct pool_buffer *b = data;

    plaid_reserve(b->p, &b->data, b->len, &b->cap, size + 1);
    memcpy(b->data + b->len, chunk, size);
    b->len += size;
    b->data[b->len] = '\0';
    return 0;
}

/* jansson's dump into pool memory. */
char *plaid_json_dump(apr_pool_t *p, const json_t *json, apr_size_t *len)
{
    struct pool_buffer b = { p, NULL, 0, 0 };

    b.cap = 512;
    b.data = apr_palloc(p, b.cap);
    b.data[0] = '\0';
    if (json_dump_callback(json, append_to_buffer, &b, JSON_COMPACT) != 0) {
        return NULL;
    }
    if (len) {
        *len = b.len;
    }
    return b.data;
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
