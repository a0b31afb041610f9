/* cli_fs_path: Hadoop's path forms, resolution and display (see cli_fs_path.h). Pure. */
#include "cli_fs_path.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int s_why(char *why, size_t cap, const char *fmt, const char *a) {
  if (cap) snprintf(why, cap, fmt, a);
  return -1;
}

/* Appends the segments of p to out (an absolute path of length *n), normalising. */
static int s_append(char *out, size_t *n, const char *p) {
  while (*p) {
    while (*p == '/') p++;
    const char *e = p;
    while (*e && *e != '/') e++;
    size_t l = (size_t)(e - p);
    if (l == 0) break;
    if (l == 1 && p[0] == '.') {
      /* nothing */
    } else if (l == 2 && p[0] == '.' && p[1] == '.') {
      while (*n > 1 && out[*n - 1] != '/') (*n)--;
      if (*n > 1) (*n)--; /* the '/' before the removed name */
      out[*n] = '\0';
    } else {
      if (*n + (*n > 1) + l >= CLI_FS_PATH_MAX) return -1;
      if (*n > 1) out[(*n)++] = '/';
      memcpy(out + *n, p, l);
      *n += l;
      out[*n] = '\0';
    }
    p = e;
  }
  return 0;
}

int cli_fs_uri_parse(const char *typed, const char *cwd, cli_fs_uri_t *out, char *why,
                     size_t cap) {
  memset(out, 0, sizeof *out);
  if (!*typed) return s_why(why, cap, "%sCan not create a Path from an empty string", "");
  const char *p = typed;
  /* scheme ":" ... : letters, digits, + - . after a letter, before any '/' */
  const char *colon = strchr(typed, ':');
  const char *slash = strchr(typed, '/');
  bool scheme = colon && colon > typed && (!slash || colon < slash) && isalpha((unsigned char)*typed);
  for (const char *s = typed; scheme && s < colon; s++)
    if (!isalnum((unsigned char)*s) && !strchr("+-.", *s)) scheme = false;
  if (scheme) {
    size_t sl = (size_t)(colon - typed);
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)(sl < 31 ? sl : 31), typed);
    if (strcasecmp(name, "hdfs") && strcasecmp(name, "jfs") && strcasecmp(name, "rv"))
      return s_why(why, cap, "No FileSystem for scheme \"%s\"", name);
    snprintf(out->scheme, sizeof out->scheme, "%.7s", name); /* hdfs, jfs or rv */
    out->kind = CLI_FS_HAS_SCHEME;
    p = colon + 1;
    if (p[0] == '/' && p[1] == '/') {
      p += 2;
      const char *e = strchr(p, '/');
      size_t al = e ? (size_t)(e - p) : strlen(p);
      if (al >= sizeof out->authority) return s_why(why, cap, "authority of \"%s\" is too long", typed);
      memcpy(out->authority, p, al);
      p += al;
    }
    if (*p != '/' && *p) return s_why(why, cap, "Relative path in absolute URI: %s", typed);
  } else {
    out->kind = *typed == '/' ? CLI_FS_ABSOLUTE : CLI_FS_RELATIVE;
  }
  size_t n = 1;
  out->path[0] = '/';
  if (out->kind == CLI_FS_RELATIVE && s_append(out->path, &n, cwd))
    return s_why(why, cap, "path \"%.64s...\" is too long", typed);
  if (s_append(out->path, &n, p)) return s_why(why, cap, "path \"%.64s...\" is too long", typed);
  return 0;
}

/* abs relative to cwd as Hadoop's PathData.relativize makes it: "." for cwd itself, what
 * follows their longest common directory, one ".." per directory of cwd past it. */
static int s_relativize(const char *cwd, const char *abs, char *out, size_t cap) {
  if (strcmp(cwd, abs) == 0) return snprintf(out, cap, ".");
  /* the common prefix, in whole components */
  size_t common = 0;
  for (size_t i = 0;; i++) {
    bool ce = cwd[i] == '\0' || cwd[i] == '/', ae = abs[i] == '\0' || abs[i] == '/';
    if (ce && ae) common = i;
    if (cwd[i] != abs[i] || !cwd[i]) break;
  }
  size_t ups = 0;
  for (const char *p = cwd + common; *p; p++)
    if (*p == '/') ups++;
  if (common == 0 && cwd[1] == '\0') ups = 0; /* cwd is / */
  size_t n = 0;
  if (cap) out[0] = '\0';
  for (size_t k = 0; k < ups; k++) n += (size_t)snprintf(out + (n < cap ? n : cap), n < cap ? cap - n : 0, "%s..", k ? "/" : "");
  const char *rest = abs + common;
  while (*rest == '/') rest++;
  if (*rest) n += (size_t)snprintf(out + (n < cap ? n : cap), n < cap ? cap - n : 0, "%s%s", ups ? "/" : "", rest);
  return (int)n;
}

size_t cli_fs_show_match(const cli_fs_uri_t *u, const char *abs, const char *cwd, char *out,
                         size_t cap) {
  int n;
  if (u->kind == CLI_FS_HAS_SCHEME)
    n = snprintf(out, cap, "%s://%s%s", u->scheme, u->authority, abs);
  else if (u->kind == CLI_FS_ABSOLUTE)
    n = snprintf(out, cap, "%s", abs);
  else
    n = s_relativize(cwd, abs, out, cap);
  if (n < 0) n = 0;
  return (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}

char *cli_fs_show_child(const char *parent, const char *name) {
  size_t pl = strlen(parent);
  if (strcmp(parent, ".") == 0) pl = 0;
  char *s = malloc(pl + strlen(name) + 2);
  if (!s) return NULL;
  sprintf(s, "%.*s%s%s", (int)pl, parent, pl && parent[pl - 1] != '/' ? "/" : "", name);
  return s;
}

void cli_fs_home(const char *principal, char *out, size_t cap) {
  snprintf(out, cap, "/user/%s", principal);
}

const char *cli_fs_local_path(const char *typed) {
  if (strncasecmp(typed, "file:", 5) != 0) return typed;
  const char *p = typed + 5;
  if (strncmp(p, "//", 2) == 0) {
    p += 2;
    if (strncasecmp(p, "localhost", 9) == 0) p += 9;
    if (*p != '/') return typed; /* another host's file: not ours to read */
  }
  return *p == '/' ? p : typed;
}
