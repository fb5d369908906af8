/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SetHandler plaid-webhook: a webhook from Plaid is handed to the site's
 * application (PlaidWebhookHandoff, by internal redirect, with its body as
 * it came and PLAID_WEBHOOK_TYPE, PLAID_WEBHOOK_CODE, PLAID_ITEM_ID) only
 * when its Plaid-Verification header proves it genuine, every step of
 * src/plaid_webhook.c plus the two that need the shared store (cache.c)
 * and the keep file (keep.c):
 *
 *   - Plaid's key for the kid, fetched once, kept across restarts and
 *     asked for again before it lapses; a kid Plaid does not know
 *     remembered; keys for new kids fetched on a budget that one sender
 *     cannot spend for everyone (KEY_FETCHES_CLIENT a minute for each
 *     client address, an IPv6 /64 counting as one, within KEY_FETCHES a
 *     minute for the server), so that made-up kids cannot make it call
 *     Plaid in a loop, nor keep a genuine webhook's new key from being
 *     fetched;
 *   - no webhook accepted twice within the max age, in any child, across
 *     restarts: the mark is the SHA-256 of what Plaid signed (the JWS
 *     header.payload), not of the token, since ECDSA's (r, s) and
 *     (r, n - s) both verify and the same webhook has two tokens.
 *
 * Each refusal: one log line naming the step, 401 (400 for a malformed
 * request), a generic JSON body. When the key cannot be had (Plaid or
 * the store unreachable): 503, so that Plaid sends the webhook again.
 */
#include "glue.h"

/* New kids fetched a minute, for each client and for the server;
 * documented. */
#define KEY_FETCHES_CLIENT 5
#define KEY_FETCHES        60
/* How long a key is kept after Plaid last served it, and when it is asked
 * for again (at most once a minute, by one child): before it lapses, so
 * that a kept key never needs a fetch on the budget. */
#define KEY_TTL_S      3600
#define KEY_REFRESH_S  3000
#define KEY_RETRY_S    60
/* The store's names: a key per Plaid host and kid, its claim to be asked
 * for again. */
#define KEY_PREFIX     "plaid-wh-key:"
#define REFRESH_PREFIX "plaid-wh-refresh:"
/* How long a kid Plaid does not know is remembered. */
#define UNKNOWN_TTL_S  300
/* A kept key: x || y, then when Plaid served it (unix seconds, 8 bytes
 * big-endian), in the store and in the keep file alike. */
#define KEPT_KEY_LEN   72

/* One line per refusal, naming the step; the answer. DONE: answered. */
static int refuse_webhook(request_rec *r, const plaid_request *req,
                          int status, plaid_webhook_step step,
                          const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PLLOGNO(0120)
                  "webhook refused: %s status=%d "
                  "step=%s: %s", plaid_where(r, req), status,
                  plaid_webhook_step_name(step), why);
    plaid_answer_error(r, status, status == HTTP_BAD_REQUEST
                       ? "Malformed webhook" : "Webhook not verified",
                       req->id);
    return DONE;
}

/* The store is needed and not there: Plaid should try again later. */
static int unavailable(request_rec *r, const plaid_request *req,
                       const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0122)
                  "webhook not verified: %s "
                  "status=503: %s", plaid_where(r, req), why);
    apr_table_setn(r->headers_out, "Retry-After", "60");
    plaid_answer_error(r, HTTP_SERVICE_UNAVAILABLE,
                       req->handler->generic_error, req->id);
    return DONE;
}

/* ---- the budget of key fetches --------------------------------------- */

/* Who spends a fetch: the client's address, an IPv6 /64 as one (a host
 * given a /64 has as many addresses as it wants), an IPv4-mapped address
 * as its IPv4 one. */
static const char *client_group(request_rec *r)
{
    const apr_sockaddr_t *sa = r->useragent_addr;
    const unsigned char *a;

#if APR_HAVE_IPV6
    if (sa && sa->family == AF_INET6) {
        a = (const unsigned char *)sa->ipaddr_ptr;
        if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a)) {
            return apr_psprintf(r->pool, "%u.%u.%u.%u", a[12], a[13], a[14],
                                a[15]);
        }
        return apr_psprintf(r->pool, "%02x%02x:%02x%02x:%02x%02x:%02x%02x::"
                            "/64", a[0], a[1], a[2], a[3], a[4], a[5], a[6],
                            a[7]);
    }
#endif
    return r->useragent_ip ? r->useragent_ip : "-";
}

/* A count of this minute's fetches (0 when the store has none). */
static unsigned char fetch_count(request_rec *r, const char *key)
{
    unsigned char count = 0;
    unsigned int len = 1;

    if (plaid_cache_get(r, key, &count, &len) != APR_SUCCESS || len != 1) {
        count = 0;
    }
    return count;
}

static void count_fetch(request_rec *r, const char *key, unsigned char count)
{
    count++;
    plaid_cache_put(r, key, apr_time_now() + apr_time_from_sec(120), &count,
                    1);
}

/* May this client fetch one more key this minute? Under the lock. NULL,
 * or why not. The client's own budget is looked at first, so that one
 * sender's forgeries stop at it and never reach the server's. */
static const char *fetch_allowed(request_rec *r)
{
    apr_time_t minute = apr_time_sec(apr_time_now()) / 60;
    const char *server = apr_psprintf(r->pool, "plaid-wh-fetch:%"
                                      APR_TIME_T_FMT, minute);
    const char *client = apr_psprintf(r->pool, "%s:%s", server,
                                      client_group(r));
    unsigned char by_client = fetch_count(r, client), by_server;

    if (by_client >= KEY_FETCHES_CLIENT) {
        return apr_psprintf(r->pool, "%d new kids were fetched for this "
                            "client this minute already: made-up kids?",
                            KEY_FETCHES_CLIENT);
    }
    if ((by_server = fetch_count(r, server)) >= KEY_FETCHES) {
        return apr_psprintf(r->pool, "%d new kids were fetched for the "
                            "server this minute already: made-up kids, from "
                            "many clients?", KEY_FETCHES);
    }
    count_fetch(r, client, by_client);
    count_fetch(r, server, by_server);
    return NULL;
}

/* ---- the keys kept ---------------------------------------------------- */

typedef struct {
    plaid_webhook_key key;
    apr_int64_t served_at;     /* when Plaid last served it */
} kept_key;

static void kept_key_write(const kept_key *k, unsigned char out[KEPT_KEY_LEN])
{
    int i;

    memcpy(out, k->key.xy, 64);
    for (i = 0; i < 8; i++) {
        out[64 + i] = (unsigned char)((apr_uint64_t)k->served_at
                                      >> (56 - 8 * i));
    }
}

static int kept_key_read(const unsigned char *data, unsigned int len,
                         kept_key *k)
{
    apr_uint64_t t = 0;
    int i;

    if (len != KEPT_KEY_LEN) {
        return 0;
    }
    memcpy(k->key.xy, data, 64);
    for (i = 0; i < 8; i++) {
        t = t << 8 | data[64 + i];
    }
    k->served_at = (apr_int64_t)t;
    return 1;
}

static apr_time_t lapse_of(apr_int64_t served_at)
{
    return apr_time_from_sec(served_at + KEY_TTL_S);
}

/* The key Plaid just served for ck, in the store and the keep file. */
static void save_key(request_rec *r, const char *ck,
                     const plaid_webhook_key *key)
{
    unsigned char data[KEPT_KEY_LEN];
    kept_key k;

    k.key = *key;
    k.served_at = apr_time_sec(apr_time_now());
    kept_key_write(&k, data);
    if (plaid_cache_lock() != APR_SUCCESS) {
        return;   /* fetched again next time */
    }
    plaid_cache_put(r, ck, lapse_of(k.served_at), data, KEPT_KEY_LEN);
    plaid_keep_put(ck, k.served_at + KEY_TTL_S, data, KEPT_KEY_LEN);
    plaid_cache_unlock();
}

/* A kid Plaid does not know (any more): remembered, and its key, if one
 * was kept, forgotten. */
static void forget_key(request_rec *r, const char *ck)
{
    if (plaid_cache_lock() != APR_SUCCESS) {
        return;
    }
    plaid_cache_put(r, ck, apr_time_now() + apr_time_from_sec(UNKNOWN_TTL_S),
                    "U", 1);
    plaid_keep_put(ck, 0, NULL, 0);
    plaid_cache_unlock();
}

typedef enum {
    KEY_KEPT,         /* use it */
    KEY_DUE,          /* use it, once Plaid was asked again */
    KEY_UNKNOWN,      /* Plaid does not know the kid (remembered) */
    KEY_FETCH,        /* not kept: ask Plaid (the budget spent) */
    KEY_NOT_ALLOWED,  /* not kept, and the budget is spent */
    KEY_NO_STORE      /* the store failed */
} key_state;

/* Is this kept key to be asked for again, and by this child? */
static int refresh_due(request_rec *r, const char *ck, const kept_key *k)
{
    const char *claim = apr_pstrcat(r->pool, REFRESH_PREFIX,
                                    ck + sizeof(KEY_PREFIX) - 1, NULL);
    unsigned char mark;
    unsigned int len = 1;

    if (apr_time_sec(apr_time_now()) - k->served_at < KEY_REFRESH_S
        || plaid_cache_get(r, claim, &mark, &len) != APR_NOTFOUND) {
        return 0;
    }
    plaid_cache_put(r, claim, apr_time_now()
                    + apr_time_from_sec(KEY_RETRY_S), "1", 1);
    return 1;
}

/* Under the lock: what the store, else the keep file (after a restart),
 * knows of ck. */
static key_state look_up_key(request_rec *r, const char *ck, kept_key *k,
                             const char **why)
{
    unsigned char data[PLAID_KEEP_DATA_MAX];
    unsigned int len = sizeof(data);
    apr_status_t rv = plaid_cache_get(r, ck, data, &len);

    if (rv == APR_NOTFOUND) {
        len = sizeof(data);
        if (plaid_keep_get(ck, data, &len) == APR_SUCCESS
            && kept_key_read(data, len, k)) {
            rv = plaid_cache_put(r, ck, lapse_of(k->served_at), data, len);
            if (rv != APR_SUCCESS) {
                return KEY_NO_STORE;
            }
        }
        else {
            rv = APR_NOTFOUND;
        }
    }
    if (rv == APR_SUCCESS && kept_key_read(data, len, k)) {
        return refresh_due(r, ck, k) ? KEY_DUE : KEY_KEPT;
    }
    if (rv == APR_SUCCESS) {
        return KEY_UNKNOWN;
    }
    if (rv != APR_NOTFOUND) {
        return KEY_NO_STORE;
    }
    return (*why = fetch_allowed(r)) ? KEY_NOT_ALLOWED : KEY_FETCH;
}

/* ---- asking Plaid ------------------------------------------------------ */

/* What a key fetch reads into; read: Plaid answered a key object. */
struct fetched_key {
    const char *kid;
    plaid_webhook_key key;
    int read;
};

static void read_key(apr_pool_t *p, const json_t *answer, plaid_result *res,
                     void *out)
{
    struct fetched_key *f = out;

    f->read = 1;
    plaid_webhook_key_answer(p, answer, res, f->kid, &f->key);
}

/* Plaid's answer for a kid it has no key for; anything else refused (a
 * wrong secret, a proxy's 403) is the admin's problem, not a forgery. */
static int unknown_kid(const plaid_result *res)
{
    return res->outcome == PLAID_FAIL_REFUSED && res->error_code
        && (strcmp(res->error_code, "INVALID_WEBHOOK_VERIFICATION_KEY_ID")
            == 0);
}

/* A kept key Plaid could not be asked about again: it serves until it
 * lapses, and the next webhook after a minute asks again. */
static void keep_using(request_rec *r, const plaid_request *req,
                       const char *kid, const kept_key *k,
                       const plaid_result *res)
{
    apr_table_unset(r->headers_out, "Retry-After");
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PLLOGNO(0124)
                  "webhook key not renewed: %s "
                  "kid=%s plaid_http_status=%ld error_code=%s curl_error=%s "
                  "problem=%s: the key Plaid served %" APR_INT64_T_FMT
                  " seconds ago is used until it is an hour old",
                  plaid_where(r, req), plaid_log_quote(r->pool, kid, 128),
                  res->http_status,
                  plaid_log_quote(r->pool, res->error_code, 64),
                  plaid_log_quote(r->pool, res->curl_error, 128),
                  plaid_log_quote(r->pool, res->problem, 128),
                  (apr_int64_t)apr_time_sec(apr_time_now()) - k->served_at);
}

/* Asks Plaid for kid's key: OK with *key (saved), or DONE answered. With
 * kept, Plaid is asked again about a key it served: a Plaid that cannot
 * be reached then is no refusal, the kept key serves. */
static int fetch_key(request_rec *r, const plaid_request *req,
                     const char *kid, const char *ck, const kept_key *kept,
                     plaid_webhook_key *key)
{
    struct fetched_key fetched;
    plaid_result res;
    const char *body;
    apr_size_t body_len = 0;
    int status;

    memset(&res, 0, sizeof(res));
    fetched.kid = kid;
    fetched.read = 0;
    body = plaid_webhook_key_body(r->pool, kid, &body_len);
    status = plaid_call_quietly(r, req, PLAID_WEBHOOK_KEY_PATH, body,
                                body_len, read_key, &fetched, &res);
    if (status == OK) {
        *key = fetched.key;
        save_key(r, ck, key);
        return OK;
    }
    if (status == DONE && unknown_kid(&res)) {
        forget_key(r, ck);
        return refuse_webhook(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_KEY,
                              apr_psprintf(r->pool, "Plaid does not know "
                                           "the kid %s: %s",
                                           plaid_log_quote(r->pool, kid, 64),
                                           plaid_log_quote(r->pool,
                                                           res.error_code,
                                                           64)));
    }
    if (status == DONE && fetched.read
        && res.outcome == PLAID_FAIL_UNUSABLE) {
        /* A key Plaid serves but we must not use: expired, wrong curve. */
        if (kept) {
            forget_key(r, ck);
        }
        return refuse_webhook(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_KEY,
                              res.problem);
    }
    if (kept) {
        keep_using(r, req, kid, kept, &res);
        *key = kept->key;
        return OK;
    }
    if (status == DONE) {
        plaid_log_failure(r, req, HTTP_SERVICE_UNAVAILABLE, &res);
        apr_table_setn(r->headers_out, "Retry-After", "60");
        status = HTTP_SERVICE_UNAVAILABLE;
    }
    plaid_answer_error(r, status, req->handler->generic_error, req->id);
    return DONE;
}

/* Plaid's key for kid: OK, or DONE with the step's refusal or a 503
 * answered. */
static int find_key(request_rec *r, const plaid_request *req,
                    const char *kid, plaid_webhook_key *key)
{
    /* Keys are Plaid's per host: a sandbox kid says nothing of
     * production. The kid is the sender's: hashed, so that the key fits
     * every store (and memcache, which takes no space in a key). */
    const char *ck = plaid_cache_key(r->pool, KEY_PREFIX,
                                     req->conn.base_url, kid);
    const char *why = NULL;
    key_state state;
    kept_key kept;

    if (plaid_cache_lock() != APR_SUCCESS) {
        return unavailable(r, req, "the PlaidCache lock cannot be taken");
    }
    state = look_up_key(r, ck, &kept, &why);
    plaid_cache_unlock();
    switch (state) {
    case KEY_KEPT:
        *key = kept.key;
        return OK;
    case KEY_DUE:
        return fetch_key(r, req, kid, ck, &kept, key);
    case KEY_FETCH:
        return fetch_key(r, req, kid, ck, NULL, key);
    case KEY_UNKNOWN:
        return refuse_webhook(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_KEY,
                              apr_psprintf(r->pool, "Plaid does not know "
                                           "the kid %s (remembered)",
                                           plaid_log_quote(r->pool, kid,
                                                           64)));
    case KEY_NOT_ALLOWED:
        return unavailable(r, req, why);
    case KEY_NO_STORE:
        break;
    }
    return unavailable(r, req, "PlaidCache cannot be read");
}

/* ---- replays ------------------------------------------------------------ */

/* Step 7: what Plaid signed not accepted before; remembered for the max
 * age, in the store (every child; with redis or memcache every server)
 * and the keep file (across restarts). 0: neither could record it. */
static int first_time(request_rec *r, const plaid_jws *jws, int max_age_s,
                      int *seen)
{
    apr_int64_t expiry = apr_time_sec(apr_time_now()) + max_age_s
                       + PLAID_WEBHOOK_SKEW_S;
    char hex[65];
    unsigned char mark;
    unsigned int len = 1;
    const char *ck;
    apr_status_t rv;
    int kept_seen = 0;

    plaid_sha256_hex(jws->signing_input, jws->signing_input_len, hex);
    ck = apr_pstrcat(r->pool, "plaid-wh-seen:", hex, NULL);
    if (plaid_cache_lock() != APR_SUCCESS) {
        return 0;
    }
    rv = plaid_cache_get(r, ck, &mark, &len);
    *seen = rv == APR_SUCCESS;
    if (rv == APR_NOTFOUND) {
        rv = plaid_keep_mark(ck, expiry, &kept_seen);
        *seen = kept_seen;
        if (rv == APR_SUCCESS && !*seen
            && (rv = plaid_cache_put(r, ck, apr_time_from_sec(expiry), "1",
                                     1)) != APR_SUCCESS) {
            /* Refused with 503: Plaid's retry must not be a replay. */
            plaid_keep_put(ck, 0, NULL, 0);
        }
    }
    plaid_cache_unlock();
    return *seen || rv == APR_SUCCESS;
}

int plaid_webhook_handler(request_rec *r, plaid_request *req)
{
    const plaid_webhook_conf *c = &req->conf->webhook;
    int max_age = c->max_age_s > 0 ? c->max_age_s
                                   : PLAID_WEBHOOK_MAX_AGE_S_DEFAULT;
    const char *jwt = apr_table_get(r->headers_in, "Plaid-Verification");
    plaid_webhook_key key;
    plaid_webhook_step step;
    plaid_handoff *h;
    plaid_jws jws;
    const char *why = NULL;
    json_t *doc;
    char *body = NULL;
    apr_size_t len = 0;
    int rc, malformed, seen;

    if (!plaid_cache_ready()) {
        unavailable(r, req, "PlaidCache is not set up");
        return OK;
    }
    if ((rc = plaid_read_body(r, PLAID_WEBHOOK_BODY_MAX, &body, &len, &why))
        != OK) {
        refuse_webhook(r, req, rc, PLAID_WH_STEP_FORMAT,
                       rc == HTTP_REQUEST_ENTITY_TOO_LARGE
                       ? "the body is larger than 64 KiB" : why);
        return OK;
    }
    if ((why = plaid_jws_parse(r->pool, jwt, &jws, &step, &malformed))) {
        refuse_webhook(r, req,
                       malformed ? HTTP_BAD_REQUEST : HTTP_UNAUTHORIZED,
                       step, why);
        return OK;
    }
    if (find_key(r, req, jws.kid, &key) != OK) {
        return OK;   /* answered */
    }
    if ((why = plaid_jws_verify(&jws, &key))) {
        refuse_webhook(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_SIGNATURE,
                       why);
        return OK;
    }
    if ((why = plaid_jws_check_age(&jws, apr_time_sec(apr_time_now()),
                                   max_age))) {
        refuse_webhook(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_AGE, why);
        return OK;
    }
    if ((why = plaid_jws_check_body(&jws, body, len))) {
        refuse_webhook(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_BODY, why);
        return OK;
    }
    if (!first_time(r, &jws, max_age, &seen)) {
        unavailable(r, req, "PlaidCache or the keep file cannot record "
                    "the webhook");
        return OK;
    }
    if (seen) {
        refuse_webhook(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_REPLAY,
                       "this webhook (what Plaid signed) was accepted before");
        return OK;
    }

    doc = json_loadb(body, len, 0, NULL);
    h = apr_pcalloc(r->pool, sizeof(*h));
    h->values[PLAID_VAR_WEBHOOK_TYPE] =
        plaid_json_string(r->pool, doc, "webhook_type");
    h->values[PLAID_VAR_WEBHOOK_CODE] =
        plaid_json_string(r->pool, doc, "webhook_code");
    h->values[PLAID_VAR_ITEM_ID] = plaid_json_string(r->pool, doc, "item_id");
    h->body = body;
    h->body_len = len;
    /* PlaidItemStore: an ITEM webhook's status kept before the hand-off. */
    if (plaid_items_webhook(r, req, doc) != OK) {
        json_decref(doc);
        return OK;   /* answered */
    }
    json_decref(doc);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0121)
                  "webhook verified: %s kid=%s "
                  "webhook_type=%s webhook_code=%s item_id=%s handoff=%s",
                  plaid_where(r, req), plaid_log_quote(r->pool, jws.kid, 128),
                  plaid_log_quote(r->pool, h->values[PLAID_VAR_WEBHOOK_TYPE],
                                  64),
                  plaid_log_quote(r->pool, h->values[PLAID_VAR_WEBHOOK_CODE],
                                  64),
                  plaid_log_quote(r->pool, h->values[PLAID_VAR_ITEM_ID], 64),
                  c->handoff);
    plaid_handoff_to(r, c->handoff, h);
    return OK;
}
