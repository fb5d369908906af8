/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Faults steered by the path in front of an endpoint, for any endpoint:
 *
 *     POST /sandbox/status=429/retry_after=3/link/token/create
 *
 * Each key=value segment asks for one thing (docs/design.md, "Emulator
 * contract"; emulator/README.md); other segments are ordinary parts of
 * the prefix. Faults need no credentials and apply to any method.
 */
#include <string.h>

#include "http_core.h"
#include "http_protocol.h"

#include "apr_lib.h"
#include "apr_strings.h"

#include "emu.h"

/* body=huge: big enough to overflow any sane client buffer, still valid. */
#define EMU_HUGE_PAD (200 * 1024)
/* body=stall: how long the body stops halfway. */
#define EMU_STALL_MS 3000
/* delay=MS: longer than any client timeout worth testing. */
#define EMU_DELAY_MAX_MS 600000

typedef struct {
    int status;                  /* 0: not asked for */
    const char *error_type;
    const char *error_code;
    const char *error_message;
    const char *retry_after;
    apr_interval_time_t delay;
    const char *body;            /* nonjson, notoken, truncated, ... */
    int close;
    int stale;                   /* close a kept-alive connection unanswered */
} emu_faults;

static int has_answer_fault(const emu_faults *f)
{
    return f->close || f->body || f->status || f->error_type
        || f->error_code || f->error_message;
}

static const char *parse_int(const char *value, int min, int max, int *out)
{
    char *end;
    apr_int64_t n = apr_strtoi64(value, &end, 10);

    if (!*value || *end || n < min || n > max) {
        return "not a number in range";
    }
    *out = (int)n;
    return NULL;
}

static int printable(const char *s)
{
    for (; *s; s++) {
        if (!apr_isprint(*s)) {
            return 0;
        }
    }
    return 1;
}

static const char *parse_body_kind(const char *value, const char **out)
{
    static const char *const kinds[] = {
        "nonjson", "notoken", "truncated", "stall", "huge", "hugechunked",
        "plain", NULL
    };
    const char *const *k;

    /* The name from when /link/token/create was the only endpoint. */
    if (strcmp(value, "nolinktoken") == 0) {
        value = "notoken";
    }
    for (k = kinds; *k; k++) {
        if (strcmp(*k, value) == 0) {
            *out = *k;
            return NULL;
        }
    }
    return "expected nonjson, notoken (or nolinktoken), truncated, stall, "
           "huge, hugechunked or plain";
}

/* key=value (value still percent-encoded). NULL when usable, else why not.
 * Unknown keys are ordinary path segments of the prefix. */
static const char *parse_fault(emu_faults *f, const char *key, char *value)
{
    int ms = 0;
    const char *why;

    if (ap_unescape_url_keep2f(value, 1) != OK) {
        return "bad percent-encoding";
    }
    if (strcmp(key, "status") == 0) {
        return parse_int(value, 200, 599, &f->status);
    }
    if (strcmp(key, "delay") == 0) {
        why = parse_int(value, 0, EMU_DELAY_MAX_MS, &ms);
        f->delay = apr_time_from_msec(ms);
        return why;
    }
    if (strcmp(key, "retry_after") == 0) {
        f->retry_after = value;
        return printable(value) ? NULL : "not printable";
    }
    if (strcmp(key, "body") == 0) {
        return parse_body_kind(value, &f->body);
    }
    if (strcmp(key, "error_type") == 0) {
        f->error_type = value;
    }
    else if (strcmp(key, "error_code") == 0) {
        f->error_code = value;
    }
    else if (strcmp(key, "error_message") == 0) {
        f->error_message = value;
    }
    return NULL;
}

/* Read the raw path, not r->uri, so that an encoded "/" (with
 * AllowEncodedSlashes NoDecode) can sit inside an error_message. */
static const char *parse_faults(request_rec *r, emu_faults *f)
{
    char *path = apr_pstrdup(r->pool, r->parsed_uri.path ? r->parsed_uri.path
                                                         : r->uri);
    char *state, *seg, *value;
    const char *why;

    memset(f, 0, sizeof(*f));
    for (seg = apr_strtok(path, "/", &state); seg;
         seg = apr_strtok(NULL, "/", &state)) {
        value = strchr(seg, '=');
        if (!value) {
            f->close |= strcmp(seg, "close") == 0;
            f->stale |= strcmp(seg, "stale") == 0;
            continue;
        }
        *value++ = '\0';
        if ((why = parse_fault(f, seg, value)) != NULL) {
            return apr_psprintf(r->pool, "emulator: unusable fault segment "
                                "%s=%s: %s", seg, value, why);
        }
    }
    return NULL;
}

void emu_default_error(int status, emu_error *e)
{
    e->status = status;
    e->error_type = "INVALID_REQUEST";
    if (status == 401 || status == 403) {
        e->error_type = "INVALID_INPUT";
        e->error_code = "INVALID_API_KEYS";
        e->error_message = "invalid client_id or secret provided";
    }
    else if (status == 404) {
        e->error_code = "NOT_FOUND";
        e->error_message = "not found";
    }
    else if (status == 429) {
        e->error_type = "RATE_LIMIT_EXCEEDED";
        e->error_code = "RATE_LIMIT";
        e->error_message = "rate limit exceeded for attempts to access this "
                           "endpoint; try again later";
    }
    else if (status >= 400 && status < 500) {
        e->error_code = "INVALID_FIELD";
        e->error_message = "a field is invalid";
    }
    else {
        e->error_type = "API_ERROR";
        e->error_code = "INTERNAL_SERVER_ERROR";
        e->error_message = "an unexpected error occurred";
    }
}

/* Error codes a test names in error_code= whose PlaidError Plaid
 * documents: its type, status and message, unless the path gives them. A
 * code not here gets the status's defaults and an "emulated" message.
 * An Item reset by /sandbox/item/reset_login answers the same
 * ITEM_LOGIN_REQUIRED (accounts.c). */
static const emu_error plaid_errors[] = {
    { 400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED",
      "the login details of this item have changed (credentials, MFA, or "
      "required user action) and a user login is required to update this "
      "information. use Link's update mode to restore the item to a good "
      "state" },
    /* /transactions/sync answers it by itself too (the mutation fault). */
    { 400, "TRANSACTIONS_ERROR", "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
      "Underlying transaction data changed since last page was fetched. "
      "Please restart pagination from last update." },
    { 0, NULL, NULL, NULL }
};

const emu_error *emu_plaid_error(const char *code)
{
    const emu_error *e;

    for (e = plaid_errors; code && e->error_code; e++) {
        if (strcmp(e->error_code, code) == 0) {
            return e;
        }
    }
    return NULL;
}

int emu_fault_segment(request_rec *r, const char *name)
{
    const char *path = r->parsed_uri.path ? r->parsed_uri.path : r->uri;
    apr_size_t n = strlen(name);

    for (path = strchr(path, '/'); path; path = strchr(path + 1, '/')) {
        if (strncmp(path + 1, name, n) == 0
            && (path[1 + n] == '/' || path[1 + n] == '\0')) {
            return 1;
        }
    }
    return 0;
}

/* Without status=, the error_type says which status Plaid would use. */

static int status_for_type(const char *error_type)
{
    if (!error_type) {
        return 400;
    }
    if (strcmp(error_type, "RATE_LIMIT_EXCEEDED") == 0) {
        return 429;
    }
    return strcmp(error_type, "API_ERROR") == 0 ? 500 : 400;
}

static void fault_error(apr_pool_t *p, const emu_faults *f, emu_error *e)
{
    const emu_error *known = emu_plaid_error(f->error_code);
    int status = f->status;

    if (!status) {
        status = known && !f->error_type ? known->status
                                         : status_for_type(f->error_type);
    }
    emu_default_error(status, e);
    e->error_type = f->error_type ? f->error_type
                  : known ? known->error_type : e->error_type;
    e->error_code = f->error_code ? f->error_code : e->error_code;
    if (f->error_message) {
        e->error_message = f->error_message;
    }
    else if (known) {
        e->error_message = known->error_message;
    }
    else if (f->error_type || f->error_code) {
        /* The status's own text would describe another error. */
        e->error_message = apr_pstrcat(p, "emulated ", e->error_type, "/",
                                       e->error_code, NULL);
    }
}

/* No answer at all, or the rest of one: shut the socket itself so that the
 * client sees the end now, over TLS too (no close_notify is sent), and mark
 * the connection aborted so httpd writes nothing more on it. */
static int abort_connection(emu_call *c)
{
    conn_rec *conn = c->r->connection;
    apr_socket_t *sock = ap_get_conn_socket(conn);

    conn->keepalive = AP_CONN_CLOSE;
    if (sock) {
        apr_socket_shutdown(sock, APR_SHUTDOWN_READWRITE);
    }
    conn->aborted = 1;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r,
                  "plaid_emulator: %s connection closed on purpose",
                  emu_log_name(c));
    return DONE;
}

/* A success body sent in two halves with a flush between. body=truncated
 * ends the connection after the first half, under a Content-Length that
 * promised the whole; body=stall pauses EMU_STALL_MS, then sends the rest. */
static int answer_in_halves(emu_call *c, int stall)
{
    request_rec *r = c->r;
    const char *body = c->endpoint->sample(c, 1, NULL);
    apr_size_t len = strlen(body);

    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, len);
    ap_rwrite(body, len / 2, r);
    ap_rflush(r);
    if (!stall) {
        return abort_connection(c);
    }
    apr_sleep(apr_time_from_msec(EMU_STALL_MS));
    ap_rwrite(body + len / 2, len - len / 2, r);
    return OK;
}

/* body=hugechunked: no Content-Length announces it. */
static int answer_chunked(request_rec *r, int status, const char *text)
{
    apr_size_t len = strlen(text), off, n;

    r->status = status;
    ap_set_content_type(r, "application/json");
    for (off = 0; off < len && !r->header_only; off += n) {
        n = len - off < 8192 ? len - off : 8192;
        ap_rwrite(text + off, (int)n, r);
        ap_rflush(r);
    }
    return OK;
}

static int answer_body_fault(emu_call *c, const emu_faults *f)
{
    request_rec *r = c->r;
    int status = f->status ? f->status : 200;
    const char *text;
    char *pad;

    if (strcmp(f->body, "truncated") == 0 || strcmp(f->body, "stall") == 0) {
        return answer_in_halves(c, strcmp(f->body, "stall") == 0);
    }
    if (strcmp(f->body, "nonjson") == 0) {
        text = "<!DOCTYPE html>\n<html><head><title>Emulated</title></head>"
               "<body><h1>Not JSON</h1></body></html>\n";
        return emu_answer(r, status, "text/html", text, strlen(text));
    }
    if (strcmp(f->body, "plain") == 0) {
        emu_error e;

        fault_error(r->pool, f, &e);
        text = apr_pstrcat(r->pool, e.error_message, "\n", NULL);
        return emu_answer(r, e.status, "text/plain", text, strlen(text));
    }
    if (strcmp(f->body, "huge") == 0 || strcmp(f->body, "hugechunked") == 0) {
        pad = apr_palloc(r->pool, EMU_HUGE_PAD + 1);
        memset(pad, 'x', EMU_HUGE_PAD);
        pad[EMU_HUGE_PAD] = '\0';
        text = c->endpoint->sample(c, 1, pad);
        if (strcmp(f->body, "hugechunked") == 0) {
            return answer_chunked(r, status, text);
        }
    }
    else {   /* notoken */
        text = c->endpoint->sample(c, 0, NULL);
    }
    return emu_answer(r, status, "application/json", text, strlen(text));
}

int emu_apply_faults(emu_call *c)
{
    request_rec *r = c->r;
    emu_faults f;
    emu_error e;
    const char *why;

    if ((why = parse_faults(r, &f)) != NULL) {
        emu_request_error(&e, "EMULATOR_BAD_FAULT", why);
        return emu_answer_error(c, &e);
    }
    if (f.delay) {
        apr_sleep(f.delay);
    }
    if (f.retry_after) {
        apr_table_setn(r->headers_out, "Retry-After", f.retry_after);
    }
    if (f.close) {
        return abort_connection(c);
    }
    /* What a server that closed an idle connection looks like to a client
     * that sends on it anyway: no answer on a reused connection, a normal
     * one on a fresh connection. */
    if (f.stale && r->connection->keepalives > 0) {
        return abort_connection(c);
    }
    if (f.body) {
        return answer_body_fault(c, &f);
    }
    if (!has_answer_fault(&f)) {
        return DECLINED;
    }
    fault_error(r->pool, &f, &e);
    return emu_answer_error(c, &e);
}
