/* rv_error: error codes and context-carrying error buffers. Pure (libc only). */
#include "rv_error.h"

#include <stdio.h>
#include <string.h>

void rv_err_clear(rv_err_t *err) {
  if (!err) return;
  err->code = RV_OK;
  err->msg[0] = '\0';
}

int rv_err_vset(rv_err_t *err, int code, const char *fmt, va_list ap) {
  if (!err) return code;
  err->code = code;
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  return code;
}

int rv_err_set(rv_err_t *err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rv_err_vset(err, code, fmt, ap);
  va_end(ap);
  return code;
}

int rv_err_prefix(rv_err_t *err, const char *fmt, ...) {
  if (!err) return RV_EINTERNAL;
  char ctx[RV_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx, sizeof ctx, fmt, ap);
  va_end(ap);
  /* Assemble "ctx: old" by hand: truncation is intended and safe here. */
  char old[RV_ERR_MSG_MAX];
  memcpy(old, err->msg, sizeof old);
  size_t cap = sizeof err->msg, n = 0;
  for (const char *parts[] = {ctx, ": ", old}, **p = parts; p < parts + 3; p++) {
    size_t len = strlen(*p);
    if (len > cap - 1 - n) len = cap - 1 - n;
    memcpy(err->msg + n, *p, len);
    n += len;
  }
  err->msg[n] = '\0';
  return err->code;
}

const char *rv_code_name(int code) {
  switch (code) {
#define RV_ERROR_NAME(name, num, text) \
  case num:                            \
    return #name;
    RV_ERRORS(RV_ERROR_NAME)
#undef RV_ERROR_NAME
  }
  return "EUNKNOWN";
}

const char *rv_code_text(int code) {
  switch (code) {
#define RV_ERROR_TEXT(name, num, text) \
  case num:                            \
    return text;
    RV_ERRORS(RV_ERROR_TEXT)
#undef RV_ERROR_TEXT
  }
  return "unknown error";
}
