/* srv_http.c: the HTTP side of rv-ots-server (libmicrohttpd). Checks, in the order of reference
 * section 8: POST only, a known action, the six required headers, API version, body MD5,
 * instance, access key, x-ots-date (format and skew), the V2 signature; then runs the handler
 * under the store lock and answers 200 + response or status + Error, both signed (2.2). */
#include "srv_http.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "srv_auth.h"

enum { MAX_BODY = 5 * 1024 * 1024, MAX_HEADERS = 64 };

struct srv_http {
  srv_http_config_t cfg;
  srv_t *s;
  srv_fault_t *f;
  struct MHD_Daemon *d;
  pthread_mutex_t mu; /* guards stopping, for waits */
  pthread_cond_t cv;
  bool stopping;
  uint64_t seq;
};

typedef struct {
  srv_buf_t body;
  bool too_large;
} conn_t;

static const struct {
  const char *action;
  srv_handler_fn fn;
} OPS[] = {
  {"CreateTable", srv_op_create_table}, {"DescribeTable", srv_op_describe_table}, {"ListTable", srv_op_list_table},
  {"DeleteTable", srv_op_delete_table}, {"PutRow", srv_op_put_row}, {"GetRow", srv_op_get_row},
  {"UpdateRow", srv_op_update_row}, {"DeleteRow", srv_op_delete_row}, {"BatchWriteRow", srv_op_batch_write_row},
  {"GetRange", srv_op_get_range}, {"StartLocalTransaction", srv_op_start_txn},
  {"CommitTransaction", srv_op_commit_txn}, {"AbortTransaction", srv_op_abort_txn},
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits up to ms (forever when ms < 0) or until the server stops. */
static void wait_ms(srv_http_t *h, int ms) {
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += ms / 1000;
  dl.tv_nsec += (long)(ms % 1000) * 1000000;
  if (dl.tv_nsec >= 1000000000) { dl.tv_sec++; dl.tv_nsec -= 1000000000; }
  pthread_mutex_lock(&h->mu);
  while (!h->stopping) {
    if (ms < 0) pthread_cond_wait(&h->cv, &h->mu);
    else if (pthread_cond_timedwait(&h->cv, &h->mu, &dl) != 0) break;
  }
  pthread_mutex_unlock(&h->mu);
}

/* "YYYY-MM-DDTHH:MM:SS[.fraction]Z" in UTC -> ms; -1 when malformed. */
static int64_t parse_date(const char *v) {
  struct tm tm = {0};
  const char *p = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p) return -1;
  int64_t ms = 0;
  if (*p == '.') {
    int digits = 0;
    for (p++; *p >= '0' && *p <= '9'; p++, digits++)
      if (digits < 3) ms = ms * 10 + (*p - '0');
    if (digits == 0) return -1;
    for (; digits < 3; digits++) ms *= 10;
  }
  if (strcmp(p, "Z") != 0) return -1;
  return (int64_t)timegm(&tm) * 1000 + ms;
}

typedef struct {
  srv_hdr_t h[MAX_HEADERS];
  size_t n;
} hdrs_t;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  hdrs_t *hs = cls;
  if (hs->n < MAX_HEADERS && strncasecmp(key, "x-ots-", 6) == 0) hs->h[hs->n++] = (srv_hdr_t){key, value ? value : ""};
  return MHD_YES;
}

static int check_auth(srv_http_t *h, struct MHD_Connection *c, const char *action, const conn_t *cn, srv_err_t *e) {
  static const char *REQUIRED[] = {"x-ots-date", "x-ots-apiversion", "x-ots-accesskeyid", "x-ots-instancename",
                                   "x-ots-contentmd5", "x-ots-signature"};
  const char *v[6];
  for (int i = 0; i < 6; i++)
    if (!(v[i] = MHD_lookup_connection_value(c, MHD_HEADER_KIND, REQUIRED[i])))
      return srv_fail(e, SRV_PARAM, "Missing header: %s.", REQUIRED[i]);
  if (strcmp(v[1], "2015-12-31") != 0) return srv_fail(e, SRV_PARAM, "Unsupported API version: %s.", v[1]);
  char md5[25];
  srv_md5_b64(cn->body.p, cn->body.len, md5);
  if (strcmp(md5, v[4]) != 0)
    return srv_fail(e, 403, "OTSAuthFailed", "Mismatch between MD5 value of request body and x-ots-contentmd5 in header.");
  if (strcmp(v[3], h->cfg.instance) != 0)
    return srv_fail(e, 403, "OTSAuthFailed", "The instance is not found: %.64s.", v[3]);
  if (strcmp(v[2], h->cfg.access_key_id) != 0)
    return srv_fail(e, 403, "OTSAuthFailed", "The AccessKeyID is disabled or does not exist: %.64s.", v[2]);
  int64_t t = parse_date(v[0]);
  if (t < 0) return srv_fail(e, SRV_PARAM, "Invalid date format: %.64s.", v[0]);
  int64_t skew = t - now_ms();
  if (skew > h->cfg.max_skew_ms || -skew > h->cfg.max_skew_ms)
    return srv_fail(e, 403, "OTSAuthFailed", "Mismatch between system time and x-ots-date: %.64s.", v[0]);
  hdrs_t hs = {.n = 0};
  MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hs);
  char *sts = srv_request_string_to_sign(action, hs.h, hs.n);
  if (!sts) return srv_fail(e, 500, "OTSInternalServerError", "out of memory");
  char sig[29];
  srv_hmac_sha1_b64(h->cfg.access_key_secret, sts, strlen(sts), sig);
  free(sts);
  if (strcmp(sig, v[5]) != 0) return srv_fail(e, 403, "OTSAuthFailed", "Signature mismatch.");
  return 0;
}

/* Answers status + body, with the signed x-ots-* headers and Authorization (1.3, 2.2). */
static enum MHD_Result answer(srv_http_t *h, struct MHD_Connection *c, const char *action, int status,
                              const uint8_t *body, size_t len, const char *reqid, int corrupt) {
  char md5[25], date[40], sig[29], auth[300];
  uint8_t *damaged = NULL;
  if (corrupt == SRV_CORRUPT_CRC && len > 0 && (damaged = malloc(len))) {
    memcpy(damaged, body, len);
    damaged[len - 1] ^= 0x5a;
    body = damaged;
  }
  if (corrupt == SRV_CORRUPT_MD5) srv_md5_b64((const uint8_t *)"not the body", 12, md5);
  else srv_md5_b64(body, len, md5);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t dl = strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(date + dl, sizeof date - dl, ".%06ldZ", ts.tv_nsec / 1000);
  srv_hdr_t hs[] = {{"x-ots-contentmd5", md5}, {"x-ots-requestid", reqid}, {"x-ots-date", date},
                    {"x-ots-contenttype", "protocol buffer"}};
  char *sts = srv_response_string_to_sign(action, hs, 4);
  if (!sts) return MHD_NO;
  srv_hmac_sha1_b64(corrupt == SRV_CORRUPT_SIG ? "not-the-secret" : h->cfg.access_key_secret, sts, strlen(sts), sig);
  free(sts);
  snprintf(auth, sizeof auth, "OTS %s:%s", h->cfg.access_key_id, sig);
  struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  free(damaged);
  if (!r) return MHD_NO;
  for (int i = 0; i < 4; i++) MHD_add_response_header(r, hs[i].name, hs[i].value);
  MHD_add_response_header(r, "Authorization", auth);
  enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  srv_http_t *h = cls;
  conn_t *cn = *con_cls;
  if (!cn) {
    if (!(cn = calloc(1, sizeof *cn))) return MHD_NO;
    *con_cls = cn;
    return MHD_YES;
  }
  if (*upload_size) {
    if (cn->body.len + *upload_size > MAX_BODY) cn->too_large = true;
    else srv_buf_put(&cn->body, upload, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  int64_t t0 = now_ms();
  char reqid[64];
  pthread_mutex_lock(&h->mu);
  uint64_t seq = ++h->seq;
  pthread_mutex_unlock(&h->mu);
  snprintf(reqid, sizeof reqid, "%016" PRIx64 "-%08" PRIx64, (uint64_t)t0, seq);
  const char *action = url[0] == '/' ? url + 1 : url;
  srv_handler_fn fn = NULL;
  for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
    if (strcmp(OPS[i].action, action) == 0) fn = OPS[i].fn;
  srv_err_t e = {0};
  srv_buf_t out = {0};
  srv_fault_plan_t plan;
  srv_fault_decide(h->f, action, &plan);
  if (plan.delay_ms) {
    fprintf(stderr, "rv-ots-server: %s %s delayed %d ms (fault)\n", reqid, action, plan.delay_ms);
    wait_ms(h, plan.delay_ms);
  }
  if (plan.blackhole) {
    fprintf(stderr, "rv-ots-server: %s %s blackholed\n", reqid, action);
    wait_ms(h, -1);
    return MHD_NO;
  }
  if (plan.drop) {
    fprintf(stderr, "rv-ots-server: %s %s dropped (fault)\n", reqid, action);
    return MHD_NO;
  }
  int rc = -1;
  if (strcmp(method, "POST") != 0) srv_fail(&e, 405, "OTSMethodNotAllowed", "Only POST method for requests is supported.");
  else if (!fn) srv_fail(&e, SRV_PARAM, "Unsupported operation: '%.64s'.", action);
  else if (cn->too_large) srv_fail(&e, 413, "OTSRequestBodyTooLarge", "The size of POST data is too large.");
  else if (cn->body.failed) srv_fail(&e, 500, "OTSInternalServerError", "out of memory");
  else if (plan.http) srv_fail(&e, plan.http, plan.code, "%s", plan.msg);
  else if (check_auth(h, c, action, cn, &e) == 0) {
    pthread_mutex_lock(&h->s->mu);
    srv_txn_expire(h->s, t0);
    srv_rowfail = plan.rowfail;
    rc = fn(h->s, cn->body.p ? cn->body.p : (const uint8_t *)"", cn->body.len, t0, &out, &e);
    srv_rowfail = (srv_rowfail_t){0};
    pthread_mutex_unlock(&h->s->mu);
    if (rc == 0 && out.failed) rc = srv_fail(&e, 500, "OTSInternalServerError", "out of memory");
  }
  enum MHD_Result ok;
  if (rc == 0) {
    ok = answer(h, c, action, 200, out.p ? out.p : (const uint8_t *)"", out.len, reqid, plan.corrupt);
  } else {
    Otssrv__Error err = OTSSRV__ERROR__INIT;
    err.code = e.code;
    err.message = e.msg;
    srv_buf_close(&out);
    srv_pack(&err.base, &out);
    ok = answer(h, c, action, e.http, out.p ? out.p : (const uint8_t *)"", out.len, reqid, plan.corrupt);
  }
  fprintf(stderr, "rv-ots-server: %s %s %s %d %s %zuB->%zuB %" PRId64 "ms%s%s%s%s\n", reqid, method, action,
          rc == 0 ? 200 : e.http, rc == 0 ? "OK" : e.code, cn->body.len, out.len, now_ms() - t0,
          plan.what[0] ? " fault=" : "", plan.what, rc == 0 ? "" : " msg=", rc == 0 ? "" : e.msg);
  srv_buf_close(&out);
  return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
  conn_t *cn = *con_cls;
  if (!cn) return;
  srv_buf_close(&cn->body);
  free(cn);
  *con_cls = NULL;
}

srv_http_t *srv_http_start(const srv_http_config_t *cfg, srv_t *s, srv_fault_t *f, uint16_t *bound_port,
                           char *err, size_t errlen) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(cfg->port)};
  if (inet_pton(AF_INET, cfg->listen_host, &sa.sin_addr) != 1) {
    snprintf(err, errlen, "--listen: '%s' is not an IPv4 address", cfg->listen_host);
    return NULL;
  }
  srv_http_t *h = calloc(1, sizeof *h);
  if (!h) { snprintf(err, errlen, "out of memory"); return NULL; }
  h->cfg = *cfg;
  h->s = s;
  h->f = f;
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
                          NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                          MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
  if (!h->d) {
    snprintf(err, errlen, "cannot listen on %s:%u (port in use?)", cfg->listen_host, (unsigned)cfg->port);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
    return NULL;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
  *bound_port = info ? info->port : cfg->port;
  return h;
}

void srv_http_stop(srv_http_t **hp) {
  srv_http_t *h = *hp;
  if (!h) return;
  pthread_mutex_lock(&h->mu);
  h->stopping = true;
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
  MHD_stop_daemon(h->d);
  pthread_cond_destroy(&h->cv);
  pthread_mutex_destroy(&h->mu);
  free(h);
  *hp = NULL;
}
