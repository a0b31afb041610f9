/* lin_jsonl: a parser and writer for exactly the history line format of lin_jsonl.h. Pure.
 *
 * Not a JSON library: a line is one flat object whose values are scalars, which is all the
 * format needs, so the parser is a single pass over the line with no allocation beyond a
 * scratch buffer for decoded strings (interned into the history as soon as decoded). Every
 * failure names the line and column. */
#include "lin_jsonl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON value types of a field, as bits of a field's `types` mask. */
enum { LIN_J_STR = 1, LIN_J_INT = 2, LIN_J_NULL = 4, LIN_J_BOOL = 8 };

typedef struct {
  int type;       /* one LIN_J_* */
  const char *s;  /* LIN_J_STR: interned in the history */
  int64_t i;      /* LIN_J_INT */
  bool b;         /* LIN_J_BOOL */
  const char *at; /* where the value starts, for error columns */
} lin_jval_t;

/* The fields of the format: the one table the parser, its checks and its messages share. */
enum {
  LIN_FLD_CLIENT,
  LIN_FLD_OP,
  LIN_FLD_KEY,
  LIN_FLD_VALUE,
  LIN_FLD_EXPECT,
  LIN_FLD_OVERWRITE,
  LIN_FLD_CALL,
  LIN_FLD_RETURN,
  LIN_FLD_RESULT,
  LIN_FLD_VALUE_OUT,
  LIN_FLD_N
};
static const struct {
  const char *name; /* NULL: the model's key_field */
  int types;        /* accepted LIN_J_* */
  const char *want; /* how the types read in an error */
} s_fields[LIN_FLD_N] = {
    [LIN_FLD_CLIENT] = {"client", LIN_J_INT, "an integer >= 0"},
    [LIN_FLD_OP] = {"op", LIN_J_STR, "a string"},
    [LIN_FLD_KEY] = {NULL, LIN_J_STR, "a string"},
    [LIN_FLD_VALUE] = {"value", LIN_J_STR | LIN_J_NULL, "a string or null"},
    [LIN_FLD_EXPECT] = {"expect", LIN_J_STR | LIN_J_NULL, "a string or null"},
    [LIN_FLD_OVERWRITE] = {"overwrite", LIN_J_BOOL, "true or false"},
    [LIN_FLD_CALL] = {"call_us", LIN_J_INT, "an integer >= 0"},
    [LIN_FLD_RETURN] = {"return_us", LIN_J_INT | LIN_J_NULL, "an integer or null"},
    [LIN_FLD_RESULT] = {"result", LIN_J_STR | LIN_J_NULL, "a string"},
    [LIN_FLD_VALUE_OUT] = {"value_out", LIN_J_STR | LIN_J_NULL, "a string or null"},
};

typedef struct {
  lin_history_t *h;
  const lin_model_t *m;
  const char *name;
  const char *p, *end, *line; /* cursor, end of the line, start of the line */
  unsigned lineno;
  char *buf; /* scratch for decoded strings */
  size_t blen, bcap;
  rv_err_t *err;
} lin_jparser_t;

static int s_fail(lin_jparser_t *P, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int s_fail(lin_jparser_t *P, const char *at, const char *fmt, ...) {
  char msg[RV_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (at)
    return rv_err_set(P->err, RV_EINVAL, "%s:%u:%zu: %s", P->name, P->lineno,
                      (size_t)(at - P->line) + 1, msg);
  return rv_err_set(P->err, RV_EINVAL, "%s:%u: %s", P->name, P->lineno, msg);
}

static void s_ws(lin_jparser_t *P) {
  while (P->p < P->end && (*P->p == ' ' || *P->p == '\t' || *P->p == '\r')) P->p++;
}

static int s_putc(lin_jparser_t *P, char c) {
  if (P->blen + 1 >= P->bcap) {
    size_t ncap = P->bcap ? P->bcap * 2 : 256;
    char *b = realloc(P->buf, ncap);
    if (!b) return rv_err_set(P->err, RV_ENOMEM, "%s: out of memory", P->name);
    P->buf = b;
    P->bcap = ncap;
  }
  P->buf[P->blen++] = c;
  P->buf[P->blen] = '\0';
  return RV_OK;
}

/* Appends code point cp (1 .. 0x10ffff, no surrogate) as UTF-8. */
static int s_put_utf8(lin_jparser_t *P, uint32_t cp) {
  int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  static const unsigned char lead[5] = {0, 0x00, 0xc0, 0xe0, 0xf0};
  char b[4];
  for (int i = n - 1; i > 0; i--, cp >>= 6) b[i] = (char)(0x80 | (cp & 0x3f));
  b[0] = (char)(lead[n] | cp);
  for (int i = 0; i < n; i++)
    if (s_putc(P, b[i])) return RV_ENOMEM;
  return RV_OK;
}

/* Four hex digits at P->p into *v. */
static int s_hex4(lin_jparser_t *P, uint32_t *v) {
  const char *at = P->p;
  *v = 0;
  for (int i = 0; i < 4; i++, P->p++) {
    char c = P->p < P->end ? *P->p : '\0';
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return s_fail(P, at, "\\u needs four hex digits");
    *v = *v << 4 | (uint32_t)d;
  }
  return RV_OK;
}

/* A \u escape (P->p after the 'u'), with its low surrogate when it is a high one. */
static int s_unicode(lin_jparser_t *P, const char *esc) {
  uint32_t cp, lo;
  int rc = s_hex4(P, &cp);
  if (rc) return rc;
  if (cp >= 0xdc00 && cp <= 0xdfff) return s_fail(P, esc, "lone low surrogate in \\u escape");
  if (cp >= 0xd800 && cp <= 0xdbff) {
    if (P->end - P->p < 2 || P->p[0] != '\\' || P->p[1] != 'u')
      return s_fail(P, esc, "high surrogate not followed by a \\u low surrogate");
    P->p += 2;
    if ((rc = s_hex4(P, &lo))) return rc;
    if (lo < 0xdc00 || lo > 0xdfff) return s_fail(P, esc, "invalid surrogate pair");
    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
  }
  if (cp == 0) return s_fail(P, esc, "\\u0000 is not supported (strings are C strings)");
  return s_put_utf8(P, cp);
}

/* A string at P->p (on its opening quote), decoded into P->buf. */
static int s_string(lin_jparser_t *P) {
  const char *start = P->p++;
  P->blen = 0;
  int rc = s_putc(P, '\0');
  P->blen = 0;
  while (!rc) {
    if (P->p >= P->end) return s_fail(P, start, "unterminated string");
    char c = *P->p;
    if (c == '"') {
      P->p++;
      return RV_OK;
    }
    if ((unsigned char)c < 0x20) return s_fail(P, P->p, "raw control character in a string");
    if (c != '\\') {
      rc = s_putc(P, c);
      P->p++;
      continue;
    }
    const char *esc = P->p++;
    c = P->p < P->end ? *P->p++ : '\0';
    switch (c) {
      case '"':
      case '\\':
      case '/': rc = s_putc(P, c); break;
      case 'b': rc = s_putc(P, '\b'); break;
      case 'f': rc = s_putc(P, '\f'); break;
      case 'n': rc = s_putc(P, '\n'); break;
      case 'r': rc = s_putc(P, '\r'); break;
      case 't': rc = s_putc(P, '\t'); break;
      case 'u': rc = s_unicode(P, esc); break;
      default: return s_fail(P, esc, "invalid escape in a string");
    }
  }
  return rc;
}

static bool s_word(lin_jparser_t *P, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(P->end - P->p) < n || memcmp(P->p, w, n) != 0) return false;
  P->p += n;
  return true;
}

/* An integer (JSON number without fraction or exponent) fitting int64_t. */
static int s_integer(lin_jparser_t *P, int64_t *v) {
  const char *at = P->p;
  bool neg = P->p < P->end && *P->p == '-';
  if (neg) P->p++;
  if (P->p >= P->end || *P->p < '0' || *P->p > '9') return s_fail(P, at, "invalid number");
  if (*P->p == '0' && P->p + 1 < P->end && P->p[1] >= '0' && P->p[1] <= '9')
    return s_fail(P, at, "leading zero in a number");
  uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  while (P->p < P->end && *P->p >= '0' && *P->p <= '9') {
    unsigned d = (unsigned)(*P->p++ - '0');
    if (u > (lim - d) / 10) return s_fail(P, at, "number out of range");
    u = u * 10 + d;
  }
  if (P->p < P->end && (*P->p == '.' || *P->p == 'e' || *P->p == 'E'))
    return s_fail(P, at, "expected an integer (no fraction or exponent)");
  *v = neg ? (int64_t)(0 - u) : (int64_t)u;
  return RV_OK;
}

static int s_value(lin_jparser_t *P, lin_jval_t *v) {
  v->at = P->p;
  char c = P->p < P->end ? *P->p : '\0';
  if (c == '"') {
    int rc = s_string(P);
    if (rc) return rc;
    v->type = LIN_J_STR;
    if (!(v->s = lin_history_intern(P->h, P->buf)))
      return rv_err_set(P->err, RV_ENOMEM, "%s: out of memory", P->name);
    return RV_OK;
  }
  if (c == '-' || (c >= '0' && c <= '9')) return v->type = LIN_J_INT, s_integer(P, &v->i);
  if (s_word(P, "null")) return v->type = LIN_J_NULL, RV_OK;
  if (s_word(P, "true")) return v->type = LIN_J_BOOL, v->b = true, RV_OK;
  if (s_word(P, "false")) return v->type = LIN_J_BOOL, v->b = false, RV_OK;
  if (c == '{' || c == '[')
    return s_fail(P, v->at, "nested objects and arrays are not part of the history format");
  return s_fail(P, v->at, "expected a value");
}

/* "ok" or an rv_error.h code name into *code. */
static bool s_result_code(const char *name, int *code) {
  if (strcmp(name, "ok") == 0) return *code = RV_OK, true;
  for (int c = 0; c < 256; c++)
    if (strcmp(rv_code_name(c), name) == 0) return *code = c, true;
  return false;
}

/* Builds and appends the operation of a parsed line. */
static int s_add_op(lin_jparser_t *P, const lin_jval_t *f, const bool *seen) {
  static const int required[] = {LIN_FLD_CLIENT, LIN_FLD_OP, LIN_FLD_CALL, LIN_FLD_RETURN};
  for (size_t i = 0; i < sizeof required / sizeof *required; i++)
    if (!seen[required[i]]) return s_fail(P, NULL, "\"%s\" is missing", s_fields[required[i]].name);
  if (f[LIN_FLD_CLIENT].i < 0)
    return s_fail(P, f[LIN_FLD_CLIENT].at, "client: expected an integer >= 0");
  if (f[LIN_FLD_CALL].i < 0)
    return s_fail(P, f[LIN_FLD_CALL].at, "call_us: expected an integer >= 0");
  lin_op_t op = {.client = (uint64_t)f[LIN_FLD_CLIENT].i,
                 .call_us = f[LIN_FLD_CALL].i,
                 .return_us = LIN_PENDING,
                 .line = P->lineno};
  if (P->m->op_parse(f[LIN_FLD_OP].s, &op.in.op))
    return s_fail(P, f[LIN_FLD_OP].at, "op: \"%s\" is not an operation of the %s model",
                  f[LIN_FLD_OP].s, P->m->name);
  op.in.key = seen[LIN_FLD_KEY] ? f[LIN_FLD_KEY].s : "";
  op.in.value =
      seen[LIN_FLD_VALUE] && f[LIN_FLD_VALUE].type == LIN_J_STR ? f[LIN_FLD_VALUE].s : NULL;
  op.in.expect =
      seen[LIN_FLD_EXPECT] && f[LIN_FLD_EXPECT].type == LIN_J_STR ? f[LIN_FLD_EXPECT].s : NULL;
  if (seen[LIN_FLD_OVERWRITE] && f[LIN_FLD_OVERWRITE].b) op.in.flags |= LIN_F_OVERWRITE;
  bool pending = f[LIN_FLD_RETURN].type == LIN_J_NULL;
  if (!pending) {
    op.return_us = f[LIN_FLD_RETURN].i;
    if (op.return_us < op.call_us)
      return s_fail(P, f[LIN_FLD_RETURN].at, "return_us %lld is before call_us %lld",
                    (long long)op.return_us, (long long)op.call_us);
    if (op.return_us == LIN_PENDING)
      return s_fail(P, f[LIN_FLD_RETURN].at, "return_us out of range");
    if (!seen[LIN_FLD_RESULT] || f[LIN_FLD_RESULT].type != LIN_J_STR)
      return s_fail(P, NULL, "\"result\" is missing (it is required when return_us is not null)");
    if (!s_result_code(f[LIN_FLD_RESULT].s, &op.out.result))
      return s_fail(P, f[LIN_FLD_RESULT].at,
                    "result: \"%s\" is neither \"ok\" nor an error code "
                    "name (EEXIST, ENOTFOUND, ...)",
                    f[LIN_FLD_RESULT].s);
    if (seen[LIN_FLD_VALUE_OUT] && f[LIN_FLD_VALUE_OUT].type == LIN_J_STR)
      op.out.value = f[LIN_FLD_VALUE_OUT].s;
  }
  int rc = P->m->validate(&op.in, &op.out, pending, P->err);
  if (rc) return rv_err_prefix(P->err, "%s:%u", P->name, P->lineno);
  if ((rc = lin_history_add(P->h, &op, P->err)))
    return rv_err_prefix(P->err, "%s:%u", P->name, P->lineno);
  return RV_OK;
}

/* One line, P->p .. P->end. */
static int s_line(lin_jparser_t *P) {
  lin_jval_t f[LIN_FLD_N];
  bool seen[LIN_FLD_N] = {false};
  s_ws(P);
  if (P->p == P->end) return RV_OK; /* blank */
  if (*P->p != '{') return s_fail(P, P->p, "expected '{' (one JSON object per line)");
  P->p++;
  s_ws(P);
  bool first = true;
  while (!(first && P->p < P->end && *P->p == '}')) {
    first = false;
    s_ws(P);
    if (P->p >= P->end || *P->p != '"') return s_fail(P, P->p, "expected a key in double quotes");
    const char *kat = P->p;
    int rc = s_string(P);
    if (rc) return rc;
    int fld = -1;
    for (int i = 0; i < LIN_FLD_N && fld < 0; i++)
      if (strcmp(P->buf, s_fields[i].name ? s_fields[i].name : P->m->key_field) == 0) fld = i;
    if (fld >= 0 && seen[fld]) return s_fail(P, kat, "key \"%s\" given twice", P->buf);
    s_ws(P);
    if (P->p >= P->end || *P->p != ':') return s_fail(P, P->p, "expected ':' after a key");
    P->p++;
    s_ws(P);
    lin_jval_t v = {0};
    if ((rc = s_value(P, &v))) return rc;
    if (fld >= 0) {
      const char *fname = s_fields[fld].name ? s_fields[fld].name : P->m->key_field;
      if (!(s_fields[fld].types & v.type))
        return s_fail(P, v.at, "%s: expected %s", fname, s_fields[fld].want);
      f[fld] = v;
      seen[fld] = true;
    }
    s_ws(P);
    if (P->p < P->end && *P->p == ',') {
      P->p++;
      continue;
    }
    if (P->p < P->end && *P->p == '}') break;
    return s_fail(P, P->p, "expected ',' or '}'");
  }
  P->p++; /* the '}' */
  s_ws(P);
  if (P->p != P->end) return s_fail(P, P->p, "text after the object (one object per line)");
  return s_add_op(P, f, seen);
}

int lin_jsonl_parse(lin_history_t *h, const lin_model_t *m, const char *text, size_t len,
                    const char *name, rv_err_t *err) {
  lin_jparser_t P = {.h = h, .m = m, .name = name ? name : "history", .err = err};
  int rc = RV_OK;
  for (const char *p = text, *end = text + len; p < end && !rc;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    P.lineno++;
    P.line = P.p = p;
    P.end = eol;
    if (memchr(p, '\0', (size_t)(eol - p)))
      rc = s_fail(&P, memchr(p, '\0', (size_t)(eol - p)), "NUL byte in the line");
    else
      rc = s_line(&P);
    p = nl ? nl + 1 : end;
  }
  free(P.buf);
  return rc;
}

size_t lin_jsonl_format(const lin_op_t *op, const lin_model_t *m, char *buf, size_t cap) {
  size_t len = 0;
  if (cap) buf[0] = '\0';
  lin_str_appendf(buf, cap, &len, "{\"client\":%llu,\"op\":", (unsigned long long)op->client);
  lin_str_quote(buf, cap, &len, m->op_name(op->in.op));
  lin_str_appendf(buf, cap, &len, ",\"%s\":", m->key_field);
  lin_str_quote(buf, cap, &len, op->in.key);
  if (op->in.value) {
    lin_str_appendf(buf, cap, &len, ",\"value\":");
    lin_str_quote(buf, cap, &len, op->in.value);
  }
  if (op->in.expect) {
    lin_str_appendf(buf, cap, &len, ",\"expect\":");
    lin_str_quote(buf, cap, &len, op->in.expect);
  }
  if (op->in.flags & LIN_F_OVERWRITE) lin_str_appendf(buf, cap, &len, ",\"overwrite\":true");
  lin_str_appendf(buf, cap, &len, ",\"call_us\":%lld,\"return_us\":", (long long)op->call_us);
  if (op->return_us == LIN_PENDING) {
    lin_str_appendf(buf, cap, &len, "null}");
    return len;
  }
  lin_str_appendf(buf, cap, &len, "%lld,\"result\":\"%s\"", (long long)op->return_us,
                  op->out.result == RV_OK ? "ok" : rv_code_name(op->out.result));
  if (op->out.value) {
    lin_str_appendf(buf, cap, &len, ",\"value_out\":");
    lin_str_quote(buf, cap, &len, op->out.value);
  }
  lin_str_appendf(buf, cap, &len, "}");
  return len;
}
