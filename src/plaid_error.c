/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plaid's answer classified: success, a PlaidError, or something unusable;
 * the browser's status for each outcome and the admin's hint. Everything
 * found is copied into the caller's pool, so it can be logged after the
 * jansson tree is gone.
 */
#include <string.h>

#include <apr_strings.h>

#include "plaid_error.h"

static plaid_outcome outcome_for_error(long status, const char *error_type)
{
    if (status == 429
        || (error_type && strcmp(error_type, "RATE_LIMIT_EXCEEDED") == 0)) {
        return PLAID_FAIL_RATE_LIMITED;
    }
    if (status == 502 || status == 503 || status == 504) {
        return PLAID_FAIL_UNREACHABLE;
    }
    if (status >= 400) {
        return PLAID_FAIL_REFUSED;
    }
    return PLAID_FAIL_UNUSABLE;
}

static void parse_error(apr_pool_t *p, long status, json_t *root,
                        plaid_result *res)
{
    res->error_type = plaid_json_string(p, root, "error_type");
    res->error_code = plaid_json_string(p, root, "error_code");
    res->error_message = plaid_json_string(p, root, "error_message");
    res->display_message = plaid_json_string(p, root, "display_message");
    res->request_id = plaid_json_string(p, root, "request_id");
    res->documentation_url = plaid_json_string(p, root, "documentation_url");
    res->suggested_action = plaid_json_string(p, root, "suggested_action");
    res->outcome = outcome_for_error(status, res->error_type);
    if (!res->error_code) {
        res->problem = "the error answer is not a PlaidError (no error_code)";
    }
}

json_t *plaid_result_from(apr_pool_t *p, const plaid_response *resp,
                          plaid_result *res)
{
    json_error_t err;
    json_t *root;
    int ok = resp->status >= 200 && resp->status < 300;

    memset(res, 0, sizeof(*res));
    res->outcome = resp->outcome;
    res->http_status = resp->status;
    res->retry_after = resp->retry_after;
    res->curl_error = resp->curl_error;
    res->problem = resp->problem;
    res->url = resp->url;
    res->elapsed_ms = resp->elapsed_ms;
    res->attempts = resp->attempts;
    if (resp->outcome != PLAID_OK) {
        return NULL;
    }
    root = json_loadb(resp->body, resp->body_len, JSON_REJECT_DUPLICATES,
                      &err);
    if (!root || !json_is_object(root)) {
        res->outcome = ok ? PLAID_FAIL_UNUSABLE
                          : outcome_for_error(resp->status, NULL);
        res->problem = root ? "the answer is JSON but not an object"
                            : apr_psprintf(p, "the answer is not JSON: %s "
                                           "(position %d of %lu bytes)",
                                           err.text, err.position,
                                           (unsigned long)resp->body_len);
        json_decref(root);
        return NULL;
    }
    if (!ok) {
        parse_error(p, resp->status, root, res);
        json_decref(root);
        return NULL;
    }
    res->request_id = plaid_json_string(p, root, "request_id");
    if (!res->request_id) {
        res->outcome = PLAID_FAIL_UNUSABLE;
        res->problem = "the answer has no request_id";
        json_decref(root);
        return NULL;
    }
    return root;
}

void plaid_result_unusable(plaid_result *res, const char *problem)
{
    res->outcome = PLAID_FAIL_UNUSABLE;
    res->problem = problem;
}

int plaid_browser_status(plaid_outcome outcome)
{
    switch (outcome) {
    case PLAID_OK:                return 200;
    case PLAID_FAIL_UNREACHABLE:
    case PLAID_FAIL_RATE_LIMITED: return 503;
    case PLAID_FAIL_TIMEOUT:      return 504;
    case PLAID_FAIL_REFUSED:
    case PLAID_FAIL_UNUSABLE:
    case PLAID_FAIL_TLS:          break;
    }
    return 502;
}

#define PRODUCT_NOT_ENABLED_HINT                                            \
    "a product in PlaidProducts is not enabled for this client id in this "  \
    "environment: enable it in the Plaid dashboard or remove it"

/* The known causes, by Plaid error_code (and a word of error_message where
 * one code covers several causes). First match wins. */
static const struct {
    const char *error_code;
    const char *message_word;   /* NULL: any message */
    const char *hint;
} error_hints[] = {
    { "INVALID_API_KEYS", NULL,
      "the client id and secret do not match this environment: PlaidSecret "
      "must be the PlaidEnv environment's secret for PlaidClientId "
      "(sandbox and production secrets differ)" },
    { "UNAUTHORIZED_ENVIRONMENT", NULL,
      "this client id is not enabled for the PlaidEnv environment; request "
      "access in the Plaid dashboard or use sandbox" },
    { "INVALID_FIELD", "redirect",
      "PlaidRedirectURI must be registered, exactly, under Allowed redirect "
      "URIs in the Plaid dashboard" },
    { "INVALID_PRODUCT", NULL, PRODUCT_NOT_ENABLED_HINT },
    { "PRODUCTS_NOT_SUPPORTED", NULL, PRODUCT_NOT_ENABLED_HINT },
    { "PRODUCT_NOT_ENABLED", NULL, PRODUCT_NOT_ENABLED_HINT },
    { "MISSING_FIELDS", NULL,
      "a required field is missing: check the Plaid* directives and "
      "PlaidLinkTokenExtra" },
    { "INVALID_FIELD", NULL,
      "a field is invalid: check the Plaid* directives and "
      "PlaidLinkTokenExtra against Plaid's /link/token/create reference" },
    { "UNKNOWN_FIELDS", NULL,
      "a field is unknown to Plaid: check PlaidLinkTokenExtra" },
    { "INVALID_BODY", NULL,
      "Plaid could not read the request body: check PlaidLinkTokenExtra" },
    { "INVALID_CONFIGURATION", NULL,
      "Plaid rejected the configuration of this Link session: check the "
      "Plaid* directives and PlaidLinkTokenExtra" },
    { "INVALID_PUBLIC_TOKEN", NULL,
      "the public_token cannot be exchanged: it expired (30 minutes after "
      "Link made it), was exchanged already, or comes from another "
      "environment than PlaidEnv (a sandbox token sent to production)" },
    { "RATE_LIMIT", NULL,
      "Plaid rate-limited this client id: too many calls of this kind in a "
      "short time; retry later" },
    { "INTERNAL_SERVER_ERROR", NULL,
      "Plaid had an internal error: retry later, and check Plaid's status "
      "page" },
    { "PLANNED_MAINTENANCE", NULL,
      "Plaid is in planned maintenance: retry later" },
};

static const char *outcome_hint(plaid_outcome outcome)
{
    switch (outcome) {
    case PLAID_FAIL_TIMEOUT:
        return "no answer within PlaidTimeout: check egress to the Plaid "
               "host (firewall, proxy), or raise PlaidTimeout";
    case PLAID_FAIL_UNREACHABLE:
        return "Plaid could not be reached or is unavailable: check DNS, "
               "firewall and egress proxy for the PlaidEnv or PlaidBaseURL "
               "host";
    case PLAID_FAIL_TLS:
        return "TLS verification of the Plaid host failed: check "
               "PlaidCACertificate and the host name in PlaidBaseURL";
    case PLAID_FAIL_RATE_LIMITED:
        return "Plaid rate-limited this client id: retry later";
    case PLAID_FAIL_UNUSABLE:
        return "the answer was not Plaid's: does PlaidBaseURL point at Plaid, "
               "or does a proxy on the way rewrite answers?";
    case PLAID_FAIL_REFUSED:
    case PLAID_OK:
        break;
    }
    return NULL;
}

const char *plaid_hint(const plaid_result *res)
{
    apr_size_t i;

    if (res->error_code) {
        for (i = 0; i < sizeof(error_hints) / sizeof(error_hints[0]); i++) {
            if (strcmp(error_hints[i].error_code, res->error_code) != 0) {
                continue;
            }
            if (error_hints[i].message_word
                && !(res->error_message
                     && strstr(res->error_message,
                               error_hints[i].message_word))) {
                continue;
            }
            return error_hints[i].hint;
        }
    }
    return outcome_hint(res->outcome);
}
