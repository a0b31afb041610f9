/* cfg_source: message formatting and the marks of a parse. Writes only to the warning fd. */
#include "cfg_source.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static void s_where(const cfg_source_t *src, int line, int col, const char *key, char *buf,
                    size_t len) {
  if (line <= 0) line = col = 1;
  snprintf(buf, len, "%s:%d:%d: %s%s", src->name, line, col, key ? key : "",
           key && key[0] ? ": " : "");
}

int cfg_source_fail(const cfg_source_t *src, rv_err_t *err, int line, int col, const char *key,
                    const char *fmt, ...) {
  char where[512], what[RV_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  s_where(src, line, col, key, where, sizeof where);
  return rv_err_set(err, RV_ECONFIG, "%s%s", where, what);
}

void cfg_source_warn(const cfg_source_t *src, int line, int col, const char *key,
                     const char *fmt, ...) {
  if (src->warn_fd < 0) return;
  char where[512], what[RV_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  s_where(src, line, col, key, where, sizeof where);
  dprintf(src->warn_fd, "%swarning: %s\n", where, what);
}

const cfg_mark_t *cfg_source_top(const cfg_source_t *src, const char *path) {
  const cfg_key_t *k = cfg_keys_find(&cfg_keys_node, path);
  assert(k && "cfg_source_top: no such key");
  return &src->top[cfg_keys_index(&cfg_keys_node, k)];
}

cfg_mark_t cfg_source_peer(const cfg_source_t *src, int i, const char *field, char *label,
                           size_t len) {
  const cfg_key_t *nodes = cfg_keys_find(&cfg_keys_node, "cluster.nodes");
  const cfg_key_t *k = field ? cfg_keys_find(&cfg_keys_peer, field) : NULL;
  cfg_mark_t m = src->node[i];
  if (k) {
    const cfg_mark_t *fm = &src->peer[i][cfg_keys_index(&cfg_keys_peer, k)];
    if (fm->as && fm->as == k->alias) { /* this node's client-port, from rpc-address */
      snprintf(label, len, "%s", k->alias);
      return *fm;
    }
    if (fm->as) m = *fm;
  }
  if (cfg_source_top(src, "cluster.nodes")->as == nodes->alias)
    snprintf(label, len, "%s[%d]", nodes->alias, i);
  else
    snprintf(label, len, "cluster.nodes[%d]%s%s", i, k ? "." : "", k ? k->path : "");
  return m;
}
