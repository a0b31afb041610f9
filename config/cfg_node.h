/* cfg_node: one node's configuration, parsed from its YAML file and validated before anything
 * starts.
 *
 * The keys live in one table (cfg_keys.c: path, alias, type, bounds, default, field, doc), so
 * parsing, validation, defaults, the operators' JindoFS/HDFS aliases and the documentation of
 * config/node.example.yaml cannot drift apart. Every error names the file, the line and column,
 * the key, what was expected and what was found:
 *   node.yaml:12:5: cluster.nodes[1].raft-port: expected an integer in 1..65535, got "abc"
 * Unknown keys are refused with the closest known key suggested; duplicate keys are refused.
 * Secrets (ots.access-key-secret) may be given as "@/path/to/file"; they are read here, never
 * printed (cfg_node_dump masks them), and a secret file readable by group or others draws a
 * warning. */
#ifndef CFG_NODE_H
#define CFG_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "rv_error.h"

#define CFG_ID_MAX 32         /* node, cluster and actor ids: [a-z0-9][a-z0-9_-]{0,31} */
#define CFG_HOST_MAX 256
#define CFG_PATH_MAX 4096
#define CFG_MAX_NODES 7       /* masters in one cluster */
#define CFG_MAX_ACTORS 16     /* actors under one supervisor */
#define CFG_MAX_ARGS 16       /* extra argv entries per actor */
#define CFG_MAX_FENCE_METHODS 8
#define CFG_MAX_SSH_KEYS 8
#define CFG_MAX_GROUP_MAPPINGS 64 /* security.groups entries */
#define CFG_MAX_CLIENTS 64    /* security.clients entries */
#define CFG_MAX_CLIENTS_ALL 1024 /* clients accepted: security.clients and security.clients-dir */
#define CFG_CLIENT_FILE_MAX 65536 /* bytes of a NAME.pub in security.clients-dir */
#define CFG_KEY_Z85_LEN 40    /* a CURVE key (32 bytes) in Z85 text */
#define CFG_PRINCIPAL_MAX 64  /* bytes of a user, group or client principal's name (kv_cmd.h's
                                 KV_OWNER_MAX) */
#define CFG_RUN_DIR_MAX 80    /* run-dir + "/" + a socket name must fit sun_path (108 bytes) */

typedef enum { CFG_LOG_DEBUG, CFG_LOG_INFO, CFG_LOG_WARN, CFG_LOG_ERROR } cfg_log_level_t;
typedef enum { CFG_LOG_TEXT, CFG_LOG_JSON } cfg_log_format_t;

/* Erlang/OTP restart types. */
typedef enum {
  CFG_RESTART_PERMANENT, /* always restarted */
  CFG_RESTART_TRANSIENT, /* restarted only after an abnormal exit (non-zero code or signal) */
  CFG_RESTART_TEMPORARY  /* never restarted */
} cfg_restart_t;

/* One master of the cluster, as every node's file lists them all. */
typedef struct {
  char id[CFG_ID_MAX + 1];     /* "n1" */
  char host[CFG_HOST_MAX];     /* address or name the others reach it at */
  int raft_port;               /* Raft traffic between raft-peers (tcp) */
  int client_port;             /* clients: fs, haadmin, bench (tcp) */
  bool voter;                  /* in the Raft bootstrap configuration (default true); false = a
                                  spare, added later with `raftvisor raft add-learner` */
  char public_key[CFG_KEY_Z85_LEN + 1]; /* its CURVE public key (Z85); "" only when
                                           security.insecure */
} cfg_peer_t;

/* A client the server trusts (security.clients): the principal its CURVE key stands for. */
typedef struct {
  char principal[CFG_PRINCIPAL_MAX + 1]; /* "alice": [A-Za-z0-9._@-], not starting with "node:" */
  char key[CFG_KEY_Z85_LEN + 1];         /* its CURVE public key (Z85) */
} cfg_client_t;

/* One actor under the supervisor; the list order is the start order (stopped in reverse). */
typedef struct {
  char name[CFG_ID_MAX + 1];   /* "health-monitor"; unique within the node */
  char exec[CFG_PATH_MAX];     /* program; "" = raftvisor-<name> beside the raftvisor binary */
  char *args[CFG_MAX_ARGS + 1]; /* extra arguments, owned by the cfg_node_t; NULL-terminated */
  int nargs;
  cfg_restart_t restart;
  int shutdown_timeout_ms;     /* SIGTERM, wait this long, then SIGKILL */
} cfg_actor_t;

typedef struct {
  /* node: who this node is and where its files live */
  char node_id[CFG_ID_MAX + 1];
  char data_dir[CFG_PATH_MAX];   /* required */
  char run_dir[CFG_PATH_MAX];    /* default <data-dir>/run; created 0700 (ipc sockets, lock) */
  char log_dir[CFG_PATH_MAX];    /* default <data-dir>/log; one file per actor */
  cfg_log_level_t log_level;     /* default info */
  cfg_log_format_t log_format;   /* default text; json: one JSON object per line */
  char listen_host[CFG_HOST_MAX]; /* what raft-peer and kv-store bind ("0.0.0.0"); "" = host */

  /* cluster: every master, this node included (node.id must be among them) */
  char cluster_id[CFG_ID_MAX + 1];
  cfg_peer_t nodes[CFG_MAX_NODES];
  int nnodes;
  int self;                      /* index of node_id in nodes[] */

  /* supervisor: restart policy and liveness */
  int heartbeat_interval_ms;     /* default 200 */
  int heartbeat_timeout_ms;      /* default 1000: no answer this long = hung, killed, restarted */
  int restart_min_delay_ms;      /* default 20: minimum spacing between two spawns of an actor */
  int restart_max_delay_ms;      /* default 5000: backoff ceiling for a crash loop */
  int restart_stable_ms;         /* default 10000: an uptime this long resets the backoff */
  int restart_intensity;         /* default 5: more than this many restarts ... */
  int restart_period_s;          /* default 30: ... in this many seconds stops the node */
  int shutdown_timeout_ms;       /* default 3000: actors' default */
  int start_timeout_ms;          /* default 5000: an actor must signal ready within this */

  /* actors: default is the whole node: health-monitor, raft-peer, kv-store */
  cfg_actor_t actors[CFG_MAX_ACTORS];
  int nactors;

  /* health: the health-monitor's pings */
  int health_ping_interval_ms;   /* default 500 */
  int health_ping_timeout_ms;    /* default 1500 */
  int health_min_free_disk_mb;   /* default 64; 0 = not checked */
  int health_apply_stall_ms;     /* default 5000 */
  int health_slow_io_ms;         /* default 1000 */
  char metrics_listen[CFG_HOST_MAX + 8]; /* "host:port" of the HTTP metrics/health server; "" off */

  /* raft: the consensus timing and log size (raft-peer) */
  int raft_tick_ms;              /* default 10 */
  int raft_election_ticks;       /* default 15: election timeout in [15, 30) ticks */
  int raft_heartbeat_ticks;      /* default 3 */
  bool raft_lease_reads;         /* default true: ReadIndex from the leader's lease */
  int raft_compact_entries;      /* default 50000 */

  /* ots: the remote replica (later issues) */
  bool ots_enabled;              /* default false */
  bool ots_recovery_mode;        /* default false */
  char ots_endpoint[CFG_PATH_MAX];
  char ots_instance[CFG_HOST_MAX];
  char ots_access_key_id[CFG_HOST_MAX];
  char *ots_access_key_secret;   /* owned; never printed; "" when unset */
  int ots_change_log_max_bytes;  /* default 256 MiB: kv-store's change log for the replica is
                                    dropped past this (the next upload is a full base copy) */
  int ots_max_lag_entries;       /* default 0: the health verdict does not judge the replica's lag */

  /* ha: administration, failover and fencing; methods configured add the fencer actor */
  bool ha_automatic_failover;    /* default false */
  int ha_unhealthy_grace_ms;     /* default 500 */
  char ha_preferred_leader[CFG_ID_MAX + 1]; /* default "" = none */
  char *fence_methods[CFG_MAX_FENCE_METHODS]; /* owned, "shell(cmd)" or "sshfence([[user][:port]])" */
  int nfence_methods;
  char *ssh_private_key_files[CFG_MAX_SSH_KEYS]; /* owned */
  int nssh_private_key_files;
  int ssh_connect_timeout_ms;    /* default 30000, as HDFS */
  int fence_shell_timeout_ms;    /* default 30000: a method running longer is killed (group) */

  /* security: CURVE authentication and encryption of the Raft and client ports; who a
   * client is and what it may do (kv-store) */
  bool security_insecure;        /* default false; true = no keys, no authentication (loud), and
                                    the user a client asserts is believed */
  char *security_key;            /* owned; never printed: this node's key pair, the text of a
                                    zcert secret file (`raftvisor keys gen`), given as "@file";
                                    "" when insecure */
  char security_secret_z85[CFG_KEY_Z85_LEN + 1]; /* parsed from security_key (never printed) */
  char security_public_z85[CFG_KEY_Z85_LEN + 1]; /* parsed from security_key */
  char security_client_key[CFG_PATH_MAX]; /* the CLI's own key pair (a zcert secret file) when
                                             it talks to client ports; "" = none */
  cfg_client_t clients[CFG_MAX_CLIENTS_ALL]; /* principals the client port accepts: the inline
                                    list, then security.clients-dir's files (sorted by name) */
  int nclients;                  /* all of them */
  int nclients_inline;           /* the first ones, from security.clients */
  char security_clients_dir[CFG_PATH_MAX]; /* "" or a directory of NAME.pub public
                                    certificates (`raftvisor keys gen`), one client each,
                                    principal NAME; read at start */
  bool security_permissions;     /* default true: HDFS permission checks (dfs.permissions.enabled);
                                    false checks nothing but still records owners and modes */
  char security_superuser[CFG_PRINCIPAL_MAX + 1];  /* default "root": bypasses every check */
  char security_supergroup[CFG_PRINCIPAL_MAX + 1]; /* default "supergroup": its members too */
  char security_umask[8];        /* default "022": taken from the mode of every create */
  char *security_groups[CFG_MAX_GROUP_MAPPINGS]; /* owned, "user=group1,group2": the groups the
                                    server knows each user in (never the client's word) */
  int nsecurity_groups;
  int security_sessions_max;     /* default 100000: exactly-once sessions the cluster keeps;
                                    past it, the least recently used one goes */
  int security_sessions_per_principal; /* default 10000: exactly-once sessions one principal
                                    holds; past it, its own least recently used one goes */
  int security_client_inflight;  /* default 8192: requests one client connection may have
                                    waiting in kv-store (for a commit or a read index); more are
                                    answered busy (retriable) */

  /* where it came from, for messages */
  char source[CFG_PATH_MAX];     /* the YAML file's path */
} cfg_node_t;

/* Parses and validates the YAML file at path into a new cfg_node_t (caller owns; free with
 * cfg_node_destroy). Returns 0, or RV_ECONFIG / RV_EIO with err saying file:line:col: key: what.
 * Warnings (a world-readable secret file) are written to warn_fd when it is >= 0.
 * RV_EIO only when the file itself cannot be read ("path: cannot read: <strerror>"); every
 * other failure, a missing secret file included, is RV_ECONFIG (restarting will not help).
 * *out is NULL on failure.
 *
 * What the caller gets, beyond the values of the file:
 * - every default filled in (see cfg_keys_document), and the derived ones: run-dir and log-dir
 *   (<data-dir>/run, <data-dir>/log), each node's client-port (raft-port + 100), each actor's
 *   shutdown-timeout-ms (supervisor.shutdown-timeout-ms); actors absent = {health-monitor,
 *   raft-peer, kv-store};
 * - every path absolute and lexically clean (no ".", "..", "//"): a relative path, exec and
 *   "@secret" included, is taken from the YAML file's directory (itself made absolute against
 *   the current directory); "" stays "" (exec "" = raftvisor-<name> beside raftvisor);
 * - self set, the secret read from its file, the JindoFS/HDFS aliases mapped to their keys.
 * A key written with no value ("key:") counts as not given. */
int cfg_node_load(const char *path, cfg_node_t **out, int warn_fd, rv_err_t *err);

/* The same from a buffer of len bytes; name is used in messages in place of a path, and its
 * directory (the current one when name has no '/') resolves relative paths. */
int cfg_node_parse(const char *name, const char *yaml, size_t len, cfg_node_t **out, int warn_fd,
                   rv_err_t *err);

/* Frees everything; nulls *cfg; safe on NULL and twice. */
void cfg_node_destroy(cfg_node_t **cfg);

/* The actor named name, or NULL. Borrowed. */
const cfg_actor_t *cfg_node_actor(const cfg_node_t *cfg, const char *name);

/* (The node's ipc endpoints are made in one place, rv_mailbox_endpoint in actors/runtime.) */

/* "tcp://host:port" that this node listens on for port: node.listen-host when set, else its
 * own cluster.nodes entry's host. */
void cfg_node_listen_endpoint(const cfg_node_t *cfg, int port, char *buf, size_t len);

/* "tcp://host:port" for port of peer (an IPv6 host is bracketed); buf gets the string. */
void cfg_peer_endpoint(const cfg_peer_t *peer, int port, char *buf, size_t len);

/* Writes the effective configuration as YAML (secrets shown as "<hidden>") to fd. */
void cfg_node_dump(const cfg_node_t *cfg, int fd);

/* The configuration as environment variables, as Hadoop's shell fencer exports its
 * configuration: every key and every alias with '.' and '-' turned into '_'
 * ("ha_fencing_shell_timeout_ms=30000", "dfs_ha_fencing_methods=shell(x)"), values as text,
 * lists joined by ','. Secrets, cluster.nodes and actors are left out. Returns a
 * NULL-terminated array (caller owns; free with cfg_node_environ_free), or NULL when out of
 * memory. */
char **cfg_node_environ(const cfg_node_t *cfg);
void cfg_node_environ_free(char ***env); /* nulls *env; safe on NULL and twice */

/* Writes the documented key table (key, alias, type, default, doc) as Markdown to fd. */
void cfg_keys_document(int fd);

#endif
