/* kv_testutil: see kv_testutil.h. */
#include "kv_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kv_bytes_t s_str(const char *s) {
  return (kv_bytes_t){(const uint8_t *)s, s ? strlen(s) : 0};
}

void kv_t_cmd(kv_cmd_t *c, uint8_t op, const char *path) {
  memset(c, 0, sizeof *c);
  c->op = op;
  c->path = s_str(path);
  if (op == KV_OP_MKDIR || op == KV_OP_PUT || op == KV_OP_TOUCHZ || op == KV_OP_APPEND) {
    c->perm = op == KV_OP_MKDIR ? 0755 : 0644;
    c->owner = s_str("alice");
    c->group = s_str("users");
  }
}

void kv_t_lane_create(size_t i, size_t lanes, uint64_t *seqs, kv_buf_t *out) {
  char p[64];
  kv_cmd_t c;
  size_t f = i;
  if (f < lanes) {
    snprintf(p, sizeof p, "/bench/c%zu", f);
    kv_t_cmd(&c, KV_OP_MKDIR, p);
    c.flags = KV_F_PARENTS;
  } else {
    f -= lanes;
    snprintf(p, sizeof p, "/bench/c%zu/f%zu", f % lanes, f / lanes);
    kv_t_cmd(&c, KV_OP_TOUCHZ, p);
  }
  c.client_id = 1 + f % lanes;
  c.seq = ++seqs[f % lanes];
  c.time_ms = 1700000000000 + (int64_t)i;
  kv_buf_reset(out);
  kv_t_encode(&c, out);
}

void kv_t_encode(const kv_cmd_t *c, kv_buf_t *out) {
  rv_err_t err;
  kv_buf_reset(out);
  if (kv_cmd_encode(c, out, &err)) {
    fprintf(stderr, "kv_t_encode: %s\n", err.msg);
    abort();
  }
}

kv_t_env_t *kv_t_env_new_on(kv_store_t *store, const kv_core_config_t *cfg) {
  kv_t_env_t *e = calloc(1, sizeof *e);
  if (!e) abort();
  if (cfg)
    e->cfg = *cfg;
  else
    kv_core_config_default(&e->cfg);
  e->store = store;
  kv_buf_init(&e->enc);
  rv_err_t err;
  if (kv_core_new(store, &e->cfg, &e->core, &err)) {
    fprintf(stderr, "kv_t_env_new: %s\n", err.msg);
    abort();
  }
  e->index = kv_core_applied(e->core);
  e->now = 1700000000000;
  return e;
}

kv_t_env_t *kv_t_env_new(const kv_core_config_t *cfg) {
  kv_memstore_t *ms = kv_memstore_new();
  if (!ms) abort();
  kv_t_env_t *e = kv_t_env_new_on(kv_memstore_store(ms), cfg);
  e->ms = ms;
  return e;
}

void kv_t_env_destroy(kv_t_env_t **ep) {
  if (!ep || !*ep) return;
  kv_t_env_t *e = *ep;
  kv_core_destroy(&e->core);
  kv_memstore_destroy(&e->ms);
  kv_buf_close(&e->enc);
  free(e);
  *ep = NULL;
}

void kv_t_env_reopen(kv_t_env_t *e) {
  kv_core_destroy(&e->core);
  rv_err_t err;
  if (kv_core_new(e->store, &e->cfg, &e->core, &err)) {
    fprintf(stderr, "kv_t_env_reopen: %s\n", err.msg);
    abort();
  }
}

int kv_t_apply_raw(kv_t_env_t *e, const uint8_t *p, size_t len) {
  rv_err_t err;
  int rc = kv_core_apply(e->core, e->index + 1, p, len, &e->res, &err);
  if (rc) {
    fprintf(stderr, "kv_t_apply: storage failure %s: %s\n", rv_code_name(rc), err.msg);
    abort();
  }
  e->index++;
  return e->res.code;
}

int kv_t_apply(kv_t_env_t *e, kv_cmd_t *cmd) {
  cmd->time_ms = e->now;
  if (e->client) {
    cmd->client_id = e->client;
    cmd->seq = ++e->seq;
  }
  kv_t_encode(cmd, &e->enc);
  return kv_t_apply_raw(e, e->enc.data, e->enc.len);
}

int kv_t_mkdir(kv_t_env_t *e, const char *path, uint8_t flags) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MKDIR, path);
  c.flags = flags;
  return kv_t_apply(e, &c);
}

int kv_t_putn(kv_t_env_t *e, const char *path, const void *data, size_t len, uint8_t flags) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_PUT, path);
  c.flags = flags;
  c.data = (kv_bytes_t){data, len};
  return kv_t_apply(e, &c);
}

int kv_t_put(kv_t_env_t *e, const char *path, const char *data, uint8_t flags) {
  return kv_t_putn(e, path, data, data ? strlen(data) : 0, flags);
}

int kv_t_touchz(kv_t_env_t *e, const char *path) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_TOUCHZ, path);
  return kv_t_apply(e, &c);
}

int kv_t_rm(kv_t_env_t *e, const char *path, uint8_t flags) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_RM, path);
  c.flags = flags;
  return kv_t_apply(e, &c);
}

int kv_t_mv(kv_t_env_t *e, const char *src, const char *dst) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MV, src);
  c.path2 = s_str(dst);
  return kv_t_apply(e, &c);
}

int kv_t_stat(kv_t_env_t *e, const char *path, kv_stat_t *st) {
  rv_err_t err;
  return kv_core_stat(e->core, path, strlen(path), st, &err);
}

int kv_t_count(kv_t_env_t *e, const char *path, kv_count_t *ct) {
  rv_err_t err;
  return kv_core_count(e->core, path, strlen(path), ct, &err);
}

int kv_t_check(kv_t_env_t *e) {
  rv_err_t err;
  int rc = kv_core_check(e->core, NULL, &err);
  if (rc) fprintf(stderr, "fsck: %s: %s\n", rv_code_name(rc), err.msg);
  return rc;
}

uint64_t kv_t_digest(kv_t_env_t *e, kv_digest_scope_t scope) {
  rv_err_t err;
  uint64_t h = 0;
  if (kv_core_digest(e->core, scope, &h, &err)) {
    fprintf(stderr, "digest: %s\n", err.msg);
    abort();
  }
  return h;
}

uint64_t kv_t_seed(const char *test, uint64_t dflt) {
  const char *env = getenv("KV_TEST_SEED");
  uint64_t seed = env && *env ? strtoull(env, NULL, 0) : dflt;
  fprintf(stderr, "%s: seed %llu (set KV_TEST_SEED to replay)\n", test, (unsigned long long)seed);
  return seed;
}

void kv_t_rng_init(kv_t_rng_t *r, uint64_t seed) { r->s = seed ? seed : 0x2545f4914f6cdd1dull; }

uint64_t kv_t_rng_next(kv_t_rng_t *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545f4914f6cdd1dull;
}

uint64_t kv_t_rng_below(kv_t_rng_t *r, uint64_t n) { return n ? kv_t_rng_next(r) % n : 0; }

/* ---- the change log --------------------------------------------------------------------- */

static int s_ns_hash(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  if (!kv_chlog_in_scope(k, kl)) return 0;
  uint64_t *h = arg;
  uint8_t len[4];
  kv_be32_put(len, (uint32_t)kl);
  *h = kv_fnv64(*h, len, sizeof len);
  *h = kv_fnv64(*h, k, kl);
  kv_be32_put(len, (uint32_t)vl);
  *h = kv_fnv64(*h, len, sizeof len);
  *h = kv_fnv64(*h, v, vl);
  return 0;
}

uint64_t kv_t_ns_digest(kv_store_t *s) {
  uint64_t h = KV_FNV64_INIT;
  rv_err_t err;
  if (kv_store_scan(s, (const uint8_t *)"", 0, s_ns_hash, &h, &err)) {
    fprintf(stderr, "kv_t_ns_digest: %s\n", err.msg);
    abort();
  }
  return h;
}

typedef struct {
  kv_batch_t *b;
  bool all; /* every key but 'L', else namespace scope only */
} s_copy_t;

static int s_copy_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_copy_t *c = arg;
  if (c->all ? (kl > 0 && k[0] == KV_T_CHLOG) : !kv_chlog_in_scope(k, kl)) return 0;
  if (kv_batch_put(c->b, k, kl, v, vl)) abort();
  return 0;
}

static kv_memstore_t *s_copy(kv_store_t *s, bool all) {
  kv_memstore_t *ms = kv_memstore_new();
  s_copy_t c = {.b = kv_batch_new(), .all = all};
  rv_err_t err;
  if (!ms || !c.b || kv_store_scan(s, (const uint8_t *)"", 0, s_copy_one, &c, &err) ||
      (!kv_batch_empty(c.b) && kv_store_write(kv_memstore_store(ms), c.b, &err)))
    abort();
  kv_batch_destroy(&c.b);
  return ms;
}

kv_memstore_t *kv_t_ns_copy(kv_store_t *s) { return s_copy(s, false); }
kv_memstore_t *kv_t_copy_no_chlog(kv_store_t *s) { return s_copy(s, true); }

/* One page's rows, into a batch (which also catches a key served twice in a page). */
static int s_row_into(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  kv_batch_t *b = arg;
  if (!kv_chlog_in_scope(k, kl)) {
    fprintf(stderr, "change log: served a key outside the namespace scope\n");
    abort();
  }
  if (kv_batch_lookup(b, k, kl, NULL, NULL) != KV_BATCH_ABSENT) {
    fprintf(stderr, "change log: a page served a key twice\n");
    abort();
  }
  if (v ? kv_batch_put(b, k, kl, v, vl) : kv_batch_del(b, k, kl)) abort();
  return 0;
}

int kv_t_chlog_catch_up(kv_store_t *view, kv_memstore_t *replica, uint64_t after,
                        size_t max_rows, size_t max_bytes, uint64_t *to) {
  rv_err_t err;
  kv_chlog_info_t info;
  if (kv_chlog_view_info(view, &info, &err)) abort();
  kv_chlog_cursor_t cur;
  int rc = kv_chlog_changes_begin(&info, after, &cur, &err);
  if (rc) return rc;
  kv_chlog_limits_t lim = {.max_bytes = max_bytes, .max_rows = max_rows};
  kv_batch_t *b = kv_batch_new();
  while (!cur.done) {
    size_t rows, bytes;
    kv_batch_clear(b);
    if (kv_chlog_changes_next(view, &cur, &lim, s_row_into, b, &rows, &bytes, &err)) {
      fprintf(stderr, "kv_t_chlog_catch_up: %s\n", err.msg);
      abort();
    }
    if (rows == 0 && !cur.done) {
      fprintf(stderr, "kv_t_chlog_catch_up: an empty page before the end\n");
      abort();
    }
    if (rows > max_rows) abort();
    if (!kv_batch_empty(b) && kv_store_write(kv_memstore_store(replica), b, &err)) abort();
  }
  kv_batch_destroy(&b);
  *to = cur.to;
  return RV_OK;
}

kv_memstore_t *kv_t_chlog_base_copy(kv_store_t *view, size_t max_rows, size_t max_bytes,
                                    uint64_t *index) {
  rv_err_t err;
  kv_chlog_info_t info;
  if (kv_chlog_view_info(view, &info, &err)) abort();
  *index = info.applied;
  kv_memstore_t *ms = kv_memstore_new();
  kv_batch_t *b = kv_batch_new();
  kv_buf_t cursor;
  kv_buf_init(&cursor);
  kv_chlog_limits_t lim = {.max_bytes = max_bytes, .max_rows = max_rows};
  for (bool done = false; !done;) {
    size_t rows, bytes;
    kv_batch_clear(b);
    if (kv_chlog_base_next(view, &cursor, &lim, s_row_into, b, &rows, &bytes, &done, &err)) {
      fprintf(stderr, "kv_t_chlog_base_copy: %s\n", err.msg);
      abort();
    }
    if ((rows == 0 && !done) || rows > max_rows) abort();
    if (!kv_batch_empty(b) && kv_store_write(kv_memstore_store(ms), b, &err)) abort();
  }
  kv_buf_close(&cursor);
  kv_batch_destroy(&b);
  return ms;
}
