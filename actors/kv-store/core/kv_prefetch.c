/* kv_prefetch: the names the creates of a slice will look up, read ahead in one multi-key
 * store read into the cache (kv_core.h, kv_core_prefetch). Pure: libc only. */
#include <stdlib.h>
#include <string.h>

#include "kv_core_int.h"

/* Whether a command of this op first looks its last component up to see whether it is free. */
static bool s_creates(unsigned op) {
  return op == KV_OP_PUT || op == KV_OP_MKDIR || op == KV_OP_TOUCHZ;
}

/* The dentry key of cmd's last component, under its parent as the store has it now: false
 * when the parent does not resolve (yet). Uses the core's second path and chain as scratch
 * (they belong to an op, and no op runs until the apply). */
static bool s_name_key(kv_core_t *c, const kv_cmd_t *cmd, uint8_t *key, size_t *klen) {
  rv_err_t err;
  kv_path_t *pa = &c->pb;
  kv_chain_t *ch = &c->cb;
  if (kv_path_parse(pa, (const char *)cmd->path.p, cmd->path.len, &err) || pa->n == 0)
    return false;
  size_t i = pa->n - 1;
  if (kv_core_resolve(c, pa, i, ch, &err) || ch->type[i] != KV_TYPE_DIR) return false;
  size_t nl;
  const char *name = kv_path_name(pa, i, &nl);
  *klen = kv_key_dentry(key, ch->ino[i], name, nl);
  return true;
}

static int s_cached(void *arg, size_t i, const uint8_t *val, size_t vlen) {
  kv_core_t *c = arg;
  const kv_bytes_t *k = &c->pf_list[i];
  kv_cache_set(c->cache, k->p, k->len, val, vlen, val == NULL);
  return RV_OK;
}

void kv_core_prefetch(kv_core_t *c, const kv_entry_t *e, size_t n) {
  if (!c->cache || n < 2 || !kv_batch_empty(c->batch)) return;
  if (n > c->pf_cap) {
    kv_bytes_t *l = realloc(c->pf_list, n * sizeof *l);
    if (!l) return; /* only a read ahead: the apply reads them one by one */
    c->pf_list = l;
    c->pf_cap = n;
  }
  kv_buf_reset(&c->pf_keys);
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (e[i].raft_only || e[i].index <= c->pending.applied) continue;
    kv_cmd_t cmd;
    rv_err_t err;
    if (kv_cmd_decode(e[i].data, e[i].len, &cmd, &err) || !s_creates(cmd.op)) continue;
    uint8_t key[KV_KEY_MAX];
    size_t kl;
    if (!s_name_key(c, &cmd, key, &kl) || kv_cache_get(c->cache, key, kl, &c->enc) != KV_CACHE_MISS)
      continue;
    c->pf_list[m++].len = kl; /* the keys one after another; pointers once the arena is done */
    kv_buf_put(&c->pf_keys, key, kl);
  }
  if (m < 2 || !kv_buf_ok(&c->pf_keys)) return;
  const uint8_t *at = c->pf_keys.data;
  for (size_t i = 0; i < m; i++) {
    c->pf_list[i].p = at;
    at += c->pf_list[i].len;
  }
  rv_err_t err;
  (void)kv_store_multi_get(c->store, c->pf_list, m, s_cached, c, &c->val, &err);
}
