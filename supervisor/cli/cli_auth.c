/* cli_auth: reads the CLI's CURVE key pair (a zcert secret file) and the nodes' public keys from
 * the YAML, for librvclient and haadmin. I/O: reads the key file. */
#include "cli_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg_security.h"

const char *cli_auth_server_key(const cli_auth_t *a, const char *addr) {
  for (int i = 0; i < a->nkeys; i++)
    if (!strcmp(a->addrs[i], addr)) return a->keys[i].key;
  return NULL;
}

int cli_auth_load(const char *cmd, const cfg_node_t *cfg, const char *key_file,
                  const char *server_keys, cli_auth_t *a, rv_client_opts_t *o) {
  memset(a, 0, sizeof *a);
  const char *from = "--key";
  if (!key_file || !key_file[0]) {
    key_file = getenv(CLI_AUTH_KEY_ENV);
    from = CLI_AUTH_KEY_ENV;
  }
  if ((!key_file || !key_file[0]) && cfg && cfg->security_client_key[0]) {
    key_file = cfg->security_client_key;
    from = "security.client-key";
  }
  if (!key_file || !key_file[0]) {
    if (!cfg || cfg->security_insecure) return 0; /* plain tcp; a secure node will say so */
    fprintf(stderr, "raftvisor %s: %s runs with CURVE and no client key is given: pass --key "
            "FILE (a key pair from `raftvisor keys gen`), set %s, or set security.client-key "
            "in %s\n", cmd, cfg->node_id, CLI_AUTH_KEY_ENV, cfg->source);
    return 1;
  }
  snprintf(a->file, sizeof a->file, "%s", key_file);
  FILE *f = fopen(key_file, "r");
  char text[4096];
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (f) fclose(f);
  if (!f) {
    fprintf(stderr, "raftvisor %s: %s %s: cannot read: %s\n", cmd, from, key_file, strerror(errno));
    return 1;
  }
  text[n] = '\0';
  char why[256];
  if (cfg_security_parse_pair(text, a->secret, a->pub, why, sizeof why)) {
    explicit_bzero(text, sizeof text);
    fprintf(stderr, "raftvisor %s: %s %s: %s\n", cmd, from, key_file, why);
    return 1;
  }
  cfg_security_pair_name(text, a->principal, sizeof a->principal);
  explicit_bzero(text, sizeof text);
  struct stat st;
  if (stat(key_file, &st) == 0 && (st.st_mode & 077))
    fprintf(stderr, "raftvisor %s: warning: key file %s is open to group or others (mode %04o); "
            "chmod 600 it\n", cmd, key_file, (unsigned)(st.st_mode & 07777));
  a->secure = true;
  for (int i = 0; cfg && i < cfg->nnodes; i++) {
    const cfg_peer_t *p = &cfg->nodes[i];
    if (!p->public_key[0]) continue;
    bool v6 = strchr(p->host, ':') != NULL;
    snprintf(a->addrs[a->nkeys], sizeof a->addrs[a->nkeys], "%s%s%s:%d", v6 ? "[" : "", p->host,
             v6 ? "]" : "", p->client_port);
    snprintf(a->key_txt[a->nkeys], sizeof a->key_txt[a->nkeys], "%s", p->public_key);
    a->keys[a->nkeys] = (rv_client_server_key_t){.addr = a->addrs[a->nkeys],
                                                 .key = a->key_txt[a->nkeys]};
    a->nkeys++;
  }
  o->server_keys = a->keys;
  o->nserver_keys = (unsigned)a->nkeys;
  const char *extra = server_keys ? server_keys : cfg ? NULL : getenv("RV_SERVER_KEYS");
  if (extra) { /* --server-key, or without a YAML $RV_SERVER_KEYS: into the same table */
    rv_err_t err;
    unsigned got = 0;
    if (rv_client_server_keys_parse(extra, &a->env, &got, &err)) {
      fprintf(stderr, "raftvisor %s: %s%s\n", cmd, server_keys ? "--server-key: " : "", err.msg);
      return 1;
    }
    for (unsigned i = 0; i < got && a->nkeys < RV_CLIENT_NODES_MAX; i++, a->nkeys++) {
      memcpy(a->addrs[a->nkeys], a->env.addrs[i], sizeof a->addrs[a->nkeys]);
      memcpy(a->key_txt[a->nkeys], a->env.keys_txt[i], sizeof a->key_txt[a->nkeys]);
      a->keys[a->nkeys] = (rv_client_server_key_t){.addr = a->addrs[a->nkeys],
                                                   .key = a->key_txt[a->nkeys]};
    }
    o->nserver_keys = (unsigned)a->nkeys;
  }
  if (o->nserver_keys == 0) {
    fprintf(stderr, "raftvisor %s: a client key is given but no node's public key is known: "
            "give -c FILE (its cluster.nodes[].public-key), or set RV_SERVER_KEYS\n", cmd);
    return 1;
  }
  o->curve_secret = a->secret;
  o->curve_public = a->pub;
  o->principal = a->principal;
  return 0;
}
