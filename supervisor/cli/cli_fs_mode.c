/* cli_fs_mode: parsers of chmod modes, chown owners and groups and touch timestamps, as
 * `hadoop fs` spells them (see cli_fs_mode.h). Pure: libc only (mktime reads the time zone). */
#include "cli_fs_mode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int s_why(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int s_why(char *why, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, cap, fmt, ap);
  va_end(ap);
  return -1;
}

#define S_MODE_HELP                                                                             \
  "expected octal [01]NNN (755, 0644, 1777) or symbolic [ugoa...][+-=][rwxXt...] clauses "     \
  "separated by commas (u+x,go-w,a=r)"

/* The class bits a who letter names. */
static unsigned s_who(char c) {
  switch (c) {
    case 'u': return 0700;
    case 'g': return 0070;
    case 'o': return 0007;
    default: return 0777; /* 'a' */
  }
}

static int s_symbolic(const char *s, cli_fs_mode_t *out, char *why, size_t cap) {
  const char *p = s;
  for (;;) {
    if (out->n == CLI_FS_MODE_CLAUSES)
      return s_why(why, cap, "mode \"%s\": more than %d clauses", s, CLI_FS_MODE_CLAUSES);
    cli_fs_clause_t *c = &out->c[out->n];
    size_t k = out->n + 1;
    unsigned who = 0;
    for (; *p && strchr("ugoa", *p); p++) who |= s_who(*p);
    if (!who) who = 0777; /* Hadoop: no who means all, whatever the umask */
    if (!*p || !strchr("+-=", *p))
      return s_why(why, cap, "mode \"%s\": clause %zu: expected an operator (+, - or =) where "
                   "\"%.8s\" is; " S_MODE_HELP, s, k, *p ? p : "(the end)");
    for (; *p && strchr("+-=", *p); p++) c->op = *p; /* Hadoop: the last operator counts */
    if (!*p || !strchr("rwxXt", *p))
      return s_why(why, cap, "mode \"%s\": clause %zu: expected permissions (r, w, x, X, t) "
                   "where \"%.8s\" is; " S_MODE_HELP, s, k, *p ? p : "(the end)");
    for (; *p && strchr("rwxXt", *p); p++) {
      switch (*p) {
        case 'r': c->bits |= 0444 & who; break;
        case 'w': c->bits |= 0222 & who; break;
        case 'x': c->bits |= 0111 & who; break;
        case 'X': c->exec_if = true; break;
        default: c->sticky = (who & 0007) != 0; /* 't': Hadoop applies it with o only */
      }
    }
    c->who = who;
    out->n++;
    if (!*p) return 0;
    if (*p != ',')
      return s_why(why, cap, "mode \"%s\": clause %zu: unexpected '%c'; " S_MODE_HELP, s, k,
                   *p);
    if (!*++p) return 0; /* a trailing comma, as Hadoop's pattern allows */
  }
}

int cli_fs_mode_parse(const char *s, cli_fs_mode_t *out, char *why, size_t cap) {
  memset(out, 0, sizeof *out);
  if (!*s) return s_why(why, cap, "mode \"\" is empty; " S_MODE_HELP);
  const char *p = *s == '+' ? s + 1 : s;
  size_t n = strlen(p);
  if (n && strspn(p, "01234567") == n) {
    if (n == 3 || (n == 4 && (p[0] == '0' || p[0] == '1'))) {
      out->octal = true;
      out->perm = (unsigned)strtoul(p, NULL, 8);
      return 0;
    }
    return s_why(why, cap, "mode \"%s\": an octal mode is 3 digits, with an optional 0 or 1 "
                 "(the sticky bit) first; HDFS has no setuid or setgid bits", s);
  }
  if (strspn(p, "0123456789") == n)
    return s_why(why, cap, "mode \"%s\" is not octal (digits 0-7); " S_MODE_HELP, s);
  return s_symbolic(s, out, why, cap);
}

unsigned cli_fs_mode_apply(const cli_fs_mode_t *m, unsigned perm, bool dir) {
  if (m->octal) return m->perm;
  for (size_t i = 0; i < m->n; i++) {
    const cli_fs_clause_t *c = &m->c[i];
    unsigned bits = c->bits;
    if (c->exec_if && (dir || (perm & 0111))) bits |= 0111 & c->who;
    if (c->sticky) bits |= 01000;
    unsigned span = c->who | (c->who & 0007 ? 01000u : 0u); /* '=' resets t along with o */
    if (c->op == '+')
      perm |= bits;
    else if (c->op == '-')
      perm &= ~bits;
    else
      perm = (perm & ~span) | bits;
  }
  return perm & 07777;
}

/* Checks one owner or group name (what names it: "owner", "group"). */
static int s_name_ok(const char *arg, const char *what, const char *v, size_t len, char *why,
                     size_t cap) {
  if (len > CLI_FS_NAME_MAX)
    return s_why(why, cap, "\"%s\": the %s is longer than %d bytes", arg, what, CLI_FS_NAME_MAX);
  static const char ok[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./@";
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)v[i];
    if (!ch || !strchr(ok, ch))
      return s_why(why, cap, "\"%s\": the %s holds '%c'; names take letters, digits and -_./@",
                   arg, what, ch < 0x20 || ch > 0x7e ? '?' : ch);
  }
  return 0;
}

int cli_fs_owner_parse(const char *s, char *owner, char *group, char *why, size_t cap) {
  owner[0] = group[0] = '\0';
  const char *colon = strchr(s, ':');
  size_t ol = colon ? (size_t)(colon - s) : strlen(s);
  const char *g = colon ? colon + 1 : "";
  if (s_name_ok(s, "owner", s, ol, why, cap) || s_name_ok(s, "group", g, strlen(g), why, cap))
    return -1;
  if (ol == 0 && !*g)
    return s_why(why, cap, "\"%s\" names neither an owner nor a group; expected "
                 "OWNER[:GROUP] or :GROUP", s);
  memcpy(owner, s, ol);
  owner[ol] = '\0';
  snprintf(group, CLI_FS_NAME_MAX + 1, "%s", g);
  return 0;
}

int cli_fs_group_check(const char *s, char *why, size_t cap) {
  if (!*s) return s_why(why, cap, "the group is empty; expected a group name");
  return s_name_ok(s, "group", s, strlen(s), why, cap);
}

int cli_fs_timestamp_parse(const char *s, int64_t *ms, char *why, size_t cap) {
  static const char shape[] = "dddddddd:dddddd";
  bool ok = strlen(s) == sizeof shape - 1;
  for (size_t i = 0; ok && shape[i]; i++)
    ok = shape[i] == ':' ? s[i] == ':' : s[i] >= '0' && s[i] <= '9';
  if (!ok)
    return s_why(why, cap, "timestamp \"%s\": expected yyyyMMdd:HHmmss (local time), e.g. "
                 "20240131:235959", s);
  int f[6];
  sscanf(s, "%4d%2d%2d:%2d%2d%2d", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5]);
  struct tm tm = {.tm_year = f[0] - 1900, .tm_mon = f[1] - 1, .tm_mday = f[2],
                  .tm_hour = f[3], .tm_min = f[4], .tm_sec = f[5], .tm_isdst = -1};
  time_t t = mktime(&tm);
  /* mktime normalises (Feb 30 -> Mar 2): a date that changed does not exist */
  if (tm.tm_year != f[0] - 1900 || tm.tm_mon != f[1] - 1 || tm.tm_mday != f[2] ||
      tm.tm_hour != f[3] || tm.tm_min != f[4] || tm.tm_sec != f[5])
    return s_why(why, cap, "timestamp \"%s\": no such date or time (month 01-12, day of that "
                 "month, hour 00-23, minute and second 00-59, local time)", s);
  *ms = (int64_t)t * 1000;
  return 0;
}
