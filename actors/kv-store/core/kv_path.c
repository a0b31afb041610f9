/* kv_path: path validation and splitting, and safe quoting of untrusted bytes in messages.
 * Pure (libc only). */
#include "kv_path.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Length of the UTF-8 sequence at p (1..4), or 0 when it is invalid (truncated, overlong,
 * surrogate, beyond U+10FFFF, or a stray continuation byte). NUL counts as invalid here. */
static size_t s_utf8_seq(const uint8_t *p, size_t left) {
  uint8_t c = p[0];
  if (c == 0) return 0;
  if (c < 0x80) return 1;
  size_t n;
  uint32_t min, cp;
  if ((c & 0xe0) == 0xc0) {
    n = 2, min = 0x80, cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3, min = 0x800, cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4, min = 0x10000, cp = c & 0x07;
  } else {
    return 0;
  }
  if (n > left) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

int kv_utf8_valid(const void *pv, size_t len, size_t *bad) {
  const uint8_t *p = pv;
  size_t i = 0;
  while (i < len) {
    size_t n = s_utf8_seq(p + i, len - i);
    if (!n) {
      if (bad) *bad = i;
      return 0;
    }
    i += n;
  }
  return 1;
}

char *kv_path_show(char *out, size_t cap, const void *pv, size_t len) {
  const uint8_t *p = pv;
  size_t o = 0, i = 0;
  /* Leave room for the longest escape (4) plus "..." and NUL. */
  while (i < len && i < KV_PATH_SHOW_MAX && o + 8 < cap) {
    size_t n = s_utf8_seq(p + i, len - i);
    if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f)) n = 0;
    if (n == 1 && (p[i] == '"' || p[i] == '\\')) {
      out[o++] = '\\';
      out[o++] = (char)p[i++];
    } else if (n >= 1) {
      if (o + n + 4 >= cap) break;
      memcpy(out + o, p + i, n);
      o += n;
      i += n;
    } else {
      o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
      i++;
    }
  }
  if (i < len && o + 4 <= cap) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o < cap ? o : cap - 1] = '\0';
  return out;
}

static int s_fail(rv_err_t *err, const char *p, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int s_fail(rv_err_t *err, const char *p, size_t len, const char *fmt, ...) {
  char shown[KV_PATH_SHOW_MAX * 4 + 16];
  char why[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return rv_err_set(err, RV_EINVAL, "path \"%s\": %s", kv_path_show(shown, sizeof shown, p, len),
                    why);
}

int kv_path_parse(kv_path_t *out, const char *p, size_t len, rv_err_t *err) {
  out->p = p;
  out->len = len;
  out->n = 0;
  if (len == 0) return rv_err_set(err, RV_EINVAL, "path \"\": empty path");
  if (len > KV_PATH_MAX)
    return s_fail(err, p, len, "%zu bytes, longer than the limit of %zu bytes", len,
                  (size_t)KV_PATH_MAX);
  const void *nul = memchr(p, 0, len);
  if (nul) return s_fail(err, p, len, "NUL byte at offset %zu", (size_t)((const char *)nul - p));
  if (p[0] != '/') return s_fail(err, p, len, "not absolute (must start with '/')");
  size_t bad;
  if (!kv_utf8_valid(p, len, &bad))
    return s_fail(err, p, len, "not valid UTF-8 at offset %zu", bad);
  size_t i = 1;
  while (i < len) {
    size_t start = i;
    while (i < len && p[i] != '/') i++;
    size_t clen = i - start;
    size_t idx = out->n + 1;
    if (clen == 0) /* "//" somewhere; a single trailing slash never gets here */
      return s_fail(err, p, len, "empty component at offset %zu (\"//\" is not allowed)", start);
    if (clen > KV_NAME_MAX)
      return s_fail(err, p, len, "component %zu is %zu bytes, longer than the limit of %d bytes",
                    idx, clen, KV_NAME_MAX);
    if ((clen == 1 && p[start] == '.') || (clen == 2 && p[start] == '.' && p[start + 1] == '.'))
      return s_fail(err, p, len, "component %zu is \"%s\", which is not allowed", idx,
                    clen == 1 ? "." : "..");
    if (memchr(p + start, ':', clen))
      return s_fail(err, p, len, "component %zu contains ':', which is not allowed", idx);
    out->c[out->n].off = (uint16_t)start;
    out->c[out->n].len = (uint16_t)clen;
    out->n++;
    i++; /* skip the '/' (or step past the end) */
  }
  return RV_OK;
}

size_t kv_path_prefix_len(const kv_path_t *path, size_t k) {
  if (k == 0 || path->n == 0) return 1;
  if (k > path->n) k = path->n;
  return (size_t)path->c[k - 1].off + path->c[k - 1].len;
}
