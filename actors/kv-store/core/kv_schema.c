/* kv_schema: key builders and value encodings of the namespace tables (see kv_schema.h).
 * Pure (libc only). */
#include "kv_schema.h"

#include <string.h>

#define S_ATTR_VERSION 1

size_t kv_key_dentry(uint8_t *out, uint64_t parent, const void *name, size_t nlen) {
  out[0] = KV_T_DENTRY;
  kv_be64_put(out + 1, parent);
  if (nlen) memcpy(out + 9, name, nlen);
  return 9 + nlen;
}

static size_t s_key_ino(uint8_t *out, uint8_t table, uint64_t ino) {
  out[0] = table;
  kv_be64_put(out + 1, ino);
  return 9;
}

size_t kv_key_attr(uint8_t *out, uint64_t ino) { return s_key_ino(out, KV_T_ATTR, ino); }
size_t kv_key_content(uint8_t *out, uint64_t ino) { return s_key_ino(out, KV_T_CONTENT, ino); }
size_t kv_key_xattr(uint8_t *out, uint64_t ino) { return s_key_ino(out, KV_T_XATTR, ino); }
size_t kv_key_session(uint8_t *out, uint64_t c) { return s_key_ino(out, KV_T_SESSION, c); }

size_t kv_key_session_lru(uint8_t *out, int64_t time_ms, uint64_t client) {
  out[0] = KV_T_SESSION_LRU;
  /* Flip the sign bit so negative times sort before positive ones. */
  kv_be64_put(out + 1, (uint64_t)time_ms ^ (1ull << 63));
  kv_be64_put(out + 9, client);
  return 17;
}

size_t kv_key_principal_lru(uint8_t *out, const char *principal, int64_t time_ms,
                            uint64_t client) {
  size_t n = strlen(principal);
  out[0] = KV_T_PRINCIPAL_LRU;
  out[1] = (uint8_t)n;
  memcpy(out + 2, principal, n);
  kv_be64_put(out + 2 + n, (uint64_t)time_ms ^ (1ull << 63));
  kv_be64_put(out + 10 + n, client);
  return 18 + n;
}

size_t kv_key_principal_count(uint8_t *out, const char *principal) {
  size_t n = strlen(principal);
  out[0] = KV_T_PRINCIPAL_COUNT;
  memcpy(out + 1, principal, n);
  return 1 + n;
}

size_t kv_key_meta(uint8_t *out, const char *name) {
  size_t n = strlen(name);
  out[0] = KV_T_META;
  memcpy(out + 1, name, n);
  return 1 + n;
}

void kv_dentry_encode(uint8_t *out, uint64_t ino, uint8_t type) {
  kv_be64_put(out, ino);
  out[8] = type;
}

int kv_dentry_decode(const uint8_t *v, size_t len, uint64_t *ino, uint8_t *type) {
  if (len != KV_DENTRY_LEN) return RV_ECORRUPT;
  *ino = kv_be64_get(v);
  *type = v[8];
  if (*ino == 0 || (*type != KV_TYPE_DIR && *type != KV_TYPE_FILE)) return RV_ECORRUPT;
  return RV_OK;
}

void kv_attr_encode(const kv_attr_t *a, kv_buf_t *out) {
  kv_buf_put_u8(out, S_ATTR_VERSION);
  kv_buf_put_u8(out, a->type);
  kv_buf_put_u16(out, a->perm);
  kv_buf_put_i64(out, a->mtime_ms);
  kv_buf_put_i64(out, a->atime_ms);
  kv_buf_put_u64(out, a->size);
  kv_buf_put_u64(out, a->nchildren);
  kv_buf_put_u64(out, a->sub_dirs);
  kv_buf_put_u64(out, a->sub_files);
  kv_buf_put_u64(out, a->sub_bytes);
  kv_buf_put_str8(out, a->owner, strlen(a->owner));
  kv_buf_put_str8(out, a->group, strlen(a->group));
}

static bool s_copy_name(char *dst, const kv_bytes_t *src) {
  if (src->len > KV_OWNER_MAX || memchr(src->p, 0, src->len)) return false;
  memcpy(dst, src->p, src->len);
  dst[src->len] = '\0';
  return true;
}

int kv_attr_decode(const uint8_t *v, size_t len, kv_attr_t *a) {
  memset(a, 0, sizeof *a);
  kv_reader_t r;
  kv_reader_init(&r, v, len);
  if (kv_reader_u8(&r) != S_ATTR_VERSION) return RV_ECORRUPT;
  a->type = kv_reader_u8(&r);
  a->perm = kv_reader_u16(&r);
  a->mtime_ms = kv_reader_i64(&r);
  a->atime_ms = kv_reader_i64(&r);
  a->size = kv_reader_u64(&r);
  a->nchildren = kv_reader_u64(&r);
  a->sub_dirs = kv_reader_u64(&r);
  a->sub_files = kv_reader_u64(&r);
  a->sub_bytes = kv_reader_u64(&r);
  kv_bytes_t owner, group;
  kv_reader_str8(&r, &owner);
  kv_reader_str8(&r, &group);
  if (!kv_reader_done(&r)) return RV_ECORRUPT;
  if (a->type != KV_TYPE_DIR && a->type != KV_TYPE_FILE) return RV_ECORRUPT;
  if (!s_copy_name(a->owner, &owner) || !s_copy_name(a->group, &group)) return RV_ECORRUPT;
  return RV_OK;
}

int kv_u64_decode(const uint8_t *v, size_t len, uint64_t *out) {
  if (len != 8) return RV_ECORRUPT;
  *out = kv_be64_get(v);
  return RV_OK;
}

void kv_state_encode(const kv_state_t *st, uint8_t *out) {
  kv_be64_put(out, st->applied);
  kv_be64_put(out + 8, (uint64_t)st->clock);
  kv_be64_put(out + 16, st->next_inode);
  kv_be64_put(out + 24, st->nsessions);
}

int kv_state_decode(const uint8_t *v, size_t len, kv_state_t *st) {
  if (len != KV_STATE_LEN) return RV_ECORRUPT;
  st->applied = kv_be64_get(v);
  st->clock = (int64_t)kv_be64_get(v + 8);
  st->next_inode = kv_be64_get(v + 16);
  st->nsessions = kv_be64_get(v + 24);
  return st->next_inode > KV_ROOT_INO ? RV_OK : RV_ECORRUPT;
}

void kv_xattrs_encode(const kv_xattr_t *x, size_t n, kv_buf_t *out) {
  kv_buf_put_u8(out, (uint8_t)n);
  for (size_t i = 0; i < n; i++) {
    kv_buf_put_str8(out, x[i].name.p, x[i].name.len);
    kv_buf_put_str16(out, x[i].value.p, x[i].value.len);
  }
}

int kv_xattrs_decode(const uint8_t *v, size_t len, kv_xattr_t *x, size_t *n) {
  kv_reader_t r;
  kv_reader_init(&r, v, len);
  *n = kv_reader_u8(&r);
  if (r.failed || *n == 0 || *n > KV_XATTRS_MAX) return RV_ECORRUPT;
  for (size_t i = 0; i < *n; i++) {
    if (!kv_reader_str8(&r, &x[i].name) || !kv_reader_str16(&r, &x[i].value)) return RV_ECORRUPT;
    if (x[i].name.len == 0 || x[i].name.len + x[i].value.len > KV_XATTR_SIZE_MAX) return RV_ECORRUPT;
    if (i > 0) { /* strictly increasing names */
      size_t m = x[i - 1].name.len < x[i].name.len ? x[i - 1].name.len : x[i].name.len;
      int c = memcmp(x[i - 1].name.p, x[i].name.p, m);
      if (c > 0 || (c == 0 && x[i - 1].name.len >= x[i].name.len)) return RV_ECORRUPT;
    }
  }
  return kv_reader_done(&r) ? RV_OK : RV_ECORRUPT;
}
