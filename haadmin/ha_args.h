/* ha_args: the command line of `raftvisor haadmin`, as Hadoop's DFSHAAdmin reads it (pure: libc
 * only). Global options first (-c FILE | --nodes host:port,..., -ns CLUSTER), then one command:
 *   -transitionToActive [--forcemanual] ID | -transitionToStandby [--forcemanual] ID |
 *   -failover [--forcefence] [--forceactive] FROM TO | -getServiceState ID |
 *   -getAllServiceState | -checkHealth ID | -help [CMD]
 * Options of -failover may come before or after the ids. A bad command line gives Hadoop's
 * messages ("failover: incorrect arguments", "transitionToActive: incorrect number of
 * arguments", "foo: Unknown command", "Bad command 'x': expected command starting with '-'")
 * followed by the usage; see ha_args_usage. */
#ifndef HA_ARGS_H
#define HA_ARGS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  HA_CMD_NONE = 0,
  HA_CMD_TO_ACTIVE,
  HA_CMD_TO_STANDBY,
  HA_CMD_FAILOVER,
  HA_CMD_GET_STATE,
  HA_CMD_GET_ALL_STATE,
  HA_CMD_CHECK_HEALTH,
  HA_CMD_HELP
} ha_cmd_t;

typedef struct {
  const char *config;    /* -c/--config FILE, or NULL (borrowed from argv) */
  const char *nodes;     /* --nodes host:port,..., or NULL */
  const char *ns;        /* -ns CLUSTER, or NULL: checked against cluster.id when known */
  ha_cmd_t cmd;
  const char *id[2];     /* the ids: one, or FROM and TO for -failover */
  bool forcefence, forceactive, forcemanual;
  const char *help_cmd;  /* -help CMD: "-failover" or "failover" as given; NULL = none */
} ha_args_t;

/* What ha_args_parse decided. */
typedef enum {
  HA_ARGS_OK = 0,        /* run args->cmd */
  HA_ARGS_USAGE = 2,     /* out holds the error and the usage: print it to stderr, exit 2 */
  HA_ARGS_HELP = 3       /* out holds help text: print it to stdout, exit 0 */
} ha_args_rc_t;

/* Parses argv[1..argc) (argv[0] is "haadmin"). Strings in args are borrowed from argv. out[len]
 * receives the text to print for HA_ARGS_USAGE and HA_ARGS_HELP. */
ha_args_rc_t ha_args_parse(int argc, char **argv, ha_args_t *args, char *out, size_t len);

/* The whole usage ("Usage: raftvisor haadmin [-ns <nameserviceId>]" and one line per command),
 * appended to out[len]. */
void ha_args_usage(char *out, size_t len);

/* The command's name without its dash ("failover"), for messages. Static. */
const char *ha_args_cmd_name(ha_cmd_t cmd);

#endif
