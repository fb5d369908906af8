/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PlaidBaseURL (and the check PlaidWebhook / PlaidRedirectURI reuse):
 * plaid_check_base_url on the directive's text. An accepted URL is https,
 * or http to a literal loopback host, and loses its trailing slashes.
 */
#include <strings.h>

#include <apr_uri.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *url = fuzz_cstring(p, data, size);
    const char *normalized = NULL;
    const char *err = plaid_check_base_url(p, url, &normalized);

    if (err) {
        FUZZ_CHECK(*err, "empty error message");
    }
    else {
        apr_size_t n;
        apr_uri_t uri;

        FUZZ_CHECK(normalized != NULL, "accepted without a normalized URL");
        n = strlen(normalized);
        FUZZ_CHECK(n > 0 && normalized[n - 1] != '/', "trailing slash kept");
        FUZZ_CHECK(strncasecmp(normalized, "https:", 6) == 0
                   || strncasecmp(normalized, "http:", 5) == 0,
                   "accepted a scheme other than http(s)");
        /* What the handler makes of it must parse to the same host. */
        FUZZ_CHECK(apr_uri_parse(p, apr_pstrcat(p, normalized,
                                                "/link/token/create", NULL),
                                 &uri) == APR_SUCCESS && uri.hostname,
                   "the call URL does not parse");
    }
    apr_pool_destroy(p);
    return 0;
}
