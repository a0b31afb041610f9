/* repl_file_seg: the file backend's data files (format in repl_file_seg.h) and its atomic
 * file steps (write to a temporary name, fsync, rename or exclusive link, fsync the directory).
 * I/O shell: POSIX files, with a fault hook in front of every step so that the tests reach
 * every error path (ENOSPC, EIO) without a full disk. */
#include "repl_file_seg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repl_crc32c.h"

#define S_HEADER "RVSEG001"
#define S_TRAILER "RVSEGEND"
#define S_FOOTER_LEN 40
#define S_REC_HEAD 13 /* crc 4, flags 1, klen 4, vlen 4 */
#define S_WBUF (256u << 10)

/* ---- faults and errors -------------------------------------------------------------------- */

static repl_file_fault_fn *s_fault_fn;
static void *s_fault_arg;

void repl_file_set_fault(repl_file_fault_fn *fn, void *arg) {
  s_fault_fn = fn;
  s_fault_arg = arg;
}

int repl_file_fault(const char *op, const char *path) {
  return s_fault_fn ? s_fault_fn(s_fault_arg, op, path) : 0;
}

int repl_file_errno(rv_err_t *err, int e, const char *path, const char *op) {
  int code = e == ENOSPC || e == EDQUOT ? RV_ENOSPACE
             : e == EACCES || e == EPERM || e == EROFS ? RV_EPERM
             : e == ENOENT                              ? RV_ENOTFOUND
                                                        : RV_EIO;
  return rv_err_set(err, code, "%s: %s: %s", path, op, strerror(e));
}

static void s_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static void s_be64(uint8_t *p, uint64_t v) {
  s_be32(p, (uint32_t)(v >> 32));
  s_be32(p + 4, (uint32_t)v);
}
static uint32_t s_get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t s_get64(const uint8_t *p) { return (uint64_t)s_get32(p) << 32 | s_get32(p + 4); }

static int s_path(char *out, const char *dir, const char *name, rv_err_t *err) {
  int n = snprintf(out, REPL_SEG_PATH_MAX, "%s/%s", dir, name);
  if (n < 0 || n >= REPL_SEG_PATH_MAX)
    return rv_err_set(err, RV_EINVAL, "%s/%s: path too long", dir, name);
  return RV_OK;
}

static int s_write_all(int fd, const void *p, size_t n, const char *path, rv_err_t *err) {
  int e = repl_file_fault("write", path);
  if (e) return repl_file_errno(err, e, path, "write");
  const uint8_t *b = p;
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return repl_file_errno(err, errno, path, "write");
    b += w;
    n -= (size_t)w;
  }
  return RV_OK;
}

static int s_fsync(int fd, const char *path, rv_err_t *err) {
  int e = repl_file_fault("fsync", path);
  if (!e && fsync(fd) != 0) e = errno;
  return e ? repl_file_errno(err, e, path, "fsync") : RV_OK;
}

int repl_file_sync_dir(const char *dir, rv_err_t *err) {
  int e = repl_file_fault("fsync", dir);
  if (e) return repl_file_errno(err, e, dir, "fsync");
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return repl_file_errno(err, errno, dir, "open");
  int rc = fsync(fd) == 0 || errno == EINVAL ? RV_OK : repl_file_errno(err, errno, dir, "fsync");
  close(fd);
  return rc;
}

int repl_file_put_whole(const char *dir, const char *tmpname, const char *name, const void *data,
                        size_t len, bool exclusive, rv_err_t *err) {
  char tmp[REPL_SEG_PATH_MAX], dst[REPL_SEG_PATH_MAX];
  int rc = s_path(tmp, dir, tmpname, err);
  if (!rc) rc = s_path(dst, dir, name, err);
  if (rc) return rc;
  int e = repl_file_fault("open", tmp);
  int fd = e ? -1 : open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return repl_file_errno(err, e ? e : errno, tmp, "create");
  rc = s_write_all(fd, data, len, tmp, err);
  if (!rc) rc = s_fsync(fd, tmp, err);
  close(fd);
  if (!rc) {
    const char *op = exclusive ? "link" : "rename";
    e = repl_file_fault(op, dst);
    if (!e && (exclusive ? link(tmp, dst) : rename(tmp, dst)) != 0) e = errno;
    if (e == EEXIST && exclusive)
      rc = rv_err_set(err, RV_EEXIST, "%s: another writer created it first", dst);
    else if (e)
      rc = repl_file_errno(err, e, dst, op);
  }
  unlink(tmp); /* after a link: the name stays; after a rename: already gone */
  if (!rc) rc = repl_file_sync_dir(dir, err);
  return rc;
}

/* ---- writer ------------------------------------------------------------------------------- */

struct repl_seg_writer {
  char dir[REPL_SEG_PATH_MAX];
  char tmp[REPL_SEG_PATH_MAX];
  int fd;
  uint8_t *buf;
  size_t blen;
  uint64_t off;      /* file offset of buf[0] + blen: bytes written so far, buffered included */
  uint64_t records;
  uint8_t *last;     /* the last key, for the order check */
  size_t last_len, last_cap;
  uint8_t *index;    /* the index block being built */
  size_t ilen, icap;
};

static int s_flush(repl_seg_writer_t *w, rv_err_t *err) {
  int rc = s_write_all(w->fd, w->buf, w->blen, w->tmp, err);
  w->blen = 0;
  return rc;
}

static int s_put(repl_seg_writer_t *w, const void *p, size_t n, rv_err_t *err) {
  const uint8_t *b = p;
  while (n) {
    if (w->blen == S_WBUF) {
      int rc = s_flush(w, err);
      if (rc) return rc;
    }
    size_t k = S_WBUF - w->blen < n ? S_WBUF - w->blen : n;
    memcpy(w->buf + w->blen, b, k);
    w->blen += k;
    w->off += k;
    b += k;
    n -= k;
  }
  return RV_OK;
}

static bool s_grow(uint8_t **p, size_t *cap, size_t need) {
  if (need <= *cap) return true;
  size_t c = *cap ? *cap : 256;
  while (c < need) c *= 2;
  uint8_t *q = realloc(*p, c);
  if (!q) return false;
  *p = q;
  *cap = c;
  return true;
}

int repl_seg_writer_open(const char *dir, const char *tmpname, repl_seg_writer_t **out,
                         rv_err_t *err) {
  *out = NULL;
  repl_seg_writer_t *w = calloc(1, sizeof *w);
  if (!w || !(w->buf = malloc(S_WBUF))) {
    free(w);
    return rv_err_set(err, RV_ENOMEM, "out of memory opening a data file");
  }
  w->fd = -1;
  snprintf(w->dir, sizeof w->dir, "%s", dir);
  int rc = s_path(w->tmp, dir, tmpname, err);
  int e = rc ? 0 : repl_file_fault("open", w->tmp);
  if (!rc && !e) w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (!rc && w->fd < 0) rc = repl_file_errno(err, e ? e : errno, w->tmp, "create");
  if (!rc) rc = s_put(w, S_HEADER, 8, err);
  if (rc) {
    repl_seg_writer_abort(&w);
    return rc;
  }
  *out = w;
  return RV_OK;
}

int repl_seg_writer_add(repl_seg_writer_t *w, const uint8_t *key, size_t klen, const uint8_t *val,
                        size_t vlen, bool deleted, rv_err_t *err) {
  if (klen == 0 || klen > REPL_KEY_MAX || vlen > UINT32_MAX)
    return rv_err_set(err, RV_EINVAL, "%s: a key of %zu bytes (1..%d) or value of %zu", w->tmp,
                      klen, REPL_KEY_MAX, vlen);
  if (w->records) {
    size_t m = klen < w->last_len ? klen : w->last_len;
    int c = memcmp(key, w->last, m);
    if (c < 0 || (c == 0 && klen <= w->last_len))
      return rv_err_set(err, RV_EINVAL, "%s: keys out of order", w->tmp);
  }
  if (!s_grow(&w->last, &w->last_cap, klen))
    return rv_err_set(err, RV_ENOMEM, "out of memory writing %s", w->tmp);
  memcpy(w->last, key, klen);
  w->last_len = klen;
  if (deleted) vlen = 0;
  if (w->records % REPL_SEG_INDEX_EVERY == 0) {
    if (!s_grow(&w->index, &w->icap, w->ilen + 12 + klen))
      return rv_err_set(err, RV_ENOMEM, "out of memory writing %s", w->tmp);
    s_be32(w->index + w->ilen, (uint32_t)klen);
    memcpy(w->index + w->ilen + 4, key, klen);
    s_be64(w->index + w->ilen + 4 + klen, w->off);
    w->ilen += 12 + klen;
  }
  uint8_t head[S_REC_HEAD];
  head[4] = deleted ? 1 : 0;
  s_be32(head + 5, (uint32_t)klen);
  s_be32(head + 9, (uint32_t)vlen);
  uint32_t crc = repl_crc32c(0, head + 4, 9);
  crc = repl_crc32c(crc, key, klen);
  crc = repl_crc32c(crc, val, vlen);
  s_be32(head, crc);
  int rc = s_put(w, head, sizeof head, err);
  if (!rc) rc = s_put(w, key, klen, err);
  if (!rc && vlen) rc = s_put(w, val, vlen, err);
  if (!rc) w->records++;
  return rc;
}

uint64_t repl_seg_writer_records(const repl_seg_writer_t *w) { return w->records; }

static void s_writer_free(repl_seg_writer_t *w) {
  if (w->fd >= 0) close(w->fd);
  free(w->buf);
  free(w->last);
  free(w->index);
  free(w);
}

void repl_seg_writer_abort(repl_seg_writer_t **wp) {
  if (!wp || !*wp) return;
  repl_seg_writer_t *w = *wp;
  if (w->fd >= 0) unlink(w->tmp);
  s_writer_free(w);
  *wp = NULL;
}

int repl_seg_writer_finish(repl_seg_writer_t **wp, const char *name, uint64_t *size,
                           uint64_t *records, rv_err_t *err) {
  repl_seg_writer_t *w = *wp;
  uint64_t index_off = w->off;
  uint64_t nindex = (w->records + REPL_SEG_INDEX_EVERY - 1) / REPL_SEG_INDEX_EVERY;
  uint8_t foot[S_FOOTER_LEN];
  s_be64(foot, index_off);
  s_be64(foot + 8, w->records);
  s_be64(foot + 16, nindex);
  uint32_t crc = repl_crc32c(0, w->index, w->ilen);
  crc = repl_crc32c(crc, foot, 24);
  s_be32(foot + 24, crc);
  s_be32(foot + 28, 0);
  memcpy(foot + 32, S_TRAILER, 8);
  char dst[REPL_SEG_PATH_MAX];
  int rc = s_put(w, w->index, w->ilen, err);
  if (!rc) rc = s_put(w, foot, sizeof foot, err);
  if (!rc) rc = s_flush(w, err);
  if (!rc) rc = s_fsync(w->fd, w->tmp, err);
  if (!rc) rc = s_path(dst, w->dir, name, err);
  if (!rc) {
    int e = repl_file_fault("rename", dst);
    if (!e && rename(w->tmp, dst) != 0) e = errno;
    if (e) rc = repl_file_errno(err, e, dst, "rename");
  }
  if (!rc) {
    close(w->fd);
    w->fd = -1; /* renamed: nothing to unlink */
    /* the directory is fsynced by the manifest commit that names this file (one directory
     * fsync makes every rename and the manifest's link durable together; a file no durable
     * manifest names is garbage anyway) */
  }
  if (!rc) {
    *size = w->off;
    *records = w->records;
  }
  if (rc && w->fd >= 0) unlink(w->tmp);
  s_writer_free(w);
  *wp = NULL;
  return rc;
}

/* ---- reader ------------------------------------------------------------------------------- */

typedef struct {
  const uint8_t *key;
  size_t klen;
  uint64_t off;
} s_ientry_t;

struct repl_seg_reader {
  char path[REPL_SEG_PATH_MAX];
  int fd;
  uint64_t size, index_off, records;
  uint8_t *index; /* the index block; ientries point into it */
  s_ientry_t *ient;
  size_t nient;
  uint8_t *buf;   /* read buffer: file bytes [bstart, bstart + blen) */
  size_t blen, bcap;
  uint64_t bstart;
  uint64_t pos;   /* file offset of the next record */
  uint64_t seen;  /* records read since the last seek (for the count check at the end) */
  uint64_t seen_base; /* the record number the last seek started at */
  uint8_t *prev;  /* the previous key, for the order check */
  size_t prev_len, prev_cap;
};

static int s_corrupt(repl_seg_reader_t *r, rv_err_t *err, const char *what) {
  return rv_err_set(err, RV_ECORRUPT, "%s: %s", r->path, what);
}

static int s_pread(repl_seg_reader_t *r, void *p, size_t n, uint64_t off, rv_err_t *err) {
  uint8_t *b = p;
  while (n) {
    ssize_t k = pread(r->fd, b, n, (off_t)off);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return repl_file_errno(err, errno, r->path, "read");
    if (k == 0) return s_corrupt(r, err, "shorter than the manifest says (truncated)");
    b += k;
    n -= (size_t)k;
    off += (uint64_t)k;
  }
  return RV_OK;
}

/* Makes bytes [off, off + n) available; *p points at them until the next call. */
static int s_bytes(repl_seg_reader_t *r, uint64_t off, size_t n, const uint8_t **p, rv_err_t *err) {
  if (off + n > r->index_off) return s_corrupt(r, err, "a record runs past the data area");
  if (off < r->bstart || off + n > r->bstart + r->blen) {
    size_t want = n > (256u << 10) ? n : (256u << 10);
    if (off + want > r->index_off) want = (size_t)(r->index_off - off);
    if (!s_grow(&r->buf, &r->bcap, want))
      return rv_err_set(err, RV_ENOMEM, "out of memory reading %s", r->path);
    int rc = s_pread(r, r->buf, want, off, err);
    if (rc) return rc;
    r->bstart = off;
    r->blen = want;
  }
  *p = r->buf + (off - r->bstart);
  return RV_OK;
}

int repl_seg_reader_open(const char *dir, const repl_mfile_t *f, repl_seg_reader_t **out,
                         rv_err_t *err) {
  *out = NULL;
  repl_seg_reader_t *r = calloc(1, sizeof *r);
  if (!r) return rv_err_set(err, RV_ENOMEM, "out of memory opening %s", f->name);
  r->fd = -1;
  int rc = s_path(r->path, dir, f->name, err);
  if (!rc && (r->fd = open(r->path, O_RDONLY | O_CLOEXEC)) < 0)
    rc = repl_file_errno(err, errno, r->path, "open");
  struct stat st;
  if (!rc && fstat(r->fd, &st) != 0) rc = repl_file_errno(err, errno, r->path, "stat");
  if (!rc && (uint64_t)st.st_size != f->size) {
    rc = rv_err_set(err, RV_ECORRUPT, "%s: %llu bytes, the manifest says %llu (%s)", r->path,
                    (unsigned long long)st.st_size, (unsigned long long)f->size,
                    (uint64_t)st.st_size < f->size ? "truncated" : "overwritten");
  }
  r->size = f->size;
  uint8_t head[8], foot[S_FOOTER_LEN];
  if (!rc && r->size < 8 + S_FOOTER_LEN) rc = s_corrupt(r, err, "too short to be a data file");
  if (!rc) r->index_off = r->size; /* for s_pread's bound until the footer is read */
  if (!rc) rc = s_pread(r, head, 8, 0, err);
  if (!rc && memcmp(head, S_HEADER, 8) != 0) rc = s_corrupt(r, err, "bad header (not a data file)");
  if (!rc) rc = s_pread(r, foot, sizeof foot, r->size - S_FOOTER_LEN, err);
  if (!rc && memcmp(foot + 32, S_TRAILER, 8) != 0) rc = s_corrupt(r, err, "bad footer");
  uint64_t nindex = 0;
  if (!rc) {
    r->index_off = s_get64(foot);
    r->records = s_get64(foot + 8);
    nindex = s_get64(foot + 16);
    if (r->index_off < 8 || r->index_off > r->size - S_FOOTER_LEN)
      rc = s_corrupt(r, err, "footer: index offset out of range");
    else if (r->records != f->records)
      rc = s_corrupt(r, err, "footer: record count differs from the manifest's");
    else if (nindex != (r->records + REPL_SEG_INDEX_EVERY - 1) / REPL_SEG_INDEX_EVERY)
      rc = s_corrupt(r, err, "footer: index size does not match the record count");
  }
  size_t ilen = rc ? 0 : (size_t)(r->size - S_FOOTER_LEN - r->index_off);
  if (!rc && ilen && !(r->index = malloc(ilen)))
    rc = rv_err_set(err, RV_ENOMEM, "out of memory reading %s", r->path);
  if (!rc && ilen) rc = s_pread(r, r->index, ilen, r->index_off, err);
  if (!rc) {
    uint32_t crc = repl_crc32c(0, r->index, ilen);
    crc = repl_crc32c(crc, foot, 24);
    if (crc != s_get32(foot + 24)) rc = s_corrupt(r, err, "index checksum mismatch");
  }
  if (!rc && nindex && !(r->ient = calloc(nindex, sizeof *r->ient)))
    rc = rv_err_set(err, RV_ENOMEM, "out of memory reading %s", r->path);
  for (size_t at = 0; !rc && r->nient < nindex;) {
    if (at + 4 > ilen) {
      rc = s_corrupt(r, err, "index truncated");
      break;
    }
    size_t kl = s_get32(r->index + at);
    if (kl == 0 || kl > REPL_KEY_MAX || at + 4 + kl + 8 > ilen) {
      rc = s_corrupt(r, err, "index entry out of range");
      break;
    }
    s_ientry_t *e = &r->ient[r->nient++];
    e->key = r->index + at + 4;
    e->klen = kl;
    e->off = s_get64(r->index + at + 4 + kl);
    if (e->off < 8 || e->off >= r->index_off) rc = s_corrupt(r, err, "index offset out of range");
    at += 4 + kl + 8;
  }
  if (rc) {
    repl_seg_reader_close(&r);
    return rc;
  }
  r->pos = 8;
  *out = r;
  return RV_OK;
}

static int s_keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
  size_t m = al < bl ? al : bl;
  int c = m ? memcmp(a, b, m) : 0;
  return c ? c : (al > bl) - (al < bl);
}

/* Reads the record at r->pos without consuming it. */
static int s_read_rec(repl_seg_reader_t *r, repl_seg_rec_t *rec, uint64_t *len, rv_err_t *err) {
  const uint8_t *h;
  int rc = s_bytes(r, r->pos, S_REC_HEAD, &h, err);
  if (rc) return rc;
  uint32_t crc = s_get32(h);
  uint8_t flags = h[4];
  size_t kl = s_get32(h + 5), vl = s_get32(h + 9);
  if (flags > 1 || kl == 0 || kl > REPL_KEY_MAX || (flags && vl))
    return s_corrupt(r, err, "a record header is malformed");
  const uint8_t *body;
  if ((rc = s_bytes(r, r->pos, S_REC_HEAD + kl + vl, &body, err))) return rc;
  if (repl_crc32c(0, body + 4, 9 + kl + vl) != crc) {
    char what[96];
    snprintf(what, sizeof what, "record checksum mismatch at offset %llu",
             (unsigned long long)r->pos);
    return s_corrupt(r, err, what);
  }
  rec->key = body + S_REC_HEAD;
  rec->klen = kl;
  rec->val = body + S_REC_HEAD + kl;
  rec->vlen = vl;
  rec->deleted = flags == 1;
  *len = S_REC_HEAD + kl + vl;
  return RV_OK;
}

int repl_seg_reader_seek(repl_seg_reader_t *r, const uint8_t *after, size_t alen, rv_err_t *err) {
  r->pos = 8;
  r->seen = 0;
  r->seen_base = 0;
  r->prev_len = 0;
  if (!alen || !r->nient) return RV_OK;
  /* the last index entry whose key is <= after */
  size_t lo = 0, hi = r->nient;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s_keycmp(r->ient[mid].key, r->ient[mid].klen, after, alen) <= 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return RV_OK;
  r->pos = r->ient[lo - 1].off;
  r->seen_base = (uint64_t)(lo - 1) * REPL_SEG_INDEX_EVERY;
  for (;;) {
    if (r->pos >= r->index_off) return RV_OK;
    repl_seg_rec_t rec;
    uint64_t len;
    int rc = s_read_rec(r, &rec, &len, err);
    if (rc) return rc;
    if (s_keycmp(rec.key, rec.klen, after, alen) > 0) return RV_OK;
    r->pos += len;
    r->seen++;
  }
}

int repl_seg_reader_next(repl_seg_reader_t *r, repl_seg_rec_t *rec, bool *eof, rv_err_t *err) {
  *eof = false;
  if (r->pos >= r->index_off) {
    if (r->seen_base + r->seen != r->records)
      return s_corrupt(r, err, "fewer records than the footer says");
    *eof = true;
    return RV_OK;
  }
  uint64_t len;
  int rc = s_read_rec(r, rec, &len, err);
  if (rc) return rc;
  if (r->prev_len && s_keycmp(rec->key, rec->klen, r->prev, r->prev_len) <= 0)
    return s_corrupt(r, err, "keys out of order");
  if (!s_grow(&r->prev, &r->prev_cap, rec->klen))
    return rv_err_set(err, RV_ENOMEM, "out of memory reading %s", r->path);
  memcpy(r->prev, rec->key, rec->klen);
  r->prev_len = rec->klen;
  r->pos += len;
  r->seen++;
  if (r->seen_base + r->seen > r->records)
    return s_corrupt(r, err, "more records than the footer says");
  return RV_OK;
}

const char *repl_seg_reader_path(const repl_seg_reader_t *r) { return r->path; }

void repl_seg_reader_close(repl_seg_reader_t **rp) {
  if (!rp || !*rp) return;
  repl_seg_reader_t *r = *rp;
  if (r->fd >= 0) close(r->fd);
  free(r->index);
  free(r->ient);
  free(r->buf);
  free(r->prev);
  free(r);
  *rp = NULL;
}
