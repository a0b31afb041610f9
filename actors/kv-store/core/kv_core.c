/* kv_core: opening the namespace, the apply pipeline (exactly-once by log index and by client
 * session, per-command rollback, grouped writes) and the shared helpers the op files use:
 * reads through the pending batch, path resolution and subtree-total updates.
 * Pure: no I/O but through kv_store_t; no clock (time comes inside commands). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_core_int.h"

/* ---- configuration and opening ---------------------------------------------------------- */

void kv_core_config_default(kv_core_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->inline_max = 1u << 20;
  cfg->session_max = 100000;
  cfg->session_max_per_principal = 10000;
  cfg->session_ttl_ms = 3600 * 1000;
  cfg->rm_max_entries = 1000000;
  cfg->cache_entries = 65536;
  cfg->root_perm = 0755;
  snprintf(cfg->root_owner, sizeof cfg->root_owner, "root");
  snprintf(cfg->root_group, sizeof cfg->root_group, "supergroup");
  cfg->feature_level = KV_FEATURE_LEVEL;
}

static int s_config_check(const kv_core_config_t *cfg, rv_err_t *err) {
  if (cfg->inline_max > KV_DATA_MAX)
    return rv_err_set(err, RV_EINVAL, "kv config: inline_max %u exceeds the hard cap of %u bytes",
                      cfg->inline_max, KV_DATA_MAX);
  if (cfg->session_max < 1)
    return rv_err_set(err, RV_EINVAL, "kv config: session_max must be at least 1");
  if (cfg->session_max_per_principal < 1)
    return rv_err_set(err, RV_EINVAL, "kv config: session_max_per_principal must be at least 1");
  if (cfg->session_ttl_ms < 0 || cfg->session_ttl_ms > KV_SESSION_TTL_MAX)
    return rv_err_set(err, RV_EINVAL,
                      "kv config: session_ttl_ms must be in 0..%lld (0 = no expiry by time)",
                      (long long)KV_SESSION_TTL_MAX);
  if (cfg->rm_max_entries < 1)
    return rv_err_set(err, RV_EINVAL, "kv config: rm_max_entries must be at least 1");
  if (cfg->feature_level < 1 || cfg->feature_level > KV_FEATURE_LEVEL)
    return rv_err_set(err, RV_EINVAL, "kv config: feature_level %u is not in 1..%d (this build's)",
                      cfg->feature_level, KV_FEATURE_LEVEL);
  if (cfg->root_perm > KV_PERM_MAX)
    return rv_err_set(err, RV_EINVAL, "kv config: root_perm %o exceeds 07777", cfg->root_perm);
  size_t no = strnlen(cfg->root_owner, sizeof cfg->root_owner);
  size_t ng = strnlen(cfg->root_group, sizeof cfg->root_group);
  if (no == 0 || no > KV_OWNER_MAX || ng == 0 || ng > KV_OWNER_MAX ||
      !kv_utf8_valid(cfg->root_owner, no, NULL) || !kv_utf8_valid(cfg->root_group, ng, NULL))
    return rv_err_set(err, RV_EINVAL,
                      "kv config: root_owner/root_group must be 1..%d bytes of UTF-8",
                      KV_OWNER_MAX);
  return RV_OK;
}

static int s_format_put(kv_core_t *c, rv_err_t *err) {
  uint8_t key[32], val[8];
  size_t kl = kv_key_meta(key, KV_META_FORMAT);
  kv_be64_put(val, KV_FORMAT);
  return kv_core_put(c, key, kl, val, sizeof val, err);
}

static int s_state_put(kv_core_t *c, rv_err_t *err) {
  uint8_t key[32], val[KV_STATE_LEN];
  size_t kl = kv_key_meta(key, KV_META_STATE);
  kv_state_encode(&c->pending, val);
  return kv_core_put(c, key, kl, val, sizeof val, err);
}

static int s_any_key(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  *(bool *)arg = true;
  return KV_SCAN_STOP;
}

/* Formats an empty store: the root directory and the meta keys, in one write. */
static int s_format(kv_core_t *c, rv_err_t *err) {
  bool any = false;
  int rc = kv_store_scan(c->store, (const uint8_t *)"", 0, s_any_key, &any, err);
  if (rc) return rc;
  if (any)
    return rv_err_set(err, RV_ECORRUPT,
                      "kv store: holds keys but no 'M' \"%s\" key: not a raftvisor namespace",
                      KV_META_FORMAT);
  kv_attr_t root = {.type = KV_TYPE_DIR, .perm = c->cfg.root_perm};
  memcpy(root.owner, c->cfg.root_owner, sizeof root.owner);
  memcpy(root.group, c->cfg.root_group, sizeof root.group);
  c->pending = (kv_meta_t){.applied = 0, .clock = 0, .next_inode = KV_ROOT_INO + 1, .nsessions = 0};
  if ((rc = kv_core_attr_put(c, KV_ROOT_INO, &root, err)) || (rc = s_format_put(c, err)) ||
      (rc = s_state_put(c, err)))
    return rc;
  rc = kv_store_write(c->store, c->batch, err);
  kv_batch_clear(c->batch);
  if (rc) return rv_err_prefix(err, "kv store: formatting");
  c->committed = c->pending;
  return RV_OK;
}

static int s_load(kv_core_t *c, rv_err_t *err) {
  uint8_t key[32];
  size_t kl = kv_key_meta(key, KV_META_FORMAT);
  int rc = kv_core_get(c, key, kl, &c->val, err);
  if (rc == RV_ENOTFOUND) return s_format(c, err);
  if (rc) return rc;
  uint64_t format;
  if (kv_u64_decode(c->val.data, c->val.len, &format))
    return rv_err_set(err, RV_ECORRUPT, "kv store: the format key is malformed");
  if (format > KV_FORMAT) /* a downgrade: a newer layout is never guessed at */
    return rv_err_set(err, RV_ECONFIG,
                      "namespace store: format %llu is newer than this build's (format %d): it "
                      "was written by a newer raftvisor; run that version (or a newer one) on "
                      "this node: a downgrade is not supported",
                      (unsigned long long)format, KV_FORMAT);
  if (format < KV_FORMAT) /* format 1 is the first: no conversion exists yet */
    return rv_err_set(err, RV_ECONFIG,
                      "namespace store: format %llu is older than this build's (format %d) and "
                      "this build knows no conversion from it",
                      (unsigned long long)format, KV_FORMAT);
  kl = kv_key_meta(key, KV_META_STATE);
  rc = kv_core_get(c, key, kl, &c->val, err);
  if (rc == RV_ENOTFOUND)
    return rv_err_set(err, RV_ECORRUPT,
                      "kv store: the state key (applied index, next inode) is missing");
  if (rc) return rc;
  if (kv_state_decode(c->val.data, c->val.len, &c->pending))
    return rv_err_set(err, RV_ECORRUPT, "kv store: the state key is malformed");
  kv_attr_t root;
  if ((rc = kv_core_attr_get(c, KV_ROOT_INO, &root, err))) return rc;
  if (root.type != KV_TYPE_DIR)
    return rv_err_set(err, RV_ECORRUPT, "kv store: the root inode is not a directory");
  c->committed = c->pending;
  return RV_OK;
}

int kv_core_new(kv_store_t *store, const kv_core_config_t *cfg, kv_core_t **out, rv_err_t *err) {
  *out = NULL;
  kv_core_config_t def;
  if (!cfg) {
    kv_core_config_default(&def);
    cfg = &def;
  }
  int rc = s_config_check(cfg, err);
  if (rc) return rc;
  kv_core_t *c = calloc(1, sizeof *c);
  if (!c) return rv_err_set(err, RV_ENOMEM, "kv core: out of memory");
  c->store = store;
  c->cfg = *cfg;
  c->lru_floor = INT64_MIN;
  kv_buf_init(&c->val);
  kv_buf_init(&c->enc);
  kv_buf_init(&c->chlog_buf);
  kv_buf_init(&c->pf_keys);
  c->batch = kv_batch_new();
  c->cache = kv_cache_new(cfg->cache_entries);
  if (!c->batch || (cfg->cache_entries && !c->cache)) {
    kv_core_destroy(&c);
    return rv_err_set(err, RV_ENOMEM, "kv core: out of memory");
  }
  rc = s_load(c, err);
  if (!rc) rc = kv_recovery_load(c, err);
  if (!rc) rc = kv_chlog_open(c, err);
  if (rc) {
    kv_core_destroy(&c);
    return rc;
  }
  *out = c;
  return RV_OK;
}

void kv_core_destroy(kv_core_t **cp) {
  if (!cp || !*cp) return;
  kv_core_t *c = *cp;
  kv_batch_destroy(&c->batch);
  kv_cache_destroy(&c->cache);
  kv_buf_close(&c->val);
  kv_buf_close(&c->enc);
  kv_buf_close(&c->chlog_buf);
  kv_buf_close(&c->pf_keys);
  free(c->pf_list);
  free(c->stack);
  free(c->pattrs);
  free(c->pplen);
  free(c);
  *cp = NULL;
}

uint64_t kv_core_applied(const kv_core_t *c) { return c->committed.applied; }
uint64_t kv_core_sessions(const kv_core_t *c) { return c->committed.nsessions; }

/* ---- helpers shared by the op files ------------------------------------------------------ */

int kv_res_fail(kv_result_t *res, int code, const char *fmt, ...) {
  res->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(res->msg, sizeof res->msg, fmt, ap);
  va_end(ap);
  return RV_OK;
}

const char *kv_show(char *buf, size_t cap, const void *p, size_t len) {
  return kv_path_show(buf, cap, p, len);
}

int kv_op_fail(kv_opctx_t *x, int code, const char *fmt, ...) {
  const kv_cmd_t *cmd = x->cmd;
  char p1[KV_SHOW_CAP], p2[KV_SHOW_CAP], why[KV_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  kv_show(p1, sizeof p1, cmd->path.p, cmd->path.len);
  if (cmd->op == KV_OP_MV)
    return kv_res_fail(x->res, code, "mv %s %s: %s", p1,
                       kv_show(p2, sizeof p2, cmd->path2.p, cmd->path2.len), why);
  return kv_res_fail(x->res, code, "%s %s%s: %s", kv_op_name(cmd->op),
                     cmd->op == KV_OP_RM && (cmd->flags & KV_F_RECURSIVE) ? "-r " : "", p1, why);
}

bool kv_op_parse(kv_opctx_t *x, kv_path_t *pa, const kv_bytes_t *p) {
  rv_err_t perr;
  if (kv_path_parse(pa, (const char *)p->p, p->len, &perr) == RV_OK) return true;
  kv_res_fail(x->res, RV_EINVAL, "%s: %s", kv_op_name(x->cmd->op), perr.msg);
  return false;
}

/* The start of an op on one file named by its path (touchz, append): the path parsed into c->pa,
 * the command's attributes checked, not the root, the parent traversed into c->ca (it must
 * exist). A refusal is in x->res; the caller returns when rc or x->res->code says so. */
int kv_op_file_parent(kv_opctx_t *x) {
  kv_core_t *c = x->core;
  if (!kv_op_parse(x, &c->pa, &x->cmd->path) || !kv_op_attrs_ok(x)) return RV_OK;
  if (c->pa.n == 0) return kv_op_fail(x, RV_EISDIR, "is a directory");
  return kv_op_parent(x, &c->pa, &c->ca, KV_ACC_NONE);
}

bool kv_op_name_ok(kv_opctx_t *x, const kv_bytes_t *name, const char *field) {
  const char *why = NULL;
  if (name->len == 0)
    why = "is empty";
  else if (name->len > KV_OWNER_MAX)
    why = "is longer than 64 bytes";
  else if (!kv_utf8_valid(name->p, name->len, NULL))
    why = "is not valid UTF-8";
  for (size_t i = 0; !why && i < name->len; i++) {
    if (name->p[i] < 0x20 || name->p[i] == 0x7f) why = "holds a control character";
  }
  if (!why) return true;
  kv_op_fail(x, RV_EINVAL, "%s %s", field, why);
  return false;
}

int kv_core_get(kv_core_t *c, const uint8_t *key, size_t klen, kv_buf_t *val, rv_err_t *err) {
  const uint8_t *v;
  size_t vl;
  switch (kv_batch_lookup(c->batch, key, klen, &v, &vl)) {
    case KV_BATCH_DEL:
      return RV_ENOTFOUND;
    case KV_BATCH_PUT:
      kv_buf_reset(val);
      kv_buf_put(val, v, vl);
      return kv_buf_ok(val) ? RV_OK : rv_err_set(err, RV_ENOMEM, "kv core: out of memory");
    case KV_BATCH_ABSENT:
      break;
  }
  switch (kv_cache_get(c->cache, key, klen, val)) {
    case KV_CACHE_HIT:
      return RV_OK;
    case KV_CACHE_ABSENT:
      return RV_ENOTFOUND;
    case KV_CACHE_MISS:
      break;
  }
  int rc = kv_store_get(c->store, key, klen, val, err);
  if (rc == RV_OK || rc == RV_ENOTFOUND)
    kv_cache_set(c->cache, key, klen, val->data, val->len, rc == RV_ENOTFOUND);
  return rc;
}

int kv_core_put(kv_core_t *c, const uint8_t *key, size_t klen, const void *v, size_t vlen,
                rv_err_t *err) {
  if (kv_batch_put(c->batch, key, klen, v, vlen))
    return rv_err_set(err, RV_ENOMEM, "kv core: out of memory growing the write batch");
  return RV_OK;
}

int kv_core_del(kv_core_t *c, const uint8_t *key, size_t klen, rv_err_t *err) {
  if (kv_batch_del(c->batch, key, klen))
    return rv_err_set(err, RV_ENOMEM, "kv core: out of memory growing the write batch");
  return RV_OK;
}

int kv_core_attr_get(kv_core_t *c, uint64_t ino, kv_attr_t *a, rv_err_t *err) {
  uint8_t key[KV_KEY_MAX];
  size_t kl = kv_key_attr(key, ino);
  int rc = kv_core_get(c, key, kl, &c->val, err);
  if (rc == RV_ENOTFOUND)
    return rv_err_set(err, RV_ECORRUPT, "kv store: attributes of inode %llu are missing",
                      (unsigned long long)ino);
  if (rc) return rc;
  if (kv_attr_decode(c->val.data, c->val.len, a))
    return rv_err_set(err, RV_ECORRUPT, "kv store: attributes of inode %llu are malformed",
                      (unsigned long long)ino);
  return RV_OK;
}

int kv_core_attr_put(kv_core_t *c, uint64_t ino, const kv_attr_t *a, rv_err_t *err) {
  uint8_t key[KV_KEY_MAX];
  size_t kl = kv_key_attr(key, ino);
  kv_buf_reset(&c->enc);
  kv_attr_encode(a, &c->enc);
  if (!kv_buf_ok(&c->enc)) return rv_err_set(err, RV_ENOMEM, "kv core: out of memory");
  return kv_core_put(c, key, kl, c->enc.data, c->enc.len, err);
}

int kv_core_dentry_get(kv_core_t *c, uint64_t parent, const void *name, size_t nlen, uint64_t *ino,
                       uint8_t *type, rv_err_t *err) {
  uint8_t key[KV_KEY_MAX];
  size_t kl = kv_key_dentry(key, parent, name, nlen);
  int rc = kv_core_get(c, key, kl, &c->val, err);
  if (rc) return rc;
  if (kv_dentry_decode(c->val.data, c->val.len, ino, type))
    return rv_err_set(err, RV_ECORRUPT, "kv store: dentry under inode %llu is malformed",
                      (unsigned long long)parent);
  return RV_OK;
}

int kv_core_resolve(kv_core_t *c, const kv_path_t *path, size_t upto, kv_chain_t *ch,
                    rv_err_t *err) {
  ch->depth = 0;
  ch->ino[0] = KV_ROOT_INO;
  ch->type[0] = KV_TYPE_DIR;
  for (size_t i = 0; i < upto; i++) {
    if (ch->type[i] != KV_TYPE_DIR) return RV_ENOTDIR;
    size_t nl;
    const char *name = kv_path_name(path, i, &nl);
    int rc = kv_core_dentry_get(c, ch->ino[i], name, nl, &ch->ino[i + 1], &ch->type[i + 1], err);
    if (rc) return rc;
    ch->depth = i + 1;
  }
  return RV_OK;
}

const char *kv_core_resolve_why(char *buf, size_t cap, const kv_path_t *path, const kv_chain_t *ch,
                                int rc) {
  char shown[KV_SHOW_CAP];
  if (rc == RV_ENOTDIR) {
    snprintf(buf, cap, "%s is not a directory",
             kv_show(shown, sizeof shown, path->p, kv_path_prefix_len(path, ch->depth)));
  } else {
    snprintf(buf, cap, "%s: no such file or directory",
             kv_show(shown, sizeof shown, path->p, kv_path_prefix_len(path, ch->depth + 1)));
  }
  return buf;
}

int kv_op_resolve_fail(kv_opctx_t *x, const kv_path_t *path, const kv_chain_t *ch, int rc) {
  char why[KV_SHOW_CAP + 32];
  return kv_op_fail(x, rc == RV_ENOTDIR ? RV_ENOTDIR : RV_ENOTFOUND, "%s",
                    kv_core_resolve_why(why, sizeof why, path, ch, rc));
}

/* Counters fit int64 in any sane namespace; a corrupt value is clamped so that negating it stays
 * defined, and the update it feeds then fails as RV_ECORRUPT. */
static int64_t s_i64(uint64_t v) { return v > INT64_MAX ? INT64_MAX : (int64_t)v; }

kv_delta_t kv_delta_of(const kv_attr_t *a) {
  if (a->type == KV_TYPE_DIR)
    return (kv_delta_t){s_i64(a->sub_dirs) == INT64_MAX ? INT64_MAX : s_i64(a->sub_dirs) + 1,
                        s_i64(a->sub_files), s_i64(a->sub_bytes)};
  return (kv_delta_t){0, 1, s_i64(a->size)};
}

static bool s_add(uint64_t *v, int64_t d) {
  if (d < 0) {
    uint64_t m = (uint64_t)(-(d + 1)) + 1; /* |d|, defined for INT64_MIN too */
    if (m > *v) return false;
    *v -= m;
    return true;
  }
  if ((uint64_t)d > UINT64_MAX - *v) return false;
  *v += (uint64_t)d;
  return true;
}

int kv_core_adjust(kv_core_t *c, const kv_chain_t *ch, size_t parent, kv_delta_t d,
                   int64_t dchildren, bool touch, int64_t mtime, rv_err_t *err) {
  for (size_t i = 0; i <= parent; i++) {
    kv_attr_t a;
    int rc = kv_core_attr_get(c, ch->ino[i], &a, err);
    if (rc) return rc;
    bool ok =
        s_add(&a.sub_dirs, d.dirs) && s_add(&a.sub_files, d.files) && s_add(&a.sub_bytes, d.bytes);
    if (i == parent) {
      ok = ok && s_add(&a.nchildren, dchildren);
      if (touch) a.mtime_ms = mtime;
    }
    if (!ok)
      return rv_err_set(err, RV_ECORRUPT,
                        "kv store: subtree totals of inode %llu would go negative",
                        (unsigned long long)ch->ino[i]);
    if ((rc = kv_core_attr_put(c, ch->ino[i], &a, err))) return rc;
  }
  return RV_OK;
}

/* ---- apply ------------------------------------------------------------------------------- */

/* Forgets everything not yet written. The session floor may have been raised by an eviction
 * that is now undone, so it goes back to "unknown". */
static void s_abort(kv_core_t *c) {
  kv_batch_clear(c->batch);
  c->pending = c->committed;
  c->chlog_pending = c->chlog;
  c->rec_pending = c->rec;
  c->lru_floor = INT64_MIN;
}

/* Writes the batch and the changed meta in one store write. */
static int s_flush(kv_core_t *c, rv_err_t *err) {
  if (memcmp(&c->pending, &c->committed, sizeof c->pending) == 0 && kv_batch_empty(c->batch))
    return RV_OK;
  int rc = s_state_put(c, err);
  if (!rc && c->chlog_on) rc = kv_chlog_record(c, err);
  if (rc) {
    s_abort(c);
    return rc;
  }
  rc = kv_store_write(c->store, c->batch, err);
  if (rc) {
    uint64_t index = c->pending.applied;
    s_abort(c);
    return rv_err_prefix(err, "kv apply: writing index %llu", (unsigned long long)index);
  }
  /* The store now holds the batch: so do the keys the cache holds (kv_cache_refresh). */
  size_t cur = 0;
  kv_batch_op_t op;
  while (c->cache && kv_batch_next(c->batch, &cur, &op))
    if (op.key[0] != KV_T_CHLOG)
      kv_cache_refresh(c->cache, op.key, op.klen, op.val, op.vlen, op.del);
  kv_batch_clear(c->batch);
  c->committed = c->pending;
  c->rec = c->rec_pending;
  if (c->chlog_on) kv_chlog_committed(c);
  return RV_OK;
}

/* The principal a command names (version 2), or none: a version 1 command applies unchecked,
 * as it did when it was first applied. */
static void s_principal_of(const kv_cmd_t *cmd, kv_principal_t *p) {
  memset(p, 0, sizeof *p);
  if (cmd->user.len == 0) {
    p->superuser = true;
    return;
  }
  memcpy(p->user, cmd->user.p, cmd->user.len);
  p->superuser = cmd->pflags & KV_P_SUPERUSER;
  p->enforce = cmd->pflags & KV_P_ENFORCE;
  p->ngroups = cmd->ngroups;
  for (size_t i = 0; i < cmd->ngroups; i++)
    memcpy(p->groups[i], cmd->groups[i].p, cmd->groups[i].len);
}

void kv_core_read_as(kv_core_t *c, const kv_principal_t *p) {
  c->reader_checked = p != NULL;
  if (p) c->reader = *p;
}

/* An entry at or below the applied index: answer without applying. */
static int s_replay(kv_core_t *c, uint64_t index, const uint8_t *data, size_t len, kv_result_t *res,
                    rv_err_t *err) {
  kv_cmd_t cmd;
  rv_err_t derr;
  res->skipped = true;
  int rc = kv_cmd_decode(data, len, &cmd, &derr);
  if (rc) return kv_res_fail(res, rc, "log index %llu: %s", (unsigned long long)index, derr.msg);
  res->op = cmd.op;
  if (cmd.client_id) {
    kv_session_t s;
    if ((rc = kv_session_get(c, cmd.client_id, &s, err))) return rc;
    char user[KV_OWNER_MAX + 1] = "";
    if (cmd.user.len) memcpy(user, cmd.user.p, cmd.user.len);
    if (s.found && s.principal[0] && strcmp(s.principal, user) != 0)
      return kv_res_fail(res, RV_EPERM, "client %016llx: the session belongs to another user",
                         (unsigned long long)cmd.client_id);
    if (s.found && s.last_seq == cmd.seq) {
      *res = s.result;
      res->skipped = true;
      return RV_OK;
    }
  }
  return kv_res_fail(res, RV_ESTALE,
                     "log index %llu was applied before (applied index %llu); its result is no "
                     "longer kept",
                     (unsigned long long)index, (unsigned long long)c->pending.applied);
}

typedef int (*s_op_fn)(kv_opctx_t *ctx);
static const s_op_fn s_ops[KV_OP_RECOVERY_LAST + 1] = {
    [KV_OP_MKDIR] = kv_op_mkdir, [KV_OP_PUT] = kv_op_put, [KV_OP_TOUCHZ] = kv_op_touchz,
    [KV_OP_RM] = kv_op_rm,       [KV_OP_MV] = kv_op_mv,   [KV_OP_SETATTR] = kv_op_setattr,
    [KV_OP_APPEND] = kv_op_append, [KV_OP_TRUNCATE] = kv_op_truncate,
    [KV_OP_CONCAT] = kv_op_concat, [KV_OP_SETXATTR] = kv_op_setxattr,
    [KV_OP_REMOVEXATTR] = kv_op_removexattr,
    [KV_OP_RECOVERY_BEGIN] = kv_op_recovery,  [KV_OP_RECOVERY_ROWS] = kv_op_recovery,
    [KV_OP_RECOVERY_FINISH] = kv_op_recovery, [KV_OP_RECOVERY_LEAVE] = kv_op_recovery,
};

/* Applies one entry into the batch (flushing earlier entries first when this one must scan). */
static int s_apply_one(kv_core_t *c, uint64_t index, const uint8_t *data, size_t len,
                       bool raft_only, kv_result_t *res, rv_err_t *err) {
  memset(res, 0, sizeof *res);
  res->index = index;
  if (index == 0) return rv_err_set(err, RV_EINVAL, "kv apply: log index 0 is not valid");
  if (raft_only) { /* nothing to do but count it applied (written with the batch) */
    res->skipped = true;
    if (index > c->pending.applied) c->pending.applied = index;
    return RV_OK;
  }
  if (index <= c->pending.applied) return s_replay(c, index, data, len, res, err);

  kv_cmd_t cmd;
  rv_err_t derr;
  int rc = kv_cmd_decode(data, len, &cmd, &derr);
  uint8_t newer;
  if (rc && kv_cmd_newer(data, len, &newer)) /* a newer build's op: never skipped */
    return rv_err_set(err, RV_ECONFIG,
                      "log index %llu holds op %u, which this build does not know (its feature "
                      "level is %d): this build is older than the cluster: upgrade this node",
                      (unsigned long long)index, newer, KV_FEATURE_LEVEL);
  if (rc) { /* bytes that are no command: a failed outcome, the same on every replica */
    kv_res_fail(res, rc, "log index %llu: %s", (unsigned long long)index, derr.msg);
    c->pending.applied = index;
    return RV_OK;
  }
  if (kv_feature_op_level(cmd.op) > c->cfg.feature_level)
    return rv_err_set(err, RV_ECONFIG,
                      "log index %llu holds op %u (%s), which needs feature level %u; this node "
                      "runs level %u: this build is older than the cluster: upgrade this node",
                      (unsigned long long)index, cmd.op, kv_op_name(cmd.op),
                      kv_feature_op_level(cmd.op), c->cfg.feature_level);
  res->op = cmd.op;
  int64_t now = cmd.time_ms > c->pending.clock ? cmd.time_ms : c->pending.clock;
  kv_principal_t who;
  s_principal_of(&cmd, &who);

  /* A session belongs to the principal that started it: another principal's command naming it
   * is refused before it can read the recorded result or move the seq (a forged seq would
   * otherwise make the owner's next writes ESTALE). Sessions of version 1 commands, and those
   * recorded before sessions had owners, belong to nobody in particular. */
  kv_session_t sess = {.found = false};
  if (cmd.client_id && (rc = kv_session_get(c, cmd.client_id, &sess, err))) return rc;
  bool foreign = sess.found && sess.principal[0] && strcmp(sess.principal, who.user) != 0;
  int adding = cmd.client_id && !sess.found && cmd.seq == 1;
  /* Session expiry and rm -r scan the store, which must then hold every earlier write. */
  bool full = false;
  if (adding && who.user[0] && (rc = kv_session_principal_full(c, who.user, &full, err)))
    return rc;
  bool evict = !c->part_quiet && kv_session_evict_due(c, now, adding);
  /* Recovery rows scan their key range (after, last]: while a recovery RUNs only rows write
   * namespace keys (client writes are refused), each at or below the next one's `after`, so
   * the store alone is current in that range, except after a RecoveryBegin that restarted
   * from scratch: the first rows after it (an empty `after`) flush what came before. Without
   * such a restart the range is known empty and is not scanned at all (kv_recovery.c). */
  bool rows_first = cmd.op == KV_OP_RECOVERY_ROWS &&
                    ((c->rec_pending.leftovers && (cmd.data.len < 2 || kv_be16_get(cmd.data.p) == 0)) ||
                     c->rec_pending.partial);
  bool scans = evict || full || (cmd.op == KV_OP_RM && (cmd.flags & KV_F_RECURSIVE)) || rows_first ||
               cmd.op == KV_OP_RECOVERY_FINISH;
  if (scans && !kv_batch_empty(c->batch) && (rc = s_flush(c, err))) return rc;
  /* A principal at its cap makes room from its own sessions, never from anyone else's: its
   * least recently used one goes (a flood of new sessions evicts only the flooder's). */
  if (full && (rc = kv_session_evict_principal(c, who.user, cmd.client_id, err))) return rc;
  if (evict) {
    if ((rc = kv_session_evict(c, now, cmd.client_id, adding, err))) return rc;
  }
  c->pending.clock = now;
  c->pending.applied = index;

  if (foreign)
    return kv_res_fail(res, RV_EPERM,
                       "client %016llx: the session belongs to another user (%s is not its "
                       "owner); start a new session",
                       (unsigned long long)cmd.client_id, who.user);
  if (cmd.client_id) {
    if (cmd.seq == 0)
      return kv_res_fail(res, RV_EINVAL, "client %016llx: sequence number 0 is not valid",
                         (unsigned long long)cmd.client_id);
    if (sess.found && cmd.seq == sess.last_seq) {
      *res = sess.result;
      res->skipped = true;
      return RV_OK;
    }
    if (sess.found && cmd.seq < sess.last_seq)
      return kv_res_fail(res, RV_ESTALE,
                         "client %016llx: seq %llu is older than the last applied seq %llu; its "
                         "result is no longer kept",
                         (unsigned long long)cmd.client_id, (unsigned long long)cmd.seq,
                         (unsigned long long)sess.last_seq);
    if (!sess.found && cmd.seq != 1)
      return kv_res_fail(res, RV_ESTALE,
                         "client %016llx: no session (expired or never started) and seq %llu is "
                         "not 1; start a new session",
                         (unsigned long long)cmd.client_id, (unsigned long long)cmd.seq);
  }

  /* A namespace being rebuilt from the remote copy is read-only (kv_recovery.h): decided here,
   * in the log's order, so a write proposed before RecoveryBegin applied is refused too. */
  if ((c->rec_pending.phase == KV_RECOVERY_RUNNING || c->rec_pending.phase == KV_RECOVERY_FINISH) &&
      !kv_op_is_recovery(cmd.op)) {
    kv_res_fail(res, RV_ERECOVERY, "%s", RV_ERECOVERY_MSG);
    if (cmd.client_id && (rc = kv_session_put(c, cmd.client_id, &sess, who.user, cmd.seq, now, res, err)))
      return rc;
    return RV_OK;
  }

  size_t mark = kv_batch_mark(c->batch);
  kv_meta_t saved = c->pending;
  bool recovery = kv_op_is_recovery(cmd.op);
  if (recovery) c->rec_saved = c->rec_pending;
  kv_opctx_t ctx = {.core = c, .cmd = &cmd, .res = res, .err = err, .who = &who};
  if ((rc = s_ops[cmd.op](&ctx))) return rc;
  if (res->code != RV_OK) {
    kv_batch_rollback(c->batch, mark);
    c->pending = saved;
    if (recovery) c->rec_pending = c->rec_saved;
    res->inode = 0;
    res->n = 0;
  }
  if (cmd.client_id &&
      (rc = kv_session_put(c, cmd.client_id, &sess, who.user, cmd.seq, now, res, err)))
    return rc;
  return RV_OK;
}

int kv_core_apply(kv_core_t *c, uint64_t index, const uint8_t *cmd, size_t len, kv_result_t *res,
                  rv_err_t *err) {
  int rc = s_apply_one(c, index, cmd, len, false, res, err);
  if (rc) {
    s_abort(c);
    return rc;
  }
  return s_flush(c, err);
}

int kv_core_apply_batch_unwritten(kv_core_t *c, const kv_entry_t *entries, size_t n,
                                  kv_result_t *results, rv_err_t *err) {
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && entries[i].index <= entries[i - 1].index) {
      s_abort(c);
      return rv_err_set(err, RV_EINVAL, "kv apply: batch indexes must increase (%llu after %llu)",
                        (unsigned long long)entries[i].index,
                        (unsigned long long)entries[i - 1].index);
    }
    int rc = s_apply_one(c, entries[i].index, entries[i].data, entries[i].len,
                         entries[i].raft_only, &results[i], err);
    if (rc) {
      s_abort(c);
      return rc;
    }
  }
  return RV_OK;
}

int kv_core_write_applied(kv_core_t *c, rv_err_t *err) { return s_flush(c, err); }

int kv_core_apply_batch(kv_core_t *c, const kv_entry_t *entries, size_t n, kv_result_t *results,
                        rv_err_t *err) {
  int rc = kv_core_apply_batch_unwritten(c, entries, n, results, err);
  return rc ? rc : s_flush(c, err);
}

int kv_core_apply_part(kv_core_t *c, const kv_entry_t *e, size_t max_rows, kv_result_t *res,
                       bool *complete, rv_err_t *err) {
  *complete = true;
  if (c->chlog_on || e->raft_only || max_rows == 0) return kv_core_apply_batch(c, e, 1, res, err);
  /* a part that is not the last changes rows only: it must not expire sessions, nor move the
   * clock, so that the last part does exactly what a whole apply does */
  kv_cmd_t cmd;
  rv_err_t derr;
  if (e->index <= c->pending.applied || kv_cmd_decode(e->data, e->len, &cmd, &derr) ||
      cmd.op != KV_OP_RECOVERY_ROWS || cmd.client_id != 0)
    return kv_core_apply_batch(c, e, 1, res, err);
  kv_reader_t r;
  kv_bytes_t after;
  kv_reader_init(&r, cmd.data.p, cmd.data.len);
  kv_reader_str16(&r, &after);
  uint32_t n = kv_reader_u32(&r);
  size_t off = c->part_index == e->index ? c->part_off : 0;
  if (r.failed || off >= n || n - off <= max_rows) return kv_core_apply_batch(c, e, 1, res, err);
  kv_meta_t before = c->pending;
  c->part_limit = max_rows;
  c->part_more = false;
  c->part_quiet = true;
  int rc = s_apply_one(c, e->index, e->data, e->len, false, res, err);
  c->part_limit = 0;
  c->part_quiet = false;
  if (rc) {
    s_abort(c);
    c->part_index = 0;
    return rc;
  }
  if (c->part_more) { /* a part: the entry is not applied yet (kv_recovery.h) */
    c->part_more = false;
    c->pending.applied = before.applied;
    c->pending.clock = before.clock;
    *complete = false;
  }
  rc = s_flush(c, err);
  if (rc) c->part_index = 0;
  return rc;
}
