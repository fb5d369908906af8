/*
 * SetHandler plaid-webhook: a webhook from Plaid is handed to the site's
 * application (PlaidWebhookHandoff, by internal redirect, with its body as
 * it came and PLAID_WEBHOOK_TYPE, PLAID_WEBHOOK_CODE, PLAID_ITEM_ID) only
 * when its Plaid-Verification header proves it genuine, every step of
 * src/plaid_webhook.c plus the two that need the shared store (cache.c):
 * Plaid's key for the kid, fetched once and kept, a kid Plaid does not
 * know remembered, and new kids fetched at most KEY_FETCHES a minute for
 * the whole server, so made-up kids cannot make it call Plaid in a loop;
 * and no token accepted twice within the max age, in any child.
 * Each refusal: one log line naming the step, 401 (400 for a malformed
 * request), a generic JSON body. When the key cannot be had (Plaid or
 * the store unreachable): 503, so that Plaid sends the webhook again.
 */
#include "mod_plaid_link.h"

/* New kids fetched a minute, server-wide; documented. */
#define KEY_FETCHES 5
/* How long a key, and a kid Plaid does not know, are kept. */
#define KEY_TTL_S     3600
#define UNKNOWN_TTL_S 300

static const char *const webhook_vars[] = {
    "PLAID_WEBHOOK_TYPE", "PLAID_WEBHOOK_CODE", "PLAID_ITEM_ID"
};

/* One line per refusal, naming the step; the answer. DONE: answered. */
static int refuse(request_rec *r, const plaid_request *req,
                  int status, plaid_webhook_step step, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PLLOGNO(0120)
                  "webhook refused: vhost=%s location=%s id=%s status=%d "
                  "step=%s: %s", plaid_vhost_name(r->pool, r->server),
                  plaid_location_of(r), req->id, status,
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
                  "webhook not verified: vhost=%s location=%s id=%s "
                  "status=503: %s", plaid_vhost_name(r->pool, r->server),
                  plaid_location_of(r), req->id, why);
    apr_table_setn(r->headers_out, "Retry-After", "60");
    plaid_answer_error(r, HTTP_SERVICE_UNAVAILABLE,
                       req->handler->generic_error, req->id);
    return DONE;
}

/* May this server fetch one more key this minute? Under the lock. */
static int fetch_allowed(request_rec *r)
{
    const char *key = apr_psprintf(r->pool, "plaid-wh-fetch:%" APR_TIME_T_FMT,
                                   apr_time_sec(apr_time_now()) / 60);
    unsigned char count = 0;
    unsigned int len = 1;

    if (plaid_cache_get(r, key, &count, &len) != APR_SUCCESS || len != 1) {
        count = 0;
    }
    if (count >= KEY_FETCHES) {
        return 0;
    }
    count++;
    plaid_cache_put(r, key, apr_time_now() + apr_time_from_sec(120), &count,
                    1);
    return 1;
}

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

/* Plaid's key for kid: OK, or DONE with the step's refusal or a 503
 * answered. */
static int find_key(request_rec *r, const plaid_request *req,
                    const char *kid, plaid_webhook_key *key)
{
    const plaid_conn_conf *conn = &req->conf->conn;
    /* Keys are Plaid's per host: a sandbox kid says nothing of
     * production. */
    const char *ck = apr_pstrcat(r->pool, "plaid-wh-key:",
                                 conn->base_url ? conn->base_url
                                                : conn->env_url, " ", kid,
                                 NULL);
    unsigned char data[64];
    unsigned int len = sizeof(data);
    struct fetched_key fetched;
    plaid_result res;
    const char *body;
    apr_size_t body_len = 0;
    apr_status_t rv;
    int allowed, status;

    if (plaid_cache_lock() != APR_SUCCESS) {
        return unavailable(r, req, "the PlaidCache lock cannot be taken");
    }
    rv = plaid_cache_get(r, ck, data, &len);
    allowed = rv == APR_NOTFOUND && fetch_allowed(r);
    plaid_cache_unlock();
    if (rv == APR_SUCCESS && len == 64) {
        memcpy(key->xy, data, 64);
        return OK;
    }
    if (rv == APR_SUCCESS) {
        return refuse(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_KEY,
                      apr_psprintf(r->pool, "Plaid does not know the kid "
                                   "%s (remembered)",
                                   plaid_log_quote(r->pool, kid, 64)));
    }
    if (rv != APR_NOTFOUND) {
        return unavailable(r, req, "PlaidCache cannot be read");
    }
    if (!allowed) {
        return unavailable(r, req, apr_psprintf(r->pool, "%d new kids were "
                                                "fetched this minute already: "
                                                "made-up kids?", KEY_FETCHES));
    }
    fetched.kid = kid;
    fetched.read = 0;
    body = plaid_webhook_key_body(r->pool, kid, &body_len);
    status = plaid_call_quietly(r, req, PLAID_WEBHOOK_KEY_PATH, body,
                                body_len, read_key, &fetched, &res);
    if (status == OK) {
        *key = fetched.key;
        plaid_cache_put(r, ck, apr_time_now() + apr_time_from_sec(KEY_TTL_S),
                        key->xy, 64);
        return OK;
    }
    if (status == DONE && unknown_kid(&res)) {
        plaid_cache_put(r, ck, apr_time_now()
                        + apr_time_from_sec(UNKNOWN_TTL_S), "U", 1);
        return refuse(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_KEY,
                      apr_psprintf(r->pool, "Plaid does not know the kid "
                                   "%s: %s", plaid_log_quote(r->pool, kid, 64),
                                   plaid_log_quote(r->pool, res.error_code,
                                                   64)));
    }
    if (status == DONE && fetched.read
        && res.outcome == PLAID_FAIL_UNUSABLE) {
        /* A key Plaid serves but we must not use: expired, wrong curve. */
        return refuse(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_KEY,
                      res.problem);
    }
    if (status == DONE) {
        plaid_log_failure(r, req, HTTP_SERVICE_UNAVAILABLE, &res);
        apr_table_setn(r->headers_out, "Retry-After", "60");
        status = HTTP_SERVICE_UNAVAILABLE;
    }
    plaid_answer_error(r, status, req->handler->generic_error, req->id);
    return DONE;
}

/* Step 7: the token not seen before; remembered for the max age. */
static int first_time(request_rec *r, const char *jwt, int max_age_s,
                      int *seen)
{
    char hex[65];
    unsigned char mark;
    unsigned int len = 1;
    const char *ck;
    apr_status_t rv;

    plaid_sha256_hex(jwt, strlen(jwt), hex);
    ck = apr_pstrcat(r->pool, "plaid-wh-seen:", hex, NULL);
    if (plaid_cache_lock() != APR_SUCCESS) {
        return 0;
    }
    rv = plaid_cache_get(r, ck, &mark, &len);
    *seen = rv == APR_SUCCESS;
    if (rv == APR_NOTFOUND) {
        rv = plaid_cache_put(r, ck, apr_time_now() + apr_time_from_sec(
                                 max_age_s + PLAID_WEBHOOK_SKEW_S), "1", 1);
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
        refuse(r, req, rc, PLAID_WH_STEP_FORMAT,
               rc == HTTP_REQUEST_ENTITY_TOO_LARGE
               ? "the body is larger than 64 KiB" : why);
        return OK;
    }
    if ((why = plaid_jws_parse(r->pool, jwt, &jws, &step, &malformed))) {
        refuse(r, req, malformed ? HTTP_BAD_REQUEST : HTTP_UNAUTHORIZED,
               step, why);
        return OK;
    }
    if (find_key(r, req, jws.kid, &key) != OK) {
        return OK;   /* answered */
    }
    if ((why = plaid_jws_verify(&jws, &key))) {
        refuse(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_SIGNATURE, why);
        return OK;
    }
    if ((why = plaid_jws_check_age(&jws, apr_time_sec(apr_time_now()),
                                   max_age))) {
        refuse(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_AGE, why);
        return OK;
    }
    if ((why = plaid_jws_check_body(&jws, body, len))) {
        refuse(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_BODY, why);
        return OK;
    }
    if (!first_time(r, jwt, max_age, &seen)) {
        unavailable(r, req, "PlaidCache cannot record the webhook");
        return OK;
    }
    if (seen) {
        refuse(r, req, HTTP_UNAUTHORIZED, PLAID_WH_STEP_REPLAY,
               "this Plaid-Verification was accepted before");
        return OK;
    }

    doc = json_loadb(body, len, 0, NULL);
    h = apr_pcalloc(r->pool, sizeof(*h));
    h->names = webhook_vars;
    h->n = 3;
    h->values[0] = plaid_json_string(r->pool, doc, "webhook_type");
    h->values[1] = plaid_json_string(r->pool, doc, "webhook_code");
    h->values[2] = plaid_json_string(r->pool, doc, "item_id");
    h->body = body;
    h->body_len = len;
    /* PlaidItemStore: an ITEM webhook's status kept before the hand-off. */
    if (plaid_items_webhook(r, req, doc) != OK) {
        json_decref(doc);
        return OK;   /* answered */
    }
    json_decref(doc);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0121)
                  "webhook verified: vhost=%s location=%s id=%s kid=%s "
                  "webhook_type=%s webhook_code=%s item_id=%s handoff=%s",
                  plaid_vhost_name(r->pool, r->server), plaid_location_of(r),
                  req->id, plaid_log_quote(r->pool, jws.kid, 128),
                  plaid_log_quote(r->pool, h->values[0], 64),
                  plaid_log_quote(r->pool, h->values[1], 64),
                  plaid_log_quote(r->pool, h->values[2], 64), c->handoff);
    plaid_handoff_to(r, c->handoff, h);
    return OK;
}
