/* cli_common: what every subcommand shares: usage errors, loading the node's YAML, finding the
 * node's supervisor, and one request/reply over its control socket. */
#include <czmq.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rv_mailbox.h"
#include "sup_lock.h"

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "raftvisor %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (try 'raftvisor %s --help')\n", cmd);
  va_end(ap);
  return CLI_USAGE;
}

int cli_parse(const char *cmd, int argc, char **argv, const cli_opt_t *opts, void (*help)(void),
              const char **pos, int maxpos, int *npos) {
  int n = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (cli_is_help(a)) {
      help();
      return -1;
    }
    const cli_opt_t *o = opts;
    while (o->name && strcmp(a, o->name) != 0 && !(o->alt && strcmp(a, o->alt) == 0)) o++;
    if (o->name && o->flag) {
      *o->flag = true;
    } else if (o->name) {
      if (i + 1 >= argc) return cli_usage_error(cmd, "%s needs a value", a);
      *o->value = argv[++i];
    } else if (a[0] == '-' && a[1] != '\0') {
      return cli_usage_error(cmd, "unexpected argument \"%s\"", a);
    } else if (n < maxpos) {
      pos[n++] = a;
    } else {
      return cli_usage_error(cmd, "unexpected argument \"%s\"", a);
    }
  }
  if (npos) *npos = n;
  return CLI_OK;
}

bool cli_is_help(const char *arg) { return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0; }

int cli_load_config(const char *path, cfg_node_t **cfg) {
  rv_err_t err;
  if (cfg_node_load(path, cfg, STDERR_FILENO, &err) != RV_OK) {
    fprintf(stderr, "raftvisor: %s\n", err.msg);
    return CLI_FAILURE;
  }
  return CLI_OK;
}

int cli_require_running(const cfg_node_t *cfg, pid_t *pid) {
  pid_t p = 0;
  rv_err_t err;
  int rc = sup_lock_holder(cfg, &p, &err);
  if (rc == RV_EPERM) {
    /* a monitoring agent must not page "node down" because it may not look */
    fprintf(stderr, "raftvisor: %s\n", err.msg);
    return CLI_FAILURE;
  }
  if (rc != RV_OK || !sup_pid_alive(p)) {
    fprintf(stderr,
            "raftvisor: node %s is not running (no supervisor holds %s/supervisor.lock); start "
            "it with 'raftvisor start -c %s'\n",
            cfg->node_id, cfg->run_dir, cfg->source);
    return CLI_NOT_RUNNING;
  }
  if (pid) *pid = p;
  return CLI_OK;
}

int cli_request(const cfg_node_t *cfg, uint32_t type, const ProtobufCMessage *body,
                int timeout_ms, rv_msg_t *reply, rv_err_t *err) {
  memset(reply, 0, sizeof *reply);
  char ep[256];
  int rc = rv_mailbox_endpoint(cfg, "control", ep, sizeof ep, err);
  if (rc) return rc;
  zsys_handler_set(NULL);
  zsock_t *s = zsock_new(ZMQ_DEALER);
  if (!s) return rv_err_set(err, RV_EIO, "cannot create a socket: %s", zmq_strerror(zmq_errno()));
  zsock_set_maxmsgsize(s, RV_ENVELOPE_MAX);
  if (zsock_connect(s, "%s", ep) < 0) {
    zsock_destroy(&s);
    return rv_err_set(err, RV_EIO, "cannot connect to %s: %s", ep, zmq_strerror(zmq_errno()));
  }
  uint64_t corr = ((uint64_t)getpid() << 32) ^ rv_wall_us();
  rv_msg_t req = {.type = type, .corr_id = corr, .body = (ProtobufCMessage *)body};
  rv_addr_set(&req.from, cfg->node_id, "cli");
  rv_addr_set(&req.to, cfg->node_id, "supervisor");
  uint8_t *frame;
  size_t len;
  if ((rc = rv_msg_encode(&req, &frame, &len, err))) {
    zsock_destroy(&s);
    return rc;
  }
  zmq_send(zsock_resolve(s), frame, len, 0);
  free(frame);
  int64_t deadline = zclock_mono() + timeout_ms;
  rc = rv_err_set(err, RV_ETIMEDOUT, "node %s did not answer within %d ms (is its supervisor hung?)",
                  cfg->node_id, timeout_ms);
  while (zclock_mono() < deadline) {
    zmq_pollitem_t item = {.socket = zsock_resolve(s), .events = ZMQ_POLLIN};
    if (zmq_poll(&item, 1, (long)(deadline - zclock_mono())) <= 0) continue;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, zsock_resolve(s), 0) < 0) {
      zmq_msg_close(&msg);
      continue;
    }
    rv_msg_t m;
    rv_err_t derr;
    int drc = rv_msg_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), 0, &m, &derr);
    zmq_msg_close(&msg);
    if (drc) {
      rc = rv_err_set(err, drc, "bad answer from node %s: %s", cfg->node_id, derr.msg);
      break;
    }
    if (m.corr_id != corr) {
      rv_msg_clear(&m);
      continue;
    }
    *reply = m;
    rc = RV_OK;
    break;
  }
  zsock_destroy(&s);
  return rc;
}

static void s_json_str(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

/* One answer as JSON on stdout: {"ok", "code", "error" (the code's name or null), "message"}. */
static void s_reply_json(int code, const char *message) {
  printf("{\"ok\":%s,\"code\":%d,\"error\":", code ? "false" : "true", code);
  if (code) {
    printf("\"%s\"", rv_code_name(code));
  } else {
    printf("null");
  }
  printf(",\"message\":");
  s_json_str(message);
  printf("}\n");
}

int cli_request_reply_as(const char *cmd, const cfg_node_t *cfg, uint32_t type,
                         const ProtobufCMessage *body, int timeout_ms, bool json) {
  rv_msg_t reply;
  rv_err_t err;
  if (cli_request(cfg, type, body, timeout_ms, &reply, &err) != RV_OK) {
    if (json) s_reply_json(err.code ? err.code : RV_EIO, err.msg);
    else fprintf(stderr, "raftvisor %s: %s\n", cmd, err.msg);
    return CLI_FAILURE;
  }
  int rc = CLI_OK;
  const Rv__Reply *r = reply.type == RV_MSG_REPLY ? (const Rv__Reply *)reply.body : NULL;
  char text[RV_ERR_MSG_MAX];
  if (!r) snprintf(text, sizeof text, "unexpected answer from node %s", cfg->node_id);
  int code = !r ? RV_EPROTO : (int)r->code;
  const char *msg = r ? r->message : text;
  if (code) rc = CLI_FAILURE;
  if (json) s_reply_json(code, msg);
  else if (code) fprintf(stderr, "raftvisor %s: %s\n", cmd, msg);
  else printf("%s\n", msg);
  rv_msg_clear(&reply);
  return rc;
}

int cli_request_reply(const char *cmd, const cfg_node_t *cfg, uint32_t type,
                      const ProtobufCMessage *body, int timeout_ms) {
  return cli_request_reply_as(cmd, cfg, type, body, timeout_ms, false);
}

void cli_format_duration(uint64_t ms, char *buf, size_t len) {
  uint64_t s = ms / 1000;
  if (s < 60)
    snprintf(buf, len, "%llu.%llus", (unsigned long long)s, (unsigned long long)(ms % 1000) / 100);
  else if (s < 3600)
    snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
  else if (s < 86400)
    snprintf(buf, len, "%lluh%02llum", (unsigned long long)(s / 3600),
             (unsigned long long)(s % 3600 / 60));
  else
    snprintf(buf, len, "%llud%02lluh", (unsigned long long)(s / 86400),
             (unsigned long long)(s % 86400 / 3600));
}

void cli_cluster_nodes(const cfg_node_t *cfg, char *buf, size_t len) {
  size_t off = 0;
  for (int k = 0; k < cfg->nnodes; k++) {
    const cfg_peer_t *p = &cfg->nodes[(cfg->self + k) % cfg->nnodes];
    bool v6 = strchr(p->host, ':') != NULL;
    int n = snprintf(buf + off, len - off, "%s%s%s%s:%d", k ? "," : "", v6 ? "[" : "", p->host,
                     v6 ? "]" : "", p->client_port);
    if (n < 0 || (size_t)n >= len - off) break;
    off += (size_t)n;
  }
}

void cli_json_str(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if (*p < 0x20)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  }
  putchar('"');
}

int cli_node_call(const char *addr, const char *from_actor, uint32_t type,
                  const ProtobufCMessage *body, uint32_t reply_type, int timeout_ms,
                  rv_msg_t *reply, char *why, size_t len) {
  static uint64_t next_corr;
  if (!next_corr) next_corr = (uint64_t)getpid() << 32 | (uint64_t)zclock_mono();
  memset(reply, 0, sizeof *reply);
  zsock_t *s = zsock_new(ZMQ_DEALER);
  if (!s) return snprintf(why, len, "cannot create a socket"), RV_EIO;
  zsock_set_linger(s, 0);
  zsock_set_maxmsgsize(s, RV_ENVELOPE_MAX);
  zsock_set_connect_timeout(s, 500);
  zsock_set_reconnect_ivl(s, 50);
  int rc = RV_EIO;
  uint64_t corr = ++next_corr;
  rv_msg_t m = {.type = type, .corr_id = corr, .trace_id = corr, .body = (ProtobufCMessage *)body};
  rv_addr_set(&m.from, "client", from_actor);
  rv_addr_set(&m.to, "", "kv-store");
  uint8_t *buf = NULL;
  size_t blen = 0;
  rv_err_t err;
  zpoller_t *p = NULL;
  if (zsock_connect(s, "tcp://%s", addr) < 0) {
    snprintf(why, len, "cannot connect to %s", addr);
    goto out;
  }
  if (rv_msg_encode(&m, &buf, &blen, &err) != RV_OK) {
    snprintf(why, len, "%.200s", err.msg);
    goto out;
  }
  int sent = zmq_send(zsock_resolve(s), buf, blen, 0);
  free(buf);
  if (sent < 0) {
    snprintf(why, len, "cannot send to %s", addr);
    goto out;
  }
  int64_t deadline = zclock_mono() + timeout_ms;
  p = zpoller_new(s, NULL);
  rc = RV_ETIMEDOUT;
  snprintf(why, len, "no answer from %s within %d ms", addr, timeout_ms);
  for (int64_t now; p && (now = zclock_mono()) < deadline;) {
    if (!zpoller_wait(p, (int)(deadline - now))) continue;
    zmq_msg_t f;
    zmq_msg_init(&f);
    if (zmq_msg_recv(&f, zsock_resolve(s), 0) < 0) {
      zmq_msg_close(&f);
      break;
    }
    rv_msg_t a;
    memset(&a, 0, sizeof a);
    int drc = rv_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), 0, &a, &err);
    zmq_msg_close(&f);
    if (drc != RV_OK) continue;
    if (a.type == reply_type && a.corr_id == corr) {
      *reply = a; /* ownership moves to the caller */
      rc = RV_OK;
      break;
    }
    rv_msg_clear(&a);
  }
out:
  zpoller_destroy(&p);
  zsock_destroy(&s);
  return rc;
}
