/* cli_snapshot_file: writing and verifying snapshot files (format in cli_snapshot_file.h).
 * Streams through stdio with one block in memory; CRC-32 from zlib; the pair encoding and the
 * digest are kv-store's own (kv_snap.h, kv_digest_pair), so an image is checked as the store
 * would read it. */
#include "cli_snapshot_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "kv_core.h"
#include "kv_schema.h"
#include "kv_snap.h"

static const char s_magic[8] = {'R', 'V', 'S', 'N', 'A', 'P', '\r', '\n'};
#define S_HEADER_FIELDS_MAX 4096u /* header field bytes any version may use */
static const char s_end_magic[8] = {'R', 'V', 'S', 'N', 'E', 'N', 'D', '\n'};

static void s_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void s_le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t s_get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t s_get64(const uint8_t *p) {
  return (uint64_t)s_get32(p) | (uint64_t)s_get32(p + 4) << 32;
}

/* ---- pairs: order, counts and digest, the same for writer and reader ------------------------ */

typedef struct {
  uint8_t last[KV_SNAP_KEY_MAX];
  size_t last_len;
  bool any;
  uint64_t pairs, pair_bytes, digest, entries;
} s_tally_t;

static void s_tally_init(s_tally_t *t) {
  memset(t, 0, sizeof *t);
  t->digest = KV_FNV64_INIT;
}

/* Checks and counts the pairs of one block (at file offset off), calling fn for each. */
static int s_tally_block(s_tally_t *t, const uint8_t *p, size_t len, uint64_t off,
                         cli_snap_pair_fn *fn, void *arg, rv_err_t *err) {
  kv_snap_cursor_t cur;
  kv_snap_cursor_init(&cur, p, len);
  kv_bytes_t k, v;
  int rc;
  while ((rc = kv_snap_next(&cur, &k, &v, err)) == 1) {
    size_t n = k.len < t->last_len ? k.len : t->last_len;
    int c = t->any ? memcmp(k.p, t->last, n) : 1;
    if (t->any && (c < 0 || (c == 0 && k.len <= t->last_len)))
      return rv_err_set(err, RV_ECORRUPT,
                        "pair %llu (in the block at offset %llu): its key does not follow the "
                        "previous one in order",
                        (unsigned long long)t->pairs + 1, (unsigned long long)off);
    memcpy(t->last, k.p, k.len);
    t->last_len = k.len;
    t->any = true;
    t->pairs++;
    t->pair_bytes += 8 + k.len + v.len;
    t->digest = kv_digest_pair(t->digest, KV_DIGEST_NAMESPACE, k.p, k.len, v.p, v.len);
    if (k.len && k.p[0] == KV_T_ATTR) t->entries++;
    if (fn && (rc = fn(arg, k.p, k.len, v.p, v.len, err))) return rc;
  }
  if (rc < 0)
    return rv_err_set(err, RV_ECORRUPT, "the block at offset %llu: %s", (unsigned long long)off,
                      err->msg);
  return RV_OK;
}

/* ---- writing ------------------------------------------------------------------------------- */

struct cli_snap_writer {
  FILE *f;
  char path[4096], part[4112];
  bool done;
  uint64_t bytes;
  uLong crc;
  s_tally_t t;
  cli_snap_header_t h;
};

static int s_write(cli_snap_writer_t *w, const void *p, size_t n, rv_err_t *err) {
  if (n && fwrite(p, 1, n, w->f) != n)
    return rv_err_set(err, RV_EIO, "%s: write: %s", w->part, strerror(errno));
  w->crc = crc32(w->crc, p, (uInt)n);
  w->bytes += n;
  return RV_OK;
}

int cli_snap_writer_open(const char *path, const cli_snap_header_t *h, cli_snap_writer_t **out,
                         rv_err_t *err) {
  *out = NULL;
  size_t cl = strlen(h->cluster), nl = strlen(h->node);
  if (cl > CLI_SNAP_NAME_MAX || nl > CLI_SNAP_NAME_MAX || strlen(path) >= 4096)
    return rv_err_set(err, RV_EINVAL, "%s: a name or the path is too long", path);
  cli_snap_writer_t *w = calloc(1, sizeof *w);
  if (!w) return rv_err_set(err, RV_ENOMEM, "out of memory");
  snprintf(w->path, sizeof w->path, "%s", path);
  snprintf(w->part, sizeof w->part, "%s.part", path);
  w->h = *h;
  w->h.version = CLI_SNAP_VERSION;
  w->crc = crc32(0L, Z_NULL, 0);
  s_tally_init(&w->t);
  int fd = open(w->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || !(w->f = fdopen(fd, "wb"))) {
    int e = errno;
    if (fd >= 0) close(fd);
    free(w);
    return rv_err_set(err, RV_EIO, "cannot create %s.part: %s", path, strerror(e));
  }
  uint8_t hd[8 + 4 + 4 + 32 + 2 + CLI_SNAP_NAME_MAX + 2 + CLI_SNAP_NAME_MAX + 4];
  size_t n = 0;
  memcpy(hd, s_magic, 8);
  n = 16;
  s_le64(hd + n, w->h.index), n += 8;
  s_le64(hd + n, w->h.term), n += 8;
  s_le64(hd + n, w->h.created_ms), n += 8;
  s_le64(hd + n, w->h.store_format), n += 8;
  hd[n++] = (uint8_t)cl, hd[n++] = (uint8_t)(cl >> 8);
  memcpy(hd + n, h->cluster, cl), n += cl;
  hd[n++] = (uint8_t)nl, hd[n++] = (uint8_t)(nl >> 8);
  memcpy(hd + n, h->node, nl), n += nl;
  s_le32(hd + 8, CLI_SNAP_VERSION);
  s_le32(hd + 12, (uint32_t)(n - 16));
  s_le32(hd + n, (uint32_t)crc32(crc32(0L, Z_NULL, 0), hd, (uInt)n)), n += 4;
  int rc = s_write(w, hd, n, err);
  if (rc) {
    cli_snap_writer_destroy(&w);
    return rc;
  }
  *out = w;
  return RV_OK;
}

int cli_snap_writer_block(cli_snap_writer_t *w, const void *pairs, size_t len, rv_err_t *err) {
  if (!len) return RV_OK;
  if (len > CLI_SNAP_BLOCK_MAX)
    return rv_err_set(err, RV_ETOOBIG, "a block of %zu bytes (at most %u)", len,
                      CLI_SNAP_BLOCK_MAX);
  int rc = s_tally_block(&w->t, pairs, len, w->bytes, NULL, NULL, err);
  if (rc) return rc == RV_ECORRUPT ? (err->code = RV_EDECODE) : rc;
  uint8_t bh[8];
  s_le32(bh, (uint32_t)len);
  s_le32(bh + 4, (uint32_t)crc32(crc32(0L, Z_NULL, 0), pairs, (uInt)len));
  if ((rc = s_write(w, bh, 8, err)) || (rc = s_write(w, pairs, len, err))) return rc;
  return RV_OK;
}

uint64_t cli_snap_writer_bytes(const cli_snap_writer_t *w) { return w->bytes; }

static int s_fsync_parent(const char *path, rv_err_t *err) {
  char copy[4096];
  snprintf(copy, sizeof copy, "%s", path);
  const char *dir = dirname(copy);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    return rv_err_set(err, RV_EIO, "fsync %s: %s", dir, strerror(e));
  }
  close(fd);
  return RV_OK;
}

int cli_snap_writer_finish(cli_snap_writer_t *w, cli_snap_summary_t *sum, rv_err_t *err) {
  uint8_t e[8 + 24];
  memset(e, 0, 8);
  s_le64(e + 8, w->t.pairs);
  s_le64(e + 16, w->t.pair_bytes);
  s_le64(e + 24, w->t.digest);
  int rc = s_write(w, e, sizeof e, err);
  if (rc) return rc;
  uint8_t tail[12];
  uint32_t crc = (uint32_t)w->crc;
  s_le32(tail, crc);
  memcpy(tail + 4, s_end_magic, 8);
  if ((rc = s_write(w, tail, sizeof tail, err))) return rc;
  if (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0)
    return rv_err_set(err, RV_EIO, "%s: fsync: %s", w->part, strerror(errno));
  if (fclose(w->f) != 0) {
    w->f = NULL;
    return rv_err_set(err, RV_EIO, "%s: close: %s", w->part, strerror(errno));
  }
  w->f = NULL;
  if (rename(w->part, w->path) != 0)
    return rv_err_set(err, RV_EIO, "rename %s -> %s: %s", w->part, w->path, strerror(errno));
  w->done = true;
  if ((rc = s_fsync_parent(w->path, err))) return rc;
  if (sum) {
    memset(sum, 0, sizeof *sum);
    sum->h = w->h;
    sum->pairs = w->t.pairs;
    sum->pair_bytes = w->t.pair_bytes;
    sum->digest = w->t.digest;
    sum->dirs_files = w->t.entries;
    sum->file_bytes = w->bytes;
    sum->crc = crc;
  }
  return RV_OK;
}

void cli_snap_writer_destroy(cli_snap_writer_t **wp) {
  if (!wp || !*wp) return;
  cli_snap_writer_t *w = *wp;
  if (w->f) fclose(w->f);
  if (!w->done) unlink(w->part);
  free(w);
  *wp = NULL;
}

/* ---- reading ------------------------------------------------------------------------------- */

typedef struct {
  FILE *f;
  const char *path;
  uint64_t off;
  uLong crc;
} s_in_t;

/* Reads exactly n bytes (what = what they are, for the message). */
static int s_read(s_in_t *in, void *p, size_t n, const char *what, rv_err_t *err) {
  size_t got = n ? fread(p, 1, n, in->f) : 0;
  if (got != n) {
    if (ferror(in->f))
      return rv_err_set(err, RV_EIO, "%s: read at offset %llu: %s", in->path,
                        (unsigned long long)(in->off + got), strerror(errno));
    return rv_err_set(err, RV_ECORRUPT,
                      "%s: truncated at offset %llu: the file ends inside %s (%zu of %zu bytes "
                      "from offset %llu)",
                      in->path, (unsigned long long)(in->off + got), what, got, n,
                      (unsigned long long)in->off);
  }
  in->crc = crc32(in->crc, p, (uInt)n);
  in->off += n;
  return RV_OK;
}

static int s_read_header(s_in_t *in, cli_snap_header_t *h, rv_err_t *err) {
  uint8_t hd[16 + S_HEADER_FIELDS_MAX];
  /* the magic first: a short file of another kind is foreign, not truncated */
  size_t got = fread(hd, 1, 8, in->f);
  if (memcmp(hd, s_magic, got) != 0 || (got < 8 && got == 0 && !ferror(in->f)))
    return rv_err_set(err, RV_ECORRUPT,
                      "%s: not a raftvisor snapshot file (offset 0: no \"RVSNAP\" magic)",
                      in->path);
  in->crc = crc32(in->crc, hd, (uInt)got);
  in->off = got;
  int rc = got < 8 ? s_read(in, hd + got, 8 - got, "the magic", err)
                   : s_read(in, hd + 8, 8, "the header", err);
  if (rc) return rc;
  /* checked before the version is believed: every version keeps magic | version | field
   * bytes | fields | CRC, so a damaged byte is never taken for a newer format */
  h->version = s_get32(hd + 8);
  uint32_t flen = s_get32(hd + 12);
  if (flen > S_HEADER_FIELDS_MAX)
    return rv_err_set(err, RV_ECORRUPT, "%s: offset 12: a header of %u bytes (at most %u): "
                      "damaged", in->path, flen, S_HEADER_FIELDS_MAX);
  if ((rc = s_read(in, hd + 16, flen, "the header", err))) return rc;
  uint32_t want = (uint32_t)in->crc;
  uint8_t c[4];
  if ((rc = s_read(in, c, 4, "the header's checksum", err))) return rc;
  if (s_get32(c) != want)
    return rv_err_set(err, RV_ECORRUPT, "%s: the header (offset 0..%u) is damaged: checksum "
                      "mismatch", in->path, 16 + flen);
  if (h->version > CLI_SNAP_VERSION)
    return rv_err_set(err, RV_ECONFIG,
                      "%s: snapshot file format version %u is newer than this build's (%u): "
                      "use a raftvisor at least as new as the one that saved it",
                      in->path, h->version, CLI_SNAP_VERSION);
  if (h->version == 0)
    return rv_err_set(err, RV_ECORRUPT, "%s: offset 8: format version 0 does not exist",
                      in->path);
  if (flen < 36 || flen > 36 + 2 * CLI_SNAP_NAME_MAX)
    return rv_err_set(err, RV_ECORRUPT, "%s: offset 12: a header of %u bytes (expected 36..%u)",
                      in->path, flen, 36 + 2 * CLI_SNAP_NAME_MAX);
  const uint8_t *p = hd + 16, *end = hd + 16 + flen;
  h->index = s_get64(p), p += 8;
  h->term = s_get64(p), p += 8;
  h->created_ms = s_get64(p), p += 8;
  h->store_format = s_get64(p), p += 8;
  for (int i = 0; i < 2; i++) {
    char *dst = i ? h->node : h->cluster;
    size_t l = end - p >= 2 ? (size_t)p[0] | (size_t)p[1] << 8 : SIZE_MAX;
    if (l == SIZE_MAX || l > CLI_SNAP_NAME_MAX || (size_t)(end - p - 2) < l)
      return rv_err_set(err, RV_ECORRUPT, "%s: offset %llu: the %s name does not fit the header",
                        in->path, (unsigned long long)(p - hd), i ? "node" : "cluster");
    memcpy(dst, p + 2, l);
    dst[l] = '\0';
    p += 2 + l;
  }
  if (p != end)
    return rv_err_set(err, RV_ECORRUPT, "%s: offset %llu: %zu stray bytes in the header",
                      in->path, (unsigned long long)(p - hd), (size_t)(end - p));
  return RV_OK;
}

int cli_snap_read(const char *path, cli_snap_pair_fn *fn, void *arg, cli_snap_summary_t *sum,
                  rv_err_t *err) {
  s_in_t in = {.path = path, .crc = crc32(0L, Z_NULL, 0)};
  in.f = fopen(path, "rb");
  if (!in.f)
    return rv_err_set(err, errno == ENOENT ? RV_ENOTFOUND : RV_EIO, "%s: %s", path,
                      strerror(errno));
  cli_snap_summary_t s;
  memset(&s, 0, sizeof s);
  s_tally_t t;
  s_tally_init(&t);
  uint8_t *buf = NULL;
  int rc = s_read_header(&in, &s.h, err);
  while (!rc) {
    uint64_t at = in.off;
    uint8_t bh[8];
    if ((rc = s_read(&in, bh, 8, "a block header", err))) break;
    uint32_t len = s_get32(bh), crc = s_get32(bh + 4);
    if (len == 0) break; /* the end */
    if (len > CLI_SNAP_BLOCK_MAX) {
      rc = rv_err_set(err, RV_ECORRUPT, "%s: offset %llu: a block of %u bytes (at most %u): "
                      "damaged", path, (unsigned long long)at, len, CLI_SNAP_BLOCK_MAX);
      break;
    }
    uint8_t *nb = realloc(buf, len);
    if (!nb) {
      rc = rv_err_set(err, RV_ENOMEM, "out of memory for a block of %u bytes", len);
      break;
    }
    buf = nb;
    if ((rc = s_read(&in, buf, len, "a block", err))) break;
    if ((uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, len) != crc) {
      rc = rv_err_set(err, RV_ECORRUPT, "%s: the block at offset %llu (%u bytes) is damaged: "
                      "checksum mismatch", path, (unsigned long long)at, len);
      break;
    }
    if ((rc = s_tally_block(&t, buf, len, at, fn, arg, err)) == RV_ECORRUPT)
      rv_err_prefix(err, path);
  }
  if (!rc) {
    uint64_t at = in.off - 8;
    uint8_t e[24 + 12];
    if ((rc = s_read(&in, e, 24, "the end record", err)) == RV_OK) {
      uint32_t want = (uint32_t)in.crc;
      if ((rc = s_read(&in, e + 24, 12, "the end record", err)) == RV_OK) {
        if (memcmp(e + 28, s_end_magic, 8) != 0)
          rc = rv_err_set(err, RV_ECORRUPT, "%s: offset %llu: the end record is damaged (no "
                          "\"RVSNEND\" magic)", path, (unsigned long long)in.off - 8);
        else if (s_get32(e + 24) != want)
          rc = rv_err_set(err, RV_ECORRUPT, "%s: offset %llu: the file's checksum does not "
                          "match its bytes", path, (unsigned long long)in.off - 12);
        else if (s_get64(e) != t.pairs || s_get64(e + 8) != t.pair_bytes ||
                 s_get64(e + 16) != t.digest)
          rc = rv_err_set(err, RV_ECORRUPT, "%s: the end record at offset %llu says %llu pairs "
                          "(%llu bytes), the file holds %llu (%llu bytes)", path,
                          (unsigned long long)at, (unsigned long long)s_get64(e),
                          (unsigned long long)s_get64(e + 8), (unsigned long long)t.pairs,
                          (unsigned long long)t.pair_bytes);
        else if (fgetc(in.f) != EOF)
          rc = rv_err_set(err, RV_ECORRUPT, "%s: offset %llu: bytes after the end record",
                          path, (unsigned long long)in.off);
        s.crc = want;
      }
    }
  }
  free(buf);
  fclose(in.f);
  if (rc) return rc;
  s.pairs = t.pairs;
  s.pair_bytes = t.pair_bytes;
  s.digest = t.digest;
  s.dirs_files = t.entries;
  s.file_bytes = in.off;
  if (sum) *sum = s;
  return RV_OK;
}
