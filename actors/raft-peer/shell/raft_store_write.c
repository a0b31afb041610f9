/* raft_store_write: the write side of raft-peer's segment log (I/O): save and compact, each one
 * record made durable by one fdatasync; roll-over to a new segment (seal, rename, checkpoint);
 * recycling the segments a compaction or a snapshot install made dead. Any failed write or sync
 * marks the store failed (see raft_store.h): the caller restarts from what is on disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "raft_store_int.h"

static const uint8_t s_pad[RS_ALIGN];

/* Marks the store failed with err's message (already set) and returns its code. */
static int s_fail(raft_store_t *s, rv_err_t *err) {
  s->failed = err->code;
  snprintf(s->failed_msg, sizeof s->failed_msg,
           "%.880s (the log accepts no more writes: restart raft-peer to recover from what is "
           "on disk)", err->msg);
  return err->code;
}

/* Sets err for errno value e, marks the store failed, returns the code. */
static int s_io_fail(raft_store_t *s, rv_err_t *err, int e, const char *what, const char *file,
                     uint64_t off) {
  rs_io_err(s, err, e, what, file, off);
  return s_fail(s, err);
}

static rs_seg_t *s_newest(raft_store_t *s) { return &s->segs[s->n_segs - 1]; }

int rs_segs_push(raft_store_t *s, uint64_t seq, uint64_t size, rv_err_t *err) {
  if (s->n_segs == s->cap_segs) {
    size_t cap = s->cap_segs ? 2 * s->cap_segs : 16;
    rs_seg_t *bigger = realloc(s->segs, cap * sizeof *bigger);
    if (!bigger) return rv_err_set(err, RV_ENOMEM, "out of memory opening the raft log");
    s->segs = bigger;
    s->cap_segs = cap;
  }
  s->segs[s->n_segs++] = (rs_seg_t){.seq = seq, .size = size};
  return RV_OK;
}

uint64_t rs_next_segment_size(const raft_store_t *s) {
  uint64_t cur = s->n_segs ? s->segs[s->n_segs - 1].size : 0;
  uint64_t size = cur ? 2 * cur : RS_FIRST_SEGMENT;
  return size < s->opts.segment_bytes ? size : s->opts.segment_bytes;
}

/* Writes one record at s->off of the newest segment and fdatasyncs it. */
static int s_write_record(raft_store_t *s, uint8_t type, const uint8_t *payload, size_t len,
                          rv_err_t *err) {
  rs_seg_t *seg = s_newest(s);
  char name[64];
  rs_seg_name(name, sizeof name, seg->seq);
  uint8_t hdr[RS_HDR];
  uint64_t size = rs_record_header(hdr, type, seg->seq, s->off, payload, len);
  struct iovec iov[3] = {{hdr, RS_HDR},
                         {(void *)payload, len},
                         {(void *)s_pad, (size_t)(size - RS_HDR - len)}};
  int e = rs_pwritev(s, s->fd, name, iov, 3, s->off);
  if (e) return s_io_fail(s, err, e, "write", name, s->off);
  if ((e = rs_datasync(s, s->fd, name))) return s_io_fail(s, err, e, "fdatasync", name, s->off);
  s->off += size;
  return RV_OK;
}

int rs_write_checkpoint(raft_store_t *s, rv_err_t *err) {
  rs_checkpoint_t c = {.format = RS_FORMAT, .node = s->node, .st = s->disk};
  snprintf(c.cluster, sizeof c.cluster, "%s", s->cluster);
  s->scratch.len = 0;
  if (rs_checkpoint_encode(&s->scratch, &c))
    return rv_err_set(err, RV_ENOMEM, "out of memory writing the raft log");
  s->off = 0;
  return s_write_record(s, RS_REC_CHECKPOINT, s->scratch.p, s->scratch.len, err);
}

/* The size of a seal record. */
static uint64_t s_seal_size(void) { return rs_record_size(8); }

int rs_roll_over(raft_store_t *s, uint64_t need, rv_err_t *err) {
  rs_checkpoint_t c = {.format = RS_FORMAT, .node = s->node, .st = s->disk};
  snprintf(c.cluster, sizeof c.cluster, "%s", s->cluster);
  s->scratch.len = 0;
  if (rs_checkpoint_encode(&s->scratch, &c)) /* to learn its size */
    return rv_err_set(err, RV_ENOMEM, "out of memory writing the raft log");
  uint64_t total = rs_record_size(s->scratch.len) + need + s_seal_size();
  uint64_t size = rs_next_segment_size(s);
  if (size < total) size = (total + RS_MIN_SEGMENT - 1) / RS_MIN_SEGMENT * RS_MIN_SEGMENT;
  /* 1. a file first: without one nothing changes (a full disk fails here, and only here) */
  rs_spare_t sp;
  int rc = rs_spare_take(s, total, size, &sp, err);
  if (rc) return rc;
  /* 2. seal the newest segment, durably, before the next one exists under its name */
  rs_seg_t *old = s_newest(s);
  if (!old->sealed) {
    if (s->off + s_seal_size() > old->size) { /* cannot happen: every write leaves room */
      rs_spare_untake(s, &sp);
      return rv_err_set(err, RV_EINTERNAL, "raft log %s: no room for a seal", s->dir);
    }
    s->scratch.len = 0;
    if (rs_seal_encode(&s->scratch, s->disk.last)) {
      rs_spare_untake(s, &sp);
      return rv_err_set(err, RV_ENOMEM, "out of memory writing the raft log");
    }
    if ((rc = s_write_record(s, RS_REC_SEAL, s->scratch.p, s->scratch.len, err))) {
      rs_spare_untake(s, &sp);
      return rc;
    }
    old->sealed = true;
    old->seal_last = s->disk.last;
  }
  posix_fadvise(s->fd, 0, 0, POSIX_FADV_DONTNEED); /* read again only by a recovery */
  close(s->fd);
  s->fd = -1;
  /* 3. the spare becomes the next segment */
  uint64_t seq = old->seq + 1;
  char from[64], to[64];
  rs_spare_name(from, sizeof from, sp.id);
  rs_seg_name(to, sizeof to, seq);
  if (renameat(s->dirfd, from, s->dirfd, to) != 0)
    return s_io_fail(s, err, errno, "rename into place", from, 0);
  int e = rs_dirsync(s);
  if (e) return s_io_fail(s, err, e, "sync the directory", NULL, 0);
  s->fd = openat(s->dirfd, to, O_RDWR | O_CLOEXEC);
  if (s->fd < 0) return s_io_fail(s, err, errno, "open", to, 0);
  if ((rc = rs_segs_push(s, seq, sp.size, err))) return s_fail(s, err);
  posix_fadvise(s->fd, 0, 0, POSIX_FADV_WILLNEED); /* a recycled file: read it in ahead */
  s->spare_asked = false;
  /* 4. its checkpoint, durably, before any record */
  return rs_write_checkpoint(s, err);
}

int rs_recycle(raft_store_t *s, rv_err_t *err) {
  size_t k = 0;
  while (k + 1 < s->n_segs &&
         (s->segs[k].seq < s->install_seq || s->segs[k].seal_last <= s->disk.snap.index))
    k++;
  if (k == 0) return RV_OK;
  int rc = RV_OK;
  size_t done = 0;
  for (; done < k; done++) {
    int e = rs_spare_give(s, &s->segs[done]);
    if (e) {
      char name[64];
      rs_seg_name(name, sizeof name, s->segs[done].seq);
      rc = rs_io_err(s, err, e, "recycle", name, 0);
      break;
    }
  }
  memmove(s->segs, s->segs + done, (s->n_segs - done) * sizeof *s->segs);
  s->n_segs -= done;
  int e = rs_dirsync(s);
  if (e) return s_io_fail(s, err, e, "sync the directory", NULL, 0);
  return rc;
}

/* Writes the pending operations as one update record (rolling over first when it does not fit)
 * and makes it durable. On success the disk state catches up with mem. */
static int s_flush(raft_store_t *s, rv_err_t *err) {
  if (s->pending.len == 0) return RV_OK;
  uint64_t size = rs_record_size(s->pending.len);
  int rc;
  if (s->off + size + s_seal_size() > s_newest(s)->size && (rc = rs_roll_over(s, size, err)))
    return rc;
  if ((rc = s_write_record(s, RS_REC_UPDATE, s->pending.p, s->pending.len, err))) return rc;
  s->disk = s->mem;
  s->pending.len = 0;
  s->loaded = true; /* the state recovered at open is out of date: no load after a write */
  rs_seg_t *seg = s_newest(s);
  if (!s->spare_asked && s->off > seg->size / 2) {
    rs_spare_ask(s, rs_next_segment_size(s));
    s->spare_asked = true;
  }
  return RV_OK;
}

static int s_check_entries(raft_store_t *s, const raft_update_t *u, const rs_state_t *m,
                           rv_err_t *err) {
  raft_index_t first = u->entries[0].index;
  if (first == 0 || first <= m->snap.index || first > m->last + 1)
    return rv_err_set(err, RV_EINVAL,
                      "raft log %s: entries from %llu do not follow the log (snapshot %llu, "
                      "last %llu)", s->dir, (unsigned long long)first,
                      (unsigned long long)m->snap.index, (unsigned long long)m->last);
  for (size_t i = 1; i < u->n_entries; i++)
    if (u->entries[i].index != first + i)
      return rv_err_set(err, RV_EINVAL, "raft log %s: entry %llu follows %llu", s->dir,
                        (unsigned long long)u->entries[i].index,
                        (unsigned long long)(first + i - 1));
  return RV_OK;
}

int raft_store_save(raft_store_t *s, const raft_update_t *u, rv_err_t *err) {
  if (s->failed) return rv_err_set(err, s->failed, "%s", s->failed_msg);
  size_t mark = s->pending.len;
  rs_state_t m = s->mem, before = s->mem;
  int rc = RV_OK;
  if (u->has_snapshot) {
    rc = rs_op_snapshot(&s->pending, RS_OP_SNAPSHOT, &u->snapshot);
    m.snap = u->snapshot;
    m.last = u->snapshot.index;
  }
  if (!rc && u->n_entries && !(rc = s_check_entries(s, u, &m, err))) {
    rc = rs_op_entries(&s->pending, u->entries, u->n_entries);
    m.last = u->entries[u->n_entries - 1].index;
  }
  if (!rc && u->has_hard_state) {
    rc = rs_op_hard(&s->pending, &u->hard);
    m.hard = u->hard;
  }
  if (rc) {
    s->pending.len = mark;
    return rc == RV_ENOMEM ? rv_err_set(err, rc, "out of memory writing the raft log") : rc;
  }
  if (s->pending.len == mark) return RV_OK; /* nothing to persist */
  s->mem = m;
  if (!u->must_sync) return RV_OK; /* written with the next record */
  if ((rc = s_flush(s, err))) {
    s->pending.len = mark;
    s->mem = before;
    return rc;
  }
  if (u->has_snapshot) {
    s->install_seq = s_newest(s)->seq;
    rv_err_t ignored; /* the save is durable; a segment left behind is recycled later */
    rs_recycle(s, &ignored);
  }
  return RV_OK;
}

int raft_store_compact(raft_store_t *s, const raft_snapshot_meta_t *meta, rv_err_t *err) {
  if (s->failed) return rv_err_set(err, s->failed, "%s", s->failed_msg);
  if (meta->index <= s->mem.snap.index) return RV_OK;
  size_t mark = s->pending.len;
  rs_state_t before = s->mem;
  if (rs_op_snapshot(&s->pending, RS_OP_COMPACT, meta))
    return rv_err_set(err, RV_ENOMEM, "out of memory writing the raft log");
  s->mem.snap = *meta;
  if (s->mem.last < meta->index) s->mem.last = meta->index;
  int rc = s_flush(s, err);
  if (rc) {
    s->pending.len = mark;
    s->mem = before;
    return rc;
  }
  return rs_recycle(s, err);
}

int rs_flush(raft_store_t *s, rv_err_t *err) { return s_flush(s, err); }
