/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON and buffers: UTF-8 checks, pool buffers, jansson's dump into pool
 * memory, and jansson's string escaping redone for the body templates and
 * the browser's flat answers.
 */
#include <string.h>

#include <apr_strings.h>

#include "plaid.h"

int plaid_utf8_len(const unsigned char *s)
{
    int n, i;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
    }
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
    }
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
    }
    else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    /* overlong 3-byte forms, surrogates, and code points past U+10FFFF */
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F)
        || (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F)) {
        return 0;
    }
    return n;
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

void plaid_hex(char *out, const unsigned char *in, apr_size_t n)
{
    static const char digits[] = "0123456789abcdef";
    apr_size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0F];
    }
    out[2 * n] = '\0';
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

apr_size_t plaid_json_quote(char *out, const char *s)
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

char *plaid_json_flat(apr_pool_t *p, const char *const *fields,
                      apr_size_t *len)
{
    apr_size_t need = sizeof("{}"), i;
    char *out, *o;

    for (i = 0; fields[i]; i += 2) {
        need += 6 * strlen(fields[i]) + sizeof("\"\":,")
              + (fields[i + 1] ? 6 * strlen(fields[i + 1]) + 2 : 4);
    }
    o = out = apr_palloc(p, need);
    *o++ = '{';
    for (i = 0; fields[i]; i += 2) {
        if (i) {
            *o++ = ',';
        }
        o += plaid_json_quote(o, fields[i]);
        *o++ = ':';
        if (fields[i + 1]) {
            o += plaid_json_quote(o, fields[i + 1]);
        }
        else {
            memcpy(o, "null", 4);
            o += 4;
        }
    }
    *o++ = '}';
    *o = '\0';
    *len = (apr_size_t)(o - out);
    return out;
}

const char *plaid_json_string(apr_pool_t *p, const json_t *obj,
                              const char *key)
{
    const json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? apr_pstrmemdup(p, json_string_value(v),
                                              json_string_length(v))
                             : NULL;
}
