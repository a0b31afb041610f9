/* cfg_source: where each value of a cfg_node_t came from (line, column, the key as written), so
 * the checks that run after parsing (cfg_rules.c) still point into the file, and the one
 * formatter of messages ("file:line:col: key: what"). Internal to config/. */
#ifndef CFG_SOURCE_H
#define CFG_SOURCE_H

#include "cfg_keys.h"
#include "rv_error.h"

/* Where one value was given. */
typedef struct {
  int line;        /* 1-based; 0 when not given (a default or a derived value) */
  int col;
  const char *as;  /* the key as given, a table path or an alias (static); NULL = not given */
} cfg_mark_t;

/* The marks of one parse; filled by cfg_node.c, read by cfg_rules.c. */
typedef struct {
  const char *name;                                      /* the file, for messages (borrowed) */
  char dir[CFG_PATH_MAX];                                /* absolute; relative paths join it */
  int warn_fd;                                           /* warnings go here when >= 0 */
  cfg_mark_t top[CFG_KEYS_MAX];                          /* per cfg_keys_node key */
  cfg_mark_t node[CFG_MAX_NODES];                        /* each cluster.nodes entry */
  cfg_mark_t peer[CFG_MAX_NODES][CFG_KEYS_MAX];          /* per cfg_keys_peer key of each */
  cfg_mark_t actor[CFG_MAX_ACTORS];                      /* each actors entry */
  cfg_mark_t actor_key[CFG_MAX_ACTORS][CFG_KEYS_MAX];    /* per cfg_keys_actor key of each */
  cfg_mark_t client[CFG_MAX_CLIENTS];                    /* each security.clients entry */
  cfg_mark_t client_key[CFG_MAX_CLIENTS][CFG_KEYS_MAX];  /* per cfg_keys_client key of each */
} cfg_source_t;

/* Sets err to RV_ECONFIG, "name:line:col: key: what" (line 0 reads 1:1; no "key: " when key is
 * NULL or ""), and returns RV_ECONFIG. */
int cfg_source_fail(const cfg_source_t *src, rv_err_t *err, int line, int col, const char *key,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Writes "name:line:col: key: warning: what\n" to src->warn_fd when it is >= 0. */
void cfg_source_warn(const cfg_source_t *src, int line, int col, const char *key,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The mark of the cfg_keys_node key at path (which must exist). Borrowed. */
const cfg_mark_t *cfg_source_top(const cfg_source_t *src, const char *path);

/* How field (a cfg_keys_peer path, or NULL for the whole entry) of cluster.nodes[i] reads in a
 * message, written into label: "cluster.nodes[1].raft-port", or, when the nodes came from the
 * JindoFS alias, "namespace.backend.raft.initial-conf[1]"; returns where it was given (the
 * entry's mark when the field itself was not). */
cfg_mark_t cfg_source_peer(const cfg_source_t *src, int i, const char *field, char *label,
                           size_t len);

#endif
