/* kv_read: the reads that do not go through the log: stat, count, cat and paged ls. Pure.
 * They see the store's last written state (the batch is empty between applies). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_core_int.h"
#include "kv_glob.h"

/* HDFS' traversal check of a read (kv_core_read_as): EXECUTE on every existing directory above
 * the path's last component, whether the path exists or not (so a denied directory does not
 * tell what it holds). 0, RV_EPERM with Hadoop's message, or a storage error. */
static int s_traverse(kv_core_t *c, rv_err_t *err) {
  if (!c->reader_checked || !kv_perm_checked(&c->reader)) return RV_OK;
  size_t last = c->pa.n == 0 ? 0 : c->pa.n - 1;
  if (last > c->ca.depth) last = c->ca.depth;
  for (size_t i = 0; c->pa.n > 0 && i <= last && c->ca.type[i] == KV_TYPE_DIR; i++) {
    kv_attr_t a;
    int rc = kv_core_attr_get(c, c->ca.ino[i], &a, err);
    if (rc) return rc;
    if (!kv_perm_allows(&c->reader, &a, KV_ACC_EXECUTE)) {
      char msg[KV_PERM_MSG_MAX];
      kv_perm_denied(&c->reader, c->pa.p, kv_path_prefix_len(&c->pa, i), &a, KV_ACC_EXECUTE, msg,
                     sizeof msg);
      return rv_err_set(err, RV_EPERM, "%s", msg);
    }
  }
  return RV_OK;
}

/* access on the entry a read names (kv_core_read_as). */
static int s_access(kv_core_t *c, const kv_attr_t *a, unsigned access, rv_err_t *err) {
  if (!c->reader_checked || !kv_perm_checked(&c->reader) || kv_perm_allows(&c->reader, a, access))
    return RV_OK;
  char msg[KV_PERM_MSG_MAX];
  kv_perm_denied(&c->reader, c->pa.p, kv_path_prefix_len(&c->pa, c->pa.n), a, access, msg,
                 sizeof msg);
  return rv_err_set(err, RV_EPERM, "%s", msg);
}

/* Parses and resolves path for a read (checking the traversal); fills *ino and *a. */
static int s_lookup(kv_core_t *c, const char *op, const char *path, size_t len, uint64_t *ino,
                    kv_attr_t *a, rv_err_t *err) {
  int rc = kv_path_parse(&c->pa, path, len, err);
  if (rc) return rv_err_prefix(err, "%s", op);
  rc = kv_core_resolve(c, &c->pa, c->pa.n, &c->ca, err);
  if (rc == RV_OK || rc == RV_ENOTFOUND || rc == RV_ENOTDIR) {
    int prc = s_traverse(c, err);
    if (prc) return prc;
  }
  if (rc == RV_ENOTFOUND || rc == RV_ENOTDIR) {
    char shown[KV_SHOW_CAP], why[KV_SHOW_CAP + 32];
    return rv_err_set(err, rc, "%s %s: %s", op, kv_show(shown, sizeof shown, path, len),
                      kv_core_resolve_why(why, sizeof why, &c->pa, &c->ca, rc));
  }
  if (rc) return rc;
  *ino = c->ca.ino[c->pa.n];
  return kv_core_attr_get(c, *ino, a, err);
}

static kv_count_t s_count_of(const kv_attr_t *a) {
  if (a->type == KV_TYPE_DIR) return (kv_count_t){1 + a->sub_dirs, a->sub_files, a->sub_bytes};
  return (kv_count_t){0, 1, a->size};
}

int kv_core_stat(kv_core_t *c, const char *path, size_t len, kv_stat_t *out, rv_err_t *err) {
  memset(out, 0, sizeof *out);
  int rc = s_lookup(c, "stat", path, len, &out->inode, &out->attr, err);
  if (rc) return rc;
  out->count = s_count_of(&out->attr);
  return RV_OK;
}

int kv_core_count(kv_core_t *c, const char *path, size_t len, kv_count_t *out, rv_err_t *err) {
  memset(out, 0, sizeof *out);
  uint64_t ino;
  kv_attr_t a;
  int rc = s_lookup(c, "count", path, len, &ino, &a, err);
  if (rc) return rc;
  if (a.type == KV_TYPE_DIR && (rc = s_access(c, &a, KV_ACC_READ_EXECUTE, err))) return rc;
  *out = s_count_of(&a);
  return RV_OK;
}

int kv_core_cat(kv_core_t *c, const char *path, size_t len, kv_buf_t *out, rv_err_t *err) {
  kv_buf_reset(out);
  uint64_t ino;
  kv_attr_t a;
  int rc = s_lookup(c, "cat", path, len, &ino, &a, err);
  if (rc) return rc;
  char shown[KV_SHOW_CAP];
  if (a.type == KV_TYPE_DIR)
    return rv_err_set(err, RV_EISDIR, "cat %s: is a directory",
                      kv_show(shown, sizeof shown, path, len));
  if ((rc = s_access(c, &a, KV_ACC_READ, err))) return rc;
  uint8_t key[KV_KEY_MAX];
  rc = kv_store_get(c->store, key, kv_key_content(key, ino), out, err);
  if (rc == RV_ENOTFOUND && a.size == 0) return RV_OK;
  if (rc == RV_ENOTFOUND) rc = RV_ECORRUPT;
  if (!rc && out->len != a.size) rc = RV_ECORRUPT;
  if (rc == RV_ECORRUPT)
    return rv_err_set(err, RV_ECORRUPT,
                      "cat %s: content of inode %llu does not match its size %llu",
                      kv_show(shown, sizeof shown, path, len), (unsigned long long)ino,
                      (unsigned long long)a.size);
  return rc;
}

int kv_core_getxattrs(kv_core_t *c, const char *path, size_t len, kv_buf_t *out,
                      rv_err_t *err) {
  kv_buf_reset(out);
  uint64_t ino;
  kv_attr_t a;
  int rc = s_lookup(c, "getfattr", path, len, &ino, &a, err);
  if (rc) return rc;
  if ((rc = s_access(c, &a, KV_ACC_READ, err))) return rc; /* HDFS getXAttrs: READ */
  uint8_t key[KV_KEY_MAX];
  rc = kv_store_get(c->store, key, kv_key_xattr(key, ino), &c->val, err);
  if (rc == RV_ENOTFOUND) return RV_OK;
  if (rc) return rc;
  kv_xattr_t xs[KV_XATTRS_MAX];
  size_t n, k = 0;
  if (kv_xattrs_decode(c->val.data, c->val.len, xs, &n))
    return rv_err_set(err, RV_ECORRUPT, "getfattr: xattrs of inode %llu are malformed",
                      (unsigned long long)ino);
  bool super = !c->reader_checked || c->reader.superuser;
  for (size_t i = 0; i < n; i++) /* what XAttrPermissionFilter.filterXAttrsForApi keeps */
    if ((xs[i].name.len > 5 && memcmp(xs[i].name.p, "user.", 5) == 0) ||
        (super && xs[i].name.len > 8 && memcmp(xs[i].name.p, "trusted.", 8) == 0))
      xs[k++] = xs[i];
  if (k) kv_xattrs_encode(xs, k, out);
  return kv_buf_ok(out) ? RV_OK : rv_err_set(err, RV_ENOMEM, "getfattr: out of memory");
}

void kv_ls_init(kv_ls_t *ls) { memset(ls, 0, sizeof *ls); }

void kv_ls_close(kv_ls_t *ls) {
  free(ls->items);
  memset(ls, 0, sizeof *ls);
}

static kv_ls_entry_t *s_ls_add(kv_ls_t *ls) {
  if (ls->n == ls->cap) {
    size_t cap = ls->cap ? ls->cap * 2 : 16;
    kv_ls_entry_t *items = realloc(ls->items, cap * sizeof *items);
    if (!items) return NULL;
    ls->items = items;
    ls->cap = cap;
  }
  kv_ls_entry_t *e = &ls->items[ls->n++];
  memset(e, 0, sizeof *e);
  return e;
}

typedef struct {
  kv_core_t *c;
  uint8_t prefix[9];
  const char *after;
  size_t alen;
  size_t limit;
  const char *pat; /* filter, or NULL */
  size_t patlen;
  const char *prefix_name; /* the pattern's literal prefix: the scan ends past it */
  size_t prefix_len;
  size_t scanned;
  kv_ls_t *out;
  rv_err_t *err;
} s_ls_t;

static int s_ls_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_ls_t *s = arg;
  if (kl <= sizeof s->prefix || memcmp(k, s->prefix, sizeof s->prefix) != 0) return KV_SCAN_STOP;
  const uint8_t *name = k + sizeof s->prefix;
  size_t nl = kl - sizeof s->prefix;
  if (s->after && nl == s->alen && memcmp(name, s->after, nl) == 0) return 0;
  if (s->prefix_len && (nl < s->prefix_len || memcmp(name, s->prefix_name, s->prefix_len) != 0))
    return KV_SCAN_STOP; /* past every name the pattern can match */
  if (s->out->n == s->limit || (s->pat && s->scanned == KV_LS_SCAN_MAX)) {
    s->out->more = true;
    return KV_SCAN_STOP;
  }
  if (s->pat) {
    s->scanned++;
    memcpy(s->out->resume, name, nl < KV_NAME_MAX ? nl : KV_NAME_MAX);
    s->out->resume_len = nl < KV_NAME_MAX ? nl : KV_NAME_MAX;
    if (!kv_glob_match(s->pat, s->patlen, (const char *)name, nl, false)) return 0;
  }
  uint64_t ino;
  uint8_t type;
  if (kv_dentry_decode(v, vl, &ino, &type) || nl > KV_NAME_MAX)
    return rv_err_set(s->err, RV_ECORRUPT, "kv store: malformed dentry under inode %llu",
                      (unsigned long long)kv_be64_get(s->prefix + 1));
  kv_ls_entry_t *e = s_ls_add(s->out);
  if (!e) return rv_err_set(s->err, RV_ENOMEM, "ls: out of memory");
  memcpy(e->name, name, nl);
  e->st.inode = ino;
  int rc = kv_core_attr_get(s->c, ino, &e->st.attr, s->err);
  if (rc) return rc;
  if (e->st.attr.type != type)
    return rv_err_set(s->err, RV_ECORRUPT, "kv store: dentry and attributes of inode %llu disagree",
                      (unsigned long long)ino);
  e->st.count = s_count_of(&e->st.attr);
  if (!s->pat) {
    memcpy(s->out->resume, name, nl);
    s->out->resume_len = nl;
  }
  return 0;
}

int kv_core_ls(kv_core_t *c, const char *path, size_t len, const char *start_after, size_t salen,
               size_t limit, kv_ls_t *out, rv_err_t *err) {
  return kv_core_ls_match(c, path, len, start_after, salen, limit, NULL, 0, out, err);
}

int kv_core_ls_match(kv_core_t *c, const char *path, size_t len, const char *start_after,
                     size_t salen, size_t limit, const char *pat, size_t patlen, kv_ls_t *out,
                     rv_err_t *err) {
  out->n = 0;
  out->more = false;
  out->resume_len = 0;
  if (!patlen) pat = NULL;
  char why[128];
  if (pat && kv_glob_check(pat, patlen, why, sizeof why)) {
    char shown[KV_SHOW_CAP];
    return rv_err_set(err, RV_EINVAL, "ls %s: Illegal file pattern: %s",
                      kv_show(shown, sizeof shown, path, len), why);
  }
  uint64_t ino;
  kv_attr_t a;
  int rc = s_lookup(c, "ls", path, len, &ino, &a, err);
  if (rc) return rc;
  /* HDFS getListing: READ_EXECUTE on a directory; a file only needs the traversal */
  if (a.type == KV_TYPE_DIR && (rc = s_access(c, &a, KV_ACC_READ_EXECUTE, err))) return rc;
  if (a.type == KV_TYPE_FILE) {
    kv_ls_entry_t *e = s_ls_add(out);
    if (!e) return rv_err_set(err, RV_ENOMEM, "ls: out of memory");
    size_t nl;
    const char *name = kv_path_name(&c->pa, c->pa.n - 1, &nl);
    if (pat && !kv_glob_match(pat, patlen, name, nl, false)) {
      out->n = 0;
      return RV_OK;
    }
    memcpy(e->name, name, nl);
    e->st = (kv_stat_t){.inode = ino, .attr = a, .count = s_count_of(&a)};
    return RV_OK;
  }
  if (salen > KV_NAME_MAX) {
    char shown[KV_SHOW_CAP];
    return rv_err_set(err, RV_EINVAL, "ls %s: start-after name of %zu bytes is longer than %d",
                      kv_show(shown, sizeof shown, path, len), salen, KV_NAME_MAX);
  }
  s_ls_t s = {.c = c,
              .after = salen ? start_after : NULL,
              .alen = salen,
              .limit = limit == 0          ? KV_LS_DEFAULT
                       : limit > KV_LS_MAX ? KV_LS_MAX
                                           : limit,
              .pat = pat,
              .patlen = patlen,
              .out = out,
              .err = err};
  char prefix[KV_NAME_MAX];
  size_t pl = pat ? kv_glob_prefix(pat, patlen, prefix, sizeof prefix) : 0;
  s.prefix_name = prefix;
  s.prefix_len = pl;
  uint8_t from[KV_KEY_MAX];
  size_t fl;
  /* start at the prefix unless the page to resume after is already past it */
  bool at_prefix = pl && (salen == 0 || memcmp(start_after, prefix, salen < pl ? salen : pl) < 0 ||
                          (memcmp(start_after, prefix, salen < pl ? salen : pl) == 0 && salen < pl));
  if (at_prefix) {
    s.after = NULL;
    fl = kv_key_dentry(from, ino, prefix, pl);
  } else {
    fl = kv_key_dentry(from, ino, start_after, salen);
  }
  memcpy(s.prefix, from, sizeof s.prefix);
  return kv_store_scan(c->store, from, fl, s_ls_one, &s, err);
}
