/* ots_wire: Tablestore request bodies and response bodies (reference section 3), between plain
 * C structs and the proto2 messages of proto/ (compiled by protoc-c; callers never see the
 * generated types, so only this file depends on them).
 *
 * Builders append one serialized request to a caller-owned ots_buf_t; everything they take is
 * borrowed for the call. Rows and keys are PlainBuffer bytes from ots_plainbuf (a delete row's
 * key carries the delete marker; GetRow/GetRange/transaction keys do not: reference 3.3). Before
 * building, they check what the server would refuse with OTSParameterInvalid (names, the version
 * condition of reads, BatchWriteRow's row count, duplicate tables, 4 MiB) and say so clearly.
 *
 * Parsers read one response body (an HTTP 200 body, or an Error body on 4xx/5xx) and copy what
 * they return into memory the result owns (release with the result's _close/_destroy), so the
 * body may be freed right after.
 *
 * Errors (returned int, detail in rv_err_t):
 *   RV_EINVAL   a builder's input breaks a Tablestore rule (the message names it);
 *   RV_EDECODE  a response body is not the message it should be (malformed protobuf, a missing
 *               required field) or does not match its request (BatchWriteRow's positions);
 *   RV_ENOMEM   allocation failed. */
#ifndef OTS_WIRE_H
#define OTS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ots_buf.h"
#include "ots_plainbuf.h"
#include "ots_retry.h"
#include "rv_error.h"

#define OTS_BATCH_WRITE_ROWS_MAX 200             /* rows per BatchWriteRow request */
#define OTS_BATCH_WRITE_BYTES_MAX (4u << 20)     /* sum of row_change bytes per BatchWriteRow */
#define OTS_ROW_BYTES_MAX (4u << 20)             /* one PutRow/UpdateRow row */
#define OTS_COLUMNS_TO_GET_MAX 128
#define OTS_FILTERS_MAX 32

/* ---- shared pieces ---- */

typedef enum {
  OTS_EXPECT_IGNORE = 0,       /* write whether or not the row exists */
  OTS_EXPECT_EXIST = 1,        /* fail with OTSConditionCheckFail unless the row exists */
  OTS_EXPECT_NOT_EXIST = 2     /* fail with OTSConditionCheckFail if the row exists */
} ots_existence_t;

/* A write's condition. column_condition is a serialized Filter (ots_wire_filter), len 0 for
 * none. */
typedef struct {
  ots_existence_t row_existence;
  ots_bytes_t column_condition;
} ots_condition_t;

typedef enum {
  OTS_RETURN_NONE = 0,
  OTS_RETURN_PK = 1,           /* the row's primary key (auto-increment tables) */
  OTS_RETURN_AFTER_MODIFY = 2
} ots_return_t;

/* Capacity units a request consumed (always both, 0 when the server omits one). */
typedef struct {
  int32_t read;
  int32_t write;
} ots_capacity_t;

/* A server error (the Error message). Strings are truncated to fit, always NUL-terminated. */
typedef struct {
  char code[96];      /* "OTSConditionCheckFail", ... */
  char message[512];  /* "Condition check failed." */
} ots_error_t;

/* ---- filters (reference 3.8) ---- */

typedef enum {
  OTS_CMP_EQUAL = 1,
  OTS_CMP_NOT_EQUAL = 2,
  OTS_CMP_GREATER_THAN = 3,
  OTS_CMP_GREATER_EQUAL = 4,
  OTS_CMP_LESS_THAN = 5,
  OTS_CMP_LESS_EQUAL = 6
} ots_comparator_t;

/* "column <cmp> value". pass_if_missing: a row without the column passes (the wire's
 * filter_if_missing is its negation, as the Python SDK sends it). */
typedef struct {
  ots_comparator_t cmp;
  const char *column;
  ots_value_t value;   /* INTEGER, DOUBLE, BOOLEAN, STRING or BLOB */
  bool pass_if_missing;
  bool latest_version_only;
} ots_column_filter_t;

typedef enum {
  OTS_LOGIC_SINGLE = 0, /* exactly one filter, not wrapped */
  OTS_LOGIC_NOT = 1,    /* exactly one sub-filter */
  OTS_LOGIC_AND = 2,    /* 2..32 sub-filters */
  OTS_LOGIC_OR = 3      /* 2..32 sub-filters */
} ots_logic_t;

/* Appends a serialized Filter: one column filter, or a composite of n of them. */
int ots_wire_filter(ots_buf_t *out, ots_logic_t logic, const ots_column_filter_t *f, size_t n,
                    rv_err_t *err);

/* ---- single-row writes (reference 3.3) ---- */

typedef struct {
  const char *table;
  ots_bytes_t row;            /* PlainBuffer: put row / update row / delete key with marker */
  ots_condition_t condition;
  ots_return_t return_type;
  const char *transaction_id; /* NULL outside a local transaction */
} ots_write_row_t;

int ots_wire_put_row(ots_buf_t *out, const ots_write_row_t *w, rv_err_t *err);
int ots_wire_update_row(ots_buf_t *out, const ots_write_row_t *w, rv_err_t *err);
int ots_wire_delete_row(ots_buf_t *out, const ots_write_row_t *w, rv_err_t *err);

/* ---- reads (reference 3.3, 3.5) ---- */

/* What to read. One of max_versions > 0 or has_time_range is required (the server answers
 * "No version condition is specified." otherwise). */
typedef struct {
  const char *const *columns; /* NULL/0 = all columns */
  size_t ncolumns;
  int32_t max_versions;       /* 0 = not sent */
  bool has_time_range;
  int64_t start_time_ms, end_time_ms; /* [start, end) when has_time_range */
  ots_bytes_t filter;         /* serialized Filter, len 0 for none */
  const char *transaction_id; /* NULL outside a local transaction */
} ots_read_opts_t;

int ots_wire_get_row(ots_buf_t *out, const char *table, ots_bytes_t primary_key,
                     const ots_read_opts_t *o, rv_err_t *err);

typedef enum { OTS_FORWARD = 0, OTS_BACKWARD = 1 } ots_direction_t;

/* start is inclusive, end exclusive; both list every primary key column (INF_MIN / INF_MAX for
 * the unused tail). limit 0 = not sent (the server's page limit: 5000 rows or ~4 MB). */
int ots_wire_get_range(ots_buf_t *out, const char *table, ots_direction_t dir, ots_bytes_t start,
                       ots_bytes_t end, int32_t limit, const ots_read_opts_t *o, rv_err_t *err);

/* ---- BatchWriteRow (reference 3.4) ---- */

typedef enum { OTS_BATCH_PUT = 1, OTS_BATCH_UPDATE = 2, OTS_BATCH_DELETE = 3 } ots_batch_op_t;

typedef struct {
  ots_batch_op_t type;
  ots_bytes_t row_change;     /* PlainBuffer, as for the single-row operation */
  ots_condition_t condition;
  ots_return_t return_type;
} ots_batch_row_t;

typedef struct {
  const char *table;
  const ots_batch_row_t *rows;
  size_t nrows;               /* >= 1 */
} ots_batch_table_t;

/* tables: distinct names, each with rows; at most 200 rows and 4 MiB of rows in all.
 * is_atomic is only sent when true. */
int ots_wire_batch_write_row(ots_buf_t *out, const ots_batch_table_t *tables, size_t ntables,
                             const char *transaction_id, bool is_atomic, rv_err_t *err);

/* ---- local transactions (reference 3.6) ---- */

/* key: PlainBuffer primary key holding the partition key column only. */
int ots_wire_start_local_transaction(ots_buf_t *out, const char *table, ots_bytes_t key,
                                     rv_err_t *err);
int ots_wire_commit_transaction(ots_buf_t *out, const char *transaction_id, rv_err_t *err);
int ots_wire_abort_transaction(ots_buf_t *out, const char *transaction_id, rv_err_t *err);

/* ---- tables (reference 3.2) ---- */

typedef enum { OTS_PK_INTEGER = 1, OTS_PK_STRING = 2, OTS_PK_BINARY = 3 } ots_pk_type_t;

typedef struct {
  const char *name;
  ots_pk_type_t type;
  bool auto_increment;
} ots_pk_schema_t;

typedef struct {
  const char *table;
  const ots_pk_schema_t *pk;  /* 1..4 columns, the first is the partition key */
  size_t npk;
  int32_t time_to_live;       /* seconds, -1 = never expire */
  int32_t max_versions;       /* >= 1 */
  int64_t deviation_cell_version_in_sec; /* 0 = not sent (server default) */
  int32_t reserved_read, reserved_write; /* reserved capacity units, usually 0 */
  bool enable_local_txn;      /* sent only when true */
} ots_table_spec_t;

int ots_wire_create_table(ots_buf_t *out, const ots_table_spec_t *spec, rv_err_t *err);
int ots_wire_describe_table(ots_buf_t *out, const char *table, rv_err_t *err);
int ots_wire_delete_table(ots_buf_t *out, const char *table, rv_err_t *err);
/* ListTable's request is the empty message: nothing to append. */

/* ---- response parsers ---- */

/* An Error body (4xx/5xx). */
int ots_wire_parse_error(const uint8_t *p, size_t n, ots_error_t *out, rv_err_t *err);

/* PutRow / UpdateRow / DeleteRow / GetRow results. Embedded: init / close. */
typedef struct {
  ots_capacity_t consumed;
  ots_buf_t row;  /* PlainBuffer (the returned row, or GetRow's row); empty when none */
} ots_row_result_t;

void ots_row_result_init(ots_row_result_t *r);
void ots_row_result_close(ots_row_result_t *r);

/* action: "PutRow", "UpdateRow", "DeleteRow" or "GetRow" (asserts on others). */
int ots_wire_parse_row_response(const char *action, const uint8_t *p, size_t n,
                                ots_row_result_t *out, rv_err_t *err);

/* GetRange result. Embedded: init / close. Loop while has_next, from next_start. */
typedef struct {
  ots_capacity_t consumed;
  ots_buf_t rows;        /* PlainBuffer: one header then the rows; empty when none */
  bool has_next;
  ots_buf_t next_start;  /* PlainBuffer primary key of the next page, when has_next */
} ots_range_result_t;

void ots_range_result_init(ots_range_result_t *r);
void ots_range_result_close(ots_range_result_t *r);
int ots_wire_parse_get_range_response(const uint8_t *p, size_t n, ots_range_result_t *out,
                                      rv_err_t *err);

/* StartLocalTransaction: *transaction_id gets a malloc'd string (caller frees). */
int ots_wire_parse_start_local_transaction_response(const uint8_t *p, size_t n,
                                                    char **transaction_id, rv_err_t *err);

/* The responses that carry nothing (CreateTable, DeleteTable, CommitTransaction,
 * AbortTransaction): checks the body parses as that message. */
int ots_wire_parse_empty_response(const char *action, const uint8_t *p, size_t n, rv_err_t *err);

/* BatchWriteRow: per request table, per request row, in request order (results are
 * positional). Heap object: the parser allocates it, ots_batch_result_destroy frees it. */
typedef struct {
  bool ok;
  ots_error_t error;        /* when !ok */
  ots_capacity_t consumed;
  uint8_t *row;             /* owned; returned PlainBuffer row, NULL when none */
  size_t row_len;
} ots_batch_row_result_t;

typedef struct {
  size_t ntables;
  size_t *nrows;                   /* nrows[t] */
  ots_batch_row_result_t **rows;   /* rows[t][i] */
  size_t nfailed;                  /* rows with !ok */
} ots_batch_result_t;

/* Checks that the response has the request's tables, in order, with as many rows each.
 * *out: the caller owns it on RV_OK; NULL on error. */
int ots_wire_parse_batch_write_row_response(const uint8_t *p, size_t n,
                                            const ots_batch_table_t *req, size_t ntables,
                                            ots_batch_result_t **out, rv_err_t *err);
void ots_batch_result_destroy(ots_batch_result_t **r);
/* true when some rows failed and every failed row's code is retriable for any operation
 * (ots_retry_code_always), so re-sending just the failed rows is safe (GO/JAVA, reference 5.2);
 * false when none failed or any failure is final. */
bool ots_batch_result_retriable(const ots_batch_result_t *r);

/* DescribeTable, the parts a replicator checks. Heap object: ots_table_desc_destroy. */
typedef struct {
  char *table;                /* owned */
  ots_pk_schema_t pk[OTS_PK_COLUMNS_MAX]; /* names owned */
  size_t npk;
  int32_t time_to_live;
  int32_t max_versions;
  ots_capacity_t reserved;
  int table_status;           /* 1 = ACTIVE ...; 0 when the server did not say */
} ots_table_desc_t;

/* *out: the caller owns it on RV_OK; NULL on error. */
int ots_wire_parse_describe_table_response(const uint8_t *p, size_t n, ots_table_desc_t **out,
                                           rv_err_t *err);
void ots_table_desc_destroy(ots_table_desc_t **d);

/* ListTable: *names gets a malloc'd array of malloc'd names (free with ots_wire_names_free). */
int ots_wire_parse_list_table_response(const uint8_t *p, size_t n, char ***names, size_t *count,
                                       rv_err_t *err);
void ots_wire_names_free(char **names, size_t count);

#endif
