/* Unit tests of ots_sign against the reference's signature vectors (section 2.3): KAT-S1 (raw
 * HMAC-SHA1), KAT-S2 (JAVA's response check), KAT-S3..S7 (the official Python SDK's request and
 * response signatures), the body MD5s of KAT-B1..B5 and KAT-E1, then the checks refusing a wrong
 * MD5, a wrong signature, another key id and malformed headers; and x-ots-date against libc's
 * gmtime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ots_sign.h"
#include "ots_testutil.h"

static const ots_cred_t s_cred = {"testAccessKeyId", "testAccessKeySecret", "testinstance", NULL};
static const char *s_date = "2024-01-02T03:04:05.000Z";

static int64_t s_date_ms(void) {
  struct tm tm = {.tm_year = 124, .tm_mon = 0, .tm_mday = 2, .tm_hour = 3, .tm_min = 4, .tm_sec = 5};
  return (int64_t)timegm(&tm) * 1000;
}

static void test_kat_s1_raw_hmac(void **state) {
  const char *msg =
      "/ListTable\nDate=Mon%2C%2028%20Nov%202011%2014%3A02%3A46%20GMT&OTSAccessKeyId=csdev&"
      "APIVersion=1&SignatureMethod=HmacSHA1&SignatureVersion=1";
  char out[OTS_B64_SHA1_LEN + 1];
  assert_int_equal(ots_sign_hmac_sha1("csdev", msg, strlen(msg), out, NULL), RV_OK);
  assert_string_equal(out, "3mAoxRc8hd7WdaFB5Ii7dGNcwx0=");
}

static void s_check_md5(const char *hex, const char *want) {
  size_t n;
  uint8_t *b = ots_hex_decode(hex, &n);
  char out[OTS_B64_MD5_LEN + 1];
  assert_int_equal(ots_sign_content_md5(b, n, out, NULL), RV_OK);
  assert_string_equal(out, want);
  free(b);
}

/* The body MD5s the reference gives (KAT-B1..B5, the empty body, KAT-E1's error body). */
static void test_content_md5_vectors(void **state) {
  s_check_md5("", "1B2M2Y8AsgTpgAmY7PhCfg==");
  s_check_md5("0a046d65746112327500000001030402000000706b050700000003020000006b310a4c02030401000000"
              "7305060000000301000000760a0d09951a020800",
              "i8BrCBWa/4eFahbiT/PJQg==");
  s_check_md5("0a046d657461121d7500000001030402000000706b050700000003020000006b310a4c09a72801",
              "tcFARwYKoRC4Kor+v2FnKQ==");
  s_check_md5("0a046d6574611000280130643a177500000001030402000000706b0501000000090a3a097b42177500"
              "000001030402000000706b05010000000a0a3309c6",
              "YR2Gxhp8pAdcrPS3v7r2yA==");
  s_check_md5("0a046d657461121e7500000001030402000000706b050700000003020000006b310a4c0809a01a0208"
              "01",
              "kwxYV4chcDyM3367t/FE5w==");
  s_check_md5("0a6a0a046d657461123a080112327500000001030402000000706b050700000003020000006b310a4c"
              "020304010000007305060000000301000000760a0d09951a02080012260803121e75000000010304"
              "02000000706b050700000003020000006b310a4c0809a01a020800",
              "h22jaBzxSmYUFJmdAI06VQ==");
  s_check_md5("0a154f5453436f6e646974696f6e436865636b4661696c1217436f6e646974696f6e20636865636b20"
              "6661696c65642e",
              "tb1xxFT1i9oAap/9e+zMLA==");
}

static void test_kat_s3_list_table_string_and_signature(void **state) {
  const ots_header_t h[] = {
      {"x-ots-date", s_date},
      {"x-ots-apiversion", "2015-12-31"},
      {"x-ots-accesskeyid", "testAccessKeyId"},
      {"x-ots-instancename", "testinstance"},
      {"x-ots-contentmd5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
      {"User-Agent", "not signed"},
  };
  ots_buf_t s;
  ots_buf_init(&s);
  assert_int_equal(ots_sign_request_string(&s, "ListTable", h, 6, NULL), RV_OK);
  const char *want =
      "/ListTable\nPOST\n\nx-ots-accesskeyid:testAccessKeyId\nx-ots-apiversion:2015-12-31\n"
      "x-ots-contentmd5:1B2M2Y8AsgTpgAmY7PhCfg==\nx-ots-date:2024-01-02T03:04:05.000Z\n"
      "x-ots-instancename:testinstance\n";
  assert_int_equal(s.len, strlen(want));
  assert_memory_equal(s.data, want, s.len);
  ots_buf_close(&s);
  char sig[OTS_B64_SHA1_LEN + 1];
  assert_int_equal(ots_sign_request("testAccessKeySecret", "ListTable", h, 6, sig, NULL), RV_OK);
  assert_string_equal(sig, "KXw3Z9D6MsAJb19mxGxX+j5xjPA=");
}

/* The whole header set built from credentials, body and clock. */
static void s_check_headers(const ots_cred_t *cred, const char *action, const char *body_hex,
                            const char *md5, const char *sig) {
  size_t n;
  uint8_t *b = ots_hex_decode(body_hex, &n);
  ots_req_headers_t rh;
  rv_err_t err;
  assert_int_equal(ots_sign_request_headers(&rh, cred, action, b, n, s_date_ms(), &err), RV_OK);
  assert_string_equal(ots_header_find(rh.h, rh.n, "x-ots-date"), s_date);
  assert_string_equal(ots_header_find(rh.h, rh.n, "X-OTS-APIVERSION"), "2015-12-31");
  assert_string_equal(ots_header_find(rh.h, rh.n, "x-ots-accesskeyid"), cred->access_key_id);
  assert_string_equal(ots_header_find(rh.h, rh.n, "x-ots-instancename"), cred->instance);
  assert_string_equal(ots_header_find(rh.h, rh.n, "x-ots-contentmd5"), md5);
  assert_string_equal(ots_header_find(rh.h, rh.n, "x-ots-signature"), sig);
  if (cred->sts_token)
    assert_string_equal(ots_header_find(rh.h, rh.n, "x-ots-ststoken"), cred->sts_token);
  else
    assert_null(ots_header_find(rh.h, rh.n, "x-ots-ststoken"));
  /* signing the produced set again (x-ots-signature is skipped) gives the same signature */
  char again[OTS_B64_SHA1_LEN + 1];
  assert_int_equal(ots_sign_request(cred->access_key_secret, action, rh.h, rh.n, again, NULL), 0);
  assert_string_equal(again, sig);
  free(b);
}

static void test_kat_s3_to_s6_request_headers(void **state) {
  s_check_headers(&s_cred, "ListTable", "", "1B2M2Y8AsgTpgAmY7PhCfg==",
                  "KXw3Z9D6MsAJb19mxGxX+j5xjPA=");
  ots_cred_t sts = s_cred;
  sts.sts_token = "testStsToken";
  s_check_headers(&sts, "ListTable", "", "1B2M2Y8AsgTpgAmY7PhCfg==",
                  "ih3gHtEVJ8AzdsTkzLuqpnN3CGw=");
  s_check_headers(&s_cred, "PutRow",
                  "0a046d65746112327500000001030402000000706b050700000003020000006b310a4c0203040100"
                  "00007305060000000301000000760a0d09951a020800",
                  "i8BrCBWa/4eFahbiT/PJQg==", "72l0qiXCkShOFeyJ1/AsN8PnYbo=");
  s_check_headers(&s_cred, "GetRow",
                  "0a046d657461121d7500000001030402000000706b050700000003020000006b310a4c09a72801",
                  "tcFARwYKoRC4Kor+v2FnKQ==", "3cDdLnmuTufovjxVSabKtwKhZJs=");
}

/* Case and whitespace: header names are lower-cased and values trimmed before signing. */
static void test_request_names_lowercased_values_trimmed(void **state) {
  const ots_header_t h[] = {
      {"X-OTS-Date", "  2024-01-02T03:04:05.000Z\t"},
      {"x-ots-APIVersion", "2015-12-31"},
      {"X-Ots-AccessKeyId", "testAccessKeyId "},
      {"x-ots-instancename", "testinstance"},
      {"x-ots-contentmd5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
  };
  char sig[OTS_B64_SHA1_LEN + 1];
  assert_int_equal(ots_sign_request("testAccessKeySecret", "ListTable", h, 5, sig, NULL), RV_OK);
  assert_string_equal(sig, "KXw3Z9D6MsAJb19mxGxX+j5xjPA=");
  const ots_header_t dup[] = {{"x-ots-date", "a"}, {"X-OTS-DATE", "b"}};
  rv_err_t err;
  assert_int_equal(ots_sign_request("k", "ListTable", dup, 2, sig, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "appears twice"));
}

static const ots_header_t s_s7[] = {
    {"x-ots-contentmd5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
    {"x-ots-requestid", "0005aedd-5b9e-9b48-a5c1-720b12a7b4bb"},
    {"x-ots-date", "2024-01-02T03:04:05.123456Z"},
    {"x-ots-contenttype", "protocol buffer"},
    {"Authorization", "OTS testAccessKeyId:futwsY3rgr/1XERWR4Op60Cri/I="},
    {"Content-Length", "0"},
};

static void test_kat_s7_response_signature(void **state) {
  ots_buf_t s;
  ots_buf_init(&s);
  assert_int_equal(ots_sign_response_string(&s, "ListTable", s_s7, 6, NULL), RV_OK);
  const char *want =
      "x-ots-contentmd5:1B2M2Y8AsgTpgAmY7PhCfg==\nx-ots-contenttype:protocol buffer\n"
      "x-ots-date:2024-01-02T03:04:05.123456Z\nx-ots-requestid:0005aedd-5b9e-9b48-a5c1-"
      "720b12a7b4bb\n/ListTable";
  assert_int_equal(s.len, strlen(want));
  assert_memory_equal(s.data, want, s.len);
  ots_buf_close(&s);
  char sig[OTS_B64_SHA1_LEN + 1];
  assert_int_equal(ots_sign_response("testAccessKeySecret", "ListTable", s_s7, 6, sig, NULL), 0);
  assert_string_equal(sig, "futwsY3rgr/1XERWR4Op60Cri/I=");
  rv_err_t err;
  assert_int_equal(ots_sign_check_response(&s_cred, "ListTable", s_s7, 6, &err), RV_OK);
  assert_int_equal(ots_sign_check_md5(s_s7, 6, NULL, 0, &err), RV_OK);
}

static int s_check_with_auth(const ots_cred_t *cred, const char *action, const char *auth,
                             rv_err_t *err) {
  ots_header_t h[6];
  memcpy(h, s_s7, sizeof h);
  h[4].value = auth;
  return ots_sign_check_response(cred, action, h, auth ? 6 : 4, err);
}

static void test_response_signature_refusals(void **state) {
  rv_err_t err;
  /* wrong signature (one character changed) */
  assert_int_equal(s_check_with_auth(&s_cred, "ListTable",
                                     "OTS testAccessKeyId:futwsY3rgr/1XERWR4Op60Cri/J=", &err),
                   RV_EPERM);
  assert_non_null(strstr(err.msg, "response signature mismatch for /ListTable"));
  /* right signature, other action */
  assert_int_equal(s_check_with_auth(&s_cred, "GetRow",
                                     "OTS testAccessKeyId:futwsY3rgr/1XERWR4Op60Cri/I=", &err),
                   RV_EPERM);
  /* JAVA KAT-S2: trailing "***" is refused */
  assert_int_equal(s_check_with_auth(&s_cred, "ListTable",
                                     "OTS testAccessKeyId:futwsY3rgr/1XERWR4Op60Cri/I=***", &err),
                   RV_EPERM);
  /* another access key id */
  assert_int_equal(
      s_check_with_auth(&s_cred, "ListTable", "OTS otherKey:futwsY3rgr/1XERWR4Op60Cri/I=", &err),
      RV_EPERM);
  assert_non_null(strstr(err.msg, "otherKey"));
  /* no colon, no "OTS " prefix, no header */
  assert_int_equal(s_check_with_auth(&s_cred, "ListTable", "futwsY3rgr/1XERWR4Op60Cri/I=", &err),
                   RV_EPROTO);
  assert_int_equal(s_check_with_auth(&s_cred, "ListTable", NULL, &err), RV_EPROTO);
  assert_non_null(strstr(err.msg, "no Authorization"));
  /* a changed signed header value breaks the signature */
  ots_header_t h[6];
  memcpy(h, s_s7, sizeof h);
  h[1].value = "0005aedd-5b9e-9b48-a5c1-720b12a7b4bc";
  assert_int_equal(ots_sign_check_response(&s_cred, "ListTable", h, 6, &err), RV_EPERM);
  /* an unsigned header added by a proxy does not matter; an extra x-ots-* header does */
  ots_header_t h7[7];
  memcpy(h7, s_s7, sizeof s_s7);
  h7[6] = (ots_header_t){"Via", "proxy"};
  assert_int_equal(ots_sign_check_response(&s_cred, "ListTable", h7, 7, &err), RV_OK);
  h7[6] = (ots_header_t){"x-ots-extra", "1"};
  assert_int_equal(ots_sign_check_response(&s_cred, "ListTable", h7, 7, &err), RV_EPERM);
}

/* KAT-S2 (JAVA OTSValidationResponseHandlerTest): secret "sk", action "action". */
static void test_kat_s2_java_response(void **state) {
  const ots_header_t h[] = {{"x-ots-contentmd5", "md5"}, {"x-ots-contenttype", "json"}};
  ots_buf_t s;
  ots_buf_init(&s);
  assert_int_equal(ots_sign_response_string(&s, "action", h, 2, NULL), RV_OK);
  const char *want = "x-ots-contentmd5:md5\nx-ots-contenttype:json\n/action";
  assert_int_equal(s.len, strlen(want));
  assert_memory_equal(s.data, want, s.len);
  ots_buf_close(&s);
  char sig[OTS_B64_SHA1_LEN + 1];
  assert_int_equal(ots_sign_response("sk", "action", h, 2, sig, NULL), RV_OK);
  assert_string_equal(sig, "yxS9NtV7YZ+VtKXGkyeLOlYsH5o=");
  /* our check, with the "OTS <id>:" form the real server sends */
  const ots_cred_t c = {"auth", "sk", "i", NULL};
  const ots_header_t ok[] = {h[0], h[1], {"authorization", "OTS auth:yxS9NtV7YZ+VtKXGkyeLOlYsH5o="}};
  assert_int_equal(ots_sign_check_response(&c, "action", ok, 3, NULL), RV_OK);
  const ots_header_t bad[] = {h[0], h[1], {"authorization", "OTS auth:yxS9NtV7YZ+VtKXGkyeLOlYsH5o=***"}};
  assert_int_equal(ots_sign_check_response(&c, "action", bad, 3, NULL), RV_EPERM);
}

static void test_md5_refusals(void **state) {
  rv_err_t err;
  const ots_header_t h[] = {{"x-ots-contentmd5", "tb1xxFT1i9oAap/9e+zMLA=="}};
  size_t n;
  uint8_t *b = ots_hex_decode("0a154f5453436f6e646974696f6e436865636b4661696c1217436f6e6469"
                              "74696f6e20636865636b206661696c65642e", &n);
  assert_int_equal(ots_sign_check_md5(h, 1, b, n, &err), RV_OK);
  b[n - 1] ^= 1;
  assert_int_equal(ots_sign_check_md5(h, 1, b, n, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "x-ots-contentmd5 says \"tb1xxFT1i9oAap/9e+zMLA==\""));
  assert_int_equal(ots_sign_check_md5(h, 1, b, n - 1, &err), RV_ECORRUPT);
  assert_int_equal(ots_sign_check_md5(h, 0, b, n, &err), RV_EPROTO);
  free(b);
}

static void test_date_format_matches_gmtime(void **state) {
  char out[OTS_DATE_LEN + 1];
  assert_int_equal(ots_sign_format_date(s_date_ms(), out, NULL), RV_OK);
  assert_string_equal(out, s_date);
  assert_int_equal(ots_sign_format_date(0, out, NULL), RV_OK);
  assert_string_equal(out, "1970-01-01T00:00:00.000Z");
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int64_t ms = (int64_t)(x % 253402300800000ull); /* < year 10000 */
    assert_int_equal(ots_sign_format_date(ms, out, NULL), RV_OK);
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char want[64];
    snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    assert_string_equal(out, want);
    int64_t back;
    assert_int_equal(ots_sign_parse_date(out, &back, NULL), RV_OK);
    assert_true(back == ms);
  }
  assert_int_equal(ots_sign_format_date(-1, out, NULL), RV_EINVAL);
  assert_int_equal(ots_sign_format_date(253402300800000LL, out, NULL), RV_EINVAL);
}

static void test_date_parse(void **state) {
  int64_t ms;
  assert_int_equal(ots_sign_parse_date("2020-09-09T08:37:11.680616Z", &ms, NULL), RV_OK);
  struct tm tm = {.tm_year = 120, .tm_mon = 8, .tm_mday = 9, .tm_hour = 8, .tm_min = 37, .tm_sec = 11};
  assert_true(ms == (int64_t)timegm(&tm) * 1000 + 680);
  assert_int_equal(ots_sign_parse_date("2020-09-09T08:37:11Z", &ms, NULL), RV_OK);
  assert_true(ms == (int64_t)timegm(&tm) * 1000);
  assert_int_equal(ots_sign_parse_date("2020-09-09T08:37:11.5Z", &ms, NULL), RV_OK);
  assert_true(ms == (int64_t)timegm(&tm) * 1000 + 500);
  const char *bad[] = {"", "2020-09-09", "2020-09-09T08:37:11", "2020-09-09T08:37:11.Z",
                       "2020-13-09T08:37:11Z", "2020-09-09 08:37:11Z", "2020-09-09T08:37:11Zx",
                       "Wed, 09 Sep 2020 08:37:11 GMT"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    rv_err_t err;
    assert_int_equal(ots_sign_parse_date(bad[i], &ms, &err), RV_EPROTO);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kat_s1_raw_hmac),
      cmocka_unit_test(test_content_md5_vectors),
      cmocka_unit_test(test_kat_s3_list_table_string_and_signature),
      cmocka_unit_test(test_kat_s3_to_s6_request_headers),
      cmocka_unit_test(test_request_names_lowercased_values_trimmed),
      cmocka_unit_test(test_kat_s7_response_signature),
      cmocka_unit_test(test_response_signature_refusals),
      cmocka_unit_test(test_kat_s2_java_response),
      cmocka_unit_test(test_md5_refusals),
      cmocka_unit_test(test_date_format_matches_gmtime),
      cmocka_unit_test(test_date_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
