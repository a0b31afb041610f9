/* raft_store: open, recovery, load and close of raft-peer's segment log (I/O shell). The rules
 * are at the top of raft_store.h; writing is in raft_store_write.c, the format in
 * raft_store_codec.c, the files and spares in raft_store_files.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "raft_store_int.h"

#define S_NONE UINT64_MAX
#define S_WIPE "wipe this node's data-dir so it rejoins from its peers"

void raft_store_options_default(raft_store_options_t *o) {
  memset(o, 0, sizeof *o);
  o->segment_bytes = 64u << 20;
  o->spares = 2;
}

raft_index_t raft_store_last_index(const raft_store_t *s) { return s->mem.last; }

bool raft_store_failed(const raft_store_t *s) { return s->failed != 0; }

void raft_store_position(const raft_store_t *s, uint64_t *seq, uint64_t *offset) {
  *seq = s->n_segs ? s->segs[s->n_segs - 1].seq : 0;
  *offset = s->off;
}

/* ---- the directory ----------------------------------------------------------------------- */

/* Parses "<prefix><16 hex digits><suffix>". */
static bool s_parse(const char *name, const char *prefix, const char *suffix, uint64_t *v) {
  size_t pl = strlen(prefix), sl = strlen(suffix);
  if (strlen(name) != pl + 16 + sl || strncmp(name, prefix, pl) != 0 ||
      strcmp(name + pl + 16, suffix) != 0)
    return false;
  uint64_t x = 0;
  for (size_t i = pl; i < pl + 16; i++) {
    char c = name[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    x = x << 4 | (uint64_t)d;
  }
  *v = x;
  return true;
}

typedef struct {
  rs_seg_t *segs; /* seq and size of each seg-*.log, sorted by seq */
  size_t n, cap;
} s_found_t;

static int s_cmp_seg(const void *a, const void *b) {
  uint64_t x = ((const rs_seg_t *)a)->seq, y = ((const rs_seg_t *)b)->seq;
  return x < y ? -1 : x > y;
}

/* Lists the directory: segments into f, spares into the pool; removes half-prepared files. */
static int s_list(raft_store_t *s, s_found_t *f, rv_err_t *err) {
  int fd = dup(s->dirfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0) close(fd);
    return rs_io_err(s, err, errno, "list", NULL, 0);
  }
  struct dirent *de;
  int rc = RV_OK;
  while (rc == RV_OK && (de = readdir(d))) {
    uint64_t v;
    struct stat st;
    if (s_parse(de->d_name, "tmp-", ".zero", &v)) {
      unlinkat(s->dirfd, de->d_name, 0);
      continue;
    }
    bool seg = s_parse(de->d_name, "seg-", ".log", &v);
    if (!seg && !s_parse(de->d_name, "spare-", ".log", &v)) continue;
    if (fstatat(s->dirfd, de->d_name, &st, 0) != 0) {
      rc = rs_io_err(s, err, errno, "stat", de->d_name, 0);
      break;
    }
    if (!seg) {
      if (st.st_size < RS_MIN_SEGMENT)
        unlinkat(s->dirfd, de->d_name, 0);
      else
        rs_spare_found(s, v, (uint64_t)st.st_size);
      continue;
    }
    if (f->n == f->cap) {
      size_t cap = f->cap ? 2 * f->cap : 16;
      rs_seg_t *bigger = realloc(f->segs, cap * sizeof *bigger);
      if (!bigger) {
        rc = rv_err_set(err, RV_ENOMEM, "out of memory opening the raft log");
        break;
      }
      f->segs = bigger;
      f->cap = cap;
    }
    f->segs[f->n++] = (rs_seg_t){.seq = v, .size = (uint64_t)st.st_size};
  }
  closedir(d);
  if (f->n) qsort(f->segs, f->n, sizeof *f->segs, s_cmp_seg);
  return rc;
}

/* ---- recovery ---------------------------------------------------------------------------- */

typedef struct {
  raft_store_t *s;
  rs_replay_t r;
  uint8_t *buf;
  size_t cap;
  /* the newest segment, once read */
  uint64_t end;           /* where appending resumes */
  bool sealed;            /* it ends with a seal: roll over before appending */
  bool no_checkpoint;     /* its checkpoint never made it: write it */
  uint64_t zero_from, zero_len; /* the torn record's bytes, to zero */
} s_recovery_t;

static bool s_conf_eq(const raft_conf_t *a, const raft_conf_t *b) {
  if (a->n_voters != b->n_voters || a->n_learners != b->n_learners) return false;
  for (size_t i = 0; i < a->n_voters; i++)
    if (a->voters[i] != b->voters[i]) return false;
  for (size_t i = 0; i < a->n_learners; i++)
    if (a->learners[i] != b->learners[i]) return false;
  return true;
}

static bool s_state_eq(const rs_state_t *a, const rs_state_t *b) {
  return a->hard.term == b->hard.term && a->hard.vote == b->hard.vote &&
         a->hard.commit == b->hard.commit && a->snap.index == b->snap.index &&
         a->snap.term == b->snap.term && s_conf_eq(&a->snap.conf, &b->snap.conf) &&
         a->last == b->last;
}

/* The first offset at or after from (aligned) holding a valid record of generation gen. */
static uint64_t s_find_valid(const uint8_t *b, uint64_t size, uint64_t from, uint64_t gen) {
  uint8_t g[8]; /* the generation as the header holds it, to skip most offsets cheaply */
  for (int i = 0; i < 8; i++) g[i] = (uint8_t)(gen >> (8 * i));
  rs_rec_t rec;
  for (uint64_t o = (from + RS_ALIGN - 1) / RS_ALIGN * RS_ALIGN; o + RS_HDR <= size; o += RS_ALIGN)
    if (memcmp(b + o + 8, g, 8) == 0 && rs_record_check(b, size, o, gen, &rec)) return o;
  return S_NONE;
}

static int s_checkpoint(s_recovery_t *c, const char *name, const rs_rec_t *rec, bool first,
                        rv_err_t *err) {
  raft_store_t *s = c->s;
  rs_checkpoint_t cp;
  int rc = rs_checkpoint_decode(rec->payload, rec->len, &cp);
  if (rc == RV_ECONFIG && cp.format > RS_FORMAT) /* a downgrade: never guess at a newer log */
    return rv_err_set(err, RV_ECONFIG,
                      "raft log %s/%s: log format %u is newer than this build's (format %u): it "
                      "was written by a newer raftvisor; run that version (or a newer one) on "
                      "this node: a downgrade is not supported", s->dir, name, cp.format,
                      RS_FORMAT);
  if (rc == RV_ECONFIG) /* older: format 1 is the first, so none exists yet to convert */
    return rv_err_set(err, RV_ECONFIG,
                      "raft log %s/%s: log format %u is older than this build's (format %u) and "
                      "this build knows no conversion from it: %s", s->dir, name, cp.format,
                      RS_FORMAT, S_WIPE);
  if (rc)
    return rv_err_set(err, RV_ECORRUPT, "raft log %s/%s: offset 0: the checkpoint does not "
                      "decode: the log is damaged; %s", s->dir, name, S_WIPE);
  if (strcmp(cp.cluster, s->cluster) != 0 || cp.node != s->node)
    return rv_err_set(err, RV_ESTALE,
                      "raft log %s belongs to cluster/node %s/%llu, not %s/%llu: it is another "
                      "node's data; point node.data-dir elsewhere or remove it to join afresh",
                      s->dir, cp.cluster, (unsigned long long)cp.node, s->cluster,
                      (unsigned long long)s->node);
  if (first) {
    c->r.st = cp.st;
    return RV_OK;
  }
  if (!s_state_eq(&cp.st, &c->r.st))
    return rv_err_set(err, RV_ECORRUPT,
                      "raft log %s/%s: offset 0: its checkpoint (term %llu, snapshot %llu, last "
                      "%llu) disagrees with the segments before it (term %llu, snapshot %llu, last "
                      "%llu): the log is damaged; %s", s->dir, name,
                      (unsigned long long)cp.st.hard.term, (unsigned long long)cp.st.snap.index,
                      (unsigned long long)cp.st.last, (unsigned long long)c->r.st.hard.term,
                      (unsigned long long)c->r.st.snap.index, (unsigned long long)c->r.st.last,
                      S_WIPE);
  return RV_OK;
}

/* Reads one segment (c->buf) and replays its records. first: the oldest of the run (its
 * checkpoint sets the state); newest: the one appended to (its end may be torn). */
static int s_segment(s_recovery_t *c, rs_seg_t *seg, bool first, bool newest, rv_err_t *err) {
  raft_store_t *s = c->s;
  const uint8_t *b = c->buf;
  uint64_t size = seg->size, seq = seg->seq, off = 0;
  char name[64];
  rs_seg_name(name, sizeof name, seq);
  bool sealed = false;
  rs_rec_t rec;
  int rc;
  while (!sealed && rs_record_check(b, size, off, seq, &rec)) {
    if (off == 0 && rec.type != RS_REC_CHECKPOINT)
      return rv_err_set(err, RV_ECORRUPT, "raft log %s/%s: offset 0: the segment does not start "
                        "with a checkpoint: the log is damaged; %s", s->dir, name, S_WIPE);
    if (off == 0) {
      if ((rc = s_checkpoint(c, name, &rec, first, err))) return rc;
    } else if (rec.type == RS_REC_CHECKPOINT) {
      return rv_err_set(err, RV_ECORRUPT, "raft log %s/%s: offset %llu: a second checkpoint: "
                        "the log is damaged; %s", s->dir, name, (unsigned long long)off, S_WIPE);
    } else if (rec.type == RS_REC_UPDATE) {
      const char *why = "";
      if ((rc = rs_replay_update(&c->r, rec.payload, rec.len, &why)) == RV_ENOMEM)
        return rv_err_set(err, rc, "out of memory reading the raft log");
      if (rc)
        return rv_err_set(err, RV_ECORRUPT, "raft log %s/%s: offset %llu: %s (its checksum is "
                          "right: written by another build?): %s", s->dir, name,
                          (unsigned long long)off, why, S_WIPE);
      if (c->r.installed) s->install_seq = seq;
    } else {
      raft_index_t last;
      if (rs_seal_decode(rec.payload, rec.len, &last) || last != c->r.st.last)
        return rv_err_set(err, RV_ECORRUPT, "raft log %s/%s: offset %llu: the seal says the log "
                          "ends at %llu, the records say %llu: the log is damaged; %s", s->dir,
                          name, (unsigned long long)off, (unsigned long long)last,
                          (unsigned long long)c->r.st.last, S_WIPE);
      sealed = true;
      seg->sealed = true;
      seg->seal_last = last;
    }
    off = rec.next;
  }
  /* off: just after the seal, or the first place without a valid record of this segment */
  uint64_t later = s_find_valid(b, size, sealed ? off : off + RS_ALIGN, seq);
  if (later != S_NONE && sealed)
    return rv_err_set(err, RV_ECORRUPT, "raft log %s/%s: offset %llu: a valid record after the "
                      "seal: the log is damaged; %s", s->dir, name, (unsigned long long)later,
                      S_WIPE);
  if (later != S_NONE)
    return rv_err_set(err, RV_ECORRUPT,
                      "raft log %s/%s: offset %llu: the record is damaged, but a valid record "
                      "follows at offset %llu: damage in the middle of the log (a disk or "
                      "file-system fault), not a torn write; %s",
                      s->dir, name, (unsigned long long)off, (unsigned long long)later, S_WIPE);
  if (!newest && !sealed)
    return rv_err_set(err, RV_ECORRUPT,
                      "raft log %s/%s: offset %llu: the segment ends without a seal (damaged or "
                      "cut short) but newer segments follow: damage in the middle of the log; %s",
                      s->dir, name, (unsigned long long)off, S_WIPE);
  if (off == 0 && first && seq != 1)
    return rv_err_set(err, RV_ECORRUPT,
                      "raft log %s/%s: offset 0: no valid checkpoint, and no older segment to "
                      "rebuild it from: the log's state is lost; %s", s->dir, name, S_WIPE);
  if (!newest) return RV_OK;
  /* the newest: a torn tail (or a checkpoint that never made it) ends the log at off */
  c->end = off;
  c->sealed = sealed;
  c->no_checkpoint = off == 0;
  if (!sealed && !rs_header_zero(b, size, off) && !rs_record_old(b, size, off, seq)) {
    uint64_t end = off + rs_torn_extent(b, size, off, seq);
    end = (end + 4095) / 4096 * 4096;
    c->zero_from = off;
    c->zero_len = (end < size ? end : size) - off;
  }
  return RV_OK;
}

static int s_read_segment(s_recovery_t *c, const char *name, int fd, uint64_t size,
                          rv_err_t *err) {
  if (size > c->cap) {
    uint8_t *bigger = realloc(c->buf, size);
    if (!bigger) return rv_err_set(err, RV_ENOMEM, "out of memory reading the raft log");
    c->buf = bigger;
    c->cap = size;
  }
  for (uint64_t got = 0; got < size;) {
    ssize_t n = pread(fd, c->buf + got, size - got, (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return rs_io_err(c->s, err, n < 0 ? errno : EIO, "read", name, got);
    got += (uint64_t)n;
  }
  return RV_OK;
}

/* Replays the run of consecutive segments ending at the newest; leaves the newest open. */
static int s_recover(raft_store_t *s, s_found_t *f, rv_err_t *err) {
  size_t i0 = f->n - 1;
  while (i0 > 0 && f->segs[i0 - 1].seq == f->segs[i0].seq - 1) i0--;
  s_recovery_t c = {.s = s};
  int rc = RV_OK;
  for (size_t i = i0; i < f->n && rc == RV_OK; i++) {
    rs_seg_t seg = f->segs[i];
    char name[64];
    rs_seg_name(name, sizeof name, seg.seq);
    int fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      rc = rs_io_err(s, err, errno, "open", name, 0);
      break;
    }
    if ((rc = s_read_segment(&c, name, fd, seg.size, err)) ||
        (rc = s_segment(&c, &seg, i == i0, i == f->n - 1, err)) ||
        (rc = rs_segs_push(s, seg.seq, seg.size, err))) {
      close(fd);
      break;
    }
    s->segs[s->n_segs - 1].sealed = seg.sealed;
    s->segs[s->n_segs - 1].seal_last = seg.seal_last;
    if (i == f->n - 1)
      s->fd = fd;
    else
      close(fd);
  }
  free(c.buf);
  raft_index_t from = 0, to = 0;
  if (rc == RV_OK && rs_replay_finish(&c.r, &from, &to))
    rc = rv_err_set(err, RV_ECORRUPT,
                    "raft log %s: entries %llu..%llu are missing after the snapshot at %llu: "
                    "the log is damaged; %s", s->dir, (unsigned long long)from,
                    (unsigned long long)to, (unsigned long long)c.r.st.snap.index, S_WIPE);
  if (rc) {
    rs_replay_free(&c.r);
    return rc;
  }
  s->disk = s->mem = c.r.st;
  /* hand the entries over as raft_storage_state_t wants them */
  size_t live = c.r.n - c.r.head;
  if (c.r.head) memmove(c.r.ents, c.r.ents + c.r.head, live * sizeof *c.r.ents);
  s->recovered.hard = c.r.st.hard;
  s->recovered.snapshot = c.r.st.snap;
  s->recovered.entries = c.r.ents;
  s->recovered.n_entries = live;
  if (!live) {
    free(c.r.ents);
    s->recovered.entries = NULL;
  }

  /* repair the newest segment's end */
  rs_seg_t *newest = &s->segs[s->n_segs - 1];
  char name[64];
  rs_seg_name(name, sizeof name, newest->seq);
  int e;
  if (c.zero_len && (e = rs_zero_range(s, s->fd, name, c.zero_from, c.zero_len)))
    return rs_io_err(s, err, e, "zero the torn tail", name, c.zero_from);
  if (c.no_checkpoint) {
    if ((rc = rs_write_checkpoint(s, err))) return rc;
  } else {
    s->off = c.end;
  }
  if (c.sealed && (rc = rs_roll_over(s, 0, err))) return rc;

  /* give back left-overs of an interrupted recycling, and what is dead */
  for (size_t i = 0; i < i0; i++)
    if ((e = rs_spare_give(s, &f->segs[i]))) {
      rs_seg_name(name, sizeof name, f->segs[i].seq);
      return rs_io_err(s, err, e, "recycle", name, 0);
    }
  if (i0 && (e = rs_dirsync(s))) return rs_io_err(s, err, e, "sync the directory", NULL, 0);
  return rs_recycle(s, err);
}

/* A fresh log: seg-0000000000000001.log with a checkpoint of the empty state. */
static int s_create(raft_store_t *s, rv_err_t *err) {
  pthread_mutex_lock(&s->mu);
  size_t spares = s->n_spares;
  pthread_mutex_unlock(&s->mu);
  if (spares)
    return rv_err_set(err, RV_ECORRUPT, "raft log %s holds spare segments but no segment: its "
                      "segments were removed; %s", s->dir, S_WIPE);
  uint64_t size = s->opts.segment_bytes < RS_FIRST_SEGMENT ? s->opts.segment_bytes
                                                           : RS_FIRST_SEGMENT;
  char name[64];
  rs_seg_name(name, sizeof name, 1);
  const char *what;
  int e = rs_prepare(s, size, name, &what), rc;
  if (e) return rs_io_err(s, err, e, what, name, 0);
  if ((s->fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC)) < 0)
    return rs_io_err(s, err, errno, "open", name, 0);
  if ((rc = rs_segs_push(s, 1, size, err))) return rc;
  memset(&s->disk, 0, sizeof s->disk);
  s->mem = s->disk;
  return rs_write_checkpoint(s, err);
}

/* ---- open, load, close ------------------------------------------------------------------- */

/* Makes the new directory's entry in its parent durable: recovery relies on finding it. */
static int s_sync_parent(const char *dir) {
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", dir);
  char *slash = strrchr(parent, '/');
  if (slash == parent) slash[1] = '\0';
  else if (slash) *slash = '\0';
  else snprintf(parent, sizeof parent, ".");
  int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int e = fsync(fd) == 0 ? 0 : errno;
  close(fd);
  return e;
}

static int s_open(raft_store_t *s, const char *dir, rv_err_t *err) {
  if (mkdir(dir, 0755) == 0) {
    int e = s_sync_parent(dir);
    if (e) return rs_io_err(s, err, e, "sync the parent of the new directory", NULL, 0);
  } else if (errno != EEXIST) {
    return rs_io_err(s, err, errno, "create the directory", NULL, 0);
  }
  if ((s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return rs_io_err(s, err, errno, "open the directory", NULL, 0);
  if (faccessat(s->dirfd, "CURRENT", F_OK, 0) == 0)
    return rv_err_set(err, RV_ECONFIG,
                      "raft log %s was written by an older build (a RocksDB log: CURRENT found); "
                      "this build keeps the Raft log in segment files and does not convert: %s",
                      dir, S_WIPE);
  if ((s->lockfd = openat(s->dirfd, "lock", O_CREAT | O_RDWR | O_CLOEXEC, 0644)) < 0)
    return rs_io_err(s, err, errno, "create", "lock", 0);
  if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0)
    return errno == EWOULDBLOCK
               ? rv_err_set(err, RV_EBUSY, "raft log %s is open in another process: stop it "
                            "first (two raft-peers on one data-dir?)", dir)
               : rs_io_err(s, err, errno, "lock", "lock", 0);
  s_found_t f = {0};
  int rc = s_list(s, &f, err);
  if (rc == RV_OK) rc = f.n ? s_recover(s, &f, err) : s_create(s, err);
  free(f.segs);
  if (rc) return rc;
  if ((rc = rs_spares_start(s, err))) return rc;
  if (s->off > s->segs[s->n_segs - 1].size / 2) {
    rs_spare_ask(s, rs_next_segment_size(s));
    s->spare_asked = true;
  }
  return RV_OK;
}

int raft_store_open(const char *dir, const char *cluster, raft_id_t node,
                    const raft_store_options_t *opts, raft_store_t **out, rv_err_t *err) {
  *out = NULL;
  raft_store_options_t o;
  if (opts)
    o = *opts;
  else
    raft_store_options_default(&o);
  if (o.segment_bytes < RS_MIN_SEGMENT || o.segment_bytes > RS_MAX_SEGMENT ||
      o.segment_bytes % 4096)
    return rv_err_set(err, RV_ECONFIG, "raft log %s: segment size %llu: expected a multiple of "
                      "4096 in %u..%u", dir, (unsigned long long)o.segment_bytes, RS_MIN_SEGMENT,
                      RS_MAX_SEGMENT);
  if (o.spares < 1 || o.spares > RS_MAX_SPARES)
    return rv_err_set(err, RV_ECONFIG, "raft log %s: spares %u: expected 1..%d", dir, o.spares,
                      RS_MAX_SPARES);
  if (strlen(cluster) > RS_CLUSTER_MAX || strlen(dir) >= sizeof(((raft_store_t *)0)->dir))
    return rv_err_set(err, RV_ECONFIG, "raft log %s: cluster id or directory name too long", dir);
  raft_store_t *s = calloc(1, sizeof *s);
  if (!s) return rv_err_set(err, RV_ENOMEM, "out of memory");
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  s->dirfd = s->lockfd = s->fd = -1;
  s->opts = o;
  s->node = node;
  s->next_spare_id = 1;
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  snprintf(s->cluster, sizeof s->cluster, "%s", cluster);
  int rc = s_open(s, dir, err);
  if (rc) {
    s->failed = rc; /* close must not write */
    raft_store_close(&s);
    return rc;
  }
  *out = s;
  return RV_OK;
}

int raft_store_load(raft_store_t *s, raft_storage_state_t *st, rv_err_t *err) {
  memset(st, 0, sizeof *st);
  if (s->loaded)
    return rv_err_set(err, RV_EINVAL, "raft log %s: load comes once, right after open",
                      s->dir);
  *st = s->recovered;
  memset(&s->recovered, 0, sizeof s->recovered);
  s->loaded = true;
  return RV_OK;
}

void raft_store_state_free(raft_storage_state_t *st) {
  if (!st) return;
  raft_entry_t *ents = (raft_entry_t *)st->entries;
  for (size_t i = 0; i < st->n_entries; i++) free(ents[i].data);
  free(ents);
  memset(st, 0, sizeof *st);
}

void raft_store_close(raft_store_t **sp) {
  if (!sp || !*sp) return;
  raft_store_t *s = *sp;
  if (!s->failed && s->fd >= 0 && s->pending.len) {
    rv_err_t ignored; /* a deferred save may be lost by a crash anyway */
    rs_flush(s, &ignored);
  }
  rs_spares_stop(s);
  if (s->fd >= 0) close(s->fd);
  if (s->lockfd >= 0) close(s->lockfd);
  if (s->dirfd >= 0) close(s->dirfd);
  free(s->segs);
  rs_buf_free(&s->pending);
  rs_buf_free(&s->scratch);
  raft_store_state_free(&s->recovered);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
  *sp = NULL;
}
