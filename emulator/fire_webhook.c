/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /sandbox/item/fire_webhook: SandboxItemFireWebhookRequest in,
 * {"webhook_fired": true, "request_id"} out, as Plaid's sandbox answers,
 * once the emulator has POSTed the webhook, signed with its current key
 * (keys.c, jws.c), to the webhook the Item was created with
 * (/sandbox/public_token/create's options.webhook, recorded with the Item
 * in items.c).
 *
 * The webhook goes only to http:// or https:// on a loopback host
 * (localhost, 127.0.0.0/8, ::1): this is a test tool, and what it posts to
 * is the server under test. Over https the peer is not verified, as the
 * test server's certificate is whatever the test made; that is acceptable
 * for loopback only. Anything else, or no webhook at all, is Plaid's 400
 * SANDBOX_ERROR/SANDBOX_WEBHOOK_INVALID.
 *
 * The POST is made before the answer, so that a test that gets the answer
 * knows the webhook was delivered (or not: the info line says which):
 *
 *     plaid_emulator: /sandbox/item/fire_webhook posted <code> to <url>: <status>
 *
 * A server that serves both the webhook and the emulator needs a free
 * worker for the webhook and another for the key its verifier fetches
 * while this one waits: not httpd -X.
 */
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "apr_strings.h"
#include "apr_uri.h"

#include "emu.h"

#define CONNECT_TIMEOUT_MS 5000
#define TIMEOUT_MS         30000

/* Every property of SandboxItemFireWebhookRequest in the spec. The
 * access_token (AccessToken) and webhook_type (WebhookType) are strings
 * behind a $ref; a webhook_type is sent as given. */
static const emu_property sandbox_item_fire_webhook_request[] = {
    { "client_id",    K_STRING,       0,            NULL },
    { "secret",       K_STRING,       0,            NULL },
    { "access_token", K_STRING,       EMU_REQUIRED, NULL },
    { "webhook_type", K_STRING,       0,            NULL },
    { "webhook_code", K_WEBHOOK_CODE, EMU_REQUIRED, NULL },
    { NULL, 0, 0, NULL }
};

/* webhook_code's enum in the spec (t/spec_tables.t checks the names),
 * with the webhook_type Plaid sends it under when none is asked for and
 * the members its body has besides webhook_type, webhook_code, item_id
 * and environment. */
static const struct {
    const char *code;
    const char *type;
    const char *members;
} fire_webhook_codes[] = {
    { "DEFAULT_UPDATE", "TRANSACTIONS",
      "{\"error\":null,\"new_transactions\":3}" },
    { "NEW_ACCOUNTS_AVAILABLE", "ITEM", "{\"error\":null}" },
    { "SMS_MICRODEPOSITS_VERIFICATION", "AUTH", "{\"error\":null}" },
    { "AUTHORIZATION_GRANTED", "INCOME", "{\"error\":null}" },
    { "USER_PERMISSION_REVOKED", "ITEM", "{\"error\":null}" },
    { "USER_ACCOUNT_REVOKED", "ITEM", "{\"error\":null}" },
    { "PENDING_DISCONNECT", "ITEM", "{\"error\":null}" },
    { "RECURRING_TRANSACTIONS_UPDATE", "TRANSACTIONS", "{\"error\":null}" },
    { "LOGIN_REPAIRED", "ITEM", "{\"error\":null}" },
    { "SYNC_UPDATES_AVAILABLE", "TRANSACTIONS",
      "{\"initial_update_complete\":true,"
      "\"historical_update_complete\":true}" },
    { "PRODUCT_READY", "ASSETS", "{\"error\":null}" },
    { "ERROR", "ASSETS",
      "{\"error\":{\"error_type\":\"ASSET_REPORT_ERROR\","
      "\"error_code\":\"PRODUCT_NOT_READY\",\"error_message\":"
      "\"the asset report could not be generated\","
      "\"display_message\":null}}" },
    { NULL, NULL, NULL }
};

#define WEBHOOK_INVALID_MESSAGE                                             \
    "Webhook for this item is either not set up, or invalid. Please "      \
    "update the item's webhook and try again."

static int find_code(const char *code)
{
    int i;

    for (i = 0; code && fire_webhook_codes[i].code; i++) {
        if (strcmp(fire_webhook_codes[i].code, code) == 0) {
            return i;
        }
    }
    return -1;
}

int emu_webhook_code_known(const char *code)
{
    return find_code(code) >= 0;
}

static int refuse_webhook(emu_call *c, const char *why)
{
    emu_error e;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: %s "
                  "refused: %s", emu_log_name(c), why);
    e.status = 400;
    e.error_type = "SANDBOX_ERROR";
    e.error_code = "SANDBOX_WEBHOOK_INVALID";
    e.error_message = WEBHOOK_INVALID_MESSAGE;
    return emu_answer_error(c, &e);
}

/* NULL when the webhook is http(s) on a loopback host, else why not. */
static const char *unusable_url(apr_pool_t *p, const char *url)
{
    apr_uri_t uri;

    if (apr_uri_parse(p, url, &uri) != APR_SUCCESS || !uri.scheme
        || (strcasecmp(uri.scheme, "http") != 0
            && strcasecmp(uri.scheme, "https") != 0)) {
        return "not an http:// or https:// URL";
    }
    return emu_loopback_host(uri.hostname) ? NULL
                                           : "not on a loopback host";
}

/* The webhook as Plaid's sandbox shapes it; NULL if out of memory. */
static json_t *webhook_body(emu_call *c, json_t *request, int code,
                            const char *item_id)
{
    const char *type = json_string_value(json_object_get(request,
                                                         "webhook_type"));
    json_t *doc, *members = json_loads(fire_webhook_codes[code].members, 0,
                                       NULL);

    doc = json_pack("{s:s, s:s, s:s}",
                    "webhook_type", type ? type : fire_webhook_codes[code].type,
                    "webhook_code", fire_webhook_codes[code].code,
                    "item_id", item_id);
    if (!doc || !members || json_object_update(doc, members) != 0
        || json_object_set_new(doc, "environment",
                               json_string(c->env)) != 0) {
        json_decref(doc);
        doc = NULL;
    }
    json_decref(members);
    return doc;
}

static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
    (void)data;
    (void)ctx;
    return size * n;
}

static int add_header(struct curl_slist **list, const char *header)
{
    struct curl_slist *l = curl_slist_append(*list, header);

    if (l) {
        *list = l;
    }
    return l != NULL;
}

/* POST body to url with its Plaid-Verification header: the HTTP status,
 * or why there is none, for the log. */
static const char *post(request_rec *r, const char *url, const char *body,
                        apr_size_t len, const char *jwt)
{
    char err[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    CURL *curl = curl_easy_init();
    long status = 0;
    CURLcode rc = CURLE_OUT_OF_MEMORY;

    if (curl && add_header(&headers, "Content-Type: application/json")
        && add_header(&headers, "Expect:")
        && add_header(&headers, apr_pstrcat(r->pool, "Plaid-Verification: ",
                                            jwt, NULL))) {
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)len);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_PROXY, "");   /* never a proxy */
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        /* Loopback only (unusable_url): the test's own certificate. */
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)CONNECT_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
        rc = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        return apr_psprintf(r->pool, "failed (curl %d: %s)", (int)rc,
                            *err ? err : curl_easy_strerror(rc));
    }
    return apr_psprintf(r->pool, "%ld", status);
}

void emu_fire_webhook_init(void)
{
    static int ready;

    /* Once per process, in the parent: curl_global_init is not
     * thread-safe, and curl_easy_init would call it in a child's thread. */
    if (!ready && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) {
        ready = 1;
    }
}

static const char *fired_body(emu_call *c, int with_flag, const char *padding)
{
    return apr_pstrcat(c->r->pool, "{",
                       with_flag ? "\"webhook_fired\":true," : "",
                       emu_sample_end(c, padding), NULL);
}

static int fire(emu_call *c, json_t *body)
{
    int code = find_code(json_string_value(json_object_get(body,
                                                           "webhook_code")));
    const char *url, *why, *text, *jwt, *status;
    json_t *webhook;
    emu_item item;
    apr_size_t len;
    emu_jws jws;
    int rc;

    if (!emu_item_find(c, body, &item, &rc)) {
        return rc;
    }
    if (!(url = item.webhook)) {
        return refuse_webhook(c, "the Item was created without a webhook");
    }
    if ((why = unusable_url(c->r->pool, url)) != NULL) {
        return refuse_webhook(c, apr_pstrcat(c->r->pool, "webhook ",
                              ap_escape_logitem(c->r->pool, url), " is ",
                              why, NULL));
    }
    if (!(webhook = webhook_body(c, body, code, item.item_id))) {
        return emu_answer_internal(c, "out of memory");
    }
    text = emu_json_text(c->r->pool, webhook, &len);
    json_decref(webhook);
    emu_jws_good(&jws);
    if (!(jwt = emu_jws_sign(c->r->pool, &jws, text, len))) {
        return emu_answer_internal(c, "the webhook could not be signed");
    }
    status = post(c->r, url, text, len, jwt);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: %s "
                  "posted %s to %s: %s", emu_log_name(c),
                  fire_webhook_codes[code].code,
                  ap_escape_logitem(c->r->pool, url), status);
    return emu_answer_json(c, fired_body(c, 1, NULL));
}

const emu_endpoint emu_sandbox_item_fire_webhook = {
    "/sandbox/item/fire_webhook",
    sandbox_item_fire_webhook_request,
    1,                      /* credentials */
    0,                      /* not called by a browser */
    fire,
    fired_body,
    NULL                    /* no options */
};
