/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing and checking of directive values and of the per-request user id.
 * Messages name the directive's value only when it is not a secret.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "plaid_values.h"

extern char **environ;

const char *plaid_env_url(const char *env, const char **url)
{
    if (strcmp(env, "sandbox") == 0) {
        *url = PLAID_SANDBOX_URL;
        return NULL;
    }
    if (strcmp(env, "production") == 0) {
        *url = PLAID_PRODUCTION_URL;
        return NULL;
    }
    if (strcmp(env, "development") == 0) {
        return "PlaidEnv development: Plaid retired its Development "
               "environment; use sandbox (test data, sandbox keys) or "
               "production (live data, production keys)";
    }
    return "PlaidEnv must be sandbox or production";
}

/* Only literal loopback addresses and "localhost": "127.0.0.1.example.com"
 * is somebody else's host. */
static int is_loopback_host(const char *host)
{
    struct in_addr v4;

    if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0) {
        return 1;
    }
    return inet_pton(AF_INET, host, &v4) == 1
        && (ntohl(v4.s_addr) >> 24) == 127;
}

int plaid_is_loopback_ip(const char *ip)
{
    struct in_addr v4;
    struct in6_addr v6;

    if (!ip) {
        return 0;
    }
    if (inet_pton(AF_INET, ip, &v4) == 1) {
        return (ntohl(v4.s_addr) >> 24) == 127;
    }
    if (inet_pton(AF_INET6, ip, &v6) == 1) {
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                                  0, 0, 0xff, 0xff };
        return IN6_IS_ADDR_LOOPBACK(&v6)
            || (memcmp(v6.s6_addr, mapped, 12) == 0 && v6.s6_addr[12] == 127);
    }
    return 0;
}

const char *plaid_check_base_url(apr_pool_t *p, const char *url,
                                 const char **normalized)
{
    apr_uri_t uri;
    char *copy;
    apr_size_t n;

    if (apr_uri_parse(p, url, &uri) != APR_SUCCESS || !uri.scheme
        || !uri.hostname || !*uri.hostname) {
        return apr_psprintf(p, "PlaidBaseURL '%s' is not an absolute URL", url);
    }
    if (uri.query || uri.fragment || uri.user || uri.password) {
        return apr_psprintf(p, "PlaidBaseURL '%s' may not carry a query, "
                            "a fragment or credentials", url);
    }
    if (strcasecmp(uri.scheme, "https") != 0
        && !(strcasecmp(uri.scheme, "http") == 0
             && is_loopback_host(uri.hostname))) {
        return apr_psprintf(p, "PlaidBaseURL '%s' must use https (plain http "
                            "is allowed only to a loopback host)", url);
    }
    copy = apr_pstrdup(p, url);
    n = strlen(copy);
    while (n > 0 && copy[n - 1] == '/') {
        copy[--n] = '\0';
    }
    *normalized = copy;
    return NULL;
}

static const char *read_secret_file(apr_pool_t *p, const char *what,
                                    const char *path, plaid_secret *out)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    apr_status_t rv;
    char *buf;
    char err[128];

    rv = apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_PROT, p);
    if (rv == APR_SUCCESS && fi.filetype == APR_DIR) {
        return apr_psprintf(p, "%s file:%s is a directory: name the file "
                            "that holds the value", what, path);
    }
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                       APR_OS_DEFAULT, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_PROT, f);
    }
    if (rv != APR_SUCCESS) {
        return apr_psprintf(p, "%s file:%s cannot be read: %s", what, path,
                            apr_strerror(rv, err, sizeof(err)));
    }
    if (fi.size > 1024) {
        apr_file_close(f);
        return apr_psprintf(p, "%s file:%s is %ld bytes; a Plaid secret or "
                            "key is a few dozen", what, path, (long)fi.size);
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(p, "%s file:%s cannot be read: %s", what, path,
                            apr_strerror(rv, err, sizeof(err)));
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    buf[n] = '\0';
    if (n == 0) {
        return apr_psprintf(p, "%s file:%s is empty", what, path);
    }
    out->value = buf;
    out->others_can_read = (fi.protection & APR_WREAD) != 0;
    return NULL;
}

const char *plaid_resolve_secret(apr_pool_t *p, const char *what,
                                 const char *spec, const char *env_value,
                                 plaid_secret *out)
{
    const char *v;
    char *value;

    memset(out, 0, sizeof(*out));
    if (strncmp(spec, "file:", 5) == 0) {
        v = spec + 5;
        if (!*v) {
            return apr_psprintf(p, "%s file: needs a path", what);
        }
        return read_secret_file(p, what, v, out);
    }
    if (strncmp(spec, "env:", 4) == 0) {
        v = spec + 4;
        if (!*v) {
            return apr_psprintf(p, "%s env: needs a variable name", what);
        }
        out->env_name = v;
        if (env_value && *env_value) {
            out->value = env_value;
            return NULL;
        }
        if (apr_env_get(&value, v, p) != APR_SUCCESS || !*value) {
            return apr_psprintf(p, "%s env:%s: the variable is not set in "
                                "httpd's environment (on Debian, export it "
                                "in /etc/apache2/envvars)", what, v);
        }
        out->value = value;
        return NULL;
    }
    if (!*spec) {
        return apr_psprintf(p, "%s is empty", what);
    }
    out->is_inline = 1;
    out->value = spec;
    return NULL;
}

/* unsetenv() only takes the pointer out of environ: the string stays
 * where it was, and for a variable httpd inherited that is the block the
 * kernel set up at exec, which /proc/<pid>/environ keeps showing. Once
 * httpd's children are dumpable (CoreDumpDirectory), their own user (PHP
 * inside one, a CGI reading its parent's) can read it there. */
void plaid_env_erase(const char *name)
{
    apr_size_t n = strlen(name);
    char **e;

    if (!n || strchr(name, '=')) {
        return;
    }
    /* every entry of that name: a block may hold it twice */
    for (e = environ; e && *e; e++) {
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') {
            memset(*e + n + 1, 0, strlen(*e + n + 1));
        }
    }
    unsetenv(name);
}

const char *plaid_check_credential(apr_pool_t *p, const char *what,
                                   const char *value)
{
    const unsigned char *s = (const unsigned char *)value;
    apr_size_t i;

    for (i = 0; s[i]; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7F) {
            return apr_psprintf(p, "%s has %s at byte %lu: it is sent in an "
                                "HTTP header, which cannot carry it (a "
                                "stray newline or space in the file?)", what,
                                s[i] == ' ' ? "a space"
                                : s[i] >= 0x7F ? "a non-ASCII byte"
                                : "a control character",
                                (unsigned long)i + 1);
        }
    }
    return NULL;
}

long plaid_retry_after_s(const char *value)
{
    char *end;
    long secs;

    if (!value || !apr_isdigit(*value)) {
        return 0;
    }
    errno = 0;
    secs = strtol(value, &end, 10);
    while (*end == ' ') {
        end++;
    }
    /* An HTTP-date or garbage: no number of seconds to honour. */
    if (errno || *end || secs <= 0) {
        return 0;
    }
    return secs > PLAID_RETRY_AFTER_MAX_S ? PLAID_RETRY_AFTER_MAX_S : secs;
}

int plaid_expr_has_variable(const char *expr)
{
    const char *s;

    for (s = expr; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;    /* an escaped character is literal */
        }
        else if ((*s == '%' && s[1] == '{') || (*s == '$' && apr_isdigit(s[1]))) {
            return 1;
        }
    }
    return 0;
}

const char *plaid_parse_duration(const char *text, long *ms)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (end == text || errno) {
        return "is not a number of seconds";
    }
    if (strcmp(end, "ms") == 0) {
        v /= 1000.0;
    }
    else if (*end && strcmp(end, "s") != 0) {
        return "takes seconds (2, 0.5) or milliseconds (500ms)";
    }
    if (!(v > 0.0) || v > 600.0) {
        return "must be more than 0 and at most 600 seconds";
    }
    *ms = (long)(v * 1000.0 + 0.5);
    if (*ms < 1) {
        *ms = 1;
    }
    return NULL;
}

static apr_status_t release_json(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

/* Fields owned by a directive or by the module itself. */
static const char *const extra_forbidden[] = {
    "client_id", "secret", "user", "user_id",
    "client_name", "language", "country_codes", "products",
    "optional_products", "required_if_supported_products",
    "additional_consented_products", "webhook", "redirect_uri",
    "android_package_name", "link_customization_name", NULL
};

const char *plaid_parse_extra(apr_pool_t *p, const char *text, json_t **extra)
{
    json_error_t err;
    json_t *obj;
    int i;

    obj = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (!obj) {
        return apr_psprintf(p, "PlaidLinkTokenExtra is not valid JSON: %s "
                            "(line %d, column %d, position %d)", err.text,
                            err.line, err.column, err.position);
    }
    apr_pool_cleanup_register(p, obj, release_json, apr_pool_cleanup_null);
    if (!json_is_object(obj)) {
        return "PlaidLinkTokenExtra must be a JSON object";
    }
    for (i = 0; extra_forbidden[i]; i++) {
        if (json_object_get(obj, extra_forbidden[i])) {
            return apr_psprintf(p, "PlaidLinkTokenExtra may not set \"%s\": "
                                "the module sets it (credentials and user from "
                                "their own directives, the rest from its "
                                "Plaid* directive)", extra_forbidden[i]);
        }
    }
    *extra = obj;
    return NULL;
}

const char *plaid_check_user_id(const char *id)
{
    const unsigned char *s = (const unsigned char *)id;
    apr_size_t len = strlen(id);
    int n;

    if (len > PLAID_USER_ID_MAX) {
        return "longer than 256 bytes";
    }
    while (*s) {
        if (*s < 0x20 || *s == 0x7F) {
            return "contains a control character";
        }
        n = plaid_utf8_len(s);
        if (!n) {
            return "is not UTF-8";
        }
        s += n;
    }
    return NULL;
}

const char *plaid_spaced_list(apr_pool_t *p, const char *args)
{
    char *out, *o;
    const char *s;

    if (!strchr(args, ',')) {
        return NULL;
    }
    out = o = apr_palloc(p, strlen(args) + 1);
    for (s = args; *s; s++) {
        if (*s == ',' || apr_isspace(*s)) {
            /* a run of commas and blanks is one separator */
            if (o > out && o[-1] != ' ') {
                *o++ = ' ';
            }
        }
        else {
            *o++ = *s;
        }
    }
    if (o > out && o[-1] == ' ') {
        o--;
    }
    *o = '\0';
    return out;
}

const char *plaid_mask(apr_pool_t *p, const char *id)
{
    apr_size_t len = id ? strlen(id) : 0;

    if (len <= 4) {
        return "...";
    }
    return apr_pstrcat(p, "...", id + len - 4, NULL);
}

const char *plaid_hide_userinfo(apr_pool_t *p, const char *url)
{
    const char *start = strstr(url, "://"), *end, *at = NULL, *s;

    start = start ? start + 3 : url;
    end = start + strcspn(start, "/?#");
    /* the last '@' of the authority ends the userinfo, as for curl and
     * apr_uri_parse: a password may hold an '@' of its own */
    for (s = start; s < end; s++) {
        if (*s == '@') {
            at = s;
        }
    }
    if (!at) {
        return url;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, url, start - url), "(hidden)",
                       at, NULL);
}

const char *plaid_log_quote(apr_pool_t *p, const char *text, apr_size_t max)
{
    const unsigned char *s = (const unsigned char *)text;
    char *out, *o;
    apr_size_t i;

    if (!text) {
        return "null";
    }
    /* worst case: every byte becomes \xHH, plus quotes and "..." */
    out = o = apr_palloc(p, max * 4 + 8);
    *o++ = '"';
    for (i = 0; s[i] && i < max; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            *o++ = '\\';
            *o++ = (char)s[i];
        }
        else if (s[i] < 0x20 || s[i] == 0x7F) {
            o += apr_snprintf(o, 5, "\\x%02x", s[i]);
        }
        else {
            *o++ = (char)s[i];
        }
    }
    if (s[i]) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

const char *plaid_user_id_hmac(apr_pool_t *p, const char *key,
                               apr_size_t key_len, const char *id)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char *hex;

    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)id,
              strlen(id), mac, &mac_len)) {
        return NULL;
    }
    hex = apr_palloc(p, mac_len * 2 + 1);
    plaid_hex(hex, mac, mac_len);
    return hex;
}
