/* Unit tests of ots_client against a tiny HTTP/1.1 responder run in a thread of this test (not a
 * server: it reads one request at a time and answers from a script). The responder checks each
 * request the way Tablestore does (POST /<Action>, MD5 of the body, V2 signature over the x-ots-*
 * headers) and answers signed responses, or broken ones: wrong MD5, wrong signature, no
 * Authorization, an old date, a real 403 Error body, a 503 that is not an Error, a hang. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ots_client.h"
#include "ots_testutil.h"

static const ots_cred_t s_cred = {"testAccessKeyId", "testAccessKeySecret", "testinstance", NULL};

typedef enum {
  SRV_OK, SRV_OK_CHUNKED, SRV_BAD_MD5, SRV_BAD_SIG, SRV_NO_AUTH, SRV_OLD_DATE, SRV_403_E1, SRV_409_CONFLICT,
  SRV_503_GARBAGE, SRV_400_PROXY, SRV_HANG
} s_mode_t;

typedef struct {
  int lfd, port, stop[2];
  pthread_t thr;
  pthread_mutex_t mu;
  s_mode_t mode;
  int connections, requests;
  bool req_ok;              /* every request so far passed the server-side checks */
  char req_fail[256];
  bool saw_expect;
  size_t last_body_len;
} s_srv_t;

static s_srv_t s_srv;

/* Reads until the buffer holds a full request (headers + Content-Length body). 0 on EOF or stop. */
static size_t s_read_request(int fd, char *buf, size_t cap, size_t *hdr_len, size_t *body_len) {
  size_t have = 0;
  for (;;) {
    char *end = memmem(buf, have, "\r\n\r\n", 4);
    if (end) {
      *hdr_len = (size_t)(end - buf) + 4;
      const char *cl = strcasestr(buf, "\r\ncontent-length:");
      *body_len = cl ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
      if (have >= *hdr_len + *body_len) return have;
    }
    struct pollfd p[2] = {{fd, POLLIN, 0}, {s_srv.stop[0], POLLIN, 0}};
    if (poll(p, 2, -1) <= 0 || p[1].revents) return 0;
    if (have == cap) return 0;
    ssize_t n = read(fd, buf + have, cap - have);
    if (n <= 0) return 0;
    have += (size_t)n;
    buf[have] = '\0'; /* the header search below reads up to a NUL; cap leaves room */
  }
}

static void s_fail_req(const char *why) {
  s_srv.req_ok = false;
  snprintf(s_srv.req_fail, sizeof s_srv.req_fail, "%s", why);
}

/* The server side of a request: parse, check like Tablestore, return the action. */
static void s_check_request(char *buf, size_t hdr_len, size_t body_len, char *action, size_t cap) {
  ots_header_t h[64];
  size_t n = 0;
  char *save, *line = strtok_r(buf, "\r\n", &save);
  char method[16] = "", path[128] = "";
  sscanf(line, "%15s %127s", method, path);
  if (strcmp(method, "POST") != 0) s_fail_req("not POST");
  snprintf(action, cap, "%s", path[0] == '/' ? path + 1 : path);
  while ((line = strtok_r(NULL, "\r\n", &save)) && line < buf + hdr_len && n < 64) {
    char *colon = strchr(line, ':');
    if (!colon) continue;
    *colon = 0;
    char *v = colon + 1;
    while (*v == ' ') v++;
    h[n++] = (ots_header_t){line, v};
  }
  if (ots_header_find(h, n, "expect")) s_srv.saw_expect = true;
  const uint8_t *body = (const uint8_t *)buf + hdr_len;
  s_srv.last_body_len = body_len;
  char md5[OTS_B64_MD5_LEN + 1], sig[OTS_B64_SHA1_LEN + 1];
  ots_sign_content_md5(body, body_len, md5, NULL);
  const char *got_md5 = ots_header_find(h, n, "x-ots-contentmd5");
  if (!got_md5 || strcmp(got_md5, md5) != 0) s_fail_req("content md5 mismatch");
  const char *required[] = {"x-ots-date", "x-ots-apiversion", "x-ots-accesskeyid",
                            "x-ots-instancename", "x-ots-signature"};
  for (size_t i = 0; i < 5; i++)
    if (!ots_header_find(h, n, required[i])) s_fail_req(required[i]);
  if (ots_sign_request(s_cred.access_key_secret, action, h, n, sig, NULL) != RV_OK ||
      !ots_header_find(h, n, "x-ots-signature") ||
      strcmp(ots_header_find(h, n, "x-ots-signature"), sig) != 0)
    s_fail_req("request signature mismatch");
  const char *date = ots_header_find(h, n, "x-ots-date");
  int64_t ms;
  if (!date || strlen(date) != OTS_DATE_LEN || ots_sign_parse_date(date, &ms, NULL) != RV_OK)
    s_fail_req("bad x-ots-date");
}

static int64_t s_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_respond(int fd, const char *action, s_mode_t mode) {
  static const uint8_t list_body[] = {0x0a, 0x02, 't', '1'}; /* ListTableResponse{["t1"]} */
  uint8_t e1[64];
  size_t e1_len;
  uint8_t *tmp = ots_hex_decode("0a154f5453436f6e646974696f6e436865636b4661696c1217436f6e64697469"
                                "6f6e20636865636b206661696c65642e", &e1_len);
  memcpy(e1, tmp, e1_len);
  free(tmp);
  static const uint8_t conflict[] = "\x0a\x17OTSRowOperationConflict\x12\x2c"
                                    "Data is being modified by the other request.";
  const uint8_t *body = list_body;
  size_t blen = sizeof list_body;
  int status = 200;
  if (mode == SRV_403_E1) body = e1, blen = e1_len, status = 403;
  if (mode == SRV_409_CONFLICT) body = conflict, blen = sizeof conflict - 1, status = 409;
  if (mode == SRV_400_PROXY) { /* an Error body, but none of Tablestore's headers */
    const char *r = "HTTP/1.1 400 Bad Request\r\nContent-Length: 21\r\n\r\n"
                    "\x0a\x13OTSParameterInvalid";
    write(fd, r, strlen(r));
    return;
  }
  if (mode == SRV_503_GARBAGE) {
    const char *r = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\noops";
    write(fd, r, strlen(r));
    return;
  }
  char date[OTS_DATE_LEN + 8], md5[OTS_B64_MD5_LEN + 1], sig[OTS_B64_SHA1_LEN + 1];
  ots_sign_format_date(s_now_ms() - (mode == SRV_OLD_DATE ? 3600 * 1000 : 0), date, NULL);
  memcpy(date + 23, "456Z", 5); /* microseconds, as the real server sends */
  ots_sign_content_md5(mode == SRV_BAD_MD5 ? (const uint8_t *)"x" : body, mode == SRV_BAD_MD5 ? 1 : blen,
                       md5, NULL);
  ots_header_t h[] = {{"x-ots-contentmd5", md5},
                      {"x-ots-requestid", "0005aedd-5b9e-9b48-a5c1-720b12a7b4bb"},
                      {"x-ots-date", date},
                      {"x-ots-contenttype", "protocol buffer"}};
  ots_sign_response(mode == SRV_BAD_SIG ? "wrongSecret" : s_cred.access_key_secret, action, h, 4,
                    sig, NULL);
  if (status == 403) snprintf(sig, sizeof sig, "unverifiable");
  char head[1024];
  int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\n", status);
  for (size_t i = 0; i < 4; i++) n += snprintf(head + n, sizeof head - (size_t)n, "%s: %s\r\n", h[i].name, h[i].value);
  if (mode != SRV_NO_AUTH)
    n += snprintf(head + n, sizeof head - (size_t)n, "Authorization: OTS %s:%s\r\n", s_cred.access_key_id, sig);
  if (mode == SRV_OK_CHUNKED) {
    n += snprintf(head + n, sizeof head - (size_t)n,
                  "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n%zx\r\n", blen);
    write(fd, head, (size_t)n);
    write(fd, body, blen);
    write(fd, "\r\n0\r\n\r\n", 7);
    return;
  }
  n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n\r\n", blen);
  write(fd, head, (size_t)n);
  write(fd, body, blen);
}

static void *s_serve(void *arg) {
  static char buf[2 << 20];
  for (;;) {
    struct pollfd p[2] = {{s_srv.lfd, POLLIN, 0}, {s_srv.stop[0], POLLIN, 0}};
    if (poll(p, 2, -1) <= 0 || p[1].revents) return NULL;
    int fd = accept(s_srv.lfd, NULL, NULL);
    if (fd < 0) continue;
    pthread_mutex_lock(&s_srv.mu);
    s_srv.connections++;
    pthread_mutex_unlock(&s_srv.mu);
    size_t hl, bl;
    while (s_read_request(fd, buf, sizeof buf - 1, &hl, &bl)) {
      buf[hl + bl] = 0;
      char action[128];
      pthread_mutex_lock(&s_srv.mu);
      s_srv.requests++;
      s_check_request(buf, hl, bl, action, sizeof action);
      s_mode_t mode = s_srv.mode;
      pthread_mutex_unlock(&s_srv.mu);
      if (mode == SRV_HANG) {
        /* never answer: wait for the client to give up (EOF) or the test to end */
        struct pollfd q[2] = {{fd, POLLIN, 0}, {s_srv.stop[0], POLLIN, 0}};
        poll(q, 2, -1);
        break;
      }
      s_respond(fd, action, mode);
    }
    close(fd);
  }
}

static int s_setup(void **state) {
  memset(&s_srv, 0, sizeof s_srv);
  pthread_mutex_init(&s_srv.mu, NULL);
  s_srv.req_ok = true;
  assert_int_equal(pipe(s_srv.stop), 0);
  s_srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(s_srv.lfd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(s_srv.lfd, 8), 0);
  socklen_t al = sizeof a;
  getsockname(s_srv.lfd, (struct sockaddr *)&a, &al);
  s_srv.port = ntohs(a.sin_port);
  assert_int_equal(pthread_create(&s_srv.thr, NULL, s_serve, NULL), 0);
  return 0;
}

static int s_teardown(void **state) {
  write(s_srv.stop[1], "x", 1);
  pthread_join(s_srv.thr, NULL);
  close(s_srv.lfd);
  close(s_srv.stop[0]);
  close(s_srv.stop[1]);
  pthread_mutex_destroy(&s_srv.mu);
  return 0;
}

static ots_client_t *s_client(long timeout_ms) {
  char ep[64];
  snprintf(ep, sizeof ep, "http://127.0.0.1:%d/", s_srv.port);
  ots_client_config_t cfg = {.endpoint = ep, .cred = s_cred, .request_timeout_ms = timeout_ms};
  rv_err_t err;
  ots_client_t *c = ots_client_new(&cfg, &err);
  if (!c) fail_msg("ots_client_new: %s", err.msg);
  return c;
}

static void s_mode(s_mode_t m) {
  pthread_mutex_lock(&s_srv.mu);
  s_srv.mode = m;
  pthread_mutex_unlock(&s_srv.mu);
}

static void test_signed_round_trip_and_connection_reuse(void **state) {
  ots_client_t *c = s_client(0);
  ots_buf_t resp;
  ots_buf_init(&resp);
  ots_call_info_t info;
  rv_err_t err;
  s_mode(SRV_OK);
  for (int i = 0; i < 3; i++) {
    int rc = ots_client_call(c, "ListTable", NULL, 0, &resp, &info, &err);
    if (rc) fail_msg("call %d: %s", i, err.msg);
    assert_int_equal(info.http_status, 200);
    assert_int_equal(info.net, OTS_NET_RESPONSE);
    assert_string_equal(info.request_id, "0005aedd-5b9e-9b48-a5c1-720b12a7b4bb");
    char **names;
    size_t count;
    assert_int_equal(ots_wire_parse_list_table_response(resp.data, resp.len, &names, &count, NULL), 0);
    assert_int_equal(count, 1);
    assert_string_equal(names[0], "t1");
    ots_wire_names_free(names, count);
  }
  /* a body past curl's 1 MiB "Expect: 100-continue" threshold, answered chunked */
  s_mode(SRV_OK_CHUNKED);
  static uint8_t big[1536 * 1024];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
  assert_int_equal(ots_client_call(c, "GetRange", big, sizeof big, &resp, &info, &err), RV_OK);
  assert_int_equal(resp.len, 4);
  /* a snapshot, so that no assertion fails (and jumps out) with the mutex held */
  pthread_mutex_lock(&s_srv.mu);
  s_srv_t seen = s_srv;
  pthread_mutex_unlock(&s_srv.mu);
  if (!seen.req_ok) fail_msg("server-side check failed: %s", seen.req_fail);
  assert_int_equal(seen.requests, 4);
  assert_int_equal(seen.connections, 1); /* keep-alive: one connection for all */
  assert_false(seen.saw_expect);
  assert_int_equal(seen.last_body_len, sizeof big);
  ots_buf_close(&resp);
  ots_client_destroy(&c);
  assert_null(c);
  ots_client_destroy(&c);
}

static void s_expect(s_mode_t mode, int want_rc, const char *needle) {
  ots_client_t *c = s_client(0);
  ots_buf_t resp;
  ots_buf_init(&resp);
  ots_call_info_t info;
  rv_err_t err;
  s_mode(mode);
  int rc = ots_client_call(c, "PutRow", "abc", 3, &resp, &info, &err);
  if (rc != want_rc || !strstr(err.msg, needle))
    fail_msg("mode %d: got %s \"%s\", want %s containing \"%s\"", (int)mode, rv_code_name(rc),
             err.msg, rv_code_name(want_rc), needle);
  assert_int_equal(info.net, OTS_NET_RESPONSE);
  assert_int_equal(resp.len, 0); /* nothing unauthenticated is handed out */
  ots_buf_close(&resp);
  ots_client_destroy(&c);
}

static void test_unauthentic_responses_refused(void **state) {
  s_expect(SRV_BAD_MD5, RV_ECORRUPT, "PutRow: HTTP 200 request 0005aedd");
  s_expect(SRV_BAD_MD5, RV_ECORRUPT, "x-ots-contentmd5 says");
  s_expect(SRV_BAD_SIG, RV_EPERM, "response signature mismatch for /PutRow");
  s_expect(SRV_NO_AUTH, RV_EPROTO, "no Authorization header");
  s_expect(SRV_OLD_DATE, RV_EPROTO, "ms from our clock");
}

static void test_error_bodies_decoded(void **state) {
  /* KAT-E1: the real 403; its Authorization is not checked on 403 */
  s_expect(SRV_403_E1, RV_ESTALE,
           "PutRow: HTTP 403 OTSConditionCheckFail: Condition check failed. (request 0005aedd");
  s_expect(SRV_409_CONFLICT, RV_EBUSY,
           "HTTP 409 OTSRowOperationConflict: Data is being modified by the other request.");
  s_expect(SRV_400_PROXY, RV_EINVAL,
           "HTTP 400 OTSParameterInvalid:  (no x-ots-requestid: may come from a proxy");
  s_expect(SRV_503_GARBAGE, RV_EUNAVAIL, "HTTP 503 with a body of 4 bytes that is not an OTS Error");
  /* the info the retry policy needs */
  ots_client_t *c = s_client(0);
  ots_buf_t resp;
  ots_buf_init(&resp);
  ots_call_info_t info;
  s_mode(SRV_409_CONFLICT);
  assert_int_equal(ots_client_call(c, "PutRow", "x", 1, &resp, &info, NULL), RV_EBUSY);
  assert_string_equal(info.error.code, "OTSRowOperationConflict");
  assert_int_equal(info.http_status, 409);
  ots_retry_policy_t p = ots_retry_policy_default();
  ots_retry_input_t in = ots_call_retry_input(&info, OTS_OP_WRITE, 1, 0, 7);
  assert_true(ots_retry_decide(&p, &in).retry);
  /* a 403 condition failure is final */
  s_mode(SRV_403_E1);
  assert_int_equal(ots_client_call(c, "PutRow", "x", 1, &resp, &info, NULL), RV_ESTALE);
  in = ots_call_retry_input(&info, OTS_OP_IDEMPOTENT, 1, 0, 7);
  assert_string_equal(in.code, "OTSConditionCheckFail");
  assert_false(ots_retry_decide(&p, &in).retry);
  ots_buf_close(&resp);
  ots_client_destroy(&c);
}

static void test_timeout_and_refused(void **state) {
  ots_client_t *c = s_client(300);
  ots_buf_t resp;
  ots_buf_init(&resp);
  ots_call_info_t info;
  rv_err_t err;
  s_mode(SRV_HANG);
  assert_int_equal(ots_client_call(c, "PutRow", "x", 1, &resp, &info, &err), RV_ETIMEDOUT);
  assert_int_equal(info.net, OTS_NET_UNKNOWN);
  assert_non_null(strstr(err.msg, "may have been applied"));
  ots_client_destroy(&c);

  /* a port nobody listens on */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(fd, (struct sockaddr *)&a, sizeof a);
  socklen_t al = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &al);
  close(fd);
  char ep[64];
  snprintf(ep, sizeof ep, "http://127.0.0.1:%d", ntohs(a.sin_port));
  ots_client_config_t cfg = {.endpoint = ep, .cred = s_cred};
  c = ots_client_new(&cfg, &err);
  assert_non_null(c);
  assert_int_equal(ots_client_call(c, "PutRow", "x", 1, &resp, &info, &err), RV_EUNAVAIL);
  assert_int_equal(info.net, OTS_NET_NOT_SENT);
  assert_non_null(strstr(err.msg, "not sent"));
  ots_buf_close(&resp);
  ots_client_destroy(&c);
}

static void test_config_refused(void **state) {
  rv_err_t err;
  const char *bad[] = {"ftp://x", "http://", "http://host/path", "host:80", NULL};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ots_client_config_t cfg = {.endpoint = bad[i], .cred = s_cred};
    assert_null(ots_client_new(&cfg, &err));
    assert_int_equal(err.code, RV_EINVAL);
  }
  ots_client_config_t cfg = {.endpoint = "http://h", .cred = {"id", "", "inst", NULL}};
  assert_null(ots_client_new(&cfg, &err));
  assert_non_null(strstr(err.msg, "credentials"));
  cfg.cred = (ots_cred_t){"id", "secret", "inst", "tok\r\nx-evil: 1"};
  assert_null(ots_client_new(&cfg, &err));
  assert_non_null(strstr(err.msg, "printable ASCII"));
  cfg.cred.sts_token = NULL;
  ots_client_t *c = ots_client_new(&cfg, &err);
  assert_non_null(c);
  ots_buf_t resp;
  ots_buf_init(&resp);
  assert_int_equal(ots_client_call(c, "Put/Row", "x", 1, &resp, NULL, &err), RV_EINVAL);
  assert_int_equal(ots_client_call(c, "", "x", 1, &resp, NULL, &err), RV_EINVAL);
  ots_buf_close(&resp);
  ots_client_destroy(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_signed_round_trip_and_connection_reuse),
      cmocka_unit_test(test_unauthentic_responses_refused),
      cmocka_unit_test(test_error_bodies_decoded),
      cmocka_unit_test(test_timeout_and_refused),
      cmocka_unit_test(test_config_refused),
  };
  return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
