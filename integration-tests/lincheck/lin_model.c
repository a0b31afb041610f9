/* lin_model: string helpers shared by the models, the report and the JSON writer. Pure. */
#include "lin_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool lin_str_equal(const char *a, const char *b) {
  if (a == b) return true;
  if (!a || !b) return false;
  return strcmp(a, b) == 0;
}

uint64_t lin_str_hash(const char *s) {
  if (!s) return 0x6c62272e07bb0142ull;
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    h ^= *p;
    h *= 0x100000001b3ull;
  }
  /* FNV's low bits mix poorly; the murmur3 finalizer spreads them for power-of-two tables. */
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

static void s_putc(char *buf, size_t cap, size_t *len, char c) {
  if (*len + 1 < cap) {
    buf[*len] = c;
    buf[*len + 1] = '\0';
  }
  (*len)++;
}

void lin_str_appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = *len < cap ? cap - *len : 0;
  int n = vsnprintf(room ? buf + *len : NULL, room, fmt, ap);
  va_end(ap);
  if (n > 0) *len += (size_t)n;
}

void lin_str_quote(char *buf, size_t cap, size_t *len, const char *s) {
  if (cap && *len < cap) buf[*len] = '\0';
  if (!s) {
    lin_str_appendf(buf, cap, len, "null");
    return;
  }
  s_putc(buf, cap, len, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '"': lin_str_appendf(buf, cap, len, "\\\""); break;
      case '\\': lin_str_appendf(buf, cap, len, "\\\\"); break;
      case '\n': lin_str_appendf(buf, cap, len, "\\n"); break;
      case '\r': lin_str_appendf(buf, cap, len, "\\r"); break;
      case '\t': lin_str_appendf(buf, cap, len, "\\t"); break;
      default:
        if (*p < 0x20 || *p == 0x7f)
          lin_str_appendf(buf, cap, len, "\\u%04x", *p);
        else
          s_putc(buf, cap, len, (char)*p);
    }
  }
  s_putc(buf, cap, len, '"');
}
