/* srv_pbuf.h: the test server's own PlainBuffer codec (reference section 4), independent of the
 * client's. Pure: libc only.
 *
 * The decoder is strict: the 0x75 header, tags in grammar order, every length consistent with its
 * value type and inside the buffer, both CRC8 levels (4.3); errors name the byte offset. The
 * encoder writes rows the way the real service answers (attribute cells with timestamps). It
 * also holds the order-preserving key encoding the store sorts rows by, and value comparison. */
#ifndef SRV_PBUF_H
#define SRV_PBUF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value types (4.1). */
enum { SRV_VT_INTEGER = 0x00, SRV_VT_DOUBLE = 0x01, SRV_VT_BOOLEAN = 0x02, SRV_VT_STRING = 0x03,
       SRV_VT_BLOB = 0x07, SRV_VT_INF_MIN = 0x09, SRV_VT_INF_MAX = 0x0A, SRV_VT_AUTO_INC = 0x0B };
/* Cell operation types in an update (4.1). */
enum { SRV_OP_DELETE_ALL = 0x01, SRV_OP_DELETE_ONE = 0x03, SRV_OP_INCREMENT = 0x04 };

/* A value. For STRING and BLOB, bytes points into the decoded row's own heap copy. */
typedef struct {
  uint8_t type;        /* one of SRV_VT_* */
  int64_t i;           /* INTEGER */
  double d;            /* DOUBLE */
  bool b;              /* BOOLEAN */
  uint8_t *bytes;      /* STRING / BLOB payload (owned by the row), NULL when len is 0 */
  uint32_t len;        /* STRING / BLOB length in bytes */
} srv_value_t;

typedef struct {
  char *name;          /* NUL-terminated copy (owned by the row) */
  bool has_value;
  srv_value_t v;
  bool has_op;
  uint8_t op;          /* SRV_OP_* when has_op */
  bool has_ts;
  int64_t ts;          /* milliseconds */
} srv_cell_t;

typedef struct {
  srv_cell_t *pk;      /* primary-key cells in wire order */
  size_t npk;
  srv_cell_t *attrs;   /* attribute cells in wire order */
  size_t nattrs;
  bool delete_marker;  /* 0x08 was present */
} srv_row_t;

/* Growable byte buffer; `failed` is sticky after an allocation failure. */
typedef struct {
  uint8_t *p;
  size_t len, cap;
  bool failed;
} srv_buf_t;

void srv_buf_put(srv_buf_t *b, const void *data, size_t n);
void srv_buf_u8(srv_buf_t *b, uint8_t v);
void srv_buf_u32le(srv_buf_t *b, uint32_t v);
void srv_buf_u64le(srv_buf_t *b, uint64_t v);
void srv_buf_close(srv_buf_t *b); /* frees p, zeroes b */

/* CRC-8, polynomial 0x07, init 0 (4.3): folds n bytes into crc and returns the new crc. */
uint8_t srv_crc8(uint8_t crc, const void *data, size_t n);

/* Decodes a whole buffer: the header then one or more rows (max_rows = 1 for single-row fields;
 * 0 = any number, and an empty buffer is then accepted as zero rows). On success *rows is a heap
 * array the caller frees with srv_rows_free and returns 0; on failure -1 with err filled. */
int srv_pbuf_decode(const uint8_t *p, size_t n, size_t max_rows, srv_row_t **rows, size_t *nrows,
                    char *err, size_t errlen);
void srv_rows_free(srv_row_t *rows, size_t n);
/* Decodes a bare value (type byte + payload, no length prefix) as in SingleColumnValueFilter
 * (3.8). The value's bytes are copied into *owned (caller frees). */
int srv_pbuf_decode_bare_value(const uint8_t *p, size_t n, srv_value_t *v, uint8_t **owned,
                               char *err, size_t errlen);

/* Appends one row (without header) to b: pk cells, then attrs unless attrs_count is 0, then
 * the delete marker if asked, then the row checksum. Cells keep their has_op/has_ts. */
void srv_pbuf_encode_row(srv_buf_t *b, const srv_cell_t *pk, size_t npk, const srv_cell_t *attrs,
                         size_t nattrs, bool delete_marker);
/* Appends the 4-byte header 0x75. */
void srv_pbuf_encode_header(srv_buf_t *b);

/* Total order between two values of one type (INF_MIN < anything < INF_MAX): <0, 0, >0. */
int srv_value_cmp(const srv_value_t *a, const srv_value_t *b);
/* Appends the order-preserving encoding of an INTEGER, STRING or BLOB key value (memcmp order
 * equals Tablestore's order for one column type). */
void srv_key_append(srv_buf_t *b, const srv_value_t *v);
/* Human name of a value type for messages ("VT_INTEGER"...). */
const char *srv_vt_name(uint8_t type);

#endif
