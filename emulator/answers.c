/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every endpoint shares on the way in and out: the request body read
 * and parsed as Plaid reads it, answers written as Plaid writes them (a
 * PlaidError with every field of the spec's shape), and the info lines the
 * tests read to see what the module sent.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "http_protocol.h"
#include "mod_ssl.h"

#include "apr_lib.h"
#include "apr_strings.h"

#include "emu.h"

int emu_answer(request_rec *r, int status, const char *content_type,
               const char *body, apr_size_t len)
{
    r->status = status;
    /* Spell unknown codes (e.g. 599) as themselves, not as 500. */
    r->status_line = ap_get_status_line_ex(r->pool, status);
    ap_set_content_type(r, content_type);
    ap_set_content_length(r, len);
    if (!r->header_only) {
        ap_rwrite(body, len, r);
    }
    return OK;
}

const char *emu_sample_end(emu_call *c, const char *padding)
{
    return apr_pstrcat(c->r->pool, "\"request_id\":\"", c->request_id, "\"",
                       padding ? ",\"padding\":\"" : "",
                       padding ? padding : "", padding ? "\"" : "", "}",
                       NULL);
}

const char *emu_json_end(emu_call *c, json_t *doc, const char *padding)
{
    apr_size_t len;
    const char *text;

    json_object_set_new(doc, "request_id", json_string(c->request_id));
    if (padding) {
        json_object_set_new(doc, "padding", json_string(padding));
    }
    text = emu_json_text(c->r->pool, doc, &len);
    json_decref(doc);
    return text;
}

int emu_answer_json(emu_call *c, const char *text)
{
    return emu_answer(c->r, HTTP_OK, "application/json", text, strlen(text));
}

int emu_loopback_host(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (!host) {
        return 0;
    }
    if (strcasecmp(host, "localhost") == 0) {
        return 1;   /* libcurl resolves it to the loopback without DNS */
    }
    if (inet_pton(AF_INET, host, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        return IN6_IS_ADDR_LOOPBACK(&a6)
            || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    }
    return 0;
}

const char *emu_log_name(const emu_call *c)
{
    return c->endpoint ? c->endpoint->path
                       : ap_escape_logitem(c->r->pool, c->r->uri);
}

void emu_request_error(emu_error *e, const char *code, const char *message)
{
    e->status = 400;
    e->error_type = "INVALID_REQUEST";
    e->error_code = code;
    e->error_message = message;
}

/* Plaid's pages are /docs/errors/<type without _ERROR, kebab-case>/#<code>,
 * e.g. https://plaid.com/docs/errors/invalid-request/#missing_fields. */
static const char *documentation_url(apr_pool_t *p, const emu_error *e)
{
    char *type = apr_pstrdup(p, e->error_type);
    char *code = apr_pstrdup(p, e->error_code);
    apr_size_t n = strlen(type);
    char *c;

    if (n > 6 && strcmp(type + n - 6, "_ERROR") == 0) {
        type[n - 6] = '\0';
    }
    for (c = type; *c; c++) {
        *c = *c == '_' ? '-' : apr_tolower(*c);
    }
    ap_str_tolower(code);
    return apr_pstrcat(p, "https://plaid.com/docs/errors/", type, "/#", code,
                       NULL);
}

char *emu_json_text(apr_pool_t *p, const json_t *doc, apr_size_t *len)
{
    apr_size_t n = json_dumpb(doc, NULL, 0, JSON_COMPACT);
    char *text = apr_palloc(p, n + 1);

    *len = json_dumpb(doc, text, n, JSON_COMPACT);
    text[*len] = '\0';
    return text;
}

json_t *emu_error_json(request_rec *r, const emu_error *e,
                       const char *request_id)
{
    return json_pack("{s:s, s:s, s:n, s:s, s:n, s:s, s:[], s:n, s:s, s:n}",
                     "error_type", e->error_type,
                     "error_code", e->error_code,
                     "error_code_reason",
                     "error_message", e->error_message,
                     "display_message",
                     "request_id", request_id,
                     "causes",
                     "status",
                     "documentation_url", documentation_url(r->pool, e),
                     "suggested_action");
}

int emu_answer_error(emu_call *c, const emu_error *e)
{
    request_rec *r = c->r;
    json_t *doc = emu_error_json(r, e, c->request_id);
    apr_size_t len;
    char *text;

    /* json_pack refuses text that is not UTF-8, which a test can put in
     * the error_* segments; answer something rather than nothing. */
    if (!doc) {
        static const emu_error not_utf8 = {
            500, "API_ERROR", "EMULATOR_BAD_FAULT",
            "emulator: an error_* segment is not UTF-8"
        };

        e = &not_utf8;
        doc = emu_error_json(r, e, c->request_id);

    }
    text = emu_json_text(r->pool, doc, &len);
    json_decref(doc);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "plaid_emulator: %s answered %d %s/%s: %s", emu_log_name(c),
                  e->status, e->error_type, e->error_code, e->error_message);
    return emu_answer(r, e->status, "application/json", text, len);
}

int emu_answer_internal(emu_call *c, const char *why)
{
    emu_error e;

    e.status = HTTP_INTERNAL_SERVER_ERROR;
    e.error_type = "API_ERROR";
    e.error_code = "INTERNAL_SERVER_ERROR";
    e.error_message = apr_pstrcat(c->r->pool, "emulator: ", why, NULL);
    return emu_answer_error(c, &e);
}

int emu_read_body(request_rec *r, char **buf, apr_size_t *len)
{
    apr_size_t cap = EMU_BODY_MAX + 1;
    long n = 0;
    int rc;

    *len = 0;
    *buf = "";
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (r->remaining > EMU_BODY_MAX) {
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    if (!ap_should_client_block(r)) {
        return OK;
    }
    /* A Content-Length says how much to expect; chunked gets the cap. */
    cap = r->remaining > 0 ? (apr_size_t)r->remaining + 1 : cap;
    *buf = apr_palloc(r->pool, cap);
    while (*len < cap
           && (n = ap_get_client_block(r, *buf + *len, cap - *len)) > 0) {
        *len += n;
    }
    if (n < 0) {
        return HTTP_BAD_REQUEST;
    }
    return *len > EMU_BODY_MAX ? HTTP_REQUEST_ENTITY_TOO_LARGE : OK;
}

int emu_answer_body_error(emu_call *c, int status)
{
    emu_error e;

    /* Do not read the rest of an oversized body just to throw it away. */
    c->r->connection->keepalive = AP_CONN_CLOSE;
    emu_request_error(&e, "INVALID_BODY",
                      status == HTTP_REQUEST_ENTITY_TOO_LARGE
                      ? "request body is too large"
                      : "request body could not be read");
    e.status = status;
    return emu_answer_error(c, &e);
}

static int is_json_content_type(const char *ct)
{
    apr_size_t n = strlen("application/json");

    return ct && strncasecmp(ct, "application/json", n) == 0
        && (ct[n] == '\0' || ct[n] == ';' || apr_isspace(ct[n]));
}

json_t *emu_parse_body(emu_call *c, const char *buf, apr_size_t len,
                       emu_error *e)
{
    request_rec *r = c->r;
    json_error_t jerr;
    json_t *body = NULL;
    const char *why = "Content-Type is not application/json";

    if (is_json_content_type(apr_table_get(r->headers_in, "Content-Type"))) {
        body = json_loadb(buf, len, 0, &jerr);
        why = body ? "not an object" : jerr.text;
    }
    if (json_is_object(body)) {
        return body;
    }
    json_decref(body);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "plaid_emulator: %s body refused: %s", emu_log_name(c),
                  why);
    emu_request_error(e, "INVALID_BODY", "body could not be parsed as JSON");
    return NULL;
}

/* An access token is a long-lived credential: the tests prove that none
 * reaches a log, and this log is one of them. */
/* mod_ssl's SSL_SESSION_RESUMED of r's connection ("Initial" or
 * "Resumed"), "-" without TLS. */
static const char *tls_session(request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *lookup =
        APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
    const char *v = lookup ? lookup(r->pool, r->server, r->connection, r,
                                    (char *)"SSL_SESSION_RESUMED") : NULL;

    return v && *v ? v : "-";
}

static void withhold_access_tokens(json_t *body)
{
    static const char withheld[] = "[withheld]";
    json_t *v = json_object_get(body, "access_token");
    json_t *item;
    size_t i;

    if (json_is_string(v)) {
        json_object_set_new(body, "access_token", json_string(withheld));
    }
    v = json_object_get(body, "access_tokens");
    json_array_foreach(v, i, item) {
        if (json_is_string(item)) {
            json_array_set_new(v, i, json_string(withheld));
        }
    }
}

void emu_log_accepted(emu_call *c, json_t *body)
{
    request_rec *r = c->r;
    apr_size_t len;
    json_t *logged;

    if (!APLOGrinfo(r)) {
        return;
    }
    /* A copy: the endpoint still needs the access_token it was sent. */
    if (!(logged = json_deep_copy(body))) {
        return;
    }
    json_object_del(logged, "client_id");
    json_object_del(logged, "secret");
    withhold_access_tokens(logged);
    /* The headers a client must send besides the credentials; the
     * connection, and whether its TLS session was resumed (t/tls_first.t). */
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "plaid_emulator: %s headers plaid-version=%s "
                  "user-agent=%s content-type=%s conn=%ld tls=%s",
                  emu_log_name(c),
                  ap_escape_logitem(r->pool, apr_table_get(r->headers_in,
                                                           "Plaid-Version")),
                  ap_escape_logitem(r->pool, apr_table_get(r->headers_in,
                                                           "User-Agent")),
                  ap_escape_logitem(r->pool, apr_table_get(r->headers_in,
                                                           "Content-Type")),
                  r->connection->id, tls_session(r));
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "plaid_emulator: %s body=%s", emu_log_name(c),
                  emu_json_text(r->pool, logged, &len));
    json_decref(logged);
}
