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

/* s as a JSON string, escaped as jansson's dump escapes it. */
static apr_size_t quote(char *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *u = (const unsigned char *)s;
    char *o = out;

    *o++ = '"';
    for (; *u; u++) {
        switch (*u) {
        case '"':  *o++ = '\\'; *o++ = '"';  break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\b': *o++ = '\\'; *o++ = 'b';  break;
        case '\f': *o++ = '\\'; *o++ = 'f';  break;
        case '\n': *o++ = '\\'; *o++ = 'n';  break;
        case '\r': *o++ = '\\'; *o++ = 'r';  break;
        case '\t': *o++ = '\\'; *o++ = 't';  break;
        default:
            if (*u < 0x20) {
                memcpy(o, "\\u00", 4);
                o[4] = hex[*u >> 4];
                o[5] = hex[*u & 0xF];
                o += 6;
            }
            else {
                *o++ = (char)*u;
            }
        }
    }
    *o++ = '"';
    return (apr_size_t)(o - out);
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
    used = t->head_len + quote(out + t->head_len, client_user_id);
    memcpy(out + used, t->tail, t->tail_len);
    used += t->tail_len;
    out[used] = '\0';
    if (len) {
        *len = used;
    }
    return out;
}
