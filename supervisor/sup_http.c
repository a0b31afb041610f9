/* sup_http: libmicrohttpd in the supervisor's zloop (I/O). MHD_USE_EPOLL without an internal
 * thread gives one epoll descriptor that is readable whenever MHD has work: the loop polls it and
 * calls MHD_run, which does not block; a timer runs MHD_run too, for connection timeouts. */
#include "sup_http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_node.h"
#include "cfg_value.h"

#define S_CONN_LIMIT 32        /* scrapers and health checkers at once */
#define S_CONN_TIMEOUT_S 10    /* a client silent this long is dropped */
#define S_TIMEOUT_SWEEP_MS 1000

struct sup_http {
  struct MHD_Daemon *mhd;
  zloop_t *loop;
  zmq_pollitem_t item;
  int timer_id;
  sup_http_handler_fn *handler;
  void *arg;
  uint64_t requests;
};

static enum MHD_Result s_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_size,
                                    void **con_cls) {
  sup_http_t *h = cls;
  (void)version;
  (void)upload_data;
  sup_http_answer_t a = {.status = 405, .content_type = "text/plain; charset=utf-8"};
  if (!*con_cls) { /* first call: headers only; answer on the next */
    *con_cls = h;
    return MHD_YES;
  }
  if (*upload_size) { /* a body on a GET: ignored */
    *upload_size = 0;
    return MHD_YES;
  }
  if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
    h->requests++;
    h->handler(h->arg, url, &a);
  } else {
    a.body = strdup("only GET and HEAD are served\n");
    a.len = a.body ? strlen(a.body) : 0;
  }
  struct MHD_Response *r =
      a.body ? MHD_create_response_from_buffer(a.len, a.body, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  if (!r) {
    free(a.body);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", a.content_type);
  MHD_add_response_header(r, "Cache-Control", "no-store");
  if (a.status == 405) MHD_add_response_header(r, "Allow", "GET, HEAD");
  enum MHD_Result ret = MHD_queue_response(conn, a.status, r);
  MHD_destroy_response(r);
  return ret;
}

static int s_on_ready(zloop_t *loop, zmq_pollitem_t *item, void *arg) {
  sup_http_t *h = arg;
  MHD_run(h->mhd);
  return 0;
}

static int s_on_sweep(zloop_t *loop, int id, void *arg) {
  sup_http_t *h = arg;
  MHD_run(h->mhd);
  return 0;
}

int sup_http_new(zloop_t *loop, const char *listen, sup_http_handler_fn *handler, void *arg,
                 sup_http_t **out, rv_err_t *err) {
  *out = NULL;
  char host[CFG_HOST_MAX], port_s[16];
  int port;
  if (cfg_value_hostport(listen, host, sizeof host, &port, NULL) != 0)
    return rv_err_set(err, RV_ECONFIG, "metrics.listen: expected \"host:port\", got \"%s\"",
                      listen);
  snprintf(port_s, sizeof port_s, "%d", port);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL;
  int g = getaddrinfo(host, port_s, &hints, &res);
  if (g != 0 || !res)
    return rv_err_set(err, RV_ECONFIG, "metrics.listen: cannot resolve \"%s\": %s", host,
                      gai_strerror(g));
  sup_http_t *h = calloc(1, sizeof *h);
  if (!h) {
    freeaddrinfo(res);
    return rv_err_set(err, RV_ENOMEM, "out of memory");
  }
  h->loop = loop;
  h->handler = handler;
  h->arg = arg;
  h->timer_id = -1;
  unsigned flags = MHD_USE_EPOLL | (res->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
  h->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, s_on_request, h,
                            MHD_OPTION_SOCK_ADDR, res->ai_addr,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)S_CONN_LIMIT,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)S_CONN_TIMEOUT_S,
                            MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
  freeaddrinfo(res);
  if (!h->mhd) {
    int e = errno;
    free(h);
    return rv_err_set(err, RV_EIO, "metrics.listen: cannot serve HTTP on %s: %s", listen,
                      e ? strerror(e) : "libmicrohttpd refused to start");
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
  h->item = (zmq_pollitem_t){.fd = info ? info->epoll_fd : -1, .events = ZMQ_POLLIN};
  if (h->item.fd < 0 || zloop_poller(loop, &h->item, s_on_ready, h) != 0) {
    MHD_stop_daemon(h->mhd);
    free(h);
    return rv_err_set(err, RV_EIO, "metrics.listen: cannot poll libmicrohttpd's descriptor");
  }
  h->timer_id = zloop_timer(loop, S_TIMEOUT_SWEEP_MS, 0, s_on_sweep, h);
  *out = h;
  return RV_OK;
}

void sup_http_destroy(sup_http_t **hp) {
  if (!hp || !*hp) return;
  sup_http_t *h = *hp;
  if (h->loop) {
    zloop_poller_end(h->loop, &h->item);
    if (h->timer_id >= 0) zloop_timer_end(h->loop, h->timer_id);
  }
  MHD_stop_daemon(h->mhd);
  free(h);
  *hp = NULL;
}

uint64_t sup_http_requests(const sup_http_t *h) { return h ? h->requests : 0; }
