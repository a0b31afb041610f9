/* cfg_rules: cross-field rules over a fully filled cfg_node_t. Pure: reads cfg and the marks of
 * the parse, writes only cfg->self and err.
 *
 * A rule that two keys break together is reported at the one given in the file, so that the
 * message points at what the operator wrote rather than at a default they never saw. */
#include "cfg_rules.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cfg_yaml.h"
#include "fence_methods.h"

static int s_fail(const cfg_source_t *src, rv_err_t *err, const cfg_mark_t *m, const char *key,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int s_fail(const cfg_source_t *src, rv_err_t *err, const cfg_mark_t *m, const char *key,
                  const char *fmt, ...) {
  char what[RV_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return cfg_source_fail(src, err, m->line, m->col, key, "%s", what);
}

/* The key as the file gave it (an alias, maybe), or its canonical path. */
static const char *s_as(const cfg_source_t *src, const char *path) {
  const cfg_mark_t *m = cfg_source_top(src, path);
  return m->as ? m->as : path;
}

static int s_nodes(cfg_node_t *cfg, const cfg_source_t *src, rv_err_t *err) {
  char a[160], b[160], q[96];
  for (int i = 0; i < cfg->nnodes; i++)
    for (int j = 0; j < i; j++) {
      if (strcmp(cfg->nodes[i].id, cfg->nodes[j].id) != 0) continue;
      cfg_mark_t first = cfg_source_peer(src, j, "id", b, sizeof b);
      cfg_mark_t m = cfg_source_peer(src, i, "id", a, sizeof a);
      return s_fail(src, err, &m, a, "duplicate node id %s (first at line %d)",
                    cfg_yaml_quote(cfg->nodes[i].id, q, sizeof q), first.line);
    }
  cfg->self = -1;
  for (int i = 0; i < cfg->nnodes && cfg->self < 0; i++)
    if (!strcmp(cfg->nodes[i].id, cfg->node_id)) cfg->self = i;
  if (cfg->self < 0) {
    char ids[CFG_MAX_NODES * (CFG_ID_MAX + 2)] = "";
    for (int i = 0; i < cfg->nnodes; i++)
      snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s", i ? ", " : "",
               cfg->nodes[i].id);
    const cfg_mark_t *nodes = cfg_source_top(src, "cluster.nodes");
    char via[160] = "";
    if (nodes->as && strcmp(nodes->as, "cluster.nodes") != 0)
      snprintf(via, sizeof via, ", named in order by %s", nodes->as);
    return s_fail(src, err, cfg_source_top(src, "node.id"), "node.id",
                  "%s is not in cluster.nodes (%s%s)", cfg_yaml_quote(cfg->node_id, q, sizeof q),
                  ids, via);
  }
  /* Raft needs a bootstrap configuration with at least one voter. */
  int voters = 0;
  for (int i = 0; i < cfg->nnodes; i++) voters += cfg->nodes[i].voter;
  if (cfg->nnodes > 0 && voters == 0) {
    cfg_mark_t m = cfg_source_peer(src, 0, "voter", a, sizeof a);
    return s_fail(src, err, &m, a,
                  "no node is a voter: at least one of cluster.nodes needs voter: true");
  }
  /* Every raft and client port of every node is one endpoint; no two may be the same. */
  static const char *const fields[] = {"raft-port", "client-port"};
  for (int e = 0; e < 2 * cfg->nnodes; e++)
    for (int f = 0; f < e; f++) {
      const cfg_peer_t *pe = &cfg->nodes[e / 2], *pf = &cfg->nodes[f / 2];
      int porte = e % 2 ? pe->client_port : pe->raft_port;
      int portf = f % 2 ? pf->client_port : pf->raft_port;
      if (porte != portf || strcasecmp(pe->host, pf->host) != 0) continue;
      cfg_mark_t m = cfg_source_peer(src, e / 2, fields[e % 2], a, sizeof a);
      cfg_source_peer(src, f / 2, fields[f % 2], b, sizeof b);
      return s_fail(src, err, &m, a, "%s:%d is used twice (also by %s)", pe->host, porte, b);
    }
  return 0;
}

/* lo < hi (strict) or lo <= hi, reported at whichever of the two the file gave. */
static int s_order(const cfg_source_t *src, rv_err_t *err, const char *lo_path, int lo,
                   const char *hi_path, int hi, bool strict) {
  if (strict ? lo < hi : lo <= hi) return 0;
  const cfg_mark_t *ml = cfg_source_top(src, lo_path), *mh = cfg_source_top(src, hi_path);
  if (mh->as || !ml->as)
    return s_fail(src, err, mh, s_as(src, hi_path), "must be %s %s (%d), got %d",
                  strict ? "greater than" : "at least", lo_path, lo, hi);
  return s_fail(src, err, ml, ml->as, "must be %s %s (%d, the default), got %d",
                strict ? "less than" : "at most", hi_path, hi, lo);
}

static int s_actors(const cfg_node_t *cfg, const cfg_source_t *src, rv_err_t *err) {
  char label[64], q[96];
  size_t name = cfg_keys_index(&cfg_keys_actor, cfg_keys_find(&cfg_keys_actor, "name"));
  for (int i = 0; i < cfg->nactors; i++)
    for (int j = 0; j < i; j++) {
      if (strcmp(cfg->actors[i].name, cfg->actors[j].name) != 0) continue;
      snprintf(label, sizeof label, "actors[%d].name", i);
      return s_fail(src, err, &src->actor_key[i][name], label,
                    "duplicate actor name %s (first at line %d)",
                    cfg_yaml_quote(cfg->actors[i].name, q, sizeof q), src->actor_key[j][name].line);
    }
  return 0;
}

static int s_ots(const cfg_node_t *cfg, const cfg_source_t *src, rv_err_t *err) {
  if (!cfg->ots_enabled && !cfg->ots_recovery_mode) return 0;
  const char *on = cfg->ots_enabled ? "ots.enabled" : "ots.recovery-mode";
  if (!cfg->ots_endpoint[0])
    return s_fail(src, err, cfg_source_top(src, on), s_as(src, on),
                  "needs ots.endpoint (https://host or file:///dir)");
  if (!strncmp(cfg->ots_endpoint, "file://", 7)) return 0;
  struct {
    const char *path, *value;
  } needs[] = {{"ots.instance", cfg->ots_instance},
               {"ots.access-key-id", cfg->ots_access_key_id},
               {"ots.access-key-secret", cfg->ots_access_key_secret}};
  for (size_t i = 0; i < sizeof needs / sizeof *needs; i++)
    if (!needs[i].value || !needs[i].value[0])
      return s_fail(src, err, cfg_source_top(src, "ots.endpoint"), s_as(src, "ots.endpoint"),
                    "a Tablestore endpoint needs %s as well", needs[i].path);
  return 0;
}

static int s_fencing(const cfg_node_t *cfg, const cfg_source_t *src, rv_err_t *err) {
  char label[160];
  if (cfg->nssh_private_key_files > 0) return 0;
  for (int i = 0; i < cfg->nfence_methods; i++) {
    fence_method_t m;
    char why[256];
    if (fence_method_parse(cfg->fence_methods[i], &m, why, sizeof why) != 0 ||
        m.kind != FENCE_METHOD_SSH)
      continue;
    snprintf(label, sizeof label, "%s[%d]", s_as(src, "ha.fencing.methods"), i);
    return s_fail(src, err, cfg_source_top(src, "ha.fencing.methods"), label,
                  "sshfence needs ha.fencing.ssh-private-key-files");
  }
  return 0;
}

static int s_preferred(const cfg_node_t *cfg, const cfg_source_t *src, rv_err_t *err) {
  if (!cfg->ha_preferred_leader[0]) return 0;
  for (int i = 0; i < cfg->nnodes; i++)
    if (strcmp(cfg->nodes[i].id, cfg->ha_preferred_leader) == 0) {
      if (cfg->nodes[i].voter) return 0;
      return s_fail(src, err, cfg_source_top(src, "ha.preferred-leader"), "ha.preferred-leader",
                    "%s is not a voter (voter: false in cluster.nodes); only a voter can lead",
                    cfg->ha_preferred_leader);
    }
  return s_fail(src, err, cfg_source_top(src, "ha.preferred-leader"), "ha.preferred-leader",
                "no node \"%s\" in cluster.nodes", cfg->ha_preferred_leader);
}

static int s_run_dir(const cfg_node_t *cfg, const cfg_source_t *src, rv_err_t *err) {
  size_t n = strlen(cfg->run_dir);
  if (n <= CFG_RUN_DIR_MAX) return 0;
  const cfg_mark_t *m = cfg_source_top(src, "node.run-dir");
  if (m->as)
    return s_fail(src, err, m, m->as,
                  "is %zu bytes long; at most %d, so that ipc:// socket paths fit in 108 bytes", n,
                  CFG_RUN_DIR_MAX);
  return s_fail(src, err, cfg_source_top(src, "node.data-dir"), "node.data-dir",
                "<data-dir>/run is %zu bytes long; at most %d, so that ipc:// socket paths fit in "
                "108 bytes: set node.run-dir to a shorter path",
                n, CFG_RUN_DIR_MAX);
}

/* CURVE: without security.insecure, this node's key pair and every node's public key are
 * required, this node's entry must pin the public half of its own pair, and no key may stand for
 * two nodes or two principals (a client key equal to a node key would make a client a node).
 * Checked last, so that an older file's first error is still the one it had. */
static int s_security(const cfg_node_t *cfg, const cfg_source_t *src, rv_err_t *err) {
  char a[160], b[160];
  if (cfg->security_insecure) return 0;
  const cfg_mark_t *key = cfg_source_top(src, "security.key");
  if (!cfg->security_key || !cfg->security_key[0]) {
    cfg_mark_t at = *cfg_source_top(src, "security.insecure");
    return s_fail(src, err, key->as ? key : &at, "security.key",
                  "missing: this node's CURVE key pair (`raftvisor keys gen --out DIR %s`, then "
                  "security.key: \"@DIR/%s.secret\"); or security.insecure: true to run with no "
                  "authentication at all (anyone who reaches the ports is trusted)",
                  cfg->node_id, cfg->node_id);
  }
  for (int i = 0; i < cfg->nnodes; i++) {
    cfg_mark_t m = cfg_source_peer(src, i, "public-key", a, sizeof a);
    if (!cfg->nodes[i].public_key[0])
      return s_fail(src, err, &m, a,
                    "missing: node %s's CURVE public key (printed by `raftvisor keys gen`, and "
                    "the public-key line of its NAME.pub); security.insecure is not set",
                    cfg->nodes[i].id);
    for (int j = 0; j < i; j++)
      if (!strcmp(cfg->nodes[i].public_key, cfg->nodes[j].public_key)) {
        cfg_source_peer(src, j, "public-key", b, sizeof b);
        return s_fail(src, err, &m, a, "the same key as %s: each node needs its own key pair", b);
      }
  }
  if (cfg->self >= 0 && strcmp(cfg->nodes[cfg->self].public_key, cfg->security_public_z85)) {
    return s_fail(src, err, key, key->as ? key->as : "security.key",
                  "its public key %s is not the one cluster.nodes[%d].public-key pins for %s "
                  "(%s): wrong key file, or the entry is out of date",
                  cfg->security_public_z85, cfg->self, cfg->node_id,
                  cfg->nodes[cfg->self].public_key);
  }
  for (int i = 0; i < cfg->nclients; i++) {
    const cfg_client_t *c = &cfg->clients[i];
    const cfg_mark_t *m = &src->client_key[i][cfg_keys_index(&cfg_keys_client,
                                                               cfg_keys_find(&cfg_keys_client, "key"))];
    snprintf(a, sizeof a, "security.clients[%d].key", i);
    for (int j = 0; j < cfg->nnodes; j++)
      if (!strcmp(c->key, cfg->nodes[j].public_key))
        return s_fail(src, err, m, a, "node %s's key: a client needs its own key pair",
                      cfg->nodes[j].id);
    for (int j = 0; j < i; j++) {
      if (!strcmp(c->key, cfg->clients[j].key))
        return s_fail(src, err, m, a, "the same key as security.clients[%d] (%s)", j,
                      cfg->clients[j].principal);
      if (!strcmp(c->principal, cfg->clients[j].principal)) {
        const cfg_mark_t *pm = &src->client[i];
        snprintf(a, sizeof a, "security.clients[%d].principal", i);
        return s_fail(src, err, pm, a, "principal %s is listed twice (first at "
                      "security.clients[%d]); give it one key", c->principal, j);
      }
    }
  }
  return 0;
}

int cfg_rules_check(cfg_node_t *cfg, const cfg_source_t *src, rv_err_t *err) {
  int rc = s_nodes(cfg, src, err);
  if (!rc)
    rc = s_order(src, err, "supervisor.heartbeat-interval-ms", cfg->heartbeat_interval_ms,
                 "supervisor.heartbeat-timeout-ms", cfg->heartbeat_timeout_ms, true);
  if (!rc)
    rc = s_order(src, err, "supervisor.restart-min-delay-ms", cfg->restart_min_delay_ms,
                 "supervisor.restart-max-delay-ms", cfg->restart_max_delay_ms, false);
  if (!rc)
    rc = s_order(src, err, "health.ping-interval-ms", cfg->health_ping_interval_ms,
                 "health.ping-timeout-ms", cfg->health_ping_timeout_ms, true);
  if (!rc)
    rc = s_order(src, err, "raft.heartbeat-ticks", cfg->raft_heartbeat_ticks,
                 "raft.election-ticks", cfg->raft_election_ticks, true);
  if (!rc) rc = s_actors(cfg, src, err);
  if (!rc) rc = s_ots(cfg, src, err);
  if (!rc) rc = s_fencing(cfg, src, err);
  if (!rc) rc = s_preferred(cfg, src, err);
  if (!rc) rc = s_run_dir(cfg, src, err);
  if (!rc) rc = s_security(cfg, src, err);
  return rc;
}
