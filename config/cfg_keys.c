/* cfg_keys: the key table itself, and lookups over it (by path, by alias, by section), with the
 * "did you mean" suggestion for unknown keys.
 *
 * Pure. To add a key: add a field to cfg_node_t, a row here, a documented line to
 * node.example.yaml (a test fails until you do), and, when it relates to other keys, a rule in
 * cfg_rules.c. Rows are in file order: the dump and the reference print them in this order. */
#include "cfg_keys.h"

#include <stdio.h>
#include <string.h>

#include "cfg_security.h"
#include "cfg_value.h"

/* offsetof and sizeof of one field: the only macro here, so rows stay one line per idea. */
#define CFG_FIELD(type, field) .offset = offsetof(type, field), .size = sizeof(((type *)0)->field)

static const char *const s_log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const s_log_formats[] = {"text", "json", NULL};
static const char *const s_restarts[] = {"permanent", "transient", "temporary", NULL};

/* The enums are stored through an int. */
_Static_assert(sizeof(cfg_log_level_t) == sizeof(int), "enum fields are written as int");
_Static_assert(sizeof(cfg_log_format_t) == sizeof(int), "enum fields are written as int");
_Static_assert(sizeof(cfg_restart_t) == sizeof(int), "enum fields are written as int");

static const cfg_key_t s_peer_keys[] = {
    {.path = "id", .type = CFG_T_ID, .required = true, CFG_FIELD(cfg_peer_t, id),
     .doc = "the node's id, unique in the cluster"},
    {.path = "host", .type = CFG_T_STRING, .required = true, CFG_FIELD(cfg_peer_t, host),
     .check = cfg_value_check_host, .doc = "host name or address the other nodes reach it at"},
    {.path = "raft-port", .type = CFG_T_INT, .required = true, .min = 1, .max = 65535,
     CFG_FIELD(cfg_peer_t, raft_port), .doc = "TCP port of its Raft traffic"},
    {.path = "client-port", .alias = "jfs.namespace.server.rpc-address",
     .alias_form = CFG_ALIAS_HOSTPORT, .type = CFG_T_INT, .min = 1, .max = 65535,
     .def_doc = "raft-port + 100", CFG_FIELD(cfg_peer_t, client_port),
     .doc = "TCP port for clients (fs, haadmin, bench); the alias sets this node's"},
    {.path = "voter", .type = CFG_T_BOOL, .def = "true", CFG_FIELD(cfg_peer_t, voter),
     .doc = "in the initial Raft configuration; false = a spare, added later by `raft add-learner`"},
    {.path = "public-key", .type = CFG_T_STRING, .def_doc = "none (required unless security.insecure)",
     CFG_FIELD(cfg_peer_t, public_key),
     .check = cfg_security_check_key,
     .doc = "its CURVE public key (Z85, from `raftvisor keys gen`); required unless "
            "security.insecure"},
};

const cfg_table_t cfg_keys_peer = {s_peer_keys, sizeof s_peer_keys / sizeof *s_peer_keys,
                                   "cluster.nodes[].", sizeof(cfg_peer_t)};

static const cfg_key_t s_actor_keys[] = {
    {.path = "name", .type = CFG_T_ID, .required = true, CFG_FIELD(cfg_actor_t, name),
     .doc = "the actor's name, unique on the node; its program is raftvisor-<name>"},
    {.path = "exec", .type = CFG_T_PATH, .def = "", .def_doc = "raftvisor-<name> beside raftvisor",
     CFG_FIELD(cfg_actor_t, exec),
     .doc = "program to run instead; a relative path is taken from this file's directory"},
    {.path = "args", .type = CFG_T_STRLIST, .max = CFG_MAX_ARGS, CFG_FIELD(cfg_actor_t, args),
     .count_offset = offsetof(cfg_actor_t, nargs), .doc = "extra command-line arguments"},
    {.path = "restart", .type = CFG_T_ENUM, .def = "permanent", .names = s_restarts,
     CFG_FIELD(cfg_actor_t, restart),
     .doc = "permanent: always restarted; transient: only after a crash; temporary: never"},
    {.path = "shutdown-timeout-ms", .type = CFG_T_INT, .min = 0, .max = 600000,
     .def_doc = "supervisor.shutdown-timeout-ms", CFG_FIELD(cfg_actor_t, shutdown_timeout_ms),
     .doc = "after SIGTERM, wait this long before SIGKILL"},
};

static const cfg_key_t s_client_keys[] = {
    {.path = "principal", .type = CFG_T_STRING, .required = true,
     CFG_FIELD(cfg_client_t, principal), .check = cfg_security_check_principal,
     .doc = "who the key stands for (the user the server trusts: owner of what it creates)"},
    {.path = "key", .type = CFG_T_STRING, .required = true, CFG_FIELD(cfg_client_t, key),
     .check = cfg_security_check_key, .doc = "the client's CURVE public key (Z85)"},
};

const cfg_table_t cfg_keys_client = {s_client_keys, sizeof s_client_keys / sizeof *s_client_keys,
                                     "security.clients[].", sizeof(cfg_client_t)};

const cfg_table_t cfg_keys_actor = {s_actor_keys, sizeof s_actor_keys / sizeof *s_actor_keys,
                                    "actors[].", sizeof(cfg_actor_t)};

static const cfg_key_t s_node_keys[] = {
    /* node */
    {.path = "node.id", .type = CFG_T_ID, .required = true, CFG_FIELD(cfg_node_t, node_id),
     .doc = "this node's id; one of cluster.nodes"},
    {.path = "node.data-dir", .type = CFG_T_PATH, .required = true,
     CFG_FIELD(cfg_node_t, data_dir), .doc = "this node's state (Raft log, RocksDB)"},
    {.path = "node.run-dir", .type = CFG_T_PATH, .def = "", .def_doc = "<data-dir>/run",
     CFG_FIELD(cfg_node_t, run_dir),
     .doc = "ipc sockets and the supervisor's lock, created 0700; at most 80 bytes"},
    {.path = "node.log-dir", .type = CFG_T_PATH, .def = "", .def_doc = "<data-dir>/log",
     CFG_FIELD(cfg_node_t, log_dir), .doc = "one log file per actor"},
    {.path = "node.log-level", .type = CFG_T_ENUM, .def = "info", .names = s_log_levels,
     CFG_FIELD(cfg_node_t, log_level), .doc = "least severe level logged"},
    {.path = "node.log-format", .type = CFG_T_ENUM, .def = "text", .names = s_log_formats,
     CFG_FIELD(cfg_node_t, log_format),
     .doc = "text lines, or json: one object per line (time, node, actor, level, msg)"},
    {.path = "node.listen-host", .type = CFG_T_STRING, .def = "", .def_doc = "its host",
     CFG_FIELD(cfg_node_t, listen_host), .check = cfg_value_check_listen_host,
     .doc = "address raft-peer and kv-store bind (\"0.0.0.0\", \"::\"); cluster.nodes[].host "
            "is what the others reach (advertised, e.g. behind NAT)"},
    /* cluster */
    {.path = "cluster.id", .type = CFG_T_ID, .def = "raftvisor", CFG_FIELD(cfg_node_t, cluster_id),
     .doc = "the cluster's name; nodes of another cluster are refused"},
    {.path = "cluster.nodes", .alias = "namespace.backend.raft.initial-conf",
     .alias_form = CFG_ALIAS_PEERS, .type = CFG_T_NODELIST, .required = true, .min = 1,
     .max = CFG_MAX_NODES, CFG_FIELD(cfg_node_t, nodes),
     .count_offset = offsetof(cfg_node_t, nnodes), .sub = &cfg_keys_peer,
     .doc = "every master, this node included; ids and host:port pairs unique"},
    /* supervisor */
    {.path = "supervisor.heartbeat-interval-ms", .type = CFG_T_INT, .def = "200", .min = 10,
     .max = 60000, CFG_FIELD(cfg_node_t, heartbeat_interval_ms),
     .doc = "the supervisor pings each actor this often"},
    {.path = "supervisor.heartbeat-timeout-ms", .type = CFG_T_INT, .def = "1000", .min = 20,
     .max = 600000, CFG_FIELD(cfg_node_t, heartbeat_timeout_ms),
     .doc = "no answer this long: hung, killed, restarted; more than heartbeat-interval-ms"},
    {.path = "supervisor.restart-min-delay-ms", .type = CFG_T_INT, .def = "20", .min = 0,
     .max = 600000, CFG_FIELD(cfg_node_t, restart_min_delay_ms),
     .doc = "least time between two starts of one actor"},
    {.path = "supervisor.restart-max-delay-ms", .type = CFG_T_INT, .def = "5000", .min = 0,
     .max = 3600000, CFG_FIELD(cfg_node_t, restart_max_delay_ms),
     .doc = "ceiling of the backoff of a crash loop; at least restart-min-delay-ms"},
    {.path = "supervisor.restart-stable-ms", .type = CFG_T_INT, .def = "10000", .min = 0,
     .max = 86400000, CFG_FIELD(cfg_node_t, restart_stable_ms),
     .doc = "an actor up this long has its backoff reset"},
    {.path = "supervisor.restart-intensity", .type = CFG_T_INT, .def = "5", .min = 0, .max = 1000,
     CFG_FIELD(cfg_node_t, restart_intensity),
     .doc = "more restarts than this within restart-period-s stop the node"},
    {.path = "supervisor.restart-period-s", .type = CFG_T_INT, .def = "30", .min = 1,
     .max = 86400, CFG_FIELD(cfg_node_t, restart_period_s),
     .doc = "the window restart-intensity counts in"},
    {.path = "supervisor.shutdown-timeout-ms", .type = CFG_T_INT, .def = "3000", .min = 0,
     .max = 600000, CFG_FIELD(cfg_node_t, shutdown_timeout_ms),
     .doc = "default wait between SIGTERM and SIGKILL of an actor"},
    {.path = "supervisor.start-timeout-ms", .type = CFG_T_INT, .def = "5000", .min = 1,
     .max = 600000, CFG_FIELD(cfg_node_t, start_timeout_ms),
     .doc = "an actor must signal ready within this"},
    /* actors */
    {.path = "actors", .type = CFG_T_ACTORLIST, .def = "health-monitor,raft-peer,kv-store",
     .def_doc = "[{name: health-monitor}, {name: raft-peer}, {name: kv-store}]", .min = 0,
     .max = CFG_MAX_ACTORS, CFG_FIELD(cfg_node_t, actors),
     .count_offset = offsetof(cfg_node_t, nactors), .sub = &cfg_keys_actor,
     .doc = "the actors, in start order (stopped in reverse); names unique"},
    /* health */
    {.path = "health.ping-interval-ms", .type = CFG_T_INT, .def = "500", .min = 10, .max = 60000,
     CFG_FIELD(cfg_node_t, health_ping_interval_ms),
     .doc = "the health-monitor pings every actor this often"},
    {.path = "health.ping-timeout-ms", .type = CFG_T_INT, .def = "1500", .min = 20,
     .max = 600000, CFG_FIELD(cfg_node_t, health_ping_timeout_ms),
     .doc = "an actor silent this long is unhealthy; more than ping-interval-ms"},
    {.path = "health.min-free-disk-mb", .type = CFG_T_INT, .def = "64", .min = 0,
     .max = 100000000, CFG_FIELD(cfg_node_t, health_min_free_disk_mb),
     .doc = "less free space than this on the data disk is unhealthy; 0 = not checked"},
    {.path = "health.apply-stall-ms", .type = CFG_T_INT, .def = "5000", .min = 100,
     .max = 3600000, CFG_FIELD(cfg_node_t, health_apply_stall_ms),
     .doc = "applied behind commit without progress this long is unhealthy"},
    {.path = "health.slow-io-ms", .type = CFG_T_INT, .def = "1000", .min = 1, .max = 3600000,
     CFG_FIELD(cfg_node_t, health_slow_io_ms),
     .doc = "an fsync (raft-peer) or RocksDB write (kv-store) slower than this is unhealthy for "
            "10 s"},
    /* metrics */
    {.path = "metrics.listen", .type = CFG_T_STRING, .def = "", CFG_FIELD(cfg_node_t, metrics_listen),
     .check = cfg_value_check_listen,
     .doc = "HTTP for /metrics (Prometheus), /health and /ready on \"host:port\"; \"\" = off"},
    /* raft */
    {.path = "raft.tick-ms", .type = CFG_T_INT, .def = "10", .min = 1, .max = 1000,
     CFG_FIELD(cfg_node_t, raft_tick_ms),
     .doc = "the Raft clock: one tick is this long"},
    {.path = "raft.election-ticks", .type = CFG_T_INT, .def = "15", .min = 3, .max = 10000,
     CFG_FIELD(cfg_node_t, raft_election_ticks),
     .doc = "election timeout: drawn from [n, 2n) ticks; more than heartbeat-ticks"},
    {.path = "raft.heartbeat-ticks", .type = CFG_T_INT, .def = "3", .min = 1, .max = 10000,
     CFG_FIELD(cfg_node_t, raft_heartbeat_ticks),
     .doc = "a leader sends heartbeats every n ticks"},
    {.path = "raft.lease-reads", .type = CFG_T_BOOL, .def = "true",
     CFG_FIELD(cfg_node_t, raft_lease_reads),
     .doc = "linearizable reads served from the leader's lease, timed on the clock and in ticks "
            "(true), or after a heartbeat round a majority answers (false)"},
    {.path = "raft.compact-entries", .type = CFG_T_INT, .def = "50000", .min = 100,
     .max = 100000000, CFG_FIELD(cfg_node_t, raft_compact_entries),
     .doc = "compact the log once this many applied entries follow the last snapshot"},
    /* ots */
    {.path = "ots.enabled", .alias = "namespace.backend.raft.async.ots.enabled",
     .type = CFG_T_BOOL, .def = "false", CFG_FIELD(cfg_node_t, ots_enabled),
     .doc = "the leader streams every change to the remote copy; needs ots.endpoint"},
    {.path = "ots.recovery-mode", .alias = "namespace.backend.raft.recovery.mode",
     .type = CFG_T_BOOL, .def = "false", CFG_FIELD(cfg_node_t, ots_recovery_mode),
     .doc = "rebuild from the remote copy, read-only until done; needs ots.endpoint"},
    {.path = "ots.endpoint", .alias = "namespace.ots.endpoint", .type = CFG_T_STRING, .def = "",
     CFG_FIELD(cfg_node_t, ots_endpoint), .check = cfg_value_check_endpoint,
     .doc = "https://<instance>.<region>.ots.aliyuncs.com, or file:///shared/dir"},
    {.path = "ots.instance", .alias = "namespace.ots.instance", .type = CFG_T_STRING, .def = "",
     CFG_FIELD(cfg_node_t, ots_instance), .doc = "Tablestore instance name"},
    {.path = "ots.access-key-id", .alias = "namespace.ots.accessKey", .type = CFG_T_STRING,
     .def = "", CFG_FIELD(cfg_node_t, ots_access_key_id), .doc = "AccessKey id"},
    {.path = "ots.access-key-secret", .alias = "namespace.ots.accessSecret",
     .type = CFG_T_SECRET, .def = "", CFG_FIELD(cfg_node_t, ots_access_key_secret),
     .doc = "AccessKey secret, or \"@/path/file\" to read it (mode 0600); never printed"},
    {.path = "ots.change-log-max-bytes", .type = CFG_T_INT, .def = "268435456", .min = 65536,
     .max = 2147483647, CFG_FIELD(cfg_node_t, ots_change_log_max_bytes),
     .doc = "kv-store's change log for the remote copy is dropped past this; the next upload "
            "is then a full base copy"},
    {.path = "ots.max-lag-entries", .type = CFG_T_INT, .def = "0", .min = 0, .max = 2147483647,
     CFG_FIELD(cfg_node_t, ots_max_lag_entries),
     .doc = "the leader's health verdict fails (\"replica: N entries behind\") while the remote "
            "copy lags its commit index by more than this; 0 = not checked"},
    /* ha */
    {.path = "ha.automatic-failover", .alias = "dfs.ha.automatic-failover.enabled",
     .type = CFG_T_BOOL, .def = "false", CFG_FIELD(cfg_node_t, ha_automatic_failover),
     .doc = "an unhealthy leader hands leadership to a caught-up voter; an unhealthy node "
            "does not campaign nor accept a transfer"},
    {.path = "ha.unhealthy-grace-ms", .type = CFG_T_INT, .def = "500", .min = 0, .max = 600000,
     CFG_FIELD(cfg_node_t, ha_unhealthy_grace_ms),
     .doc = "with automatic-failover, a leader unhealthy this long hands leadership away"},
    {.path = "ha.preferred-leader", .type = CFG_T_STRING, .def = "",
     CFG_FIELD(cfg_node_t, ha_preferred_leader),
     .doc = "a voter's node id: leadership moves back to it once it is healthy and caught up"},
    {.path = "ha.fencing.methods", .alias = "dfs.ha.fencing.methods",
     .alias_form = CFG_ALIAS_LINES, .type = CFG_T_STRLIST, .max = CFG_MAX_FENCE_METHODS,
     CFG_FIELD(cfg_node_t, fence_methods), .count_offset = offsetof(cfg_node_t, nfence_methods),
     .check = cfg_value_check_fence,
     .doc = "tried in order until one succeeds: shell(cmd args), sshfence([[user][:port]]); "
            "adds the fencer actor"},
    {.path = "ha.fencing.shell-timeout-ms", .type = CFG_T_INT, .def = "30000", .min = 1,
     .max = 3600000, CFG_FIELD(cfg_node_t, fence_shell_timeout_ms),
     .doc = "a method still running after this is failed, its process group killed (HDFS: none)"},
    {.path = "ha.fencing.ssh-private-key-files", .alias = "dfs.ha.fencing.ssh.private-key-files",
     .alias_form = CFG_ALIAS_COMMAS, .type = CFG_T_PATHLIST, .max = CFG_MAX_SSH_KEYS,
     CFG_FIELD(cfg_node_t, ssh_private_key_files),
     .count_offset = offsetof(cfg_node_t, nssh_private_key_files),
     .check = cfg_value_check_nonempty, .doc = "keys sshfence tries; needed by sshfence"},
    {.path = "ha.fencing.ssh-connect-timeout-ms", .alias = "dfs.ha.fencing.ssh.connect-timeout",
     .type = CFG_T_INT, .def = "30000", .min = 1, .max = 3600000,
     CFG_FIELD(cfg_node_t, ssh_connect_timeout_ms), .doc = "sshfence's connection timeout"},
    /* security */
    {.path = "security.insecure", .type = CFG_T_BOOL, .def = "false",
     CFG_FIELD(cfg_node_t, security_insecure),
     .doc = "true = no CURVE: anyone who reaches the ports is trusted and the user a client "
            "asserts is believed (status and the log say so at every start); the only way to "
            "run without keys"},
    {.path = "security.key", .type = CFG_T_SECRET, .def_doc = "none (required unless insecure)",
     CFG_FIELD(cfg_node_t, security_key),
     .doc = "this node's CURVE key pair: \"@/path/NODE.secret\" as `raftvisor keys gen` "
            "writes it (mode 0600); never printed"},
    {.path = "security.client-key", .type = CFG_T_PATH, .def_doc = "none",
     CFG_FIELD(cfg_node_t, security_client_key),
     .doc = "the CLI's own key pair (a secret file from `keys gen`) for fs, bench, haadmin, "
            "endpoints; --key and RV_CLIENT_KEY override it"},
    {.path = "security.clients", .type = CFG_T_CLIENTLIST, .min = 0, .max = CFG_MAX_CLIENTS,
     CFG_FIELD(cfg_node_t, clients), .count_offset = offsetof(cfg_node_t, nclients_inline),
     .sub = &cfg_keys_client, .def_doc = "none: no client is accepted",
     .doc = "the clients the client port accepts: [{principal: alice, key: \"<public Z85>\"}]"},
    {.path = "security.clients-dir", .type = CFG_T_PATH, .def = "", .def_doc = "none",
     CFG_FIELD(cfg_node_t, security_clients_dir),
     .doc = "a directory of public certificates NAME.pub (as `raftvisor keys gen NAME` writes "
            "them), each a client whose principal is NAME; added to security.clients, read "
            "at start"},
    {.path = "security.permissions", .alias = "dfs.permissions.enabled", .type = CFG_T_BOOL,
     .def = "true", CFG_FIELD(cfg_node_t, security_permissions),
     .doc = "HDFS permission checks; false checks nothing but still records owners and modes"},
    {.path = "security.superuser", .type = CFG_T_STRING, .def = "root",
     CFG_FIELD(cfg_node_t, security_superuser), .check = cfg_value_check_principal,
     .doc = "the user who bypasses every permission check (HDFS: the NameNode's user)"},
    {.path = "security.supergroup", .alias = "dfs.permissions.superusergroup",
     .type = CFG_T_STRING, .def = "supergroup", CFG_FIELD(cfg_node_t, security_supergroup),
     .check = cfg_value_check_principal, .doc = "its members are superusers too"},
    {.path = "security.umask", .alias = "fs.permissions.umask-mode", .type = CFG_T_STRING,
     .def = "022", CFG_FIELD(cfg_node_t, security_umask), .check = cfg_value_check_umask,
     .doc = "octal bits taken away from the mode of every file and directory created"},
    {.path = "security.groups", .type = CFG_T_STRLIST, .max = CFG_MAX_GROUP_MAPPINGS,
     CFG_FIELD(cfg_node_t, security_groups),
     .count_offset = offsetof(cfg_node_t, nsecurity_groups),
     .check = cfg_value_check_group_mapping,
     .doc = "\"user=group1,group2\" per user: the groups the server knows it in"},
    {.path = "security.sessions-max", .type = CFG_T_INT, .def = "100000", .min = 1,
     .max = 100000000, CFG_FIELD(cfg_node_t, security_sessions_max),
     .doc = "exactly-once sessions the cluster keeps (every user); a new one past it drops the "
            "least recently used; the same on every node"},
    {.path = "security.sessions-per-principal", .type = CFG_T_INT, .def = "10000", .min = 1,
     .max = 1000000, CFG_FIELD(cfg_node_t, security_sessions_per_principal),
     .doc = "exactly-once sessions one user holds; a new one past it drops that user's least "
            "recently used"},
    {.path = "security.client-inflight", .type = CFG_T_INT, .def = "8192", .min = 1,
     .max = 1000000, CFG_FIELD(cfg_node_t, security_client_inflight),
     .doc = "requests one client connection may have waiting (a write for its commit, a read for "
            "its read index); more are answered busy, retriable (librvclient: 4096 at most)"},
};

const cfg_table_t cfg_keys_node = {s_node_keys, sizeof s_node_keys / sizeof *s_node_keys, "",
                                   sizeof(cfg_node_t)};

_Static_assert(sizeof s_node_keys / sizeof *s_node_keys <= CFG_KEYS_MAX, "raise CFG_KEYS_MAX");
_Static_assert(sizeof s_peer_keys / sizeof *s_peer_keys <= CFG_KEYS_MAX, "raise CFG_KEYS_MAX");
_Static_assert(sizeof s_client_keys / sizeof *s_client_keys <= CFG_KEYS_MAX, "raise CFG_KEYS_MAX");
_Static_assert(sizeof s_actor_keys / sizeof *s_actor_keys <= CFG_KEYS_MAX, "raise CFG_KEYS_MAX");

const cfg_key_t *cfg_keys_find(const cfg_table_t *t, const char *path) {
  for (size_t i = 0; i < t->n; i++)
    if (!strcmp(t->keys[i].path, path)) return &t->keys[i];
  return NULL;
}

const cfg_key_t *cfg_keys_find_alias(const char *name, const cfg_table_t **t) {
  const cfg_table_t *tables[] = {&cfg_keys_node, &cfg_keys_peer};
  for (size_t j = 0; j < sizeof tables / sizeof *tables; j++)
    for (size_t i = 0; i < tables[j]->n; i++) {
      const cfg_key_t *k = &tables[j]->keys[i];
      if (k->alias && !strcmp(k->alias, name)) {
        if (t) *t = tables[j];
        return k;
      }
    }
  return NULL;
}

size_t cfg_keys_index(const cfg_table_t *t, const cfg_key_t *k) {
  return (size_t)(k - t->keys);
}

bool cfg_keys_is_section(const cfg_table_t *t, const char *path) {
  size_t n = strlen(path);
  for (size_t i = 0; i < t->n; i++)
    if (!strncmp(t->keys[i].path, path, n) && t->keys[i].path[n] == '.') return true;
  return false;
}

/* The i-th key's component right under prefix, as (start, length); false when not under it. */
static bool s_child(const cfg_table_t *t, size_t i, const char *prefix, const char **start,
                    size_t *n) {
  const char *p = t->keys[i].path;
  size_t pn = strlen(prefix);
  if (pn) {
    if (strncmp(p, prefix, pn) || p[pn] != '.') return false;
    p += pn + 1;
  }
  *start = p;
  *n = strcspn(p, ".");
  return true;
}

void cfg_keys_children(const cfg_table_t *t, const char *prefix, char *buf, size_t len) {
  size_t o = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < t->n; i++) {
    const char *c, *d;
    size_t n, m;
    if (!s_child(t, i, prefix, &c, &n)) continue;
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++)
      seen = s_child(t, j, prefix, &d, &m) && m == n && !strncmp(c, d, n);
    if (seen) continue;
    int w = snprintf(buf + o, len - o, "%s%.*s", o ? ", " : "", (int)n, c);
    if (w < 0 || (size_t)w >= len - o) break;
    o += (size_t)w;
  }
}

int cfg_keys_distance(const char *a, const char *b) {
  enum { N = 64 }; /* longer names are compared on their first 63 bytes */
  size_t na = strnlen(a, N - 1), nb = strnlen(b, N - 1);
  int prev[N], cur[N];
  for (size_t j = 0; j <= nb; j++) prev[j] = (int)j;
  for (size_t i = 1; i <= na; i++) {
    cur[0] = (int)i;
    for (size_t j = 1; j <= nb; j++) {
      int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      int del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    memcpy(prev, cur, sizeof prev);
  }
  return prev[nb];
}

/* Keeps candidate (n bytes at c) in buf when it is closer to name than *best. */
static void s_consider(const char *name, const char *c, size_t n, int *best, char *buf,
                       size_t len) {
  char cand[128];
  if (n >= sizeof cand) return;
  memcpy(cand, c, n);
  cand[n] = '\0';
  int d = cfg_keys_distance(name, cand);
  if (d < *best) {
    *best = d;
    snprintf(buf, len, "%s", cand);
  }
}

const char *cfg_keys_suggest(const cfg_table_t *t, const char *prefix, const char *name,
                             bool with_aliases, char *buf, size_t len) {
  int best = 1 << 20;
  for (size_t i = 0; i < t->n; i++) {
    const char *c;
    size_t n;
    if (s_child(t, i, prefix, &c, &n)) s_consider(name, c, n, &best, buf, len);
  }
  const cfg_table_t *tables[] = {&cfg_keys_node, &cfg_keys_peer};
  for (size_t j = 0; with_aliases && j < sizeof tables / sizeof *tables; j++)
    for (size_t i = 0; i < tables[j]->n; i++) {
      const char *alias = tables[j]->keys[i].alias;
      if (alias) s_consider(name, alias, strlen(alias), &best, buf, len);
    }
  /* A typo, not another word: at most 2 edits (fewer than half the name), or a third of it. */
  int n = (int)strlen(name);
  bool close = best > 0 && ((best <= 2 && best * 2 < n) || best * 3 <= n);
  return close ? buf : NULL;
}
