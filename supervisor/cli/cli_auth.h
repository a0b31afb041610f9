/* cli_auth: the CURVE identity of the CLI's clients (fs, bench, endpoints, haadmin): whose key
 * pair the command uses, and the public key of every node it may talk to. */
#ifndef CLI_AUTH_H
#define CLI_AUTH_H

#include "cfg_node.h"
#include "rv_client.h"

#define CLI_AUTH_KEY_ENV "RV_CLIENT_KEY" /* a key pair file, when --key is not given */

/* Filled by cli_auth_load; lives as long as the rv_client_opts_t that borrows from it. */
typedef struct cli_auth_s {
  bool secure;                                   /* keys loaded: the clients speak CURVE */
  char secret[CFG_KEY_Z85_LEN + 1];
  char pub[CFG_KEY_Z85_LEN + 1];
  char principal[CFG_PRINCIPAL_MAX + 1];         /* the key file's name (keys gen NAME) */
  char file[CFG_PATH_MAX];                       /* where the pair came from, for messages */
  char addrs[RV_CLIENT_NODES_MAX][RV_CLIENT_ADDR_MAX]; /* each node's client address */
  char key_txt[RV_CLIENT_NODES_MAX][CFG_KEY_Z85_LEN + 1]; /* ... its public key (copied: the cfg may go) */
  rv_client_server_key_t keys[RV_CLIENT_NODES_MAX];    /* ... and its public key */
  int nkeys;
  rv_client_env_keys_t env;                      /* RV_SERVER_KEYS, when there is no YAML */
} cli_auth_t;

/* Loads the command's key pair: key_file (--key), else $RV_CLIENT_KEY, else cfg's
 * security.client-key (cfg may be NULL: --nodes without a YAML); and every node's public key
 * from cfg, plus server_keys (--server-key, "host:port=KEY,...", may be NULL; without it and
 * without cfg: $RV_SERVER_KEYS, in the same form). A cluster that cfg says is insecure needs none. Then sets o's CURVE fields to point
 * into a (which must outlive o's use). Returns CLI_OK, or CLI_FAILURE / CLI_USAGE after saying
 * why on stderr as "raftvisor CMD: ...". */
int cli_auth_load(const char *cmd, const cfg_node_t *cfg, const char *key_file,
                  const char *server_keys, cli_auth_t *a, rv_client_opts_t *o);

/* The public key pinned for "host:port" addr (a node's client address), or NULL. */
const char *cli_auth_server_key(const cli_auth_t *a, const char *addr);

#endif
