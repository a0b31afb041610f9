/* srv.h: the state of rv-ots-server shared by its operation handlers: the RocksDB store of
 * tables and rows, open local transactions, and the error every handler fills.
 *
 * Threading: libmicrohttpd runs one thread per connection; every handler runs with `mu` held,
 * so handlers see a serial world. Fault delays and blackholes wait outside the lock.
 *
 * Store layout (one RocksDB): "m" <table> -> serialized DescribeTableResponse;
 * "r" <table> 0x00 <order-preserving PK> -> a PlainBuffer of the row (header, pk cells,
 * attribute cells with timestamps), so memcmp order of keys is the table's PK order. */
#ifndef SRV_H
#define SRV_H
#include <pthread.h>
#include <rocksdb/c.h>
#include <stdbool.h>
#include <stdint.h>

#include "srv_filter.pb-c.h"
#include "srv_pbuf.h"
#include "srv_table_store.pb-c.h"

enum { SRV_MAX_PK = 4, SRV_NAME_MAX = 255 };

/* An error answer: HTTP status, Tablestore code, message (reference 5.1). */
typedef struct {
  int http;
  char code[48];
  char msg[512];
} srv_err_t;

/* Fills e and returns -1. */
int srv_fail(srv_err_t *e, int http, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define SRV_PARAM 400, "OTSParameterInvalid"

/* A table's schema as the handlers need it. */
typedef struct {
  char name[SRV_NAME_MAX + 1];
  size_t npk;
  char pk_name[SRV_MAX_PK][SRV_NAME_MAX + 1];
  int pk_type[SRV_MAX_PK]; /* 1 INTEGER, 2 STRING, 3 BINARY (PrimaryKeyType) */
  int max_versions;
} srv_table_t;

/* An open local transaction (3.6). */
typedef struct {
  char id[64];
  char table[SRV_NAME_MAX + 1];
  srv_buf_t pkey;               /* encoded row-key prefix of its partition key */
  rocksdb_writebatch_wi_t *wb;  /* its uncommitted writes, read through by its reads */
  int64_t deadline_ms;
} srv_txn_t;

typedef struct {
  rocksdb_t *db;
  rocksdb_options_t *opts;
  rocksdb_readoptions_t *ro;
  rocksdb_writeoptions_t *wo;
  pthread_mutex_t mu;
  srv_txn_t *txns;       /* open transactions */
  size_t ntxns, captxns;
  int64_t txn_timeout_ms; /* lifetime of a transaction (60 s by default) */
  uint64_t txn_seq;
} srv_t;

/* ---- srv_store.c ---- */
/* Opens (creating) the RocksDB at path. 0, or -1 with err filled. */
int srv_open(srv_t *s, const char *path, char *err, size_t errlen);
void srv_close(srv_t *s);
/* Loads a table's schema: 0, or -1 with 404 OTSObjectNotExist. */
int srv_table_load(srv_t *s, const char *name, srv_table_t *t, srv_err_t *e);
/* Checks a row's primary key against the schema (OTSInvalidPK messages of 5.1); inf allows
 * INF_MIN/INF_MAX (range bounds). */
int srv_pk_check(const srv_table_t *t, const srv_cell_t *pk, size_t npk, bool inf, srv_err_t *e);
/* Appends "r" table 0x00 to b (the table's key prefix). */
void srv_key_prefix(srv_buf_t *b, const char *table);
/* Appends the full row key for a checked pk (no INF values). */
void srv_row_key(srv_buf_t *b, const char *table, const srv_cell_t *pk, size_t npk);
/* Reads a row through wb (may be NULL): 1 and *row (caller frees with srv_rows_free(row,1))
 * when present, 0 when absent, -1 on error. */
int srv_row_read(srv_t *s, rocksdb_writebatch_wi_t *wb, const uint8_t *key, size_t klen,
                 srv_row_t **row, srv_err_t *e);
/* Decodes a stored value (a PlainBuffer of one row). */
int srv_row_decode_stored(const char *v, size_t vl, srv_row_t **row, srv_err_t *e);
/* Appends a packed protobuf message to out. */
void srv_pack(const ProtobufCMessage *m, srv_buf_t *out);
/* Commits wb to the database (synced). */
int srv_commit(srv_t *s, rocksdb_writebatch_wi_t *wb, srv_err_t *e);

/* ---- srv_txn.c ---- */
/* Aborts transactions past their deadline. */
void srv_txn_expire(srv_t *s, int64_t now_ms);
/* Finds an open transaction; 400 "TransactionID is invalid." otherwise. */
int srv_txn_find(srv_t *s, const char *id, srv_txn_t **txn, srv_err_t *e);
/* Is the partition of this row key held by an open transaction other than `self`? */
bool srv_txn_conflict(srv_t *s, const uint8_t *key, size_t klen, const srv_txn_t *self);
/* Does the row key fall in the transaction's partition? */
bool srv_txn_covers(const srv_txn_t *t, const char *table, const uint8_t *key, size_t klen);

/* ---- handlers: each takes the request body, appends the packed response to out ---- */
typedef int (*srv_handler_fn)(srv_t *s, const uint8_t *body, size_t n, int64_t now_ms,
                              srv_buf_t *out, srv_err_t *e);
int srv_op_create_table(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);
int srv_op_describe_table(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);
int srv_op_list_table(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);
int srv_op_delete_table(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);
int srv_op_put_row(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);
int srv_op_get_row(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);
int srv_op_update_row(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);
int srv_op_delete_row(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);
int srv_op_batch_write_row(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);
int srv_op_get_range(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);
int srv_op_start_txn(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);
int srv_op_commit_txn(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);
int srv_op_abort_txn(srv_t *, const uint8_t *, size_t, int64_t, srv_buf_t *, srv_err_t *);

/* BatchWriteRow per-row fault: rows whose request index (over all tables) is listed fail with
 * this code (set by the fault layer before the handler runs, cleared after). */
typedef struct {
  int count;
  int index[16];
  char code[48];
} srv_rowfail_t;
extern _Thread_local srv_rowfail_t srv_rowfail;

/* ---- srv_rows.c: shared by the row, batch and range handlers ---- */
enum { SRV_W_PUT = 1, SRV_W_UPDATE = 2, SRV_W_DELETE = 3 }; /* OperationType values */
/* Checks and applies one row change (a PlainBuffer of kind SRV_W_*) to wb: grammar and CRCs,
 * the key against t's schema, per-row limits, the transaction's scope or another one's lock,
 * the condition against the current row (read through wb). On success appends to ret the row
 * that return_content asks for (nothing for RT_NONE / NULL). 0 or -1 with e filled. */
int srv_write_row(srv_t *s, const srv_table_t *t, rocksdb_writebatch_wi_t *wb, const srv_txn_t *txn, int kind,
                  const uint8_t *change, size_t n, const Otssrv__Condition *cond,
                  const Otssrv__ReturnContent *ret_content, int64_t now, srv_buf_t *ret, srv_err_t *e);
/* Checks a read's version condition and column list (3.3, 6). */
int srv_read_check(bool has_max_versions, int32_t max_versions, const Otssrv__TimeRange *tr, size_t ncols,
                   srv_err_t *e);
/* Appends the row as a read returns it (pk, then the attributes selected by cols and the time
 * range; nothing at all when cols were asked for and none matched). Returns bytes appended. */
size_t srv_read_project(srv_buf_t *b, const srv_row_t *row, char **cols, size_t ncols, const Otssrv__TimeRange *tr);
/* A ConsumedCapacity with both read and write set (GO requires both, 3.1). cu is its storage. */
void srv_consumed(Otssrv__ConsumedCapacity *c, Otssrv__CapacityUnit *cu, int read, int write);

/* ---- srv_filter.c ---- */
/* Checks a serialized Filter (3.8) for structure and limits: 0 or -1 (400). */
int srv_filter_check(const uint8_t *p, size_t n, srv_err_t *e);
/* Evaluates a checked filter against a row (NULL = absent row): 1 pass, 0 not. */
int srv_filter_eval(const uint8_t *p, size_t n, const srv_row_t *row);
/* Applies a Condition (row existence + column condition) to the current row (NULL = absent):
 * 0 or -1 with 403 OTSConditionCheckFail / 400. */
int srv_condition_check(const Otssrv__Condition *c, const srv_row_t *row, srv_err_t *e);

#endif
