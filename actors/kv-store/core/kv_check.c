/* kv_check: whole-store verification: the replica digest and fsck (a full recount of the tree
 * compared with every stored counter). Pure. Both are O(store size): tools and tests, not the
 * apply path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_core_int.h"

/* ---- digest ------------------------------------------------------------------------------ */

typedef struct {
  kv_digest_scope_t scope;
  uint64_t h;
} s_digest_t;

uint64_t kv_digest_pair(uint64_t h, kv_digest_scope_t scope, const uint8_t *k, size_t kl,
                        const uint8_t *v, size_t vl) {
  if (kl > 0 && k[0] == KV_T_CHLOG) return h; /* node-local, never compared across replicas */
  if (scope == KV_DIGEST_NAMESPACE && kl > 0 && k[0] != KV_T_DENTRY && k[0] != KV_T_ATTR &&
      k[0] != KV_T_CONTENT && k[0] != KV_T_XATTR)
    return h;
  return kv_digest_row(h, k, kl, v, vl);
}

static int s_digest_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_digest_t *d = arg;
  d->h = kv_digest_pair(d->h, d->scope, k, kl, v, vl);
  return 0;
}

int kv_core_digest(kv_core_t *c, kv_digest_scope_t scope, uint64_t *out, rv_err_t *err) {
  s_digest_t d = {.scope = scope, .h = KV_FNV64_INIT};
  int rc = kv_store_scan(c->store, (const uint8_t *)"", 0, s_digest_one, &d, err);
  if (rc) return rc;
  *out = d.h;
  return RV_OK;
}

/* ---- check (fsck) ------------------------------------------------------------------------ */

typedef struct {
  kv_core_t *c;
  rv_err_t *err;
  uint64_t ndentry, nattr, ncontent, nxattr, nsession, nlru, nmeta;
  uint64_t nplru, npcount, pcount_sum; /* one principal's sessions: 'U' keys, 'N' keys, sum */
  uint64_t max_ino;
} s_census_t;

static int s_census_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_census_t *s = arg;
  switch (kl ? k[0] : 0) {
    case KV_T_DENTRY:
      if (kl < 10) break;
      s->ndentry++;
      return 0;
    case KV_T_ATTR: {
      if (kl != 9) break;
      uint64_t ino = kv_be64_get(k + 1);
      if (ino > s->max_ino) s->max_ino = ino;
      s->nattr++;
      return 0;
    }
    case KV_T_CONTENT:
      if (kl != 9) break;
      s->ncontent++;
      return 0;
    case KV_T_XATTR: { /* well-formed, and of an inode that exists (so reachable, below) */
      kv_xattr_t x[KV_XATTRS_MAX];
      size_t n;
      if (kl != 9) break;
      if (kv_xattrs_decode(v, vl, x, &n))
        return rv_err_set(s->err, RV_ECORRUPT, "fsck: xattrs of inode %llu are malformed",
                          (unsigned long long)kv_be64_get(k + 1));
      uint8_t key[KV_KEY_MAX];
      int rc = kv_store_get(s->c->store, key, kv_key_attr(key, kv_be64_get(k + 1)), &s->c->val,
                            s->err);
      if (rc == RV_ENOTFOUND)
        return rv_err_set(s->err, RV_ECORRUPT, "fsck: xattrs of inode %llu, which does not exist",
                          (unsigned long long)kv_be64_get(k + 1));
      if (rc) return rc;
      s->nxattr++;
      return 0;
    }
    case KV_T_SESSION:
      if (kl != 9) break;
      s->nsession++;
      return 0;
    case KV_T_SESSION_LRU: {
      if (kl != 17) break;
      kv_session_t ss;
      int rc = kv_session_get(s->c, kv_be64_get(k + 9), &ss, s->err);
      if (rc) return rc;
      if (!ss.found ||
          (int64_t)(kv_be64_get(k + 1) ^ (1ull << 63)) != kv_session_bucket(s->c, ss.last_time))
        return rv_err_set(s->err, RV_ECORRUPT,
                          "fsck: session LRU entry of client %016llx has no matching session",
                          (unsigned long long)kv_be64_get(k + 9));
      s->nlru++;
      return 0;
    }
    case KV_T_PRINCIPAL_LRU: {
      if (kl < 2 || kl != 18u + k[1] || k[1] == 0 || k[1] > KV_OWNER_MAX) break;
      uint64_t client = kv_be64_get(k + 10 + k[1]);
      kv_session_t ss;
      int rc = kv_session_get(s->c, client, &ss, s->err);
      if (rc) return rc;
      if (!ss.found || strlen(ss.principal) != k[1] || memcmp(ss.principal, k + 2, k[1]) != 0 ||
          (int64_t)(kv_be64_get(k + 2 + k[1]) ^ (1ull << 63)) !=
              kv_session_bucket(s->c, ss.last_time))
        return rv_err_set(s->err, RV_ECORRUPT,
                          "fsck: principal LRU entry of client %016llx has no matching session",
                          (unsigned long long)client);
      s->nplru++;
      return 0;
    }
    case KV_T_PRINCIPAL_COUNT: {
      uint64_t n;
      if (kl < 2 || kv_u64_decode(v, vl, &n) || n == 0) break;
      s->npcount++;
      s->pcount_sum += n;
      return 0;
    }
    case KV_T_META:
      s->nmeta++;
      return 0;
    case KV_T_CHLOG: /* node-local; kv_chlog.c checks its own */
      if (kl != 9) break;
      return 0;
  }
  return rv_err_set(s->err, RV_ECORRUPT, "fsck: unexpected key of %zu bytes (table 0x%02x)", kl,
                    kl ? k[0] : 0);
}

typedef struct {
  uint64_t ino;
  uint8_t type;
} s_child_t;

typedef struct {
  uint8_t prefix[9];
  s_child_t *v;
  size_t n, cap;
  rv_err_t *err;
} s_children_t;

static int s_child_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_children_t *s = arg;
  if (kl < sizeof s->prefix || memcmp(k, s->prefix, sizeof s->prefix) != 0) return KV_SCAN_STOP;
  if (kl == sizeof s->prefix || kl - sizeof s->prefix > KV_NAME_MAX)
    return rv_err_set(s->err, RV_ECORRUPT, "fsck: dentry name of %zu bytes", kl - sizeof s->prefix);
  s_child_t ch;
  if (kv_dentry_decode(v, vl, &ch.ino, &ch.type))
    return rv_err_set(s->err, RV_ECORRUPT, "fsck: malformed dentry");
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    s_child_t *nv = realloc(s->v, cap * sizeof *nv);
    if (!nv) return rv_err_set(s->err, RV_ENOMEM, "fsck: out of memory");
    s->v = nv;
    s->cap = cap;
  }
  s->v[s->n++] = ch;
  return 0;
}

typedef struct {
  kv_core_t *c;
  rv_err_t *err;
  uint64_t reached, nonempty;
  uint64_t limit; /* attributes in the store: more reached than that means a cycle */
} s_walk_t;

typedef struct {
  uint64_t dirs, files, bytes; /* below a directory, itself excluded */
} s_totals_t;

static int s_walk_dir(s_walk_t *w, uint64_t ino, const kv_attr_t *a, size_t depth,
                      s_totals_t *out) {
  kv_core_t *c = w->c;
  if (depth > KV_DEPTH_MAX)
    return rv_err_set(w->err, RV_ECORRUPT, "fsck: directory inode %llu is deeper than %d",
                      (unsigned long long)ino, KV_DEPTH_MAX);
  s_children_t kids = {.err = w->err};
  kids.prefix[0] = KV_T_DENTRY;
  kv_be64_put(kids.prefix + 1, ino);
  int rc = kv_store_scan(c->store, kids.prefix, sizeof kids.prefix, s_child_one, &kids, w->err);
  s_totals_t t = {0, 0, 0};
  for (size_t i = 0; !rc && i < kids.n; i++) {
    const s_child_t *ch = &kids.v[i];
    kv_attr_t ca;
    if (++w->reached > w->limit) {
      rc = rv_err_set(w->err, RV_ECORRUPT,
                      "fsck: more entries reachable than attributes (a cycle?)");
      break;
    }
    if (ch->ino >= c->committed.next_inode) {
      rc = rv_err_set(w->err, RV_ECORRUPT, "fsck: inode %llu is not below next_inode %llu",
                      (unsigned long long)ch->ino, (unsigned long long)c->committed.next_inode);
      break;
    }
    if ((rc = kv_core_attr_get(c, ch->ino, &ca, w->err))) break;
    if (ca.type != ch->type) {
      rc = rv_err_set(w->err, RV_ECORRUPT,
                      "fsck: inode %llu: dentry and attributes disagree on type",
                      (unsigned long long)ch->ino);
      break;
    }
    if (ca.type == KV_TYPE_FILE) {
      t.files++;
      t.bytes += ca.size;
      if (ca.nchildren || ca.sub_dirs || ca.sub_files || ca.sub_bytes) {
        rc = rv_err_set(w->err, RV_ECORRUPT, "fsck: file inode %llu has directory counters",
                        (unsigned long long)ch->ino);
        break;
      }
      uint8_t key[KV_KEY_MAX];
      rc = kv_store_get(c->store, key, kv_key_content(key, ch->ino), &c->val, w->err);
      if (rc == RV_ENOTFOUND && ca.size == 0) {
        rc = RV_OK;
        continue;
      }
      if (rc == RV_OK && c->val.len == ca.size && ca.size > 0) {
        w->nonempty++;
        continue;
      }
      if (rc == RV_OK || rc == RV_ENOTFOUND)
        rc = rv_err_set(w->err, RV_ECORRUPT, "fsck: content of inode %llu does not match size %llu",
                        (unsigned long long)ch->ino, (unsigned long long)ca.size);
      break;
    }
    s_totals_t sub;
    if ((rc = s_walk_dir(w, ch->ino, &ca, depth + 1, &sub))) break;
    t.dirs += 1 + sub.dirs;
    t.files += sub.files;
    t.bytes += sub.bytes;
  }
  size_t n = kids.n;
  free(kids.v);
  if (rc) return rc;
  if (a->nchildren != n || a->sub_dirs != t.dirs || a->sub_files != t.files ||
      a->sub_bytes != t.bytes)
    return rv_err_set(w->err, RV_ECORRUPT,
                      "fsck: directory inode %llu says %llu children, %llu dirs, %llu files, %llu "
                      "bytes below; recount gives %zu, %llu, %llu, %llu",
                      (unsigned long long)ino, (unsigned long long)a->nchildren,
                      (unsigned long long)a->sub_dirs, (unsigned long long)a->sub_files,
                      (unsigned long long)a->sub_bytes, n, (unsigned long long)t.dirs,
                      (unsigned long long)t.files, (unsigned long long)t.bytes);
  *out = t;
  return RV_OK;
}

static int s_check(kv_core_t *c, kv_check_t *out, rv_err_t *err);

int kv_core_check(kv_core_t *c, kv_check_t *out, rv_err_t *err) {
  /* Verify what the store holds, not the cache's copies of it (fsck reads nothing twice). */
  kv_cache_t *cache = c->cache;
  c->cache = NULL;
  int rc = s_check(c, out, err);
  c->cache = cache;
  return rc;
}

static int s_check(kv_core_t *c, kv_check_t *out, rv_err_t *err) {
  s_census_t s = {.c = c, .err = err};
  int rc = kv_store_scan(c->store, (const uint8_t *)"", 0, s_census_one, &s, err);
  if (rc) return rc;
  if (s.max_ino >= c->committed.next_inode)
    return rv_err_set(err, RV_ECORRUPT, "fsck: inode %llu is not below next_inode %llu",
                      (unsigned long long)s.max_ino, (unsigned long long)c->committed.next_inode);
  if (s.nsession != c->committed.nsessions || s.nlru != s.nsession)
    return rv_err_set(err, RV_ECORRUPT, "fsck: %llu sessions, %llu LRU entries, meta says %llu",
                      (unsigned long long)s.nsession, (unsigned long long)s.nlru,
                      (unsigned long long)c->committed.nsessions);
  if (s.nplru != s.pcount_sum)
    return rv_err_set(err, RV_ECORRUPT,
                      "fsck: %llu sessions in the principals' LRU, their counts say %llu",
                      (unsigned long long)s.nplru, (unsigned long long)s.pcount_sum);
  kv_attr_t root;
  if ((rc = kv_core_attr_get(c, KV_ROOT_INO, &root, err))) return rc;
  if (root.type != KV_TYPE_DIR)
    return rv_err_set(err, RV_ECORRUPT, "fsck: root is not a directory");
  s_walk_t w = {.c = c, .err = err, .limit = s.nattr};
  s_totals_t t;
  if ((rc = s_walk_dir(&w, KV_ROOT_INO, &root, 0, &t))) return rc;
  /* Everything reachable was verified; equal counts mean nothing else is stored. */
  if (s.nattr != w.reached + 1 || s.ndentry != w.reached || s.ncontent != w.nonempty)
    return rv_err_set(err, RV_ECORRUPT,
                      "fsck: unreachable keys: %llu attributes, %llu dentries, %llu contents "
                      "stored; %llu entries (+ root) and %llu contents reachable",
                      (unsigned long long)s.nattr, (unsigned long long)s.ndentry,
                      (unsigned long long)s.ncontent, (unsigned long long)w.reached,
                      (unsigned long long)w.nonempty);
  if (out) {
    *out = (kv_check_t){.dirs = 1 + t.dirs,
                        .files = t.files,
                        .bytes = t.bytes,
                        .keys = s.ndentry + s.nattr + s.ncontent + s.nxattr + s.nsession + s.nlru + s.nmeta +
                                s.nplru + s.npcount,
                        .sessions = s.nsession};
  }
  return RV_OK;
}
