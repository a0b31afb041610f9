/* rv_conn_guard: caps the connections of a listening socket from its monitor events (I/O shell,
 * one thread). See the header. */
#include "rv_conn_guard.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "rv_log.h"

struct rv_conn_guard {
  zsock_t *sock;           /* borrowed */
  zactor_t *thread;
  char endpoint[64];       /* inproc endpoint of the monitor */
  char what[64];
  unsigned max_conns;
  _Atomic uint64_t open;
  _Atomic uint64_t refused;
  _Atomic uint64_t handshake_failed;
};

/* Reads one monitor event: [u16 event, u32 value][endpoint]. Returns the event, 0 on error. */
static uint16_t s_event(zsock_t *mon, uint32_t *value) {
  zmq_msg_t a, b;
  zmq_msg_init(&a);
  zmq_msg_init(&b);
  void *s = zsock_resolve(mon);
  uint16_t ev = 0;
  if (zmq_msg_recv(&a, s, 0) >= 6 && zmq_msg_more(&a) && zmq_msg_recv(&b, s, 0) >= 0) {
    memcpy(&ev, zmq_msg_data(&a), 2);
    memcpy(value, (uint8_t *)zmq_msg_data(&a) + 2, 4);
  }
  zmq_msg_close(&a);
  zmq_msg_close(&b);
  return ev;
}

static void s_thread(zsock_t *pipe, void *arg) {
  rv_conn_guard_t *g = arg;
  zsock_t *mon = zsock_new_pair(NULL);
  if (!mon || zsock_connect(mon, "%s", g->endpoint) < 0) {
    zsock_destroy(&mon);
    zsock_signal(pipe, 1);
    return;
  }
  zsock_signal(pipe, 0);
  zpoller_t *poller = zpoller_new(pipe, mon, NULL);
  uint64_t logged_ms = 0, unlogged = 0, hs_logged_ms = 0;
  for (;;) {
    zsock_t *which = zpoller_wait(poller, -1);
    if (which == pipe || !which) break; /* $TERM, or interrupted */
    uint32_t fd = 0;
    uint16_t ev = s_event(mon, &fd);
    if (ev == ZMQ_EVENT_ACCEPTED) {
      uint64_t open = atomic_fetch_add(&g->open, 1) + 1;
      if (open > g->max_conns) {
        shutdown((int)fd, SHUT_RDWR); /* ZeroMQ sees end-of-file and closes it */
        atomic_fetch_add(&g->refused, 1);
        unlogged++;
        uint64_t now = rv_mono_ms();
        if (now - logged_ms >= 1000) {
          rv_warn("%s: closed %llu connection(s) over its cap of %u connections (%llu refused "
                  "so far)", g->what, (unsigned long long)unlogged, g->max_conns,
                  (unsigned long long)atomic_load(&g->refused));
          logged_ms = now;
          unlogged = 0;
        }
      }
    } else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
               ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
      uint64_t n = atomic_fetch_add(&g->handshake_failed, 1) + 1;
      uint64_t now = rv_mono_ms();
      if (now - hs_logged_ms >= 1000) {
        rv_warn("%s: refused a connection: the handshake failed before authentication (no CURVE "
                "key, or not a ZeroMQ peer); %llu so far", g->what, (unsigned long long)n);
        hs_logged_ms = now;
      }
    } else if (ev == ZMQ_EVENT_DISCONNECTED) {
      if (atomic_load(&g->open) > 0) atomic_fetch_sub(&g->open, 1);
    } else if (ev == ZMQ_EVENT_MONITOR_STOPPED) {
      break;
    }
  }
  zpoller_destroy(&poller);
  zsock_destroy(&mon);
}

int rv_conn_guard_new(zsock_t *sock, unsigned max_conns, const char *what, bool handshakes,
                      rv_conn_guard_t **out, rv_err_t *err) {
  *out = NULL;
  rv_conn_guard_t *g = calloc(1, sizeof *g);
  if (!g) return rv_err_set(err, RV_ENOMEM, "out of memory");
  g->sock = sock;
  g->max_conns = max_conns;
  snprintf(g->what, sizeof g->what, "%s", what);
  snprintf(g->endpoint, sizeof g->endpoint, "inproc://rv-conn-guard-%p", (void *)g);
  int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED;
  if (handshakes)
    events |= ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
  if (zmq_socket_monitor(zsock_resolve(sock), g->endpoint, events) != 0) {
    int e = zmq_errno();
    free(g);
    return rv_err_set(err, RV_EIO, "%s: cannot monitor its connections: %s", what,
                      zmq_strerror(e));
  }
  g->thread = zactor_new(s_thread, g);
  if (!g->thread) {
    zmq_socket_monitor(zsock_resolve(sock), NULL, 0);
    free(g);
    return rv_err_set(err, RV_EIO, "%s: cannot start the connection guard", what);
  }
  *out = g;
  return RV_OK;
}

void rv_conn_guard_destroy(rv_conn_guard_t **gp) {
  if (!gp || !*gp) return;
  rv_conn_guard_t *g = *gp;
  /* the monitor is stopped first, while the thread still reads its events: the socket's I/O
   * thread sends them holding the monitor's lock, and a send with no reader left blocked it,
   * so that stopping the monitor after the thread waited on that lock for ever (a hang of
   * test_rv_peers at teardown, 1 run in ~40) */
  zmq_socket_monitor(zsock_resolve(g->sock), NULL, 0);
  zactor_destroy(&g->thread); /* sends $TERM and waits */
  free(g);
  *gp = NULL;
}

uint64_t rv_conn_guard_open(const rv_conn_guard_t *g) { return g ? atomic_load(&g->open) : 0; }
uint64_t rv_conn_guard_refused(const rv_conn_guard_t *g) {
  return g ? atomic_load(&g->refused) : 0;
}

uint64_t rv_conn_guard_handshake_failed(const rv_conn_guard_t *g) {
  return g ? atomic_load(&g->handshake_failed) : 0;
}
