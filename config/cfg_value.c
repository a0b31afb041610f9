/* cfg_value: converts one scalar's text into one field, by the key's type, and holds the checks
 * the key table names. Pure (libc only): no file is opened here, paths are joined lexically.
 *
 * Integers are strict decimal ("12ms", " 12", "0x10", "+5" are refused) because a unit typed by
 * habit must not be silently dropped. Strings never echo a secret. */
#include "cfg_value.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg_yaml.h"
#include "fence_methods.h"

static void *s_field(const cfg_key_t *k, void *base) {
  return (char *)base + k->offset;
}

static int *s_count(const cfg_key_t *k, void *base) {
  return (int *)((char *)base + k->count_offset);
}

static const char *s_list_names(const char *const *names, char *buf, size_t len) {
  size_t o = 0;
  buf[0] = '\0';
  for (size_t i = 0; names[i] && o < len; i++) {
    int w = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", names[i]);
    if (w < 0) break;
    o += (size_t)w;
  }
  return buf;
}

const char *cfg_value_expected(const cfg_key_t *k, char *buf, size_t len) {
  char names[256];
  switch (k->type) {
    case CFG_T_STRING: snprintf(buf, len, "a string"); break;
    case CFG_T_PATH: snprintf(buf, len, "a path"); break;
    case CFG_T_ID: snprintf(buf, len, "an id ([a-z0-9][a-z0-9_-]{0,31})"); break;
    case CFG_T_INT: snprintf(buf, len, "an integer in %ld..%ld", k->min, k->max); break;
    case CFG_T_BOOL: snprintf(buf, len, "a boolean (true/false, yes/no, on/off)"); break;
    case CFG_T_ENUM:
      snprintf(buf, len, "one of %s", s_list_names(k->names, names, sizeof names));
      break;
    case CFG_T_STRLIST: snprintf(buf, len, "a list of at most %ld strings", k->max); break;
    case CFG_T_PATHLIST: snprintf(buf, len, "a list of at most %ld paths", k->max); break;
    case CFG_T_SECRET: snprintf(buf, len, "a string, or @/path/to/file"); break;
    case CFG_T_NODELIST:
      snprintf(buf, len, "a list of %ld..%ld nodes ({id, host, raft-port, client-port})", k->min,
               k->max);
      break;
    case CFG_T_ACTORLIST:
      snprintf(buf, len, "a list of at most %ld actors ({name, exec, args, restart, ...})",
               k->max);
      break;
    case CFG_T_CLIENTLIST:
      snprintf(buf, len, "a list of at most %ld clients ({principal, key})", k->max);
      break;
  }
  return buf;
}

int cfg_value_int(const char *text, long min, long max, int *out) {
  const char *d = text[0] == '-' ? text + 1 : text;
  if (*d < '0' || *d > '9') return -1;
  errno = 0;
  char *end;
  long v = strtol(text, &end, 10);
  if (*end || errno == ERANGE || v < min || v > max || v < INT_MIN || v > INT_MAX) return -1;
  *out = (int)v;
  return 0;
}

int cfg_value_bool(const char *text, bool *out) {
  static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
  for (size_t i = 0; i < 3; i++) {
    if (!strcasecmp(text, yes[i])) return *out = true, 0;
    if (!strcasecmp(text, no[i])) return *out = false, 0;
  }
  return -1;
}

static bool s_is_id(const char *t) {
  size_t n = strlen(t);
  if (n == 0 || n > CFG_ID_MAX || !((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= '0' && t[0] <= '9')))
    return false;
  return strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int cfg_value_path(const char *dir, const char *rel, char *out, size_t len) {
  char joined[2 * CFG_PATH_MAX + 2];
  int w = rel[0] == '/' ? snprintf(joined, sizeof joined, "%s", rel)
                        : snprintf(joined, sizeof joined, "%s/%s", dir, rel);
  if (w < 0 || (size_t)w >= sizeof joined) return -1;
  size_t o = 0;
  for (const char *s = joined; *s;) {
    while (*s == '/') s++;
    size_t n = strcspn(s, "/");
    if (n == 0 || (n == 1 && s[0] == '.')) {
      /* nothing: "//" or "/./" */
    } else if (n == 2 && s[0] == '.' && s[1] == '.') {
      while (o > 0 && out[o - 1] != '/') o--; /* drop the last component ... */
      if (o > 0) o--;                          /* ... and its slash; ".." of "/" is "/" */
    } else {
      if (o + 1 + n + 1 > len) return -1;
      out[o++] = '/';
      memcpy(out + o, s, n);
      o += n;
    }
    s += n;
  }
  if (o == 0) {
    if (len < 2) return -1;
    out[o++] = '/';
  }
  out[o] = '\0';
  return 0;
}

int cfg_value_set(const cfg_key_t *k, void *base, const char *text, const char *dir, char *why,
                  size_t len) {
  char q[96], exp[160];
  void *f = s_field(k, base);
  size_t n = strlen(text);
  cfg_yaml_quote(text, q, sizeof q);
  switch (k->type) {
    case CFG_T_STRING:
    case CFG_T_ID:
      if (k->type == CFG_T_ID && !s_is_id(text)) break;
      if (n >= k->size) {
        snprintf(why, len, "expected a string of at most %zu bytes, got %zu bytes", k->size - 1, n);
        return -1;
      }
      if (k->check && k->check(text, why, len)) return -1;
      memcpy(f, text, n + 1);
      return 0;
    case CFG_T_PATH:
      if (text[0] == '~') {
        snprintf(why, len, "expected a path (~ is not expanded), got %s", q);
        return -1;
      }
      if (!text[0]) return *(char *)f = '\0', 0;
      if (cfg_value_path(dir, text, f, k->size) == 0) return 0;
      snprintf(why, len, "expected a path of at most %zu bytes, got %s", k->size - 1, q);
      return -1;
    case CFG_T_INT:
      if (cfg_value_int(text, k->min, k->max, f) == 0) return 0;
      break;
    case CFG_T_BOOL:
      if (cfg_value_bool(text, f) == 0) return 0;
      break;
    case CFG_T_ENUM:
      for (int i = 0; k->names[i]; i++)
        if (!strcasecmp(text, k->names[i])) return *(int *)f = i, 0;
      break;
    case CFG_T_SECRET: {
      char *copy = strdup(text);
      if (!copy) {
        snprintf(why, len, "out of memory");
        return -1;
      }
      cfg_value_clear(k, base);
      *(char **)f = copy;
      return 0;
    }
    default:
      snprintf(why, len, "expected %s", cfg_value_expected(k, exp, sizeof exp));
      return -1;
  }
  snprintf(why, len, "expected %s, got %s", cfg_value_expected(k, exp, sizeof exp), q);
  return -1;
}

int cfg_value_append(const cfg_key_t *k, void *base, const char *text, const char *dir,
                     char *why, size_t len) {
  char **items = s_field(k, base);
  int *count = s_count(k, base);
  size_t cap = k->size / sizeof *items;
  char exp[160], q[96];
  if (*count >= k->max || (size_t)*count >= cap) {
    snprintf(why, len, "expected %s, got more", cfg_value_expected(k, exp, sizeof exp));
    return -1;
  }
  if (k->check && k->check(text, why, len)) return -1;
  char path[CFG_PATH_MAX];
  if (k->type == CFG_T_PATHLIST) {
    if (text[0] == '~' || cfg_value_path(dir, text, path, sizeof path)) {
      snprintf(why, len, "expected a path of at most %d bytes (~ is not expanded), got %s",
               CFG_PATH_MAX - 1, cfg_yaml_quote(text, q, sizeof q));
      return -1;
    }
    text = path;
  }
  char *copy = strdup(text);
  if (!copy) {
    snprintf(why, len, "out of memory");
    return -1;
  }
  items[(*count)++] = copy;
  return 0;
}

void cfg_value_clear(const cfg_key_t *k, void *base) {
  void *f = s_field(k, base);
  switch (k->type) {
    case CFG_T_STRLIST:
    case CFG_T_PATHLIST: {
      char **items = f;
      for (size_t i = 0; i < k->size / sizeof *items; i++) {
        free(items[i]);
        items[i] = NULL;
      }
      *s_count(k, base) = 0;
      break;
    }
    case CFG_T_SECRET: {
      char **s = f;
      if (*s) explicit_bzero(*s, strlen(*s));
      free(*s);
      *s = NULL;
      break;
    }
    case CFG_T_NODELIST:
    case CFG_T_ACTORLIST:
    case CFG_T_CLIENTLIST: {
      int *count = s_count(k, base);
      for (int i = 0; i < *count; i++)
        for (size_t j = 0; j < k->sub->n; j++)
          cfg_value_clear(&k->sub->keys[j], (char *)f + (size_t)i * k->sub->size);
      *count = 0;
      break;
    }
    default:
      break;
  }
}

int cfg_value_hostport(const char *text, char *host, size_t hostlen, int *port, long *index) {
  const char *p = text, *h = text, *hend;
  if (*p == '[') {
    h = p + 1;
    hend = strchr(h, ']');
    if (!hend) return -1;
    p = hend + 1;
  } else {
    hend = strchr(p, ':');
    if (!hend) return -1;
    p = hend;
  }
  size_t hn = (size_t)(hend - h);
  if (*p != ':' || hn == 0 || hn >= hostlen) return -1;
  memcpy(host, h, hn);
  host[hn] = '\0';
  char why[160], num[16];
  if (cfg_value_check_host(host, why, sizeof why)) return -1;
  p++;
  size_t pn = strcspn(p, ":");
  if (pn == 0 || pn >= sizeof num) return -1;
  memcpy(num, p, pn);
  num[pn] = '\0';
  if (cfg_value_int(num, 1, 65535, port)) return -1;
  p += pn;
  if (index) *index = -1;
  if (!*p) return 0;
  int i;
  if (!index || cfg_value_int(p + 1, 0, INT_MAX, &i)) return -1;
  *index = i;
  return 0;
}

int cfg_value_check_host(const char *text, char *why, size_t len) {
  size_t n = strlen(text);
  if (n > 0 && n < CFG_HOST_MAX &&
      strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:") == n)
    return 0;
  char q[96];
  snprintf(why, len, "expected a host name or address, got %s", cfg_yaml_quote(text, q, sizeof q));
  return -1;
}

int cfg_value_check_listen_host(const char *text, char *why, size_t len) {
  return text[0] ? cfg_value_check_host(text, why, len) : 0;
}

int cfg_value_check_listen(const char *text, char *why, size_t len) {
  char host[CFG_HOST_MAX], q[96];
  int port;
  if (!text[0] || cfg_value_hostport(text, host, sizeof host, &port, NULL) == 0) return 0;
  snprintf(why, len, "expected \"host:port\" (\"0.0.0.0:9090\", \"[::1]:9090\") or \"\", got %s",
           cfg_yaml_quote(text, q, sizeof q));
  return -1;
}

int cfg_value_check_nonempty(const char *text, char *why, size_t len) {
  if (text[0]) return 0;
  snprintf(why, len, "expected a non-empty string, got \"\"");
  return -1;
}

/* A name of n bytes at p: what kv-store accepts as an owner or group. */
static int s_principal_ok(const char *p, size_t n, const char *what, char *why, size_t len) {
  if (n == 0 || n > CFG_PRINCIPAL_MAX) {
    snprintf(why, len, "expected a %s name of 1..%d bytes, got \"%.*s\"", what, CFG_PRINCIPAL_MAX,
             (int)(n > 80 ? 80 : n), p);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)p[i];
    if (ch < 0x21 || ch == 0x7f || ch == ',' || ch == '=' || ch == ':') {
      snprintf(why, len, "expected a %s name without spaces, control characters, ',', '=' or "
               "':', got \"%.*s\"", what, (int)n, p);
      return -1;
    }
  }
  return 0;
}

int cfg_value_check_principal(const char *text, char *why, size_t len) {
  return s_principal_ok(text, strlen(text), "user or group", why, len);
}

int cfg_value_check_umask(const char *text, char *why, size_t len) {
  size_t n = strlen(text);
  bool ok = n >= 1 && n <= 4;
  for (size_t i = 0; ok && i < n; i++) ok = text[i] >= '0' && text[i] <= '7';
  if (ok && strtol(text, NULL, 8) <= 0777) return 0;
  snprintf(why, len, "expected an octal umask in 000..777 (e.g. \"022\"), got \"%s\"", text);
  return -1;
}

int cfg_value_check_group_mapping(const char *text, char *why, size_t len) {
  const char *eq = strchr(text, '=');
  if (!eq) {
    snprintf(why, len, "expected \"user=group1,group2\", got \"%s\"", text);
    return -1;
  }
  if (s_principal_ok(text, (size_t)(eq - text), "user", why, len)) return -1;
  int groups = 0;
  for (const char *g = eq + 1; *g;) {
    const char *end = strchr(g, ',');
    size_t n = end ? (size_t)(end - g) : strlen(g);
    if (s_principal_ok(g, n, "group", why, len)) return -1;
    if (++groups > 32) {
      snprintf(why, len, "expected at most 32 groups per user, got more in \"%.80s\"", text);
      return -1;
    }
    g += n + (end ? 1 : 0);
    if (end && !*g) return s_principal_ok(g, 0, "group", why, len);
  }
  return 0;
}

int cfg_value_check_endpoint(const char *text, char *why, size_t len) {
  static const char *const schemes[] = {"https://", "http://", "file:///"};
  if (!text[0]) return 0;
  for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++) {
    size_t n = strlen(schemes[i]);
    if (!strncmp(text, schemes[i], n) && text[n] && !strpbrk(text, " \t\r\n")) return 0;
  }
  char q[96];
  snprintf(why, len, "expected an endpoint (https://host, http://host or file:///dir), got %s",
           cfg_yaml_quote(text, q, sizeof q));
  return -1;
}

/* One method of ha.fencing.methods, in Hadoop NodeFencer's syntax: the fencer's own parser
 * decides, so a method the fencer cannot run is refused when the file is loaded. */
int cfg_value_check_fence(const char *text, char *why, size_t len) {
  fence_method_t m;
  return fence_method_parse(text, &m, why, len);
}
