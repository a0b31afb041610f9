/* raft_store_codec: the on-disk format of raft-peer's segment log (pure: bytes in, bytes out;
 * no files). Integers are little-endian. See raft_store.h for the record kinds.
 *
 * Header (24 bytes): crc32 | payload length (u32) | generation (u64) | type (u8) | 7 zero bytes.
 * The CRC (zlib's crc32) runs over the record's file offset (u64), header bytes 4..24, the
 * payload and the zero padding, so every byte of a record counts, and a valid record copied to
 * another offset (or embedded in an entry's data at another offset) does not pass for one.
 * Update payload: operations, each a byte then its fields:
 *   snapshot / compact: index u64, term u64, voters u8 + u64 each, learners u8 + u64 each
 *   entries:            first index u64, count u32, then per entry term u64, type u8, len u32,
 *                       data
 *   hard:               term u64, vote u64, commit u64
 * Checkpoint payload: "RVRAFTLG", format u32, cluster id u16 + bytes, node u64, hard (3 x u64),
 * snapshot metadata, last index u64. Seal payload: last index u64. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "raft_store_int.h"

static const uint8_t s_magic[8] = {'R', 'V', 'R', 'A', 'F', 'T', 'L', 'G'};

/* ---- buffers ----------------------------------------------------------------------------- */

int rs_buf_reserve(rs_buf_t *b, size_t more) {
  if (b->cap - b->len >= more) return RV_OK;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap - b->len < more) cap *= 2;
  uint8_t *p = realloc(b->p, cap);
  if (!p) return RV_ENOMEM;
  b->p = p;
  b->cap = cap;
  return RV_OK;
}

void rs_buf_free(rs_buf_t *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

static void s_u8(rs_buf_t *b, uint8_t v) { b->p[b->len++] = v; }
static void s_u16(rs_buf_t *b, uint16_t v) {
  for (int i = 0; i < 2; i++, v >>= 8) b->p[b->len++] = (uint8_t)v;
}
static void s_u32(rs_buf_t *b, uint32_t v) {
  for (int i = 0; i < 4; i++, v >>= 8) b->p[b->len++] = (uint8_t)v;
}
static void s_u64(rs_buf_t *b, uint64_t v) {
  for (int i = 0; i < 8; i++, v >>= 8) b->p[b->len++] = (uint8_t)v;
}
static void s_bytes(rs_buf_t *b, const void *p, size_t n) {
  if (n) memcpy(b->p + b->len, p, n);
  b->len += n;
}

static uint32_t s_get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t s_get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* A bounds-checked reader: once it runs past the end, bad is set and every read yields 0. */
typedef struct {
  const uint8_t *p, *end;
  bool bad;
} s_cur_t;

static const uint8_t *s_take(s_cur_t *c, size_t n) {
  if (c->bad || (size_t)(c->end - c->p) < n) {
    c->bad = true;
    return NULL;
  }
  const uint8_t *q = c->p;
  c->p += n;
  return q;
}
static uint8_t s_get8(s_cur_t *c) {
  const uint8_t *q = s_take(c, 1);
  return q ? q[0] : 0;
}
static uint16_t s_get16(s_cur_t *c) {
  const uint8_t *q = s_take(c, 2);
  return q ? (uint16_t)(q[0] | q[1] << 8) : 0;
}
static uint32_t s_get32(s_cur_t *c) {
  const uint8_t *q = s_take(c, 4);
  return q ? s_get_u32(q) : 0;
}
static uint64_t s_get64(s_cur_t *c) {
  const uint8_t *q = s_take(c, 8);
  return q ? s_get_u64(q) : 0;
}

/* ---- operations -------------------------------------------------------------------------- */

static size_t s_meta_size(const raft_snapshot_meta_t *m) {
  return 16 + 2 + 8 * (m->conf.n_voters + m->conf.n_learners);
}

static void s_meta(rs_buf_t *b, const raft_snapshot_meta_t *m) {
  s_u64(b, m->index);
  s_u64(b, m->term);
  s_u8(b, (uint8_t)m->conf.n_voters);
  for (size_t i = 0; i < m->conf.n_voters; i++) s_u64(b, m->conf.voters[i]);
  s_u8(b, (uint8_t)m->conf.n_learners);
  for (size_t i = 0; i < m->conf.n_learners; i++) s_u64(b, m->conf.learners[i]);
}

static void s_get_meta(s_cur_t *c, raft_snapshot_meta_t *m) {
  memset(m, 0, sizeof *m);
  m->index = s_get64(c);
  m->term = s_get64(c);
  size_t nv = s_get8(c);
  if (nv > RAFT_MAX_MEMBERS) c->bad = true;
  for (size_t i = 0; i < nv && !c->bad; i++) m->conf.voters[i] = s_get64(c);
  m->conf.n_voters = c->bad ? 0 : nv;
  size_t nl = s_get8(c);
  if (nl > RAFT_MAX_MEMBERS) c->bad = true;
  for (size_t i = 0; i < nl && !c->bad; i++) m->conf.learners[i] = s_get64(c);
  m->conf.n_learners = c->bad ? 0 : nl;
}

int rs_op_snapshot(rs_buf_t *b, uint8_t op, const raft_snapshot_meta_t *m) {
  if (rs_buf_reserve(b, 1 + s_meta_size(m))) return RV_ENOMEM;
  s_u8(b, op);
  s_meta(b, m);
  return RV_OK;
}

int rs_op_entries(rs_buf_t *b, const raft_entry_t *ents, size_t n) {
  size_t need = 1 + 8 + 4;
  for (size_t i = 0; i < n; i++) need += 13 + ents[i].len;
  if (rs_buf_reserve(b, need)) return RV_ENOMEM;
  s_u8(b, RS_OP_ENTRIES);
  s_u64(b, ents[0].index);
  s_u32(b, (uint32_t)n);
  for (size_t i = 0; i < n; i++) {
    s_u64(b, ents[i].term);
    s_u8(b, (uint8_t)ents[i].type);
    s_u32(b, (uint32_t)ents[i].len);
    s_bytes(b, ents[i].data, ents[i].len);
  }
  return RV_OK;
}

int rs_op_hard(rs_buf_t *b, const raft_hard_state_t *h) {
  if (rs_buf_reserve(b, 1 + 24)) return RV_ENOMEM;
  s_u8(b, RS_OP_HARD);
  s_u64(b, h->term);
  s_u64(b, h->vote);
  s_u64(b, h->commit);
  return RV_OK;
}

int rs_checkpoint_encode(rs_buf_t *b, const rs_checkpoint_t *c) {
  size_t cl = strlen(c->cluster);
  if (rs_buf_reserve(b, 8 + 4 + 2 + cl + 8 + 24 + s_meta_size(&c->st.snap) + 8)) return RV_ENOMEM;
  s_bytes(b, s_magic, sizeof s_magic);
  s_u32(b, c->format);
  s_u16(b, (uint16_t)cl);
  s_bytes(b, c->cluster, cl);
  s_u64(b, c->node);
  s_u64(b, c->st.hard.term);
  s_u64(b, c->st.hard.vote);
  s_u64(b, c->st.hard.commit);
  s_meta(b, &c->st.snap);
  s_u64(b, c->st.last);
  return RV_OK;
}

int rs_checkpoint_decode(const uint8_t *p, size_t len, rs_checkpoint_t *c) {
  memset(c, 0, sizeof *c);
  s_cur_t cur = {p, p + len, false};
  const uint8_t *magic = s_take(&cur, sizeof s_magic);
  if (!magic || memcmp(magic, s_magic, sizeof s_magic) != 0) return RV_ECORRUPT;
  c->format = s_get32(&cur);
  if (c->format != RS_FORMAT) return RV_ECONFIG; /* the caller says whose format it is */
  size_t cl = s_get16(&cur);
  const uint8_t *name = cl <= RS_CLUSTER_MAX ? s_take(&cur, cl) : NULL;
  if (!name) return RV_ECORRUPT;
  memcpy(c->cluster, name, cl);
  c->cluster[cl] = '\0';
  c->node = s_get64(&cur);
  c->st.hard.term = s_get64(&cur);
  c->st.hard.vote = s_get64(&cur);
  c->st.hard.commit = s_get64(&cur);
  s_get_meta(&cur, &c->st.snap);
  c->st.last = s_get64(&cur);
  return cur.bad || cur.p != cur.end ? RV_ECORRUPT : RV_OK;
}

int rs_seal_encode(rs_buf_t *b, raft_index_t last) {
  if (rs_buf_reserve(b, 8)) return RV_ENOMEM;
  s_u64(b, last);
  return RV_OK;
}

int rs_seal_decode(const uint8_t *p, size_t len, raft_index_t *last) {
  if (len != 8) return RV_ECORRUPT;
  *last = s_get_u64(p);
  return RV_OK;
}

/* ---- records ----------------------------------------------------------------------------- */

uint64_t rs_record_size(size_t len) {
  return ((uint64_t)RS_HDR + len + RS_ALIGN - 1) / RS_ALIGN * RS_ALIGN;
}

/* The CRC of a record at off: its offset, header bytes 4..24, payload and padding (pad bytes of
 * the padding, which the writer fills with zeros). */
static uint32_t s_crc(uint64_t off, const uint8_t *hdr, const uint8_t *payload, size_t len,
                      const uint8_t *pad, size_t padlen) {
  uint8_t o[8];
  for (int i = 0; i < 8; i++, off >>= 8) o[i] = (uint8_t)off;
  uLong crc = crc32_z(0L, Z_NULL, 0);
  crc = crc32_z(crc, o, sizeof o);
  crc = crc32_z(crc, hdr + 4, RS_HDR - 4);
  crc = crc32_z(crc, payload, len);
  return (uint32_t)crc32_z(crc, pad, padlen);
}

uint64_t rs_record_header(uint8_t hdr[RS_HDR], uint8_t type, uint64_t gen, uint64_t off,
                          const uint8_t *payload, size_t len) {
  static const uint8_t zeros[RS_ALIGN];
  rs_buf_t b = {hdr, 0, RS_HDR};
  memset(hdr, 0, RS_HDR);
  b.len = 4;
  s_u32(&b, (uint32_t)len);
  s_u64(&b, gen);
  s_u8(&b, type);
  uint64_t size = rs_record_size(len);
  uint32_t crc = s_crc(off, hdr, payload, len, zeros, (size_t)(size - RS_HDR - len));
  b.len = 0;
  s_u32(&b, crc);
  return size;
}

bool rs_record_check(const uint8_t *seg, uint64_t size, uint64_t off, uint64_t gen, rs_rec_t *rec) {
  if (off > size || size - off < RS_HDR) return false;
  const uint8_t *h = seg + off;
  if (s_get_u64(h + 8) != gen) return false;
  uint8_t type = h[16];
  if (type < RS_REC_CHECKPOINT || type > RS_REC_SEAL) return false;
  for (int i = 17; i < RS_HDR; i++)
    if (h[i]) return false;
  uint32_t len = s_get_u32(h + 4);
  if (size - off < rs_record_size(len)) return false;
  size_t padlen = (size_t)(rs_record_size(len) - RS_HDR - len);
  if (s_crc(off, h, h + RS_HDR, len, h + RS_HDR + len, padlen) != s_get_u32(h)) return false;
  rec->type = type;
  rec->payload = h + RS_HDR;
  rec->len = len;
  rec->next = off + rs_record_size(len);
  return true;
}

bool rs_header_zero(const uint8_t *seg, uint64_t size, uint64_t off) {
  if (off > size || size - off < RS_HDR) return true;
  for (int i = 0; i < RS_HDR; i++)
    if (seg[off + i]) return false;
  return true;
}

bool rs_record_old(const uint8_t *seg, uint64_t size, uint64_t off, uint64_t gen) {
  if (off > size || size - off < RS_HDR) return false;
  uint64_t g = s_get_u64(seg + off + 8);
  rs_rec_t rec;
  return g < gen && rs_record_check(seg, size, off, g, &rec);
}

uint64_t rs_torn_extent(const uint8_t *seg, uint64_t size, uint64_t off, uint64_t gen) {
  if (off > size || size - off < RS_HDR) return off > size ? 0 : size - off;
  uint32_t len = s_get_u32(seg + off + 4);
  if (s_get_u64(seg + off + 8) == gen && len <= size - off - RS_HDR) {
    uint64_t ext = rs_record_size(len);
    return ext < size - off ? ext : size - off;
  }
  return RS_HDR;
}

/* ---- replay ------------------------------------------------------------------------------ */

/* Drops the entries at ents[from..n) (those before head are already freed). */
static void s_drop_from(rs_replay_t *r, size_t from) {
  for (size_t i = from > r->head ? from : r->head; i < r->n; i++) free(r->ents[i].data);
  r->n = from;
  if (r->head > r->n) r->head = r->n;
}

/* Drops live entries at or below index from the front. */
static void s_drop_upto(rs_replay_t *r, raft_index_t index) {
  while (r->head < r->n && r->ents[r->head].index <= index) free(r->ents[r->head++].data);
  if (r->head == r->n) {
    r->head = r->n = 0;
  } else if (r->head > 1024 && r->head >= r->n / 2) {
    memmove(r->ents, r->ents + r->head, (r->n - r->head) * sizeof *r->ents);
    r->n -= r->head;
    r->head = 0;
  }
}

static int s_replay_entries(rs_replay_t *r, s_cur_t *c, const char **why) {
  raft_index_t first = s_get64(c);
  uint32_t count = s_get32(c);
  if (c->bad || count == 0 || first == 0 || first + count < first) {
    *why = "an entries operation without entries";
    return RV_ECORRUPT;
  }
  if (r->n > r->head && first >= r->ents[r->head].index && first <= r->st.last + 1)
    s_drop_from(r, r->head + (size_t)(first - r->ents[r->head].index));
  else
    s_drop_from(r, 0); /* the new entries start a run of their own; a gap shows at the end */
  for (uint32_t i = 0; i < count; i++) {
    raft_term_t term = s_get64(c);
    uint8_t type = s_get8(c);
    uint32_t len = s_get32(c);
    const uint8_t *data = s_take(c, len);
    if (c->bad || type > RAFT_ENTRY_CONF) {
      *why = "an entry that does not decode";
      return RV_ECORRUPT;
    }
    if (r->n == r->cap) {
      size_t cap = r->cap ? 2 * r->cap : 1024;
      raft_entry_t *bigger = realloc(r->ents, cap * sizeof *bigger);
      if (!bigger) return RV_ENOMEM;
      r->ents = bigger;
      r->cap = cap;
    }
    raft_entry_t *e = &r->ents[r->n];
    *e = (raft_entry_t){.term = term, .index = first + i, .type = (raft_entry_type_t)type,
                        .len = len};
    if (len) {
      if (!(e->data = malloc(len))) return RV_ENOMEM;
      memcpy(e->data, data, len);
    }
    r->n++;
  }
  r->st.last = first + count - 1;
  return RV_OK;
}

int rs_replay_update(rs_replay_t *r, const uint8_t *p, size_t len, const char **why) {
  s_cur_t c = {p, p + len, false};
  r->installed = false;
  if (len == 0) {
    *why = "an empty update";
    return RV_ECORRUPT;
  }
  while (c.p < c.end) {
    uint8_t op = s_get8(&c);
    raft_snapshot_meta_t m;
    int rc;
    switch (op) {
    case RS_OP_SNAPSHOT:
      s_get_meta(&c, &m);
      if (c.bad) break;
      s_drop_from(r, 0);
      r->st.snap = m;
      r->st.last = m.index;
      r->installed = true;
      break;
    case RS_OP_ENTRIES:
      if ((rc = s_replay_entries(r, &c, why))) return rc;
      break;
    case RS_OP_HARD:
      r->st.hard.term = s_get64(&c);
      r->st.hard.vote = s_get64(&c);
      r->st.hard.commit = s_get64(&c);
      break;
    case RS_OP_COMPACT:
      s_get_meta(&c, &m);
      if (c.bad || m.index <= r->st.snap.index) break;
      r->st.snap = m;
      s_drop_upto(r, m.index);
      if (r->st.last < m.index) r->st.last = m.index;
      break;
    default:
      *why = "an unknown operation";
      return RV_ECORRUPT;
    }
    if (c.bad) {
      *why = "an operation that does not decode";
      return RV_ECORRUPT;
    }
  }
  return RV_OK;
}

int rs_replay_finish(rs_replay_t *r, raft_index_t *from, raft_index_t *to) {
  s_drop_upto(r, r->st.snap.index);
  if (r->n > r->head) {
    *from = r->st.snap.index + 1;
    *to = r->ents[r->head].index - 1;
    return r->ents[r->head].index == r->st.snap.index + 1 ? RV_OK : RV_ECORRUPT;
  }
  *from = r->st.snap.index + 1;
  *to = r->st.last;
  return r->st.last == r->st.snap.index ? RV_OK : RV_ECORRUPT;
}

void rs_replay_free(rs_replay_t *r) {
  s_drop_from(r, 0);
  free(r->ents);
  memset(r, 0, sizeof *r);
}
