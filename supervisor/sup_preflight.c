/* sup_preflight: host checks before a node starts (I/O: stat, getaddrinfo, bind). */
#include "sup_preflight.h"

#include "cfg_value.h"

#include <errno.h>
#include <libgen.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int sup_preflight_dirs(const cfg_node_t *cfg, rv_err_t *err) {
  char buf[CFG_PATH_MAX];
  snprintf(buf, sizeof buf, "%s", cfg->data_dir);
  struct stat st;
  if (stat(buf, &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return rv_err_set(err, RV_ECONFIG, "%s: node.data-dir: %s exists and is not a directory",
                        cfg->source, cfg->data_dir);
    return RV_OK;
  }
  const char *parent = dirname(buf);
  if (stat(parent, &st) != 0)
    return rv_err_set(err, RV_ECONFIG,
                      "%s: node.data-dir: the parent of %s, %s, %s (is the data disk "
                      "mounted?); create it first: raftvisor creates only the data-dir itself",
                      cfg->source, cfg->data_dir, parent,
                      errno == ENOENT ? "does not exist" : strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return rv_err_set(err, RV_ECONFIG, "%s: node.data-dir: the parent of %s, %s, is not a directory",
                      cfg->source, cfg->data_dir, parent);
  return RV_OK;
}

/* Binds a TCP socket to ai with port (0 = any); returns 0 or the errno. */
int sup_preflight_features(const cfg_node_t *cfg, rv_err_t *err) {
  /* ots.recovery-mode works (the ots-replicator's loader, actors/ots-replicator/shell/
   * repl_recover.h): nothing is refused here any more. An http(s) endpoint without the
   * Tablestore backend in the build is refused by the backend itself, clearly, in the
   * replicator's status and log. */
  (void)cfg;
  (void)err;
  return RV_OK;
}

static int s_try_bind(const struct addrinfo *ai, int port) {
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int one = 1;
  /* as ZeroMQ binds: a port left in TIME_WAIT by a stopped node is free */
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_storage sa;
  memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
  if (sa.ss_family == AF_INET) ((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
  else if (sa.ss_family == AF_INET6) ((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
  int rc = bind(fd, (struct sockaddr *)&sa, ai->ai_addrlen) == 0 ? 0 : errno;
  if (rc == 0 && listen(fd, 1) != 0) rc = errno;
  close(fd);
  return rc;
}

/* metrics.listen: resolves, and its port is free. */
static int s_check_metrics(const cfg_node_t *cfg, rv_err_t *err) {
  char host[CFG_HOST_MAX];
  int port;
  if (cfg_value_hostport(cfg->metrics_listen, host, sizeof host, &port, NULL) != 0)
    return rv_err_set(err, RV_ECONFIG, "%s: metrics.listen: expected \"host:port\", got \"%s\"",
                      cfg->source, cfg->metrics_listen);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL;
  int g = getaddrinfo(host, NULL, &hints, &res);
  if (g != 0 || !res)
    return rv_err_set(err, RV_ECONFIG, "%s: metrics.listen: cannot resolve \"%s\": %s",
                      cfg->source, host, g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
  int e = s_try_bind(res, port), rc = RV_OK;
  freeaddrinfo(res);
  if (e)
    rc = rv_err_set(err, RV_ECONFIG, "%s: metrics.listen: cannot listen on %s: %s%s", cfg->source,
                    cfg->metrics_listen, strerror(e),
                    e == EADDRINUSE ? " (another process uses the port: 'ss -ltnp' names it)"
                    : e == EADDRNOTAVAIL ? " (not an address of this machine)"
                                         : "");
  return rc;
}

int sup_preflight_network(const cfg_node_t *cfg, bool check_ports, rv_err_t *err) {
  const cfg_peer_t *self = &cfg->nodes[cfg->self];
  /* with node.listen-host, that is what must be local; host is only advertised (NAT) */
  const char *host = cfg->listen_host[0] ? cfg->listen_host : self->host;
  char key[64];
  if (cfg->listen_host[0])
    snprintf(key, sizeof key, "node.listen-host");
  else
    snprintf(key, sizeof key, "cluster.nodes[%d].host", cfg->self);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  int g = getaddrinfo(host, NULL, &hints, &res);
  if (g != 0 || !res)
    return rv_err_set(err, RV_ECONFIG, "%s: %s: cannot resolve \"%s\" (node %s): %s",
                      cfg->source, key, host, cfg->node_id,
                      g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
  char addr[NI_MAXHOST] = "?";
  getnameinfo(res->ai_addr, res->ai_addrlen, addr, sizeof addr, NULL, 0, NI_NUMERICHOST);
  int rc = RV_OK, e = s_try_bind(res, 0);
  if (e == EADDRNOTAVAIL) {
    rc = rv_err_set(err, RV_ECONFIG,
                    "%s: %s: \"%s\" (%s) is not an address of this machine, so node %s cannot "
                    "listen on it; is this the YAML of another host's node? (behind NAT, set "
                    "node.listen-host: \"0.0.0.0\")",
                    cfg->source, key, host, addr, cfg->node_id);
  } else if (e) {
    rc = rv_err_set(err, RV_ECONFIG, "%s: %s: cannot listen on %s (%s): %s", cfg->source, key,
                    host, addr, strerror(e));
  } else if (check_ports) {
    struct {
      const char *actor, *key;
      int port;
    } ports[] = {{"raft-peer", "raft-port", self->raft_port},
                 {"kv-store", "client-port", self->client_port}};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0] && !rc; i++) {
      if (!cfg_node_actor(cfg, ports[i].actor)) continue;
      if ((e = s_try_bind(res, ports[i].port)) != 0)
        rc = rv_err_set(err, RV_ECONFIG,
                        "%s: cluster.nodes[%d].%s: cannot listen on %s:%d for %s: %s%s",
                        cfg->source, cfg->self, ports[i].key, addr, ports[i].port,
                        ports[i].actor, strerror(e),
                        e == EADDRINUSE ? " (another process uses the port: 'ss -ltnp' names it)"
                                        : "");
    }
  }
  freeaddrinfo(res);
  if (!rc && check_ports && cfg->metrics_listen[0]) rc = s_check_metrics(cfg, err);
  return rc;
}
