/* ots_sign: authentication of Tablestore requests and responses (reference section 2): the V2
 * request signature (HMAC-SHA1 over "/Action\nPOST\n\n" + the sorted x-ots-* headers), the
 * response signature check (the Authorization header), the body MD5 header, and the x-ots-date
 * format.
 *
 * Crypto (HMAC-SHA1, MD5, base64) comes from OpenSSL's libcrypto; nothing here does I/O or reads
 * a clock: time is an argument. Header lists are borrowed arrays of name/value pairs; names are
 * matched case-insensitively, values are used as given (request values are trimmed for
 * signing, as every SDK does).
 *
 * Errors (returned int, detail in rv_err_t):
 *   RV_EINVAL   misuse that depends on data: duplicate x-ots-* header, a date out of range;
 *   RV_EPROTO   a response lacks a header the check needs, or Authorization is malformed;
 *   RV_EPERM    the response signature does not match (or names another access key id);
 *   RV_ECORRUPT the body does not match x-ots-contentmd5;
 *   RV_ENOMEM / RV_EINTERNAL allocation or libcrypto failure. */
#ifndef OTS_SIGN_H
#define OTS_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "ots_buf.h"
#include "rv_error.h"

#define OTS_API_VERSION "2015-12-31"
#define OTS_B64_SHA1_LEN 28 /* base64 of a 20-byte HMAC-SHA1, with padding */
#define OTS_B64_MD5_LEN 24  /* base64 of a 16-byte MD5, with padding */
#define OTS_DATE_LEN 24     /* "YYYY-MM-DDTHH:MM:SS.sssZ" */

/* One HTTP header, borrowed. */
typedef struct {
  const char *name;
  const char *value;
} ots_header_t;

/* Credentials, borrowed strings. sts_token is NULL unless the key is an STS temporary key. */
typedef struct {
  const char *access_key_id;
  const char *access_key_secret;
  const char *instance;
  const char *sts_token;
} ots_cred_t;

/* ---- primitives ---- */

/* Base64(MD5(body)) into out (NUL-terminated). body may be NULL when len == 0. */
int ots_sign_content_md5(const void *body, size_t len, char out[OTS_B64_MD5_LEN + 1],
                         rv_err_t *err);
/* Base64(HMAC-SHA1(key, msg)) into out (NUL-terminated). */
int ots_sign_hmac_sha1(const char *key, const void *msg, size_t len,
                       char out[OTS_B64_SHA1_LEN + 1], rv_err_t *err);

/* x-ots-date for a time in ms since the epoch (UTC): "2024-01-02T03:04:05.000Z". Years
 * 1970..9999 only (RV_EINVAL otherwise). */
int ots_sign_format_date(int64_t unix_ms, char out[OTS_DATE_LEN + 1], rv_err_t *err);
/* Parses "YYYY-MM-DDTHH:MM:SS[.f...]Z" (any number of fraction digits; the server sends
 * microseconds) into ms since the epoch (fraction truncated to ms). RV_EPROTO when malformed. */
int ots_sign_parse_date(const char *s, int64_t *unix_ms, rv_err_t *err);

/* ---- request ---- */

/* The V2 string to sign, appended to out: "/" action "\nPOST\n\n", then for every x-ots-*
 * header except x-ots-signature, sorted by lower-cased name: name ":" trim(value) "\n". */
int ots_sign_request_string(ots_buf_t *out, const char *action, const ots_header_t *h, size_t n,
                            rv_err_t *err);
/* The request signature over that string (the value of x-ots-signature). */
int ots_sign_request(const char *secret, const char *action, const ots_header_t *h, size_t n,
                     char out[OTS_B64_SHA1_LEN + 1], rv_err_t *err);

/* The headers of one request (reference 1.2), built and signed. h[0..n) point into this struct
 * and into cred's strings: keep both alive and do not copy the struct while h is in use. */
#define OTS_REQ_HEADERS_MAX 8
typedef struct {
  char date[OTS_DATE_LEN + 1];
  char md5[OTS_B64_MD5_LEN + 1];
  char signature[OTS_B64_SHA1_LEN + 1];
  ots_header_t h[OTS_REQ_HEADERS_MAX];
  size_t n;
} ots_req_headers_t;

/* Fills out with x-ots-date (from now_ms), x-ots-apiversion, x-ots-accesskeyid,
 * x-ots-instancename, x-ots-contentmd5 (of body), x-ots-ststoken (when cred has one) and
 * x-ots-signature (over all of them). */
int ots_sign_request_headers(ots_req_headers_t *out, const ots_cred_t *cred, const char *action,
                             const void *body, size_t len, int64_t now_ms, rv_err_t *err);

/* ---- response ---- */

/* The response string to sign, appended to out: for every x-ots-* header except
 * x-ots-signature, sorted by lower-cased name: lower(name) ":" trim(value) "\n"; then "/" action
 * (no trailing newline). */
int ots_sign_response_string(ots_buf_t *out, const char *action, const ots_header_t *h, size_t n,
                             rv_err_t *err);
/* The response signature: Base64(HMAC-SHA1(secret, response string)). */
int ots_sign_response(const char *secret, const char *action, const ots_header_t *h, size_t n,
                      char out[OTS_B64_SHA1_LEN + 1], rv_err_t *err);
/* Checks the Authorization header among h: it must read "OTS <access_key_id>:<signature>"
 * with our access key id and the signature of the x-ots-* headers among h (compared in
 * constant time). */
int ots_sign_check_response(const ots_cred_t *cred, const char *action, const ots_header_t *h,
                            size_t n, rv_err_t *err);
/* Checks x-ots-contentmd5 among h against Base64(MD5(body)). */
int ots_sign_check_md5(const ots_header_t *h, size_t n, const void *body, size_t len,
                       rv_err_t *err);

/* The value of the first header named name (case-insensitive) among h, or NULL. Borrowed. */
const char *ots_header_find(const ots_header_t *h, size_t n, const char *name);

#endif
