/* raftvisor fs: extended attributes, as Hadoop's XAttrCommands: -setfattr {-n name [-v value] |
 * -x name} PATH and -getfattr [-R] {-n name | -d} [-e en] PATH. Values as XAttrCodec takes and
 * prints them: "text" in quotes, 0x hex, 0s base64 (a value without a prefix is its text).
 * Names, namespaces, limits and who may touch what are the server's (kv_ops_xattr.c, HDFS'
 * rules and messages). I/O over librvclient. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_fs.h"

typedef enum { S_TEXT, S_HEX, S_BASE64 } s_enc_t;

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int s_b64_val(int ch) {
  const char *p = ch ? strchr(s_b64, ch) : NULL;
  return p ? (int)(p - s_b64) : -1;
}

/* XAttrCodec.decodeValue: into a malloc'd *out; -1 when the hex or base64 is malformed. */
static int s_decode(const char *v, uint8_t **out, size_t *len) {
  size_t n = strlen(v);
  uint8_t *b = malloc(n + 1);
  if (!b) return -1;
  *out = b;
  *len = 0;
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
    memcpy(b, v + 1, n - 2);
    *len = n - 2;
  } else if (n >= 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    if ((n - 2) % 2) return -1;
    for (size_t i = 2; i < n; i += 2) {
      if (!isxdigit((unsigned char)v[i]) || !isxdigit((unsigned char)v[i + 1])) return -1;
      char h[3] = {v[i], v[i + 1], 0};
      b[(*len)++] = (uint8_t)strtoul(h, NULL, 16);
    }
  } else if (n >= 2 && v[0] == '0' && (v[1] == 's' || v[1] == 'S')) {
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 2; i < n && v[i] != '='; i++) {
      int d = s_b64_val((unsigned char)v[i]);
      if (d < 0) return -1;
      acc = (acc << 6) | (unsigned)d;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        b[(*len)++] = (uint8_t)(acc >> bits);
      }
    }
  } else {
    memcpy(b, v, n);
    *len = n;
  }
  return 0;
}

/* XAttrCodec.encodeValue into a malloc'd string. */
static char *s_encode(const uint8_t *v, size_t n, s_enc_t enc) {
  char *o = malloc(n * 2 + 8 + (n / 3 + 1) * 4), *p = o;
  if (!o) return NULL;
  if (enc == S_TEXT) {
    *p++ = '"';
    memcpy(p, v, n);
    p += n;
    *p++ = '"';
  } else if (enc == S_HEX) {
    p += sprintf(p, "0x");
    for (size_t i = 0; i < n; i++) p += sprintf(p, "%02x", v[i]);
  } else {
    p += sprintf(p, "0s");
    for (size_t i = 0; i < n; i += 3) {
      unsigned t = (unsigned)v[i] << 16 | (i + 1 < n ? (unsigned)v[i + 1] << 8 : 0) |
                   (i + 2 < n ? v[i + 2] : 0);
      *p++ = s_b64[t >> 18 & 63];
      *p++ = s_b64[t >> 12 & 63];
      *p++ = i + 1 < n ? s_b64[t >> 6 & 63] : '=';
      *p++ = i + 2 < n ? s_b64[t & 63] : '=';
    }
  }
  *p = '\0';
  return o;
}

/* A failure as FsShell shows it: a missing path as PathNotFoundException, a permission as the
 * AccessControlException's text, anything else the server's message ("cmd: message"). */
static void s_fail(cli_fs_t *fs, const char *cmd, const char *shown, const rv_client_result_t *r) {
  if (r->code == RV_ENOTFOUND || r->code == RV_ENOTDIR || r->code == RV_EPERM ||
      r->code == RV_ETIMEDOUT || r->code == RV_ERECOVERY || r->code == RV_EFEATURE) {
    cli_fs_fail(fs, cmd, shown, r);
    return;
  }
  const char *detail = strstr(r->msg, ": ");
  cli_fs_error(fs, cmd, "%s", detail ? detail + 2 : r->msg);
}

/* The value of option -o at argv[*i] (its next argument); NULL after a usage error. */
static const char *s_optarg(const char *cmd, int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    cli_fs_usage_error(cmd, "%s requires an argument", argv[*i]);
    return NULL;
  }
  return argv[++*i];
}

int cli_fs_setfattr(cli_fs_t *fs, int argc, char **argv) {
  const char *name = NULL, *value = NULL, *xname = NULL;
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (!strcmp(argv[i], "--")) {
      i++;
      break;
    }
    const char **slot = !strcmp(argv[i], "-n")   ? &name
                        : !strcmp(argv[i], "-v") ? &value
                        : !strcmp(argv[i], "-x") ? &xname
                                                 : NULL;
    if (!slot) return cli_fs_usage_error("setfattr", "Illegal option %s", argv[i]);
    if (!(*slot = s_optarg("setfattr", argc, argv, &i))) return CLI_USAGE;
  }
  /* XAttrCommands.SetfattrCommand's checks, its words */
  if (!name && !xname)
    return cli_fs_usage_error("setfattr", "Must specify '-n name' or '-x name' option.");
  if (name && xname)
    return cli_fs_usage_error("setfattr", "Can not specify both '-n name' and '-x name' option.");
  if (value && !name)
    return cli_fs_usage_error("setfattr", "Can not specify '-v value' option without '-n name' "
                              "option.");
  if (argc - i < 1)
    return cli_fs_usage_error("setfattr", "<path> is missing.");
  if (argc - i > 1) return cli_fs_usage_error("setfattr", "Too many arguments.");
  uint8_t *v = NULL;
  size_t vlen = 0;
  if (value && s_decode(value, &v, &vlen)) {
    free(v);
    return cli_fs_usage_error("setfattr", "Invalid value: %s (bad 0x hex or 0s base64)", value);
  }
  cli_fs_items_t items = {0};
  cli_fs_expand(fs, "setfattr", argv[i], &items);
  for (size_t k = 0; k < items.n; k++) {
    cli_fs_item_t *it = &items.v[k];
    if (!it->exists) {
      cli_fs_missing(fs, "setfattr", it->shown);
      continue;
    }
    rv_client_result_t r;
    int rc = name ? rv_client_setxattr(it->client, it->path, name, v ? (void *)v : "", vlen, &r)
                  : rv_client_removexattr(it->client, it->path, xname, &r);
    if (rc)
      s_fail(fs, "setfattr", it->shown, &r);
    else if (fs->json) {
      printf("{\"op\":\"setfattr\",\"path\":");
      cli_fs_json_str(it->shown);
      printf(",\"ok\":true,\"index\":%llu,\"n\":%llu,\"replayed\":%s}\n",
             (unsigned long long)r.index, (unsigned long long)r.n, r.replayed ? "true" : "false");
    }
    rv_client_result_clear(&r);
  }
  cli_fs_items_clear(&items);
  free(v);
  return CLI_OK;
}

typedef struct {
  const char *name; /* -n, or NULL for -d */
  s_enc_t enc;
  bool recursive;
} s_get_t;

static void s_print_one(cli_fs_t *fs, const s_get_t *g, const char *name, const uint8_t *v,
                        size_t n, bool first) {
  char *e = n ? s_encode(v, n, g->enc) : NULL;
  if (fs->json) {
    if (!first) printf(",");
    cli_fs_json_str(name);
    printf(":");
    cli_fs_json_str(e ? e : "");
  } else if (n) {
    printf("%s=%s\n", name, e ? e : "");
  } else {
    printf("%s\n", name);
  }
  free(e);
}

/* getfattr of one entry (path, shown so); then its children with -R. */
static void s_get_one(cli_fs_t *fs, rv_client_t *c, const s_get_t *g, const char *path,
                      const char *shown, bool dir) {
  rv_client_result_t r;
  if (rv_client_getxattrs(c, path, fs->read_flags, &r) != RV_OK) {
    s_fail(fs, "getfattr", shown, &r);
    rv_client_result_clear(&r);
    return;
  }
  if (fs->json) {
    printf("{\"op\":\"getfattr\",\"path\":");
    cli_fs_json_str(shown);
    printf(",\"ok\":true,\"xattrs\":{");
  } else {
    printf("# file: %s\n", shown);
  }
  bool found = g->name == NULL;
  char want[256];
  size_t wl = 0;
  if (g->name) { /* the namespace is taken in any case */
    snprintf(want, sizeof want, "%s", g->name);
    char *dot = strchr(want, '.');
    for (char *p = want; dot && p < dot; p++) *p = (char)tolower((unsigned char)*p);
    wl = strlen(want);
  }
  size_t shown_n = 0;
  for (size_t i = 0; i < r.nxattrs; i++) {
    if (g->name && (strlen(r.xattrs[i].name) != wl || strcmp(r.xattrs[i].name, want))) continue;
    found = true;
    s_print_one(fs, g, r.xattrs[i].name, r.xattrs[i].value, r.xattrs[i].len, shown_n++ == 0);
  }
  if (fs->json) printf("}}\n");
  if (!found)
    cli_fs_error(fs, "getfattr", "At least one of the attributes provided was not found.");
  rv_client_result_clear(&r);
  if (!g->recursive || !dir) return;
  char *after = NULL;
  for (;;) {
    rv_client_result_t ls;
    if (rv_client_ls(c, path, after, 0, fs->read_flags, &ls) != RV_OK) {
      cli_fs_fail(fs, "getfattr", shown, &ls);
      rv_client_result_clear(&ls);
      break;
    }
    for (size_t e = 0; e < ls.nentries; e++) {
      char *p = cli_fs_join(path, ls.entries[e].name);
      char *s = cli_fs_show_child(shown, ls.entries[e].name);
      if (p && s) s_get_one(fs, c, g, p, s, ls.entries[e].dir);
      free(p);
      free(s);
    }
    bool more = ls.more && ls.nentries;
    free(after);
    after = more ? strdup(ls.entries[ls.nentries - 1].name) : NULL;
    rv_client_result_clear(&ls);
    if (!after) break;
  }
}

int cli_fs_getfattr(cli_fs_t *fs, int argc, char **argv) {
  s_get_t g = {.enc = S_TEXT};
  const char *en = NULL;
  bool dump = false;
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (!strcmp(argv[i], "--")) {
      i++;
      break;
    }
    if (!strcmp(argv[i], "-R")) {
      g.recursive = true;
    } else if (!strcmp(argv[i], "-d")) {
      dump = true;
    } else if (!strcmp(argv[i], "-n")) {
      if (!(g.name = s_optarg("getfattr", argc, argv, &i))) return CLI_USAGE;
    } else if (!strcmp(argv[i], "-e")) {
      if (!(en = s_optarg("getfattr", argc, argv, &i))) return CLI_USAGE;
    } else {
      return cli_fs_usage_error("getfattr", "Illegal option %s", argv[i]);
    }
  }
  if (en) { /* XAttrCodec.valueOf, in any case */
    if (!strcasecmp(en, "text"))
      g.enc = S_TEXT;
    else if (!strcasecmp(en, "hex"))
      g.enc = S_HEX;
    else if (!strcasecmp(en, "base64"))
      g.enc = S_BASE64;
    else
      return cli_fs_usage_error("getfattr", "Invalid/unsupported encoding option specified: %s",
                                en);
  }
  if (!dump && !g.name)
    return cli_fs_usage_error("getfattr", "Must specify '-n name' or '-d' option.");
  if (dump) g.name = NULL;
  if (argc - i < 1) return cli_fs_usage_error("getfattr", "<path> is missing.");
  if (argc - i > 1) return cli_fs_usage_error("getfattr", "Too many arguments.");
  cli_fs_items_t items = {0};
  cli_fs_expand(fs, "getfattr", argv[i], &items);
  for (size_t k = 0; k < items.n; k++) {
    cli_fs_item_t *it = &items.v[k];
    if (!it->exists)
      cli_fs_missing(fs, "getfattr", it->shown);
    else
      s_get_one(fs, it->client, &g, it->path, it->shown, it->st.dir);
  }
  cli_fs_items_clear(&items);
  return CLI_OK;
}
