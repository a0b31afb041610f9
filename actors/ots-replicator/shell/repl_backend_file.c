/* repl_backend_file: the `file://` backend of the remote copy (repl_backend.h): a shared
 * directory (an NFS mount in production, as HDFS HA keeps its shared edits), no service needed.
 * I/O shell.
 *
 * Layout, under <endpoint dir>/<cluster id>/:
 *   manifest-<seq, 20 digits>   the meta row and the generation's data files (repl_manifest.h);
 *                               the highest seq is current; the last REPL_FILE_KEEP_MANIFESTS
 *                               are kept so that a reader at a recent meta can finish its scan
 *   g<gen>-t<term>-<rand>.rvs   immutable data files, sorted, checksummed (repl_file_seg.h)
 *   .tmp-*                      files being written (removed by their writer, or by tidy)
 * A commit, a claim and a compaction each create manifest-<seq+1> exclusively (write a
 * temporary file, fsync, link(2) to the name, fsync the directory): of two racing writers
 * exactly one wins; the other sees EEXIST, re-reads the latest manifest and checks its
 * condition again. The fencing rule is checked against that latest manifest: its term must not
 * be above the writer's (else RV_EFENCED), and an incremental write must find the generation and
 * synced_index it started from (else RV_ESTALE); a base write must not take the copy back to a
 * lower index unless the manifest's token is of a lower epoch (repl_backend.h). Terms are
 * fencing tokens (epoch << 32 | Raft term) here, in file names too.
 *
 * A write buffers rows (copied), sorts them, keeps the last of each key and writes them as a run
 * file whenever REPL_FILE_RUN_BYTES are buffered, and at commit: memory stays bounded however
 * big a base copy is. An incremental commit appends its runs to the generation's segments; a
 * base commit makes a new generation of its runs. A scan merges the generation's files in
 * order, newest winning, deletions hiding the key. Tidy compacts them into one base file and
 * removes files no kept manifest names (only files of terms up to the tidier's own, so that a
 * newer leader's file being written is never touched). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "repl_backend_int.h"
#include "repl_file_merge.h"
#include "repl_file_seg.h"
#include "repl_manifest.h"

#define REPL_FILE_RUN_BYTES (8u << 20)   /* a write's buffer is written as a run past this */
#define REPL_FILE_KEEP_MANIFESTS 16      /* manifests kept for readers of a recent meta */
#define REPL_FILE_COMPACT_FILES 16       /* tidy compacts once a generation has this many files */
#define REPL_FILE_COMMIT_TRIES 32        /* exclusive-create races lost before giving up */

typedef struct {
  repl_backend_t head;
  char dir[REPL_SEG_PATH_MAX];      /* <endpoint dir>/<cluster id> */
  char cluster[REPL_CLUSTER_ID_MAX];
  char describe[REPL_SEG_PATH_MAX + 16];
  const atomic_bool *cancel; /* repl_backend_cfg_t.cancel (borrowed; NULL: never) */
  /* a scan in progress, continued when the next call starts where it stopped */
  struct {
    repl_file_merge_t *merge;
    uint64_t generation, synced_index;
    uint8_t last[REPL_KEY_MAX];
    size_t last_len;
  } scan;
} s_file_t;

typedef struct {
  size_t koff, klen, voff, vlen, seq;
  bool deleted;
} s_brow_t;

typedef struct {
  repl_write_t head;
  s_file_t *b;
  uint64_t term, generation, from;
  bool base;
  uint8_t *arena;   /* buffered keys and values */
  size_t alen, acap;
  s_brow_t *rows;   /* buffered rows */
  size_t nrows, rcap;
  size_t seq;       /* put order, so that the last of a key wins */
  repl_manifest_t runs; /* the run files written so far (kind B or S) */
  uint64_t total_rows, total_bytes; /* put so far (the incremental bound) */
  uint64_t live_rows, live_bytes;   /* non-deleted rows and their bytes, as written */
} s_write_t;

static const repl_backend_ops_t s_ops;

static int64_t s_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t s_rand(void) {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    v = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&v;
  }
  return v;
}

/* ---- directory and manifests -------------------------------------------------------------- */

static int s_mkdir(const char *path, rv_err_t *err) {
  int e = repl_file_fault("mkdir", path);
  if (!e && mkdir(path, 0755) != 0 && errno != EEXIST) e = errno;
  if (e) return repl_file_errno(err, e, path, "mkdir");
  struct stat st;
  if (stat(path, &st) != 0) return repl_file_errno(err, errno, path, "stat");
  if (!S_ISDIR(st.st_mode)) return rv_err_set(err, RV_EINVAL, "%s: not a directory", path);
  return RV_OK;
}

/* The highest manifest seq in the directory (0: none). */
static int s_latest_seq(s_file_t *b, uint64_t *seq, rv_err_t *err) {
  *seq = 0;
  DIR *d = opendir(b->dir);
  if (!d) return repl_file_errno(err, errno, b->dir, "opendir");
  struct dirent *de;
  while ((de = readdir(d))) {
    unsigned long long v;
    int used = 0;
    if (sscanf(de->d_name, "manifest-%20llu%n", &v, &used) == 1 &&
        (size_t)used == strlen(de->d_name) && strlen(de->d_name) == 29 && v > *seq)
      *seq = v;
  }
  closedir(d);
  return RV_OK;
}

static void s_manifest_name(char *out, size_t len, uint64_t seq) {
  snprintf(out, len, "manifest-%020" PRIu64, seq);
}

/* Reads manifest seq into m. RV_ENOTFOUND when it is gone. */
static int s_read_manifest(s_file_t *b, uint64_t seq, repl_manifest_t *m, rv_err_t *err) {
  char name[40], path[REPL_SEG_PATH_MAX + 64];
  s_manifest_name(name, sizeof name, seq);
  snprintf(path, sizeof path, "%s/%s", b->dir, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return repl_file_errno(err, errno, path, "open");
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return repl_file_errno(err, e, path, "stat");
  }
  if (st.st_size > (off_t)(64u << 20)) {
    close(fd);
    return rv_err_set(err, RV_ECORRUPT, "%s: %lld bytes: too big for a manifest", path,
                      (long long)st.st_size);
  }
  size_t len = (size_t)st.st_size;
  char *text = malloc(len + 1);
  if (!text) {
    close(fd);
    return rv_err_set(err, RV_ENOMEM, "out of memory reading %s", path);
  }
  size_t got = 0;
  while (got < len) {
    ssize_t k = read(fd, text + got, len - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    got += (size_t)k;
  }
  close(fd);
  int rc = got == len ? repl_manifest_decode(text, len, m, err)
                      : rv_err_set(err, RV_EIO, "short read");
  free(text);
  if (rc) return rv_err_prefix(err, "%s", path);
  if (m->seq != seq)
    return rv_err_set(err, RV_ECORRUPT, "%s: says seq %" PRIu64 ", its name %" PRIu64, path,
                      m->seq, seq);
  if (strcmp(m->meta.cluster_id, b->cluster) != 0)
    return rv_err_set(err, RV_ECORRUPT, "%s: belongs to cluster \"%s\", not \"%s\"", path,
                      m->meta.cluster_id, b->cluster);
  return RV_OK;
}

/* The latest manifest; RV_ENOTFOUND (with m->seq 0) when there is none. A manifest removed
 * between listing and reading (tidy of another node) is looked up again. */
static int s_latest(s_file_t *b, repl_manifest_t *m, rv_err_t *err) {
  for (int tries = 0; tries < 8; tries++) {
    uint64_t seq;
    int rc = s_latest_seq(b, &seq, err);
    if (rc) return rc;
    repl_manifest_close(m);
    if (seq == 0)
      return rv_err_set(err, RV_ENOTFOUND, "%s: no manifest: nothing was ever uploaded", b->dir);
    rc = s_read_manifest(b, seq, m, err);
    if (rc != RV_ENOTFOUND) return rc;
  }
  return rv_err_set(err, RV_EIO, "%s: the latest manifest keeps disappearing", b->dir);
}

/* Creates manifest m->seq exclusively. RV_EEXIST when another writer made it first. */
static int s_commit_manifest(s_file_t *b, const repl_manifest_t *m, rv_err_t *err) {
  char *text;
  size_t len;
  int rc = repl_manifest_encode(m, &text, &len, err);
  if (rc) return rc;
  char name[40], tmp[64];
  s_manifest_name(name, sizeof name, m->seq);
  snprintf(tmp, sizeof tmp, ".tmp-manifest-%016" PRIx64, s_rand());
  rc = repl_file_put_whole(b->dir, tmp, name, text, len, true, err);
  free(text);
  return rc;
}

static void s_fresh(s_file_t *b, repl_manifest_t *m) {
  repl_manifest_init(m);
  m->meta.format = REPL_FORMAT;
  snprintf(m->meta.cluster_id, sizeof m->meta.cluster_id, "%s", b->cluster);
}

/* ---- open, close, meta, claim ------------------------------------------------------------- */

repl_backend_t *repl_backend_file_open(const repl_backend_cfg_t *cfg, rv_err_t *err) {
  const char *path = cfg->endpoint + 7; /* after file:// */
  if (strncmp(path, "localhost/", 10) == 0) path += 9;
  if (path[0] != '/') {
    rv_err_set(err, RV_EINVAL, "ots.endpoint \"%.200s\": expected file:///absolute/dir",
               cfg->endpoint);
    return NULL;
  }
  const char *cid = cfg->cluster_id;
  if (strlen(cid) >= REPL_CLUSTER_ID_MAX || strchr(cid, '/') || cid[0] == '.' ||
      strcspn(cid, " \t\r\n") != strlen(cid)) {
    rv_err_set(err, RV_EINVAL, "cluster id \"%.80s\" cannot name a directory", cid);
    return NULL;
  }
  s_file_t *b = calloc(1, sizeof *b);
  if (!b) {
    rv_err_set(err, RV_ENOMEM, "out of memory opening %s", cfg->endpoint);
    return NULL;
  }
  b->head.ops = &s_ops;
  b->cancel = cfg->cancel;
  snprintf(b->cluster, sizeof b->cluster, "%s", cid);
  char root[REPL_SEG_PATH_MAX];
  snprintf(root, sizeof root, "%s", path);
  size_t n = strlen(root);
  while (n > 1 && root[n - 1] == '/') root[--n] = '\0';
  int w = snprintf(b->dir, sizeof b->dir, "%s/%s", root, cid);
  if (w < 0 || (size_t)w >= sizeof b->dir - 64) {
    rv_err_set(err, RV_EINVAL, "ots.endpoint %s: path too long", cfg->endpoint);
    free(b);
    return NULL;
  }
  snprintf(b->describe, sizeof b->describe, "file %s", b->dir);
  /* the endpoint's directory is the shared mount: it must exist (a missing mount must not be
   * papered over by a local directory); the cluster's folder in it is created when absent */
  struct stat st;
  if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
    int e = errno;
    if (stat(root, &st) == 0)
      rv_err_set(err, RV_EINVAL, "ots.endpoint %s: %s is not a directory", cfg->endpoint, root);
    else
      rv_err_set(err, e == ENOENT ? RV_EUNAVAIL : RV_EIO,
                 "ots.endpoint %s: %s: %s (is the shared directory mounted?)", cfg->endpoint,
                 root, strerror(e));
    free(b);
    return NULL;
  }
  if (s_mkdir(b->dir, err)) {
    free(b);
    return NULL;
  }
  return &b->head;
}

static void s_close(repl_backend_t *h) {
  s_file_t *b = (s_file_t *)h;
  repl_file_merge_close(&b->scan.merge);
  free(b);
}

static const char *s_describe(const repl_backend_t *h) { return ((const s_file_t *)h)->describe; }

static int s_read_meta(repl_backend_t *h, repl_meta_t *meta, rv_err_t *err) {
  s_file_t *b = (s_file_t *)h;
  repl_manifest_t m;
  repl_manifest_init(&m);
  int rc = s_latest(b, &m, err);
  if (!rc) *meta = m.meta;
  repl_manifest_close(&m);
  return rc;
}

static int s_fenced(s_file_t *b, const repl_manifest_t *m, uint64_t term, rv_err_t *err) {
  char t1[REPL_TOKEN_STR_MAX], t2[REPL_TOKEN_STR_MAX];
  return rv_err_set(err, RV_EFENCED,
                    "%s: term %s holds the remote copy (manifest %" PRIu64
                    "), above this writer's %s",
                    b->dir, repl_token_str(m->meta.term, t1), m->seq, repl_token_str(term, t2));
}

static int s_claim(repl_backend_t *h, uint64_t term, repl_meta_t *meta, rv_err_t *err) {
  s_file_t *b = (s_file_t *)h;
  repl_manifest_t m;
  repl_manifest_init(&m);
  int rc = RV_OK;
  for (int tries = 0; tries < REPL_FILE_COMMIT_TRIES; tries++) {
    rc = s_latest(b, &m, err);
    if (rc == RV_ENOTFOUND) s_fresh(b, &m);
    else if (rc) break;
    if (m.meta.term > term) {
      rc = s_fenced(b, &m, term, err);
      break;
    }
    if (m.seq && m.meta.term == term) { /* already ours (a restarted replicator) */
      rc = RV_OK;
      break;
    }
    m.seq++;
    m.meta.term = term;
    rc = s_commit_manifest(b, &m, err);
    if (rc != RV_EEXIST) break;
  }
  if (!rc) *meta = m.meta;
  repl_manifest_close(&m);
  return rc;
}

/* ---- writes ------------------------------------------------------------------------------- */

static repl_write_t *s_write_begin(repl_backend_t *h, uint64_t term, bool base,
                                   uint64_t generation, uint64_t from_index, rv_err_t *err) {
  s_file_t *b = (s_file_t *)h;
  s_write_t *w = calloc(1, sizeof *w);
  if (!w) {
    rv_err_set(err, RV_ENOMEM, "out of memory starting a write to %s", b->dir);
    return NULL;
  }
  w->b = b;
  w->term = term;
  w->base = base;
  w->generation = base ? generation + 1 : generation;
  w->from = from_index;
  repl_manifest_init(&w->runs);
  return &w->head;
}

static void s_unlink_runs(s_write_t *w) {
  for (size_t i = 0; i < w->runs.nfiles; i++) {
    char path[REPL_SEG_PATH_MAX + 320];
    snprintf(path, sizeof path, "%s/%s", w->b->dir, w->runs.files[i].name);
    unlink(path);
  }
  w->runs.nfiles = 0;
}

static void s_write_free(s_write_t *w) {
  free(w->arena);
  free(w->rows);
  repl_manifest_close(&w->runs);
  free(w);
}

static void s_write_abort(repl_write_t *h) {
  s_write_t *w = (s_write_t *)h;
  s_unlink_runs(w);
  s_write_free(w);
}

/* qsort has no argument: the write being sorted, per thread */
static __thread const s_write_t *s_sorting;

static int s_row_cmp(const void *pa, const void *pb) {
  const s_brow_t *a = pa, *b = pb;
  const uint8_t *ar = s_sorting->arena;
  size_t m = a->klen < b->klen ? a->klen : b->klen;
  int c = memcmp(ar + a->koff, ar + b->koff, m);
  if (!c) c = (a->klen > b->klen) - (a->klen < b->klen);
  if (!c) c = (a->seq > b->seq) - (a->seq < b->seq);
  return c;
}

/* Writes the buffered rows as one sorted run file. */
/* RV_ECLOSED when the owner asked blocking calls to give up (repl_backend_cfg_t.cancel): checked
 * before each file is written and before a commit, so a stop waits at most for one file. */
static int s_check_cancel(const s_file_t *b, const char *what, rv_err_t *err) {
  if (!b->cancel || !atomic_load(b->cancel)) return RV_OK;
  return rv_err_set(err, RV_ECLOSED, "%s: %s cancelled (the replicator is stopping)", b->dir, what);
}

static int s_flush_run(s_write_t *w, rv_err_t *err) {
  if (!w->nrows) return RV_OK;
  int crc = s_check_cancel(w->b, "writing a run file", err);
  if (crc) return crc;
  s_sorting = w;
  qsort(w->rows, w->nrows, sizeof *w->rows, s_row_cmp);
  s_sorting = NULL;
  char tmp[64], name[REPL_FILE_NAME_MAX];
  uint64_t r = s_rand();
  snprintf(tmp, sizeof tmp, ".tmp-t%" PRIu64 "-%016" PRIx64, w->term, r);
  snprintf(name, sizeof name, "g%" PRIu64 "-t%" PRIu64 "-%016" PRIx64 ".rvs", w->generation,
           w->term, r);
  repl_seg_writer_t *sw;
  int rc = repl_seg_writer_open(w->b->dir, tmp, &sw, err);
  if (rc) return rc;
  for (size_t i = 0; i < w->nrows && !rc; i++) {
    const s_brow_t *row = &w->rows[i];
    if (i + 1 < w->nrows && w->rows[i + 1].klen == row->klen &&
        memcmp(w->arena + w->rows[i + 1].koff, w->arena + row->koff, row->klen) == 0)
      continue; /* a later put of the same key wins */
    if (w->base && row->deleted) continue; /* nothing below a base to hide */
    rc = repl_seg_writer_add(sw, w->arena + row->koff, row->klen,
                             row->deleted ? NULL : w->arena + row->voff, row->vlen, row->deleted,
                             err);
    if (!rc && !row->deleted) {
      w->live_rows++;
      w->live_bytes += row->klen + row->vlen;
    }
  }
  if (rc) {
    repl_seg_writer_abort(&sw);
    return rc;
  }
  if (repl_seg_writer_records(sw) == 0) { /* a base run of deletions only */
    repl_seg_writer_abort(&sw);
  } else {
    uint64_t size, recs;
    rc = repl_seg_writer_finish(&sw, name, &size, &recs, err);
    if (!rc) rc = repl_manifest_add(&w->runs, w->base ? 'B' : 'S', name, size, recs, err);
  }
  w->nrows = 0;
  w->alen = 0;
  return rc;
}

static int s_write_put(repl_write_t *h, const repl_row_t *rows, size_t n, rv_err_t *err) {
  s_write_t *w = (s_write_t *)h;
  for (size_t i = 0; i < n; i++) {
    const repl_row_t *r = &rows[i];
    if (r->klen == 0 || r->klen > REPL_KEY_MAX)
      return rv_err_set(err, RV_EINVAL, "a row key of %zu bytes (1..%d)", r->klen, REPL_KEY_MAX);
    size_t vlen = r->deleted ? 0 : r->vlen;
    if (!w->base && (w->total_rows + 1 > REPL_TXN_MAX_ROWS ||
                     w->total_bytes + r->klen + vlen > REPL_TXN_MAX_BYTES))
      return rv_err_set(err, RV_ETOOBIG,
                        "%s: an incremental write holds at most %d rows and %u bytes: write a "
                        "base copy instead", w->b->dir, REPL_TXN_MAX_ROWS, REPL_TXN_MAX_BYTES);
    if (w->alen + r->klen + vlen > REPL_FILE_RUN_BYTES && w->nrows) {
      int rc = s_flush_run(w, err);
      if (rc) return rc;
    }
    if (w->nrows == w->rcap) {
      size_t cap = w->rcap ? w->rcap * 2 : 1024;
      s_brow_t *p = realloc(w->rows, cap * sizeof *p);
      if (!p) return rv_err_set(err, RV_ENOMEM, "out of memory buffering a write");
      w->rows = p;
      w->rcap = cap;
    }
    if (w->alen + r->klen + vlen > w->acap) {
      size_t cap = w->acap ? w->acap : 65536;
      while (cap < w->alen + r->klen + vlen) cap *= 2;
      uint8_t *p = realloc(w->arena, cap);
      if (!p) return rv_err_set(err, RV_ENOMEM, "out of memory buffering a write");
      w->arena = p;
      w->acap = cap;
    }
    s_brow_t *row = &w->rows[w->nrows++];
    row->koff = w->alen;
    row->klen = r->klen;
    memcpy(w->arena + w->alen, r->key, r->klen);
    w->alen += r->klen;
    row->voff = w->alen;
    row->vlen = vlen;
    if (vlen) memcpy(w->arena + w->alen, r->val, vlen);
    w->alen += vlen;
    row->deleted = r->deleted;
    row->seq = w->seq++;
    w->total_rows++;
    w->total_bytes += r->klen + vlen;
  }
  return RV_OK;
}

static int s_write_commit(repl_write_t *h, uint64_t to_index, repl_meta_t *meta, rv_err_t *err) {
  s_write_t *w = (s_write_t *)h;
  s_file_t *b = w->b;
  int rc = s_flush_run(w, err);
  if (!rc) rc = s_check_cancel(b, "the commit", err);
  repl_manifest_t m;
  repl_manifest_init(&m);
  for (int tries = 0; !rc && tries < REPL_FILE_COMMIT_TRIES; tries++) {
    rc = s_latest(b, &m, err);
    if (rc == RV_ENOTFOUND) s_fresh(b, &m);
    else if (rc) break;
    if (m.meta.term > w->term) {
      rc = s_fenced(b, &m, w->term, err);
      break;
    }
    if (w->base) {
      /* the copy never goes back within an epoch; a lower epoch's index counts another
       * cluster's log (repl_backend.h) */
      if (m.meta.synced_index > to_index &&
          repl_token_epoch(m.meta.term) >= repl_token_epoch(w->term)) {
        rc = rv_err_set(err, RV_ESTALE,
                        "%s: the remote copy is at index %" PRIu64 ", past this base copy's %" PRIu64,
                        b->dir, m.meta.synced_index, to_index);
        break;
      }
      m.meta.generation = (m.meta.generation >= w->generation ? m.meta.generation : w->generation - 1) + 1;
      m.nfiles = 0;
      m.meta.rows = w->live_rows;
      m.meta.bytes = w->live_bytes;
    } else {
      if (m.meta.generation != w->generation || m.meta.synced_index != w->from) {
        rc = rv_err_set(err, RV_ESTALE,
                        "%s: the remote copy moved to generation %" PRIu64 " index %" PRIu64
                        " (manifest %" PRIu64 "); this write started from generation %" PRIu64
                        " index %" PRIu64,
                        b->dir, m.meta.generation, m.meta.synced_index, m.seq, w->generation,
                        w->from);
        break;
      }
      if (to_index < w->from) {
        rc = rv_err_set(err, RV_EINVAL, "commit to index %" PRIu64 " below the start %" PRIu64,
                        to_index, w->from);
        break;
      }
      m.meta.rows += w->live_rows; /* an upper bound until a compaction counts them */
      m.meta.bytes += w->live_bytes;
    }
    for (size_t i = 0; i < w->runs.nfiles && !rc; i++)
      rc = repl_manifest_add(&m, w->runs.files[i].kind, w->runs.files[i].name,
                             w->runs.files[i].size, w->runs.files[i].records, err);
    if (rc) break;
    m.seq++;
    m.meta.format = REPL_FORMAT;
    m.meta.term = w->term;
    m.meta.synced_index = to_index;
    m.meta.updated_ms = s_wall_ms();
    rc = s_commit_manifest(b, &m, err);
    if (rc != RV_EEXIST) break;
    rc = RV_OK; /* lost a race: check the condition against the winner's manifest */
  }
  if (rc == RV_EEXIST)
    rc = rv_err_set(err, RV_EBUSY, "%s: lost %d commit races in a row", b->dir,
                    REPL_FILE_COMMIT_TRIES);
  if (!rc) *meta = m.meta;
  else s_unlink_runs(w);
  repl_manifest_close(&m);
  s_write_free(w);
  return rc;
}

/* ---- tidy: compaction and garbage --------------------------------------------------------- */

static bool s_named(const repl_manifest_t *kept, size_t nkept, const char *name) {
  for (size_t k = 0; k < nkept; k++)
    for (size_t i = 0; i < kept[k].nfiles; i++)
      if (strcmp(kept[k].files[i].name, name) == 0) return true;
  return false;
}

/* Merges the generation's files into one base file and commits it as manifest seq+1 (same meta,
 * exact row counts); or, segs_only, merges only its segments into one segment (deletions kept:
 * they still hide base rows) after the unchanged base files, so that the file count stays
 * bounded at a cost proportional to the segments, not to the whole copy (the base is rewritten
 * only when the segments outweigh it: amortised, each row is rewritten a bounded number of
 * times). Losing the race to another writer is no error: it is tried again later. */
static int s_compact(s_file_t *b, const repl_manifest_t *m, bool segs_only, bool *more,
                     rv_err_t *err) {
  repl_file_merge_t *g;
  repl_manifest_t src; /* what is merged: every file, or the segments alone */
  repl_manifest_init(&src);
  int rc = s_check_cancel(b, "a compaction", err);
  if (!rc) rc = repl_manifest_copy(&src, m, err);
  if (!rc && segs_only) {
    src.nfiles = 0;
    for (size_t i = 0; i < m->nfiles && !rc; i++)
      if (m->files[i].kind == 'S')
        rc = repl_manifest_add(&src, 'S', m->files[i].name, m->files[i].size,
                               m->files[i].records, err);
  }
  if (!rc) rc = repl_file_merge_open(b->dir, &src, NULL, 0, &g, err);
  repl_manifest_close(&src);
  if (rc) return rc;
  char tmp[64], name[REPL_FILE_NAME_MAX];
  uint64_t r = s_rand();
  snprintf(tmp, sizeof tmp, ".tmp-t%" PRIu64 "-%016" PRIx64, m->meta.term, r);
  snprintf(name, sizeof name, "g%" PRIu64 "-t%" PRIu64 "-%016" PRIx64 ".rvs", m->meta.generation,
           m->meta.term, r);
  repl_seg_writer_t *sw;
  rc = repl_seg_writer_open(b->dir, tmp, &sw, err);
  uint64_t rows = 0, bytes = 0;
  for (uint64_t k = 0; !rc; k++) {
    repl_seg_rec_t rec;
    bool eof;
    if ((k & 4095) == 4095 && (rc = s_check_cancel(b, "a compaction", err))) break;
    rc = repl_file_merge_next(g, &rec, &eof, err);
    if (rc || eof) break;
    if (rec.deleted && !segs_only) continue;
    rc = repl_seg_writer_add(sw, rec.key, rec.klen, rec.deleted ? NULL : rec.val,
                             rec.deleted ? 0 : rec.vlen, rec.deleted, err);
    if (rec.deleted) continue;
    rows++;
    bytes += rec.klen + rec.vlen;
  }
  repl_file_merge_close(&g);
  repl_manifest_t nm;
  repl_manifest_init(&nm);
  if (!rc) rc = repl_manifest_copy(&nm, m, err);
  bool wrote = false;
  if (!rc) {
    nm.nfiles = 0;
    nm.seq++;
    if (segs_only) { /* the base files stay; the counts stay estimates */
      for (size_t i = 0; i < m->nfiles && !rc; i++)
        if (m->files[i].kind == 'B')
          rc = repl_manifest_add(&nm, 'B', m->files[i].name, m->files[i].size,
                                 m->files[i].records, err);
    } else {
      nm.meta.rows = rows;
      nm.meta.bytes = bytes;
    }
    if (!rc && repl_seg_writer_records(sw) > 0) {
      uint64_t size, recs;
      rc = repl_seg_writer_finish(&sw, name, &size, &recs, err);
      if (!rc) rc = repl_manifest_add(&nm, segs_only ? 'S' : 'B', name, size, recs, err);
      wrote = !rc;
    }
  }
  repl_seg_writer_abort(&sw);
  if (!rc) {
    rc = s_commit_manifest(b, &nm, err);
    if (rc == RV_EEXIST) { /* someone committed meanwhile: our file is garbage now */
      char path[REPL_SEG_PATH_MAX + 320];
      snprintf(path, sizeof path, "%s/%s", b->dir, name);
      if (wrote) unlink(path);
      *more = true;
      rc = RV_OK;
    }
  }
  repl_manifest_close(&nm);
  return rc;
}

static int s_tidy(repl_backend_t *h, uint64_t term, bool *more, rv_err_t *err) {
  s_file_t *b = (s_file_t *)h;
  repl_manifest_t m;
  repl_manifest_init(&m);
  int rc = s_latest(b, &m, err);
  if (rc) {
    repl_manifest_close(&m);
    return rc == RV_ENOTFOUND ? RV_OK : rc;
  }
  if (m.meta.term > term) {
    rc = s_fenced(b, &m, term, err);
    repl_manifest_close(&m);
    return rc;
  }
  uint64_t sbytes = 0, bbytes = 0;
  for (size_t i = 0; i < m.nfiles; i++) *(m.files[i].kind == 'S' ? &sbytes : &bbytes) += m.files[i].size;
  size_t nsegs = repl_manifest_count(&m, 'S');
  bool full = m.nfiles > 1 && sbytes >= bbytes;
  if (full || (m.nfiles >= REPL_FILE_COMPACT_FILES && nsegs > 1)) {
    repl_file_merge_close(&b->scan.merge); /* its files may go */
    rc = s_compact(b, &m, !full, more, err);
    if (!rc) rc = s_latest(b, &m, err);
    if (rc) {
      repl_manifest_close(&m);
      return rc;
    }
  }
  /* garbage: what no kept manifest names; data and temporary files only up to our term */
  repl_manifest_t kept[REPL_FILE_KEEP_MANIFESTS];
  size_t nkept = 0;
  uint64_t latest = m.seq;
  kept[nkept++] = m; /* moved: m is not closed below */
  for (uint64_t s = latest - 1; s > 0 && latest - s < REPL_FILE_KEEP_MANIFESTS; s--) {
    repl_manifest_init(&kept[nkept]);
    rv_err_t e2;
    if (s_read_manifest(b, s, &kept[nkept], &e2) == RV_OK) nkept++;
    else repl_manifest_close(&kept[nkept]);
  }
  bool own = kept[0].meta.term == term && !b->head.open_write;
  DIR *d = opendir(b->dir);
  if (!d) rc = repl_file_errno(err, errno, b->dir, "opendir");
  struct dirent *de;
  time_t now = time(NULL);
  while (d && (de = readdir(d))) {
    const char *n = de->d_name;
    char path[REPL_SEG_PATH_MAX + 320];
    snprintf(path, sizeof path, "%s/%s", b->dir, n);
    unsigned long long seq, t;
    uint64_t g, ft;
    int used = 0;
    bool drop = false;
    if (sscanf(n, "manifest-%20llu%n", &seq, &used) == 1 && (size_t)used == strlen(n)) {
      drop = seq + REPL_FILE_KEEP_MANIFESTS <= latest;
    } else if (repl_manifest_parse_name(n, &g, &ft)) {
      drop = !s_named(kept, nkept, n) && (ft < term || (ft == term && own));
    } else if (sscanf(n, ".tmp-t%llu-", &t) == 1) {
      drop = t < term || (t == term && own);
    } else if (strncmp(n, ".tmp-manifest-", 14) == 0) {
      struct stat st;
      drop = stat(path, &st) == 0 && now - st.st_mtime > 600; /* a writer died mid-commit */
    }
    if (drop) unlink(path); /* best effort: what fails is tried again at the next tidy */
  }
  if (d) closedir(d);
  for (size_t k = 0; k < nkept; k++) repl_manifest_close(&kept[k]);
  return rc;
}

/* ---- scan --------------------------------------------------------------------------------- */

/* The newest kept manifest whose meta is (generation, synced_index) of meta. RV_ESTALE when none
 * is kept any more. */
static int s_find(s_file_t *b, const repl_meta_t *meta, repl_manifest_t *m, rv_err_t *err) {
  int rc = s_latest(b, m, err);
  if (rc) return rc;
  uint64_t latest = m->seq;
  for (uint64_t s = latest; s > 0 && latest - s < REPL_FILE_KEEP_MANIFESTS; s--) {
    if (s != latest) {
      rc = s_read_manifest(b, s, m, err);
      if (rc == RV_ENOTFOUND) continue;
      if (rc) return rc;
    }
    if (m->meta.generation == meta->generation && m->meta.synced_index == meta->synced_index)
      return RV_OK;
    if (m->meta.generation < meta->generation) break;
  }
  repl_manifest_close(m);
  return rv_err_set(err, RV_ESTALE,
                    "%s: generation %" PRIu64 " at index %" PRIu64
                    " is no longer kept (the remote copy moved on): read the meta row again",
                    b->dir, meta->generation, meta->synced_index);
}

static int s_scan(repl_backend_t *h, const repl_meta_t *meta, const uint8_t *after, size_t alen,
                  size_t max_rows, repl_row_fn fn, void *arg, uint8_t *last_key, size_t *last_len,
                  bool *done, rv_err_t *err) {
  s_file_t *b = (s_file_t *)h;
  bool cont = b->scan.merge && b->scan.generation == meta->generation &&
              b->scan.synced_index == meta->synced_index && b->scan.last_len == alen &&
              (alen == 0 || memcmp(b->scan.last, after, alen) == 0);
  int rc = RV_OK;
  if (!cont) {
    repl_file_merge_close(&b->scan.merge);
    for (int tries = 0; tries < 2; tries++) {
      repl_manifest_t m;
      repl_manifest_init(&m);
      rc = s_find(b, meta, &m, err);
      if (!rc) rc = repl_file_merge_open(b->dir, &m, after, alen, &b->scan.merge, err);
      repl_manifest_close(&m);
      if (rc != RV_ENOTFOUND) break; /* a file went: a compaction; look again once */
    }
    if (rc == RV_ENOTFOUND)
      rc = rv_err_set(err, RV_ESTALE, "%s: the files of generation %" PRIu64
                      " were replaced during the scan: read the meta row again", b->dir,
                      meta->generation);
    if (rc) return rc;
    b->scan.generation = meta->generation;
    b->scan.synced_index = meta->synced_index;
  }
  size_t n = 0;
  while (n < max_rows) {
    repl_seg_rec_t rec;
    bool eof;
    rc = repl_file_merge_next(b->scan.merge, &rec, &eof, err);
    if (rc) break;
    if (eof) {
      *done = true;
      break;
    }
    if (rec.deleted) continue;
    repl_row_t row = {rec.key, rec.klen, rec.val, rec.vlen, false};
    memcpy(last_key, rec.key, rec.klen);
    *last_len = rec.klen;
    memcpy(b->scan.last, rec.key, rec.klen);
    b->scan.last_len = rec.klen;
    n++;
    rc = fn(arg, &row);
    if (rc) break;
  }
  if (rc || *done) repl_file_merge_close(&b->scan.merge);
  return rc;
}

static const repl_backend_ops_t s_ops = {
    .scheme = "file",
    .close = s_close,
    .describe = s_describe,
    .read_meta = s_read_meta,
    .claim = s_claim,
    .write_begin = s_write_begin,
    .write_put = s_write_put,
    .write_commit = s_write_commit,
    .write_abort = s_write_abort,
    .tidy = s_tidy,
    .scan = s_scan,
};
