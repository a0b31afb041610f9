/* ots_plainbuf: Tablestore's PlainBuffer row format (reference section 4), encoder and a
 * defensive decoder. PlainBuffer is what travels inside the protobuf `bytes` fields that carry
 * rows: PutRow.row, UpdateRow.row_change, DeleteRow/GetRow.primary_key, GetRange start/end keys
 * and returned rows, StartLocalTransaction.key, BatchWriteRow row_change.
 *
 *   buffer := u32le(0x75) row*                  (one header, then rows back to back)
 *   row    := 0x01 cell* [0x02 cell+] [0x08] [0x0B u32le(len) ext] 0x09 u8(row_crc)
 *   cell   := 0x03 0x04 u32le(n) name [0x05 u32le(n) value] [0x06 u8(op)] [0x07 i64le(ts)]
 *             0x0A u8(cell_crc)
 *
 * Both CRC8 levels are written by the encoder and checked by the decoder (ots_crc8.h): the
 * cell checksum covers name, value (type byte + payload, not the value_len prefix), timestamp,
 * then op type (timestamp before type, although the wire has type first); the row checksum
 * folds each cell checksum, then 1 if the delete marker is present else 0. Extensions are not
 * covered.
 *
 * Errors (returned int, detail in rv_err_t):
 *   RV_EINVAL   encoder: the row breaks the grammar or a Tablestore limit (section 6); the
 *               message names the cell and the rule.
 *   RV_EDECODE  decoder: malformed bytes; the message names the byte offset and what was wrong.
 *   RV_ECORRUPT decoder: a cell or row checksum does not match (offset, expected, found).
 *   RV_ENOMEM   allocation failed.
 * Pure: libc + rv_common. */
#ifndef OTS_PLAINBUF_H
#define OTS_PLAINBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ots_buf.h"
#include "rv_error.h"

#define OTS_PB_HEADER 0x75u /* first 4 bytes of every buffer, little-endian */

/* Tags (reference 4.1). */
enum {
  OTS_TAG_ROW_PK = 0x01,
  OTS_TAG_ROW_DATA = 0x02,
  OTS_TAG_CELL = 0x03,
  OTS_TAG_CELL_NAME = 0x04,
  OTS_TAG_CELL_VALUE = 0x05,
  OTS_TAG_CELL_TYPE = 0x06,
  OTS_TAG_CELL_TIMESTAMP = 0x07,
  OTS_TAG_DELETE_ROW_MARKER = 0x08,
  OTS_TAG_ROW_CHECKSUM = 0x09,
  OTS_TAG_CELL_CHECKSUM = 0x0A,
  OTS_TAG_EXTENSION = 0x0B,
  OTS_TAG_SEQ_INFO = 0x0C,
  OTS_TAG_SEQ_INFO_EPOCH = 0x0D,
  OTS_TAG_SEQ_INFO_TS = 0x0E,
  OTS_TAG_SEQ_INFO_ROW_INDEX = 0x0F
};

/* Limits the encoder enforces (reference section 6), so a bad row fails here with a clear
 * message instead of at the server with OTSParameterInvalid. The decoder enforces none of them:
 * what the server sends is the server's business. */
#define OTS_PK_COLUMNS_MAX 4             /* primary key columns per table: 1..4 */
#define OTS_PK_VALUE_MAX 1024            /* bytes of a STRING/BINARY primary key value */
#define OTS_ATTR_VALUE_MAX (2u << 20)    /* bytes of a STRING/BINARY attribute value (2 MiB) */
#define OTS_ATTR_COLUMNS_MAX 1024        /* attribute cells written per row per request */
#define OTS_NAME_MAX 255                 /* bytes of a column name: [A-Za-z_][A-Za-z0-9_]* */
#define OTS_TIMESTAMP_MAX (INT64_MAX / 1000) /* cell timestamps are ms in [0, this) */

/* Value types; the numbers are the wire bytes. NULL (0x06) is reserved and never valid. */
typedef enum {
  OTS_VT_INTEGER = 0x00,
  OTS_VT_DOUBLE = 0x01,
  OTS_VT_BOOLEAN = 0x02,
  OTS_VT_STRING = 0x03,
  OTS_VT_BLOB = 0x07,
  OTS_VT_INF_MIN = 0x09,        /* primary key only: below every value (range starts) */
  OTS_VT_INF_MAX = 0x0A,        /* primary key only: above every value (range ends) */
  OTS_VT_AUTO_INCREMENT = 0x0B  /* primary key only: the server assigns the value on put */
} ots_vtype_t;

/* A value. STRING and BLOB bytes are borrowed (from the caller when encoding, from the input
 * buffer when decoding); STRING bytes are UTF-8 and their length is a byte count. */
typedef struct {
  ots_vtype_t type;
  int64_t i;        /* INTEGER */
  double d;         /* DOUBLE */
  bool b;           /* BOOLEAN */
  ots_bytes_t s;    /* STRING, BLOB */
} ots_value_t;

/* What an attribute cell does (the TAG_CELL_TYPE byte; PUT writes no type byte). */
typedef enum {
  OTS_CELL_PUT = 0x00,                /* value required, timestamp optional */
  OTS_CELL_DELETE_ALL = 0x01,         /* no value, no timestamp: every version */
  OTS_CELL_DELETE_ONE = 0x03,         /* no value, timestamp required: that version */
  OTS_CELL_INCREMENT = 0x04           /* INTEGER value (the delta), no timestamp */
} ots_cell_op_t;

typedef struct {
  ots_bytes_t name;   /* column name, borrowed */
  bool has_value;
  ots_value_t value;
  ots_cell_op_t op;   /* always OTS_CELL_PUT for primary key cells */
  bool has_ts;
  int64_t ts;         /* cell version, ms since the epoch */
} ots_cell_t;

/* Sequence info of a stream/tunnel record (TAG_EXTENSION), decode only. */
typedef struct {
  uint32_t epoch;
  int64_t ts;
  uint32_t row_index;
} ots_seq_info_t;

/* A row. Arrays are borrowed. A put row has pk + attrs; an update row has pk + attrs with ops;
 * a delete row has pk + delete_marker; a primary key (GetRow, GetRange bounds, transaction key)
 * is pk only. */
typedef struct {
  const ots_cell_t *pk;
  size_t npk;
  const ots_cell_t *attrs;
  size_t nattrs;
  bool delete_marker;
  bool has_seq;        /* decode only: the row carried a sequence-info extension */
  ots_seq_info_t seq;  /* decode only */
} ots_row_t;

/* ---- encoder ---- */

/* Appends header + rows to out (the caller owns out; on error out may hold a partial buffer
 * and should be reset). Checks every cell against the grammar and the limits above. */
int ots_plainbuf_encode(ots_buf_t *out, const ots_row_t *rows, size_t nrows, rv_err_t *err);

/* Appends a value in the form SingleColumnValueFilter.column_value wants: type byte + payload,
 * WITHOUT the 4-byte value_len prefix (reference 3.8, KAT-C1..C5). Only INTEGER, DOUBLE,
 * BOOLEAN, STRING, BLOB. */
int ots_plainbuf_encode_filter_value(ots_buf_t *out, const ots_value_t *v, rv_err_t *err);

/* The checksum of one cell and of one row, as the encoder writes them (exposed for tests and
 * for a server that builds rows). */
uint8_t ots_plainbuf_cell_crc(const ots_cell_t *c);
uint8_t ots_plainbuf_row_crc(const ots_row_t *r);

/* ---- decoder ---- */

/* Decoded rows. Embedded by value: ots_rowset_init / ots_rowset_close. Cell names and
 * STRING/BLOB values point INTO the decoded input, which the caller must keep alive (and
 * unchanged) while it uses the rows. */
typedef struct {
  ots_row_t *rows;    /* owned; nrows entries */
  size_t nrows;
  ots_cell_t *cells;  /* owned; every row's pk and attrs point into it */
  size_t ncells;
  size_t rows_cap, cells_cap;
} ots_rowset_t;

void ots_rowset_init(ots_rowset_t *set);
void ots_rowset_close(ots_rowset_t *set); /* frees; safe twice */

/* Decodes a whole buffer into set (which is emptied first). A zero-length input is an empty
 * set (GetRow of a missing row, an empty GetRange page); anything else must be a header
 * followed by complete rows up to the last byte. Every tag, length and checksum is checked;
 * value_len must match the value type, booleans must be 0/1, primary key cells must carry a
 * value and no op or timestamp, and attribute cells must be consistent with their op. On
 * error set is empty. */
int ots_plainbuf_decode(ots_rowset_t *set, const uint8_t *p, size_t len, rv_err_t *err);

/* A row in one readable line for logs and messages, truncated to fit out (always
 * NUL-terminated; cap >= 1): `pk(parent=1, name="a.txt") attrs(v="x"@1700000000000,
 * n+=5, c:DELETE_ALL) delete`. Strings are quoted with non-printable bytes as \xNN; BLOBs are
 * hex; at most 32 bytes of a value are shown, then "...". Returns the length it needed (like
 * snprintf). */
size_t ots_plainbuf_format_row(const ots_row_t *r, char *out, size_t cap);

/* The value's type name ("INTEGER", ...; "?" for others), for messages. Borrowed static. */
const char *ots_vtype_name(int type);

#endif
