/* cli: the raftvisor command line. One file per subcommand (cli_<name>.c, each exporting
 * cli_<name>_main), sharing the helpers below. Exit codes are a documented contract:
 *   0 ok, 1 failure, 2 usage error, 3 the addressed node is not running. */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <sys/types.h>

#include "cfg_node.h"
#include "rv_codec.h"

enum { CLI_OK = 0, CLI_FAILURE = 1, CLI_USAGE = 2, CLI_NOT_RUNNING = 3 };

typedef int(cli_main_fn)(int argc, char **argv);

/* One subcommand: its name, one line for `raftvisor --help`, its entry point. */
typedef struct {
  const char *name;
  const char *summary;
  cli_main_fn *main;
} cli_command_t;

int cli_start_main(int argc, char **argv);
int cli_stop_main(int argc, char **argv);
int cli_status_main(int argc, char **argv);
int cli_restart_main(int argc, char **argv);
int cli_tap_main(int argc, char **argv);
int cli_config_main(int argc, char **argv);
int cli_fs_main(int argc, char **argv);
int cli_bench_main(int argc, char **argv);
int cli_raft_main(int argc, char **argv);
int cli_fence_main(int argc, char **argv);
int cli_haadmin_main(int argc, char **argv); /* haadmin/ha_cli.c */
int cli_endpoints_main(int argc, char **argv);
int cli_snapshot_main(int argc, char **argv); /* cli_snapshot.c */
int cli_keys_main(int argc, char **argv);
int cli_meta_status_main(int argc, char **argv);
int cli_recovery_main(int argc, char **argv); /* finish-recovery */

/* The cluster's status, every node asked over the network (status --cluster, endpoints); fmt
 * "table" (or NULL) or "json". Returns the exit code. */
int cli_endpoints_run(const char *cmd, const char *config, const char *key, const char *fmt);

/* One command-line option of a subcommand, for cli_parse: a flag sets *flag; a valued option
 * stores its argument (borrowed from argv) in *value. */
typedef struct {
  const char *name;  /* "--json" */
  const char *alt;   /* "-c", or NULL */
  bool *flag;        /* set for a flag */
  const char **value;/* set for an option that takes a value */
} cli_opt_t;

/* Parses argv[1..] against opts (the table ends with a {NULL} entry); arguments that are not
 * options go to pos[0..maxpos) (*npos counts them). Returns CLI_OK; CLI_USAGE after printing
 * what was wrong (an unknown option, a missing value, too many arguments); or -1 when --help was
 * asked for (help() has printed it: the caller exits 0). */
int cli_parse(const char *cmd, int argc, char **argv, const cli_opt_t *opts, void (*help)(void),
              const char **pos, int maxpos, int *npos);

/* Prints "raftvisor CMD: message (try 'raftvisor CMD --help')" to stderr; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True if arg is --help or -h. */
bool cli_is_help(const char *arg);

/* Loads and validates the node's YAML; on failure prints the error and returns CLI_FAILURE. */
int cli_load_config(const char *path, cfg_node_t **cfg);

/* Checks that the node's supervisor runs; else prints why and returns CLI_NOT_RUNNING. */
int cli_require_running(const cfg_node_t *cfg, pid_t *pid);

/* Sends one request to the node's supervisor over the control socket and waits up to
 * timeout_ms for the answer with the same correlation id. On success *reply holds it (clear
 * with rv_msg_clear). Returns 0, RV_ETIMEDOUT, or a codec error. */
int cli_request(const cfg_node_t *cfg, uint32_t type, const ProtobufCMessage *body,
                int timeout_ms, rv_msg_t *reply, rv_err_t *err);

/* Sends a request whose answer is a generic Reply, and prints it: its message on stdout when
 * the code is 0 (returns CLI_OK), on stderr as "raftvisor CMD: message" otherwise (CLI_FAILURE).
 * Transport errors and unexpected answers are reported the same way. */
int cli_request_reply(const char *cmd, const cfg_node_t *cfg, uint32_t type,
                      const ProtobufCMessage *body, int timeout_ms);

/* The same; with json, the answer (or the failure) is one JSON object on stdout:
 * {"ok":bool,"code":N,"error":"ENOTLEADER"|null,"message":"..."}. */
int cli_request_reply_as(const char *cmd, const cfg_node_t *cfg, uint32_t type,
                         const ProtobufCMessage *body, int timeout_ms, bool json);

/* Sends one envelope (type, body; from "client"/from_actor to the node's kv-store) to a node's
 * client port at addr ("host:port") and waits up to timeout_ms for the answer of reply_type
 * with the same correlation id. Returns RV_OK with *reply set (clear with rv_msg_clear), or
 * RV_ETIMEDOUT / RV_EIO with why[len] ("no answer from ADDR within N ms"). auth (cli_auth.h; NULL
 * or not secure: plain tcp) gives our CURVE key pair and the node's pinned public key. Used by
 * haadmin and meta-status: any node, from any host. */
struct cli_auth_s;
int cli_node_call(const char *addr, const struct cli_auth_s *auth, const char *from_actor,
                  uint32_t type,
                  const ProtobufCMessage *body, uint32_t reply_type, int timeout_ms,
                  rv_msg_t *reply, char *why, size_t len);

/* The cluster's client addresses, "host:client-port,..." (IPv6 bracketed), this node first, as
 * librvclient takes them. */
void cli_cluster_nodes(const cfg_node_t *cfg, char *buf, size_t len);

/* Prints s to stdout as a JSON string (quoted, with " \\ and control bytes escaped). */
void cli_json_str(const char *s);

/* "12.3s", "4m05s", "2h13m", "3d04h" for a duration in ms. */
void cli_format_duration(uint64_t ms, char *buf, size_t len);

#endif
