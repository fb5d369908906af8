/* SPDX-License-Identifier: Apache-2.0 */
/* Directive values, user ids, masking and log quoting. */
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "plaid_known.h"
#include "plaid_error.h"
#include "plaid_known.h"
#include "plaid_link_token.h"
#include "plaid_values.h"
#include "unit.h"

static void env_urls(apr_pool_t *p)
{
    const char *url = NULL;

    (void)p;
    CHECK(plaid_env_url("sandbox", &url) == NULL);
    CHECK_STR(url, "https://sandbox.plaid.com");
    CHECK(plaid_env_url("production", &url) == NULL);
    CHECK_STR(url, "https://production.plaid.com");
    CHECK_HAS(plaid_env_url("development", &url), "retired");
    CHECK(plaid_env_url("Sandbox", &url) != NULL);
    CHECK(plaid_env_url("", &url) != NULL);
}

static void base_urls(apr_pool_t *p)
{
    const char *n = NULL;

    CHECK(plaid_check_base_url(p, "https://gw.example.com/plaid/", &n) == NULL);
    CHECK_STR(n, "https://gw.example.com/plaid");
    CHECK(plaid_check_base_url(p, "http://127.0.0.1:8080", &n) == NULL);
    CHECK(plaid_check_base_url(p, "http://localhost:8080", &n) == NULL);
    CHECK(plaid_check_base_url(p, "http://[::1]:8080", &n) == NULL);
    CHECK_HAS(plaid_check_base_url(p, "http://example.com", &n), "https");
    CHECK_HAS(plaid_check_base_url(p, "http://127.0.0.1.evil.com", &n),
              "https");
    CHECK(plaid_check_base_url(p, "http://127.9.9.9", &n) == NULL);
    CHECK(plaid_check_base_url(p, "http://128.0.0.1", &n) != NULL);
    CHECK(plaid_check_base_url(p, "ftp://localhost", &n) != NULL);
    CHECK(plaid_check_base_url(p, "sandbox.plaid.com", &n) != NULL);
    CHECK(plaid_check_base_url(p, "https://u:pw@host", &n) != NULL);
    CHECK(plaid_check_base_url(p, "https://host/?q=1", &n) != NULL);
}

static void secrets(apr_pool_t *p)
{
    plaid_secret sec;
    const char *err;
    char path[] = "/tmp/plaid-unit-secret-XXXXXX";
    apr_file_t *f;

    CHECK(apr_file_mktemp(&f, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE
                          | APR_FOPEN_EXCL, p) == APR_SUCCESS);
    apr_file_puts("s3cr3t-value\n", f);
    apr_file_close(f);
    CHECK(apr_file_perms_set(path, APR_UREAD | APR_UWRITE) == APR_SUCCESS);
    CHECK(plaid_resolve_secret(p, "PlaidSecret",
                               apr_pstrcat(p, "file:", path, NULL), NULL,
                               &sec) == NULL);
    CHECK_STR(sec.value, "s3cr3t-value");
    CHECK(sec.is_inline == 0 && sec.env_name == NULL);
    CHECK(sec.others_can_read == 0);
    /* readable by every user: the glue warns */
    CHECK(apr_file_perms_set(path, APR_UREAD | APR_WREAD) == APR_SUCCESS);
    CHECK(plaid_resolve_secret(p, "PlaidSecret",
                               apr_pstrcat(p, "file:", path, NULL), NULL,
                               &sec) == NULL);
    CHECK(sec.others_can_read == 1);
    apr_file_remove(path, p);

    err = plaid_resolve_secret(p, "PlaidSecret",
                               "file:/nonexistent/plaid.secret", NULL, &sec);
    CHECK_HAS(err, "/nonexistent/plaid.secret");
    err = plaid_resolve_secret(p, "PlaidSecret", "file:/tmp", NULL, &sec);
    CHECK_HAS(err, "is a directory");
    err = plaid_resolve_secret(p, "PlaidUserIdHashKey", "file:/tmp", NULL,
                               &sec);
    CHECK_HAS(err, "PlaidUserIdHashKey");

    setenv("PLAID_UNIT_SECRET", "env-secret-value", 1);
    CHECK(plaid_resolve_secret(p, "PlaidSecret", "env:PLAID_UNIT_SECRET",
                               NULL, &sec) == NULL);
    CHECK_STR(sec.value, "env-secret-value");
    CHECK_STR(sec.env_name, "PLAID_UNIT_SECRET");
    /* the value kept from an earlier read wins: the variable is gone */
    unsetenv("PLAID_UNIT_SECRET");
    CHECK(plaid_resolve_secret(p, "PlaidSecret", "env:PLAID_UNIT_SECRET",
                               "kept-value", &sec) == NULL);
    CHECK_STR(sec.value, "kept-value");
    err = plaid_resolve_secret(p, "PlaidSecret", "env:PLAID_UNIT_UNSET", NULL,
                               &sec);
    CHECK_HAS(err, "PLAID_UNIT_UNSET");

    CHECK(plaid_resolve_secret(p, "PlaidSecret", "inline-secret", NULL, &sec)
          == NULL);
    CHECK(sec.is_inline == 1);
    CHECK(plaid_resolve_secret(p, "PlaidSecret", "", NULL, &sec) != NULL);
    CHECK(plaid_resolve_secret(p, "PlaidSecret", "file:", NULL, &sec) != NULL);
}

/* The kernel's environment block at exec, as httpd inherits it: strings
 * that unsetenv() leaves in place. putenv() puts this buffer itself in
 * environ, so the test sees what /proc/<pid>/environ would. */
static void env_erase(apr_pool_t *p)
{
    static char block[] = "PLAID_UNIT_ERASE=env-secret-Qw7\0"
                          "PLAID_UNIT_ERASED=other-value";
    static const char name[] = "PLAID_UNIT_ERASE=";
    char *other = block + sizeof(name) - 1 + strlen("env-secret-Qw7") + 1;
    apr_size_t i;

    (void)p;
    CHECK(putenv(block) == 0 && putenv(other) == 0);
    plaid_env_erase("PLAID_UNIT_ERASE");
    CHECK(getenv("PLAID_UNIT_ERASE") == NULL);
    CHECK(strncmp(block, name, sizeof(name) - 1) == 0);
    for (i = sizeof(name) - 1; i < sizeof(name) - 1 + 14; i++) {
        CHECK(block[i] == '\0');
    }
    /* a variable whose name it begins is left alone */
    CHECK_STR(getenv("PLAID_UNIT_ERASED"), "other-value");
    CHECK_STR(other, "PLAID_UNIT_ERASED=other-value");
    unsetenv("PLAID_UNIT_ERASED");
    plaid_env_erase("PLAID_UNIT_NEVER_SET");
    plaid_env_erase("");
}

static void credentials(apr_pool_t *p)
{
    CHECK(plaid_check_credential(p, "PlaidSecret", "abc123DEF") == NULL);
    CHECK_HAS(plaid_check_credential(p, "PlaidSecret", "abc\r\nX-Evil: 1"),
              "control character at byte 4");
    CHECK_HAS(plaid_check_credential(p, "PlaidSecret", "abc def"),
              "a space at byte 4");
    CHECK_HAS(plaid_check_credential(p, "PlaidClientId", "abc\tdef"),
              "PlaidClientId");
    CHECK_HAS(plaid_check_credential(p, "PlaidSecret", "caf\xc3\xa9"),
              "non-ASCII");
    CHECK(strstr(plaid_check_credential(p, "PlaidSecret", "hush hush"),
                 "hush") == NULL);
}

static void retry_after(apr_pool_t *p)
{
    (void)p;
    CHECK(plaid_retry_after_s("7") == 7);
    CHECK(plaid_retry_after_s("7 ") == 7);
    CHECK(plaid_retry_after_s(NULL) == 0);
    CHECK(plaid_retry_after_s("") == 0);
    CHECK(plaid_retry_after_s("0") == 0);
    CHECK(plaid_retry_after_s("-3") == 0);
    CHECK(plaid_retry_after_s("7a") == 0);
    CHECK(plaid_retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT") == 0);
    CHECK(plaid_retry_after_s("18446744073709551") == PLAID_RETRY_AFTER_MAX_S);
    CHECK(plaid_retry_after_s("99999999999999999999999") == 0);
}

static void expressions(apr_pool_t *p)
{
    (void)p;
    CHECK(plaid_expr_has_variable("%{REMOTE_USER}"));
    CHECK(plaid_expr_has_variable("tenant-%{HTTP:X-User}"));
    CHECK(plaid_expr_has_variable("%{md5:%{REMOTE_USER}}"));
    CHECK(plaid_expr_has_variable("user-$1"));
    CHECK(!plaid_expr_has_variable("user"));
    CHECK(!plaid_expr_has_variable(""));
    CHECK(!plaid_expr_has_variable("100% {sure}"));
    CHECK(!plaid_expr_has_variable("\\%\\{x}"));
    CHECK(!plaid_expr_has_variable("costs $"));
}

static void user_id_hmac(apr_pool_t *p)
{
    /* RFC 4231, test case 2 */
    CHECK_STR(plaid_user_id_hmac(p, "Jefe", 4, "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* lowercase hex, 64 characters, a valid client_user_id */
    CHECK(plaid_check_user_id(plaid_user_id_hmac(p, "k", 1,
                                                 "alice@example.com")) == NULL);
    CHECK(strlen(plaid_user_id_hmac(p, "k", 1, "alice@example.com")) == 64);
}

static void durations(apr_pool_t *p)
{
    long ms = 0;

    (void)p;
    CHECK(plaid_parse_duration("2", &ms) == NULL && ms == 2000);
    CHECK(plaid_parse_duration("0.5", &ms) == NULL && ms == 500);
    CHECK(plaid_parse_duration("1500ms", &ms) == NULL && ms == 1500);
    CHECK(plaid_parse_duration("3s", &ms) == NULL && ms == 3000);
    CHECK(plaid_parse_duration("0", &ms) != NULL);
    CHECK(plaid_parse_duration("-1", &ms) != NULL);
    CHECK(plaid_parse_duration("601", &ms) != NULL);
    CHECK(plaid_parse_duration("abc", &ms) != NULL);
    CHECK(plaid_parse_duration("5m", &ms) != NULL);
}

static void extra_json(apr_pool_t *p)
{
    json_t *extra = NULL;
    const char *err;

    CHECK(plaid_parse_extra(p, "{\"transactions\":{\"days_requested\":730}}",
                            &extra) == NULL);
    CHECK(json_is_object(json_object_get(extra, "transactions")));
    err = plaid_parse_extra(p, "{\"a\": }", &extra);
    CHECK_HAS(err, "not valid JSON");
    CHECK_HAS(err, "position");
    CHECK_HAS(plaid_parse_extra(p, "[1]", &extra), "object");
    CHECK_HAS(plaid_parse_extra(p, "{\"secret\":\"x\"}", &extra), "secret");
    CHECK_HAS(plaid_parse_extra(p, "{\"client_id\":\"x\"}", &extra),
              "client_id");
    CHECK_HAS(plaid_parse_extra(p, "{\"user\":{}}", &extra), "user");
    CHECK_HAS(plaid_parse_extra(p, "{\"products\":[]}", &extra), "products");
    CHECK(plaid_parse_extra(p, "{\"a\":1,\"a\":2}", &extra) != NULL);
}

static void user_ids(apr_pool_t *p)
{
    char long_id[PLAID_USER_ID_MAX + 2];

    (void)p;
    CHECK(plaid_check_user_id("alice") == NULL);
    CHECK(plaid_check_user_id("user-42@example") == NULL);
    CHECK(plaid_check_user_id("J\xc3\xbcrgen") == NULL);         /* Jürgen */
    CHECK(plaid_check_user_id("\xe2\x82\xac") == NULL);          /* € */
    CHECK(plaid_check_user_id("\xf0\x9f\x98\x80") == NULL);      /* emoji */
    CHECK_HAS(plaid_check_user_id("a\r\nX-Evil: 1"), "control");
    CHECK_HAS(plaid_check_user_id("tab\there"), "control");
    CHECK_HAS(plaid_check_user_id("\xff\xfe"), "UTF-8");
    CHECK_HAS(plaid_check_user_id("\xc0\xaf"), "UTF-8");          /* overlong */
    CHECK_HAS(plaid_check_user_id("\xed\xa0\x80"), "UTF-8");      /* surrogate */
    CHECK_HAS(plaid_check_user_id("\xe2\x82"), "UTF-8");          /* cut */
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    CHECK_HAS(plaid_check_user_id(long_id), "256");
    long_id[PLAID_USER_ID_MAX] = '\0';
    CHECK(plaid_check_user_id(long_id) == NULL);
}

static void masking_and_quoting(apr_pool_t *p)
{
    CHECK_STR(plaid_mask(p, "0123456789abcdef01234567"), "...4567");
    CHECK_STR(plaid_mask(p, "abc"), "...");
    CHECK_STR(plaid_mask(p, NULL), "...");
    CHECK_STR(plaid_hide_userinfo(p, "http://proxy.example.com:3128"),
              "http://proxy.example.com:3128");
    CHECK_STR(plaid_hide_userinfo(p, "http://u:pw@proxy.example.com:3128/"),
              "http://(hidden)@proxy.example.com:3128/");
    CHECK_STR(plaid_hide_userinfo(p, "socks5h://u:p@w@[::1]:1080"),
              "socks5h://(hidden)@[::1]:1080");
    CHECK_STR(plaid_hide_userinfo(p, "http://u@host/a@b"),
              "http://(hidden)@host/a@b");
    CHECK_STR(plaid_hide_userinfo(p, "http://host/a@b"), "http://host/a@b");
    CHECK_STR(plaid_hide_userinfo(p, "u:pw@host:3128"), "(hidden)@host:3128");
    CHECK_STR(plaid_hide_userinfo(p, ""), "");
    CHECK_STR(plaid_log_quote(p, NULL, 10), "null");
    CHECK_STR(plaid_log_quote(p, "a \"b\"\n", 20), "\"a \\\"b\\\"\\x0a\"");
    CHECK_STR(plaid_log_quote(p, "abcdef", 3), "\"abc...\"");
}

static void spaced_lists(apr_pool_t *p)
{
    CHECK_STR(plaid_spaced_list(p, "US,CA"), "US CA");
    CHECK_STR(plaid_spaced_list(p, "US, CA ,GB"), "US CA GB");
    CHECK_STR(plaid_spaced_list(p, ",auth,,transactions,"), "auth transactions");
    CHECK_STR(plaid_spaced_list(p, "US CA"), NULL);
    CHECK_STR(plaid_spaced_list(p, ""), NULL);
}

static void known_values(apr_pool_t *p)
{
    (void)p;
    CHECK(plaid_product_allowed("auth", PLAID_FIELD_PRODUCTS));
    CHECK(!plaid_product_allowed("balance", PLAID_FIELD_PRODUCTS));
    CHECK(plaid_product_allowed("balance", PLAID_PRODUCTS_ENUM));
    CHECK(plaid_product_allowed("balance_plus",
                                PLAID_FIELD_ADDITIONAL_CONSENTED_PRODUCTS));
    CHECK(!plaid_product_allowed("assets", PLAID_FIELD_OPTIONAL_PRODUCTS));
    CHECK(!plaid_product_allowed("nope", PLAID_PRODUCTS_ENUM));
    CHECK(!plaid_product_allowed(NULL, PLAID_PRODUCTS_ENUM));
    CHECK(plaid_country_code_known("NO"));
    CHECK(!plaid_country_code_known("XX"));
    CHECK(!plaid_country_code_known("us"));
    CHECK(plaid_language_known("en"));
    CHECK(!plaid_language_known("xx"));
    CHECK(plaid_error_type_known("INVALID_INPUT"));
}

static void loopback(apr_pool_t *p)
{
    (void)p;
    CHECK(plaid_is_loopback_ip("127.0.0.1"));
    CHECK(plaid_is_loopback_ip("127.255.0.9"));
    CHECK(plaid_is_loopback_ip("::1"));
    CHECK(plaid_is_loopback_ip("::ffff:127.0.0.1"));
    CHECK(!plaid_is_loopback_ip("128.0.0.1"));
    CHECK(!plaid_is_loopback_ip("10.0.0.1"));
    CHECK(!plaid_is_loopback_ip("0.0.0.0"));
    CHECK(!plaid_is_loopback_ip("::"));
    CHECK(!plaid_is_loopback_ip("::ffff:10.0.0.1"));
    CHECK(!plaid_is_loopback_ip("2001:db8::1"));
    CHECK(!plaid_is_loopback_ip("localhost"));
    CHECK(!plaid_is_loopback_ip("127.0.0.1.example.com"));
    CHECK(!plaid_is_loopback_ip(NULL));
}

int main(void)
{
    static const unit_test tests[] = {
        env_urls, base_urls, secrets, env_erase, durations, extra_json, user_ids,
        masking_and_quoting, spaced_lists, known_values, credentials,
        retry_after, expressions, user_id_hmac, loopback, NULL
    };
    return unit_run("test_values", tests);
}
