/* srv_range.c: GetRange (reference 3.5): forward and backward scans between an inclusive start
 * and an exclusive end key (INF_MIN / INF_MAX allowed), limit, at most 5000 rows or 4 MiB per
 * answer, next_start_primary_key exactly when more rows remain; reads through a transaction. */
#include <stdlib.h>
#include <string.h>

#include "srv.h"

enum { MAX_ROWS = 5000, MAX_BYTES = 4 * 1024 * 1024 };

/* The position of a range key among row keys: an exact key K (K 0x00 when `after`, i.e. just
 * past K); at the first INF column, the columns before it as a prefix P: INF_MIN -> P (before
 * every key under P), INF_MAX -> the successor of P (after every key under P). */
static void position(srv_buf_t *b, const char *table, const srv_row_t *k, bool after) {
  srv_key_prefix(b, table);
  for (size_t i = 0; i < k->npk; i++) {
    uint8_t vt = k->pk[i].v.type;
    if (vt == SRV_VT_INF_MIN) return;
    if (vt == SRV_VT_INF_MAX) {
      while (b->len && b->p[b->len - 1] == 0xff) b->len--;
      b->p[b->len - 1]++; /* never empty: the prefix starts with 'r' */
      return;
    }
    srv_key_append(b, &k->pk[i].v);
  }
  if (after) srv_buf_u8(b, 0);
}

static int buf_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
  size_t m = al < bl ? al : bl;
  int c = m ? memcmp(a, b, m) : 0;
  return c ? c : (al < bl ? -1 : al > bl);
}

static int decode_key(const ProtobufCBinaryData *d, const srv_table_t *t, const char *what, srv_row_t **r, size_t *n,
                      srv_err_t *e) {
  char perr[300];
  if (srv_pbuf_decode(d->data, d->len, 1, r, n, perr, sizeof perr)) return srv_fail(e, SRV_PARAM, "%s: %s", what, perr);
  if ((*r)->nattrs || (*r)->delete_marker) return srv_fail(e, SRV_PARAM, "%s must hold key columns only.", what);
  return srv_pk_check(t, (*r)->pk, (*r)->npk, true, e);
}

int srv_op_get_range(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__GetRangeRequest *rq = otssrv__get_range_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed GetRangeRequest (missing required field or bad protobuf).");
  srv_table_t t;
  srv_txn_t *txn = NULL;
  srv_row_t *st = NULL, *en = NULL;
  size_t nst = 0, nen = 0;
  srv_buf_t a = {0}, b = {0}, lo = {0}, hi = {0}, rows = {0}, next = {0};
  rocksdb_iterator_t *it = NULL;
  bool fwd = rq->direction == OTSSRV__DIRECTION__FORWARD;
  int rc = -1;
  if (srv_table_load(s, rq->table_name, &t, e)) goto done;
  if (rq->direction != OTSSRV__DIRECTION__FORWARD && rq->direction != OTSSRV__DIRECTION__BACKWARD) {
    srv_fail(e, SRV_PARAM, "Invalid direction %d.", (int)rq->direction);
    goto done;
  }
  if (srv_read_check(rq->has_max_versions, rq->max_versions, rq->time_range, rq->n_columns_to_get, e)) goto done;
  if (rq->has_limit && rq->limit <= 0) { srv_fail(e, SRV_PARAM, "The limit must be greater than 0."); goto done; }
  if (rq->has_filter && srv_filter_check(rq->filter.data, rq->filter.len, e)) goto done;
  if (decode_key(&rq->inclusive_start_primary_key, &t, "inclusive_start_primary_key", &st, &nst, e)) goto done;
  if (decode_key(&rq->exclusive_end_primary_key, &t, "exclusive_end_primary_key", &en, &nen, e)) goto done;
  position(&a, t.name, st, false);
  position(&b, t.name, en, false);
  int c = buf_cmp(a.p, a.len, b.p, b.len);
  if (fwd && c >= 0) { srv_fail(e, SRV_PARAM, "Begin key must less than end key in FORWARD"); goto done; }
  if (!fwd && c <= 0) { srv_fail(e, SRV_PARAM, "Begin key must more than end key in BACKWARD"); goto done; }
  if (rq->transaction_id && srv_txn_find(s, rq->transaction_id, &txn, e)) goto done;
  if (fwd) { lo = a; hi = b; a = b = (srv_buf_t){0}; }
  else { position(&hi, t.name, st, true); position(&lo, t.name, en, true); }

  it = rocksdb_create_iterator(s->db, s->ro);
  if (txn) it = rocksdb_writebatch_wi_create_iterator_with_base(txn->wb, it); /* takes the base */
  if (fwd) {
    rocksdb_iter_seek(it, (char *)lo.p, lo.len);
  } else {
    rocksdb_iter_seek_for_prev(it, (char *)hi.p, hi.len);
    size_t kl;
    const char *k;
    if (rocksdb_iter_valid(it) && (k = rocksdb_iter_key(it, &kl)) && buf_cmp((const uint8_t *)k, kl, hi.p, hi.len) == 0)
      rocksdb_iter_prev(it);
  }
  size_t limit = rq->has_limit && rq->limit < MAX_ROWS ? (size_t)rq->limit : MAX_ROWS, count = 0;
  srv_pbuf_encode_header(&rows);
  for (; rocksdb_iter_valid(it); fwd ? rocksdb_iter_next(it) : rocksdb_iter_prev(it)) {
    size_t kl, vl;
    const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &kl);
    if (fwd ? buf_cmp(k, kl, hi.p, hi.len) >= 0 : buf_cmp(k, kl, lo.p, lo.len) < 0) break;
    const char *v = rocksdb_iter_value(it, &vl);
    srv_row_t *r;
    if (srv_row_decode_stored(v, vl, &r, e)) goto done;
    if (count == limit || rows.len >= MAX_BYTES) { /* more remains: tell where to go on */
      srv_pbuf_encode_header(&next);
      srv_pbuf_encode_row(&next, r->pk, r->npk, NULL, 0, false);
      srv_rows_free(r, 1);
      break;
    }
    if (!rq->has_filter || srv_filter_eval(rq->filter.data, rq->filter.len, r))
      if (srv_read_project(&rows, r, rq->columns_to_get, rq->n_columns_to_get, rq->time_range)) count++;
    srv_rows_free(r, 1);
  }
  char *ierr = NULL;
  rocksdb_iter_get_error(it, &ierr);
  if (ierr) { srv_fail(e, 500, "OTSInternalServerError", "rocksdb iterator: %s", ierr); rocksdb_free(ierr); goto done; }
  if (rows.failed || next.failed) { srv_fail(e, 500, "OTSInternalServerError", "out of memory"); goto done; }
  Otssrv__GetRangeResponse rs = OTSSRV__GET_RANGE_RESPONSE__INIT;
  Otssrv__ConsumedCapacity cc;
  Otssrv__CapacityUnit cu;
  srv_consumed(&cc, &cu, count ? (int)count : 1, 0);
  rs.consumed = &cc;
  rs.rows.data = rows.p;
  rs.rows.len = count ? rows.len : 0; /* empty range: empty bytes */
  if (next.len) { rs.has_next_start_primary_key = 1; rs.next_start_primary_key.data = next.p; rs.next_start_primary_key.len = next.len; }
  srv_pack(&rs.base, out);
  rc = 0;
done:
  if (it) rocksdb_iter_destroy(it);
  srv_buf_close(&a);
  srv_buf_close(&b);
  srv_buf_close(&lo);
  srv_buf_close(&hi);
  srv_buf_close(&rows);
  srv_buf_close(&next);
  srv_rows_free(st, nst);
  srv_rows_free(en, nen);
  otssrv__get_range_request__free_unpacked(rq, NULL);
  return rc;
}
