/* ots_sign: V2 request signatures, response signature and MD5 checks, x-ots-date (reference
 * section 2). No I/O and no clock; HMAC-SHA1, MD5 and base64 from OpenSSL's libcrypto, whose
 * one-shot HMAC() and EVP_Digest() are the non-deprecated 3.0 interfaces. */
#include "ots_sign.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char s_prefix[] = "x-ots-";

const char *ots_header_find(const ots_header_t *h, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (h[i].name && strcasecmp(h[i].name, name) == 0) return h[i].value;
  return NULL;
}

int ots_sign_content_md5(const void *body, size_t len, char out[OTS_B64_MD5_LEN + 1],
                         rv_err_t *err) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  static const unsigned char empty[1];
  if (!EVP_Digest(len ? body : empty, len, md, &mdlen, EVP_md5(), NULL) || mdlen != 16)
    return rv_err_set(err, RV_EINTERNAL, "libcrypto: MD5 failed");
  EVP_EncodeBlock((unsigned char *)out, md, 16);
  return RV_OK;
}

int ots_sign_hmac_sha1(const char *key, const void *msg, size_t len,
                       char out[OTS_B64_SHA1_LEN + 1], rv_err_t *err) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  static const unsigned char empty[1];
  if (!HMAC(EVP_sha1(), key, (int)strlen(key), len ? msg : empty, len, md, &mdlen) ||
      mdlen != 20)
    return rv_err_set(err, RV_EINTERNAL, "libcrypto: HMAC-SHA1 failed");
  EVP_EncodeBlock((unsigned char *)out, md, 20);
  return RV_OK;
}

/* ---- dates: civil-from-days arithmetic (Howard Hinnant's algorithm), no libc time zones ---- */

static int64_t s_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

int ots_sign_format_date(int64_t unix_ms, char out[OTS_DATE_LEN + 1], rv_err_t *err) {
  const int64_t max_ms = s_days_from_civil(10000, 1, 1) * 86400000;
  if (unix_ms < 0 || unix_ms >= max_ms)
    return rv_err_set(err, RV_EINVAL, "date %lld ms is outside 1970..9999", (long long)unix_ms);
  int64_t days = unix_ms / 86400000, ms = unix_ms % 86400000;
  int64_t z = days + 719468;
  int64_t era = z / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = (int64_t)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  /* The fields are in range by construction; the wide buffer only quiets -Wformat-truncation. */
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y, m, d,
           (int)(ms / 3600000), (int)(ms / 60000 % 60), (int)(ms / 1000 % 60), (int)(ms % 1000));
  memcpy(out, tmp, OTS_DATE_LEN);
  out[OTS_DATE_LEN] = '\0';
  return RV_OK;
}

static bool s_digits(const char *s, int n, int *v) {
  *v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    *v = *v * 10 + (s[i] - '0');
  }
  return true;
}

int ots_sign_parse_date(const char *s, int64_t *unix_ms, rv_err_t *err) {
  int y, mo, d, h, mi, se, ms = 0;
  size_t len = s ? strlen(s) : 0;
  if (len < 20 || !s_digits(s, 4, &y) || s[4] != '-' || !s_digits(s + 5, 2, &mo) ||
      s[7] != '-' || !s_digits(s + 8, 2, &d) || s[10] != 'T' || !s_digits(s + 11, 2, &h) ||
      s[13] != ':' || !s_digits(s + 14, 2, &mi) || s[16] != ':' || !s_digits(s + 17, 2, &se))
    return rv_err_set(err, RV_EPROTO, "malformed date \"%.40s\"", s ? s : "");
  const char *p = s + 19;
  if (*p == '.') {
    p++;
    int nd = 0;
    while (*p >= '0' && *p <= '9') {
      if (nd < 3) ms = ms * 10 + (*p - '0');
      nd++;
      p++;
    }
    if (nd == 0) return rv_err_set(err, RV_EPROTO, "malformed date \"%.40s\": empty fraction", s);
    for (; nd < 3; nd++) ms *= 10;
  }
  if (p[0] != 'Z' || p[1] != '\0')
    return rv_err_set(err, RV_EPROTO, "malformed date \"%.40s\": expected a final 'Z'", s);
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
      se > 60)
    return rv_err_set(err, RV_EPROTO, "date \"%.40s\" out of range", s);
  *unix_ms = ((s_days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60000 +
             (int64_t)se * 1000 + ms;
  return RV_OK;
}

/* ---- strings to sign ---- */

typedef struct {
  const char *name;
  const char *value;
} s_pair_t;

static int s_cmp_pair(const void *a, const void *b) {
  return strcasecmp(((const s_pair_t *)a)->name, ((const s_pair_t *)b)->name);
}

static void s_put_trimmed(ots_buf_t *out, const char *v) {
  size_t n = strlen(v);
  while (n && (*v == ' ' || *v == '\t')) v++, n--;
  while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
  ots_buf_put(out, v, n);
}

/* Appends the sorted "name:value\n" lines of the signed x-ots-* headers. */
static int s_put_canonical_headers(ots_buf_t *out, const ots_header_t *h, size_t n,
                                   rv_err_t *err) {
  s_pair_t *v = n ? malloc(n * sizeof *v) : NULL;
  if (n && !v) return rv_err_set(err, RV_ENOMEM, "sign: out of memory");
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (!h[i].name || !h[i].value) continue;
    if (strncasecmp(h[i].name, s_prefix, sizeof s_prefix - 1) != 0) continue;
    if (strcasecmp(h[i].name, "x-ots-signature") == 0) continue;
    v[k].name = h[i].name;
    v[k].value = h[i].value;
    k++;
  }
  if (k) qsort(v, k, sizeof *v, s_cmp_pair);
  for (size_t i = 0; i < k; i++) {
    if (i && strcasecmp(v[i - 1].name, v[i].name) == 0) {
      rv_err_set(err, RV_EINVAL, "header %s appears twice", v[i].name);
      free(v);
      return RV_EINVAL;
    }
    for (const char *c = v[i].name; *c; c++)
      ots_buf_put_u8(out, (uint8_t)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c));
    ots_buf_put_u8(out, ':');
    s_put_trimmed(out, v[i].value);
    ots_buf_put_u8(out, '\n');
  }
  free(v);
  return RV_OK;
}

int ots_sign_request_string(ots_buf_t *out, const char *action, const ots_header_t *h, size_t n,
                            rv_err_t *err) {
  ots_buf_put_u8(out, '/');
  ots_buf_put(out, action, strlen(action));
  ots_buf_put(out, "\nPOST\n\n", 7);
  int rc = s_put_canonical_headers(out, h, n, err);
  if (rc) return rc;
  if (!ots_buf_ok(out)) return rv_err_set(err, RV_ENOMEM, "sign: out of memory");
  return RV_OK;
}

int ots_sign_response_string(ots_buf_t *out, const char *action, const ots_header_t *h, size_t n,
                             rv_err_t *err) {
  int rc = s_put_canonical_headers(out, h, n, err);
  if (rc) return rc;
  ots_buf_put_u8(out, '/');
  ots_buf_put(out, action, strlen(action));
  if (!ots_buf_ok(out)) return rv_err_set(err, RV_ENOMEM, "sign: out of memory");
  return RV_OK;
}

typedef int (*s_stringer_t)(ots_buf_t *, const char *, const ots_header_t *, size_t, rv_err_t *);

static int s_sign_with(s_stringer_t f, const char *secret, const char *action,
                       const ots_header_t *h, size_t n, char out[OTS_B64_SHA1_LEN + 1],
                       rv_err_t *err) {
  ots_buf_t s;
  ots_buf_init(&s);
  int rc = f(&s, action, h, n, err);
  if (!rc) rc = ots_sign_hmac_sha1(secret, s.data, s.len, out, err);
  ots_buf_close(&s);
  return rc;
}

int ots_sign_request(const char *secret, const char *action, const ots_header_t *h, size_t n,
                     char out[OTS_B64_SHA1_LEN + 1], rv_err_t *err) {
  return s_sign_with(ots_sign_request_string, secret, action, h, n, out, err);
}

int ots_sign_response(const char *secret, const char *action, const ots_header_t *h, size_t n,
                      char out[OTS_B64_SHA1_LEN + 1], rv_err_t *err) {
  return s_sign_with(ots_sign_response_string, secret, action, h, n, out, err);
}

int ots_sign_request_headers(ots_req_headers_t *out, const ots_cred_t *cred, const char *action,
                             const void *body, size_t len, int64_t now_ms, rv_err_t *err) {
  memset(out, 0, sizeof *out);
  int rc = ots_sign_format_date(now_ms, out->date, err);
  if (!rc) rc = ots_sign_content_md5(body, len, out->md5, err);
  if (rc) return rc;
  ots_header_t *h = out->h;
  size_t n = 0;
  h[n++] = (ots_header_t){"x-ots-date", out->date};
  h[n++] = (ots_header_t){"x-ots-apiversion", OTS_API_VERSION};
  h[n++] = (ots_header_t){"x-ots-accesskeyid", cred->access_key_id};
  h[n++] = (ots_header_t){"x-ots-instancename", cred->instance};
  h[n++] = (ots_header_t){"x-ots-contentmd5", out->md5};
  if (cred->sts_token) h[n++] = (ots_header_t){"x-ots-ststoken", cred->sts_token};
  rc = ots_sign_request(cred->access_key_secret, action, h, n, out->signature, err);
  if (rc) return rc;
  h[n++] = (ots_header_t){"x-ots-signature", out->signature};
  out->n = n;
  return RV_OK;
}

int ots_sign_check_response(const ots_cred_t *cred, const char *action, const ots_header_t *h,
                            size_t n, rv_err_t *err) {
  const char *auth = ots_header_find(h, n, "authorization");
  if (!auth) return rv_err_set(err, RV_EPROTO, "response has no Authorization header");
  const char *colon = strrchr(auth, ':');
  if (strncmp(auth, "OTS ", 4) != 0 || !colon)
    return rv_err_set(err, RV_EPROTO,
                      "response Authorization \"%.80s\" is not \"OTS <accesskeyid>:<signature>\"",
                      auth);
  size_t idlen = (size_t)(colon - (auth + 4));
  if (idlen != strlen(cred->access_key_id) || memcmp(auth + 4, cred->access_key_id, idlen) != 0)
    return rv_err_set(err, RV_EPERM, "response signed for access key id \"%.*s\", not ours",
                      (int)(idlen > 64 ? 64 : idlen), auth + 4);
  char want[OTS_B64_SHA1_LEN + 1];
  int rc = ots_sign_response(cred->access_key_secret, action, h, n, want, err);
  if (rc) return rc;
  const char *got = colon + 1;
  if (strlen(got) != OTS_B64_SHA1_LEN || CRYPTO_memcmp(got, want, OTS_B64_SHA1_LEN) != 0)
    return rv_err_set(err, RV_EPERM, "response signature mismatch for /%s: got \"%.40s\"",
                      action, got);
  return RV_OK;
}

int ots_sign_check_md5(const ots_header_t *h, size_t n, const void *body, size_t len,
                       rv_err_t *err) {
  const char *got = ots_header_find(h, n, "x-ots-contentmd5");
  if (!got) return rv_err_set(err, RV_EPROTO, "response has no x-ots-contentmd5 header");
  char want[OTS_B64_MD5_LEN + 1];
  int rc = ots_sign_content_md5(body, len, want, err);
  if (rc) return rc;
  if (strcmp(got, want) != 0)
    return rv_err_set(err, RV_ECORRUPT,
                      "body of %zu bytes has MD5 %s but x-ots-contentmd5 says \"%.40s\"", len, want,
                      got);
  return RV_OK;
}
