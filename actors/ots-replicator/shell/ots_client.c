/* ots_client: HTTP shell over libcurl (I/O). Builds the signed headers with ots_sign, sends one
 * POST per call on a reused easy handle, collects the response headers, then authenticates the
 * response (MD5, signature, date) and decodes an Error body, converting curl's and the server's
 * errors into rv codes with context. */
#include "ots_client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S_HEADERS_MAX 64

struct ots_client {
  CURL *curl;
  char *url_base;          /* endpoint without trailing '/' */
  char *key_id, *secret, *instance, *sts;
  ots_cred_t cred;         /* points at the copies above */
  char *user_agent;
  int64_t max_skew_ms;
  const atomic_bool *cancel; /* borrowed: a call in flight gives up when set */
  /* response being received */
  ots_buf_t *body;
  bool too_big;
  char *hnames[S_HEADERS_MAX], *hvalues[S_HEADERS_MAX];
  size_t nh;
};

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s_curl_init_rc;
static void s_curl_init(void) { s_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* curl's progress callback: non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK). */
static int s_on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow) {
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  const ots_client_t *c = arg;
  return c->cancel && atomic_load(c->cancel) ? 1 : 0;
}

static void s_clear_headers(ots_client_t *c) {
  for (size_t i = 0; i < c->nh; i++) {
    free(c->hnames[i]);
    free(c->hvalues[i]);
  }
  c->nh = 0;
}

void ots_client_destroy(ots_client_t **cp) {
  if (!cp || !*cp) return;
  ots_client_t *c = *cp;
  if (c->curl) curl_easy_cleanup(c->curl);
  s_clear_headers(c);
  free(c->url_base);
  free(c->key_id);
  free(c->secret);
  free(c->instance);
  free(c->sts);
  free(c->user_agent);
  free(c);
  *cp = NULL;
}

static size_t s_on_body(char *p, size_t size, size_t n, void *ud) {
  ots_client_t *c = ud;
  size_t len = size * n;
  if (c->body->len + len > OTS_CLIENT_BODY_MAX) {
    c->too_big = true;
    return 0; /* aborts the transfer */
  }
  ots_buf_put(c->body, p, len);
  return ots_buf_ok(c->body) ? len : 0;
}

/* One header line per call; a status line starts a new header block (1xx, redirects). */
static size_t s_on_header(char *p, size_t size, size_t n, void *ud) {
  ots_client_t *c = ud;
  size_t len = size * n;
  if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
    s_clear_headers(c);
    return len;
  }
  const char *colon = memchr(p, ':', len);
  if (!colon || c->nh == S_HEADERS_MAX) return len;
  size_t nl = (size_t)(colon - p);
  const char *v = colon + 1, *end = p + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) end--;
  char *name = strndup(p, nl), *value = strndup(v, (size_t)(end - v));
  if (!name || !value) {
    free(name);
    free(value);
    return 0;
  }
  for (char *q = name; *q; q++) *q = (char)tolower((unsigned char)*q);
  c->hnames[c->nh] = name;
  c->hvalues[c->nh] = value;
  c->nh++;
  return len;
}

static char *s_dup(const char *s) { return s ? strdup(s) : NULL; }

/* Header values we send must be printable ASCII: a CR or LF would split the header. */
static bool s_printable(const char *s) {
  for (; s && *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) return false;
  return true;
}

ots_client_t *ots_client_new(const ots_client_config_t *cfg, rv_err_t *err) {
  const char *ep = cfg->endpoint;
  if (!ep || (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0)) {
    rv_err_set(err, RV_EINVAL, "ots endpoint \"%s\": expected http(s)://host[:port]",
               ep ? ep : "");
    return NULL;
  }
  const char *host = strstr(ep, "://") + 3;
  const char *slash = strchr(host, '/');
  if (!host[0] || (slash && slash[1] != '\0') || slash == host) {
    rv_err_set(err, RV_EINVAL, "ots endpoint \"%s\": expected http(s)://host[:port] with no path",
               ep);
    return NULL;
  }
  if (!cfg->cred.access_key_id || !cfg->cred.access_key_id[0] || !cfg->cred.access_key_secret ||
      !cfg->cred.access_key_secret[0] || !cfg->cred.instance || !cfg->cred.instance[0]) {
    rv_err_set(err, RV_EINVAL, "ots credentials: access key id, secret and instance are required");
    return NULL;
  }
  if (!s_printable(cfg->cred.access_key_id) || !s_printable(cfg->cred.access_key_secret) ||
      !s_printable(cfg->cred.instance) || !s_printable(cfg->cred.sts_token) ||
      !s_printable(cfg->user_agent)) {
    rv_err_set(err, RV_EINVAL, "ots credentials and user agent must be printable ASCII");
    return NULL;
  }
  pthread_once(&s_curl_once, s_curl_init);
  if (s_curl_init_rc != CURLE_OK) {
    rv_err_set(err, RV_EINTERNAL, "curl_global_init: %s", curl_easy_strerror(s_curl_init_rc));
    return NULL;
  }
  ots_client_t *c = calloc(1, sizeof *c);
  if (!c) {
    rv_err_set(err, RV_ENOMEM, "ots client: out of memory");
    return NULL;
  }
  c->url_base = strndup(ep, slash ? (size_t)(slash - ep) : strlen(ep));
  c->key_id = s_dup(cfg->cred.access_key_id);
  c->secret = s_dup(cfg->cred.access_key_secret);
  c->instance = s_dup(cfg->cred.instance);
  c->sts = s_dup(cfg->cred.sts_token);
  c->user_agent = s_dup(cfg->user_agent ? cfg->user_agent : "raftvisor-ots/0.1");
  c->curl = curl_easy_init();
  if (!c->url_base || !c->key_id || !c->secret || !c->instance || !c->user_agent ||
      (cfg->cred.sts_token && !c->sts) || !c->curl) {
    rv_err_set(err, c->curl ? RV_ENOMEM : RV_EINTERNAL, "ots client: cannot allocate");
    ots_client_destroy(&c);
    return NULL;
  }
  c->cred = (ots_cred_t){c->key_id, c->secret, c->instance, c->sts};
  c->max_skew_ms = cfg->max_clock_skew_ms > 0 ? cfg->max_clock_skew_ms : 15 * 60 * 1000;
  CURL *h = c->curl;
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 15000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                   cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms : 30000L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, s_on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
  c->cancel = cfg->cancel;
  if (c->cancel) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, s_on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
  }
  return c;
}

ots_retry_input_t ots_call_retry_input(const ots_call_info_t *info, ots_op_kind_t kind,
                                       unsigned attempt, int64_t elapsed_ms, uint32_t random) {
  ots_retry_input_t in = {.net = info->net,
                          .http_status = info->http_status,
                          .code = info->error.code,
                          .message = info->error.message,
                          .kind = kind,
                          .attempt = attempt,
                          .elapsed_ms = elapsed_ms,
                          .random = random};
  return in;
}

int ots_client_code_for(const char *code, const char *message, int http_status) {
  if (code && code[0]) {
    static const struct {
      const char *code;
      int rv;
    } table[] = {
        {"OTSConditionCheckFail", RV_ESTALE},   {"OTSObjectNotExist", RV_ENOTFOUND},
        {"OTSObjectAlreadyExist", RV_EEXIST},   {"OTSAuthFailed", RV_EPERM},
        {"OTSNoPermissionAccess", RV_EPERM},    {"OTSParameterInvalid", RV_EINVAL},
        {"OTSInvalidPK", RV_EINVAL},            {"OTSRequestBodyTooLarge", RV_ETOOBIG},
        {"OTSRequestTimeout", RV_ETIMEDOUT},    {"OTSTimeout", RV_EUNAVAIL},
        {"OTSInternalServerError", RV_EUNAVAIL}, {"OTSServerUnavailable", RV_EUNAVAIL},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
      if (strcmp(code, table[i].code) == 0) return table[i].rv;
    if (ots_retry_code_always(code, message)) return RV_EBUSY;
  }
  if (http_status >= 500) return RV_EUNAVAIL;
  return RV_EPROTO;
}

static int64_t s_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Transport outcome of a curl failure: could the request have reached the server? */
static ots_net_outcome_t s_net_outcome(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return OTS_NET_NOT_SENT;
    default:
      return OTS_NET_UNKNOWN;
  }
}

/* Authenticates a response: MD5 always when present (required on 2xx), signature when present
 * (required on 2xx, skipped on 403), date skew on 2xx. */
static int s_check_response(ots_client_t *c, const char *action, long status,
                            const ots_header_t *h, size_t n, rv_err_t *err) {
  bool ok = status >= 200 && status < 300;
  int rc;
  if (ok || ots_header_find(h, n, "x-ots-contentmd5"))
    if ((rc = ots_sign_check_md5(h, n, c->body->data, c->body->len, err))) return rc;
  if (status != 403 && (ok || ots_header_find(h, n, "authorization")))
    if ((rc = ots_sign_check_response(&c->cred, action, h, n, err))) return rc;
  if (ok) {
    const char *date = ots_header_find(h, n, "x-ots-date");
    if (!date) return rv_err_set(err, RV_EPROTO, "response has no x-ots-date header");
    int64_t t;
    if ((rc = ots_sign_parse_date(date, &t, err))) return rv_err_prefix(err, "x-ots-date");
    int64_t skew = t - s_now_ms();
    if (skew < 0) skew = -skew;
    if (skew > c->max_skew_ms)
      return rv_err_set(err, RV_EPROTO,
                        "response x-ots-date %s is %lld ms from our clock (allowed %lld)", date,
                        (long long)skew, (long long)c->max_skew_ms);
  }
  return RV_OK;
}

int ots_client_call(ots_client_t *c, const char *action, const void *body, size_t len,
                    ots_buf_t *response, ots_call_info_t *info, rv_err_t *err) {
  ots_call_info_t local;
  if (!info) info = &local;
  memset(info, 0, sizeof *info);
  info->net = OTS_NET_NOT_SENT;
  size_t alen = strlen(action);
  for (size_t i = 0; i < alen; i++)
    if (!isalpha((unsigned char)action[i])) alen = 0;
  if (alen == 0 || alen > 64)
    return rv_err_set(err, RV_EINVAL, "ots action \"%.64s\": expected a name like PutRow", action);
  ots_buf_reset(response);
  c->body = response;
  c->too_big = false;
  s_clear_headers(c);

  ots_req_headers_t rh;
  int rc = ots_sign_request_headers(&rh, &c->cred, action, body, len, s_now_ms(), err);
  if (rc) return rv_err_prefix(err, "%s", action);

  /* Lines "name: value"; curl copies them. "Expect:" and "Content-Type:" remove curl's own
   * (100-continue would cost a round trip; Tablestore ignores the content type). */
  struct curl_slist *hl = NULL;
  char line[512];
  bool list_ok = true;
  for (size_t i = 0; i < rh.n && list_ok; i++) {
    snprintf(line, sizeof line, "%s: %s", rh.h[i].name, rh.h[i].value);
    struct curl_slist *nl = curl_slist_append(hl, line);
    if (!nl) list_ok = false;
    else hl = nl;
  }
  const char *extra[] = {"Expect:", "Content-Type:"};
  for (size_t i = 0; i < 2 && list_ok; i++) {
    struct curl_slist *nl = curl_slist_append(hl, extra[i]);
    if (!nl) list_ok = false;
    else hl = nl;
  }
  char *url = malloc(strlen(c->url_base) + strlen(action) + 2);
  if (!list_ok || !url) {
    curl_slist_free_all(hl);
    free(url);
    return rv_err_set(err, RV_ENOMEM, "%s: out of memory", action);
  }
  sprintf(url, "%s/%s", c->url_base, action);
  static const char empty[1];
  curl_easy_setopt(c->curl, CURLOPT_URL, url);
  curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, len ? body : empty);
  curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  CURLcode cc = curl_easy_perform(c->curl);
  curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(hl);

  long status = 0;
  curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
  if (cc != CURLE_OK) {
    info->net = s_net_outcome(cc);
    info->http_status = (int)status;
    if (cc == CURLE_ABORTED_BY_CALLBACK)
      rc = rv_err_set(err, RV_ECLOSED, "%s: POST %s: cancelled (the replicator is stopping; "
                      "may have been applied)", action, url);
    else if (c->too_big)
      rc = rv_err_set(err, RV_ETOOBIG, "%s: response body exceeds %u bytes", action,
                      OTS_CLIENT_BODY_MAX);
    else if (!ots_buf_ok(response))
      rc = rv_err_set(err, RV_ENOMEM, "%s: out of memory for the response", action);
    else
      rc = rv_err_set(err, cc == CURLE_OPERATION_TIMEDOUT ? RV_ETIMEDOUT : RV_EUNAVAIL,
                      "%s: POST %s: %s (%s)", action, url, curl_easy_strerror(cc),
                      info->net == OTS_NET_NOT_SENT ? "not sent" : "may have been applied");
    free(url);
    return rc;
  }
  free(url);
  info->net = OTS_NET_RESPONSE;
  info->http_status = (int)status;

  ots_header_t h[S_HEADERS_MAX];
  for (size_t i = 0; i < c->nh; i++) h[i] = (ots_header_t){c->hnames[i], c->hvalues[i]};
  const char *rid = ots_header_find(h, c->nh, "x-ots-requestid");
  if (!rid) rid = ots_header_find(h, c->nh, "x-ots-request-id");
  snprintf(info->request_id, sizeof info->request_id, "%s", rid ? rid : "");

  rc = s_check_response(c, action, status, h, c->nh, err);
  if (rc) {
    rv_err_prefix(err, "%s: HTTP %ld%s%s", action, status, rid ? " request " : "",
                  rid ? rid : "");
    ots_buf_reset(response);
    return rc;
  }
  if (status >= 200 && status < 300) return RV_OK;

  rv_err_t perr;
  if (ots_wire_parse_error(response->data, response->len, &info->error, &perr) != RV_OK) {
    rc = status >= 500 ? RV_EUNAVAIL : RV_EPROTO;
    rv_err_set(err, rc, "%s: HTTP %ld with a body of %zu bytes that is not an OTS Error%s%s%s",
               action, status, response->len, rid ? " (request " : "", rid ? rid : "",
               rid ? ")" : "");
  } else {
    rc = ots_client_code_for(info->error.code, info->error.message, (int)status);
    /* JAVA: an error without x-ots-requestid never reached Tablestore (a proxy answered). */
    rv_err_set(err, rc, "%s: HTTP %ld %s: %s%s%s%s", action, status, info->error.code,
               info->error.message, rid ? " (request " : " (no x-ots-requestid: ",
               rid ? rid : "may come from a proxy, not Tablestore", ")");
  }
  ots_buf_reset(response);
  return rc;
}
