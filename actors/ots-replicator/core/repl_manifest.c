/* repl_manifest: the file backend's manifest as text and back (format in repl_manifest.h).
 * Pure: libc and rv_common. Decoding is defensive: every line is checked, numbers must be
 * plain decimal within range, the checksum must match, nothing may follow "end". */
#include "repl_manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repl_crc32c.h"

void repl_manifest_init(repl_manifest_t *m) { memset(m, 0, sizeof *m); }

void repl_manifest_close(repl_manifest_t *m) {
  free(m->files);
  memset(m, 0, sizeof *m);
}

int repl_manifest_copy(repl_manifest_t *dst, const repl_manifest_t *src, rv_err_t *err) {
  repl_manifest_close(dst);
  *dst = *src;
  dst->files = NULL;
  dst->cap = dst->nfiles = 0;
  if (!src->nfiles) return RV_OK;
  dst->files = malloc(src->nfiles * sizeof *dst->files);
  if (!dst->files) return rv_err_set(err, RV_ENOMEM, "out of memory copying a manifest");
  memcpy(dst->files, src->files, src->nfiles * sizeof *dst->files);
  dst->nfiles = dst->cap = src->nfiles;
  return RV_OK;
}

static bool s_name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n >= REPL_FILE_NAME_MAX || name[0] == '.') return false;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '.' || c == '_'))
      return false;
  }
  return true;
}

int repl_manifest_add(repl_manifest_t *m, char kind, const char *name, uint64_t size,
                      uint64_t records, rv_err_t *err) {
  if (kind != 'B' && kind != 'S')
    return rv_err_set(err, RV_EINVAL, "file kind '%c': expected B or S", kind);
  if (!s_name_ok(name)) return rv_err_set(err, RV_EINVAL, "file name \"%.80s\" is not valid", name);
  if (m->nfiles >= REPL_MANIFEST_FILES_MAX)
    return rv_err_set(err, RV_ETOOBIG, "a manifest holds at most %d files",
                      REPL_MANIFEST_FILES_MAX);
  if (m->nfiles == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    repl_mfile_t *f = realloc(m->files, cap * sizeof *f);
    if (!f) return rv_err_set(err, RV_ENOMEM, "out of memory growing a manifest");
    m->files = f;
    m->cap = cap;
  }
  repl_mfile_t *f = &m->files[m->nfiles++];
  memset(f, 0, sizeof *f);
  f->kind = kind;
  snprintf(f->name, sizeof f->name, "%s", name);
  f->size = size;
  f->records = records;
  return RV_OK;
}

size_t repl_manifest_count(const repl_manifest_t *m, char kind) {
  size_t n = 0;
  for (size_t i = 0; i < m->nfiles; i++) n += m->files[i].kind == kind;
  return n;
}

/* ---- encode ------------------------------------------------------------------------------- */

typedef struct {
  char *p;
  size_t len, cap;
  bool failed;
} s_out_t;

__attribute__((format(printf, 2, 3))) static void s_put(s_out_t *o, const char *fmt, ...) {
  if (o->failed) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p ? o->p + o->len : NULL, o->p ? o->cap - o->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
      o->failed = true;
      return;
    }
    if (o->p && o->len + (size_t)n < o->cap) {
      o->len += (size_t)n;
      return;
    }
    size_t cap = o->cap ? o->cap * 2 : 1024;
    while (cap < o->len + (size_t)n + 1) cap *= 2;
    char *q = realloc(o->p, cap);
    if (!q) {
      o->failed = true;
      return;
    }
    o->p = q;
    o->cap = cap;
  }
}

int repl_manifest_encode(const repl_manifest_t *m, char **out, size_t *len, rv_err_t *err) {
  const char *cid = m->meta.cluster_id;
  if (!cid[0] || strcspn(cid, " \t\r\n") != strlen(cid))
    return rv_err_set(err, RV_EINVAL, "cluster id \"%.80s\" is empty or holds whitespace", cid);
  s_out_t o = {0};
  s_put(&o, "rv-replica-manifest %d\n", REPL_MANIFEST_VERSION);
  s_put(&o, "seq %" PRIu64 "\n", m->seq);
  s_put(&o, "format %" PRIu32 "\n", m->meta.format);
  s_put(&o, "cluster %s\n", cid);
  s_put(&o, "synced_index %" PRIu64 "\n", m->meta.synced_index);
  s_put(&o, "term %" PRIu64 "\n", m->meta.term);
  s_put(&o, "generation %" PRIu64 "\n", m->meta.generation);
  s_put(&o, "updated_ms %" PRId64 "\n", m->meta.updated_ms);
  s_put(&o, "rows %" PRIu64 "\n", m->meta.rows);
  s_put(&o, "bytes %" PRIu64 "\n", m->meta.bytes);
  for (size_t i = 0; i < m->nfiles; i++)
    s_put(&o, "file %c %s %" PRIu64 " %" PRIu64 "\n", m->files[i].kind, m->files[i].name,
          m->files[i].size, m->files[i].records);
  if (!o.failed) {
    uint32_t crc = repl_crc32c(0, o.p, o.len);
    s_put(&o, "end crc32c %08" PRIx32 "\n", crc);
  }
  if (o.failed) {
    free(o.p);
    return rv_err_set(err, RV_ENOMEM, "out of memory encoding a manifest");
  }
  *out = o.p;
  *len = o.len;
  return RV_OK;
}

/* ---- decode ------------------------------------------------------------------------------- */

static bool s_u64(const char *s, uint64_t *v) {
  if (!*s || *s < '0' || *s > '9' || (s[0] == '0' && s[1])) return false;
  uint64_t x = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    unsigned d = (unsigned)(*s - '0');
    if (x > (UINT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  *v = x;
  return true;
}

bool repl_manifest_parse_name(const char *name, uint64_t *gen, uint64_t *term) {
  char g[24], t[24], hex[17];
  int used = 0;
  if (strlen(name) >= REPL_FILE_NAME_MAX) return false;
  if (sscanf(name, "g%23[0-9]-t%23[0-9]-%16[0-9a-f].rvs%n", g, t, hex, &used) != 3 ||
      (size_t)used != strlen(name) || strlen(hex) != 16)
    return false;
  return s_u64(g, gen) && s_u64(t, term);
}

int repl_manifest_decode(const char *text, size_t len, repl_manifest_t *m, rv_err_t *err) {
  repl_manifest_close(m);
  if (len == 0) return rv_err_set(err, RV_ECORRUPT, "empty manifest");
  if (memchr(text, '\0', len)) return rv_err_set(err, RV_ECORRUPT, "a NUL byte in the manifest");
  enum { F_SEQ, F_FORMAT, F_CLUSTER, F_SYNCED, F_TERM, F_GEN, F_UPDATED, F_ROWS, F_BYTES, F_N };
  static const char *names[F_N] = {"seq",        "format",     "cluster", "synced_index", "term",
                                   "generation", "updated_ms", "rows",    "bytes"};
  bool seen[F_N] = {false};
  bool ended = false;
  size_t pos = 0;
  int lineno = 0;
  char line[512];
  while (pos < len) {
    lineno++;
    const char *nl = memchr(text + pos, '\n', len - pos);
    if (!nl) {
      repl_manifest_close(m);
      return rv_err_set(err, RV_ECORRUPT, "line %d: no newline at the end (truncated?)", lineno);
    }
    size_t ll = (size_t)(nl - (text + pos));
    if (ended) {
      repl_manifest_close(m);
      return rv_err_set(err, RV_ECORRUPT, "line %d: text after the end line", lineno);
    }
    if (ll >= sizeof line) {
      repl_manifest_close(m);
      return rv_err_set(err, RV_ECORRUPT, "line %d: longer than %zu bytes", lineno,
                        sizeof line - 1);
    }
    memcpy(line, text + pos, ll);
    line[ll] = '\0';
    char key[32], a[256], b[64], c[64], d[64];
    int nf = sscanf(line, "%31s %255s %63s %63s %63s", key, a, b, c, d);
    int rc = RV_OK;
    if (lineno == 1) {
      if (nf != 2 || strcmp(key, "rv-replica-manifest") != 0)
        rc = rv_err_set(err, RV_ECORRUPT, "line 1: not a raftvisor replica manifest");
      else if (strcmp(a, "1") != 0)
        rc = rv_err_set(err, RV_ECORRUPT, "line 1: manifest version %s, this build reads 1", a);
    } else if (nf >= 1 && strcmp(key, "end") == 0) {
      uint32_t want = repl_crc32c(0, text, pos);
      char hex[16];
      snprintf(hex, sizeof hex, "%08" PRIx32, want);
      if (nf != 3 || strcmp(a, "crc32c") != 0)
        rc = rv_err_set(err, RV_ECORRUPT, "line %d: expected \"end crc32c HEX\"", lineno);
      else if (strcmp(b, hex) != 0)
        rc = rv_err_set(err, RV_ECORRUPT, "line %d: checksum %s, the content's is %s", lineno, b,
                        hex);
      ended = true;
    } else if (nf >= 1 && strcmp(key, "file") == 0) {
      uint64_t size, recs, g, t;
      if (nf != 5 || strlen(a) != 1 || !s_u64(c, &size) || !s_u64(d, &recs))
        rc = rv_err_set(err, RV_ECORRUPT, "line %d: expected \"file B|S NAME SIZE RECORDS\"",
                        lineno);
      else if (!repl_manifest_parse_name(b, &g, &t))
        rc = rv_err_set(err, RV_ECORRUPT, "line %d: \"%s\" is not a data file name", lineno, b);
      else if (repl_manifest_add(m, a[0], b, size, recs, err)) {
        rv_err_prefix(err, "line %d", lineno);
        rc = err ? (err->code = RV_ECORRUPT) : RV_ECORRUPT;
      }
    } else {
      int f = -1;
      for (int i = 0; i < F_N && nf >= 1; i++)
        if (strcmp(key, names[i]) == 0) f = i;
      uint64_t v = 0;
      if (f < 0)
        rc = rv_err_set(err, RV_ECORRUPT, "line %d: unknown key \"%.40s\"", lineno,
                        nf >= 1 ? key : "");
      else if (nf != 2)
        rc = rv_err_set(err, RV_ECORRUPT, "line %d: %s: expected one value", lineno, names[f]);
      else if (seen[f])
        rc = rv_err_set(err, RV_ECORRUPT, "line %d: %s given twice", lineno, names[f]);
      else if (f == F_CLUSTER) {
        if (strlen(a) >= REPL_CLUSTER_ID_MAX)
          rc = rv_err_set(err, RV_ECORRUPT, "line %d: cluster id too long", lineno);
        else
          memcpy(m->meta.cluster_id, a, strlen(a) + 1); /* length checked just above */
      } else if (!s_u64(a, &v) || (f == F_FORMAT && v > UINT32_MAX) ||
                 (f == F_UPDATED && v > INT64_MAX)) {
        rc = rv_err_set(err, RV_ECORRUPT, "line %d: %s: \"%.40s\" is not a number in range",
                        lineno, names[f], a);
      } else {
        switch (f) {
          case F_SEQ: m->seq = v; break;
          case F_FORMAT: m->meta.format = (uint32_t)v; break;
          case F_SYNCED: m->meta.synced_index = v; break;
          case F_TERM: m->meta.term = v; break;
          case F_GEN: m->meta.generation = v; break;
          case F_UPDATED: m->meta.updated_ms = (int64_t)v; break;
          case F_ROWS: m->meta.rows = v; break;
          case F_BYTES: m->meta.bytes = v; break;
        }
      }
      if (!rc && f >= 0) seen[f] = true;
    }
    if (rc) {
      repl_manifest_close(m);
      return RV_ECORRUPT;
    }
    pos += ll + 1;
  }
  if (!ended) {
    repl_manifest_close(m);
    return rv_err_set(err, RV_ECORRUPT, "no end line (truncated?)");
  }
  for (int i = 0; i < F_N; i++)
    if (!seen[i]) {
      repl_manifest_close(m);
      return rv_err_set(err, RV_ECORRUPT, "%s missing", names[i]);
    }
  return RV_OK;
}
