/* raftvisor fs: Hadoop 3's FsShell (`hadoop fs`) over librvclient: the nodes come from the
 * node's YAML (every cluster.nodes entry, this node first), --nodes, or a URI naming a node;
 * the client finds the leader itself. Output, messages ("mkdir: `/a': File exists"), usage
 * errors and exit codes follow Hadoop's; --json prints one JSON object per line instead. This
 * file: the help and usage table, the shared reporting helpers, option parsing, dispatch, and
 * -mkdir, -touchz, -rm, -rmdir, -mv, -cat, -digest, -usage, -help. The other commands are in
 * cli_fs_list.c, cli_fs_attr.c, cli_fs_copy.c, cli_fs_usage.c and cli_fs_misc.c; arguments
 * become paths in cli_fs_glob.c (see cli_fs.h). */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_fs.h"

static void s_help(void);

/* ---- shared helpers ---------------------------------------------------------------------- */

void cli_fs_principal(char *out, size_t cap) {
  const char *env = getenv("HADOOP_USER_NAME"); /* as librvclient's default user */
  if (env && *env) {
    snprintf(out, cap, "%s", env);
    return;
  }
  struct passwd *pw = getpwuid(geteuid());
  snprintf(out, cap, "%s", pw && pw->pw_name && *pw->pw_name ? pw->pw_name : "nobody");
}

void cli_fs_json_str(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  }
  putchar('"');
}

void cli_fs_error(cli_fs_t *fs, const char *cmd, const char *fmt, ...) {
  char msg[CLI_FS_PATH_MAX + 512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (fs->json) {
    printf("{\"op\":");
    cli_fs_json_str(cmd);
    printf(",\"ok\":false,\"message\":");
    cli_fs_json_str(msg);
    printf("}\n");
  } else {
    fprintf(stderr, "%s: %s\n", cmd, msg);
  }
  if (fs->status == CLI_OK) fs->status = CLI_FAILURE;
}

void cli_fs_missing(cli_fs_t *fs, const char *cmd, const char *shown) {
  rv_client_result_t res = {.code = RV_ENOTFOUND};
  cli_fs_fail(fs, cmd, shown, &res);
}

/* Hadoop 3's one-line usage of each command (FsShell's USAGE fields, as its documentation
 * lists them), for usage errors, -usage and -help. */
static const struct {
  const char *cmd, *usage, *what;
} s_usages[] = {
    {"appendToFile", "<localsrc> ... <dst>", "append local files (- = stdin) to dst, atomically"},
    {"cat", "[-ignoreCrc] <src> ...", "print files"},
    {"checksum", "[-v] <src> ...", "RV-FNV1A64 checksum of files' contents"},
    {"chgrp", "[-R] GROUP PATH...", "change the group"},
    {"chmod", "[-R] <MODE[,MODE]... | OCTALMODE> PATH...",
     "change permissions: octal (755, 1777) or symbolic (u+x,go-w,a=r; X, t)"},
    {"chown", "[-R] [OWNER][:[GROUP]] PATH...", "change owner and group"},
    {"copyFromLocal", "[-f] [-p] [-l] [-d] [-t <thread count>] [-q <thread pool queue size>] "
                      "<localsrc> ... <dst>", "as -put"},
    {"copyToLocal", "[-f] [-p] [-crc] [-ignoreCrc] [-t <thread count>] [-q <thread pool queue "
                    "size>] <src> ... <localdst>", "as -get"},
    {"concat", "<target path> <src path> <src path> ...",
     "append the sources to the target and remove them, atomically (one directory)"},
    {"count", "[-q] [-h] [-v] [-t [<storage type>]] [-u] [-x] [-e] [-s] <path> ...",
     "DIR_COUNT FILE_COUNT CONTENT_SIZE PATHNAME (one read at any size); -q: no quotas"},
    {"cp", "[-f] [-p | -p[topax]] [-d] [-t <thread count>] [-q <thread pool queue size>] "
           "<src> ... <dst>", "copy files and directories"},
    {"df", "[-h] [<path> ...]", "capacity, used and free"},
    {"digest", "", "the namespace's digest and applied index on the node that answers"},
    {"du", "[-s] [-h] [-v] [-x] <path> ...", "space used"},
    {"expunge", "[-immediate] [-fs <path>]", "empty the trash (there is none: a no-op)"},
    {"find", "<path> ... <expression> ...", "find entries by -name / -iname, -print"},
    {"get", "[-f] [-p] [-crc] [-ignoreCrc] [-t <thread count>] [-q <thread pool queue size>] "
            "<src> ... <localdst>", "copy to local files"},
    {"getfattr", "[-R] {-n name | -d} [-e en] <path>",
     "extended attributes (-e text, hex or base64)"},
    {"getmerge", "[-nl] [-skip-empty-file] <src> <localdst>", "concatenate into a local file"},
    {"head", "<file>", "the first kilobyte of a file"},
    {"help", "[cmd ...]", "help on commands"},
    {"ls", "[-C] [-d] [-h] [-q] [-R] [-t] [-S] [-r] [-u] [-e] [<path> ...]", "list"},
    {"mkdir", "[-p] <path> ...", "make directories"},
    {"moveFromLocal", "[-f] [-p] [-l] [-d] <localsrc> ... <dst>", "put, then delete the local"},
    {"moveToLocal", "<src> <localdst>", "get, then delete the source"},
    {"mv", "<src> ... <dst>", "move (atomic, one entry at a time)"},
    {"put", "[-f] [-p] [-l] [-d] [-t <thread count>] [-q <thread pool queue size>] "
            "<localsrc> ... <dst>", "copy local files in"},
    {"rm", "[-f] [-r|-R] [-skipTrash] [-safely] <src> ...", "remove"},
    {"rmdir", "[--ignore-fail-on-non-empty] <dir> ...", "remove empty directories"},
    {"setfattr", "{-n name [-v value] | -x name} <path>",
     "set or remove an extended attribute (user., trusted.)"},
    {"stat", "[format] <path> ...", "print attributes"},
    {"tail", "[-f] [-s <sleep interval>] <file>", "the last kilobyte of a file"},
    {"test", "-[defswrz] <path>", "answer by exit status"},
    {"text", "[-ignoreCrc] <src> ...", "print files as text"},
    {"touch", "[-a] [-m] [-t TIMESTAMP (yyyyMMdd:HHmmss) ] [-c] <path> ...", "set times"},
    {"touchz", "<path> ...", "make empty files"},
    {"truncate", "[-w] <length> <path> ...", "truncate files"},
    {"usage", "[cmd ...]", "usage of commands"},
};
#define S_NUSAGES (sizeof s_usages / sizeof s_usages[0])

static void s_help(void) {
  printf(
      "usage: raftvisor fs [-c FILE | --nodes HOST:PORT,...] [--json] [--stale] [--timeout MS]\n"
      "                    [--retry MS] COMMAND ARGS...\n"
      "The namespace, as Hadoop 3's 'hadoop fs' (FsShell) shows it: its commands, options,\n"
      "output and messages. Writes go to the leader (the client follows the nodes' redirects and\n"
      "fails over by itself); reads are linearizable on any node.\n"
      "Paths: /absolute, relative to the working directory /user/<your login name> (-ls alone\n"
      "lists it), or a URI hdfs://AUTHORITY/path (also jfs:// and rv://) whose AUTHORITY is the\n"
      "cluster id, a node's HOST:PORT (a node not in the YAML: that node's cluster), or empty.\n"
      "Globs as Hadoop's: * ? [a-z] [^a] {a,b} \\c, expanded on the nodes (only matches are\n"
      "sent). A single file put, copy or move is atomic; directories go entry by entry.\n"
      "commands:\n");
  for (size_t i = 0; i < S_NUSAGES; i++)
    printf("  -%s%s%s\n      %s\n", s_usages[i].cmd, *s_usages[i].usage ? " " : "",
           s_usages[i].usage, s_usages[i].what);
  printf(
      "options:\n"
      "  -c, --config FILE   a node's YAML: the cluster's nodes (this one tried first) and id\n"
      "  --nodes LIST        host:client-port,... instead of -c\n"
      "  --key FILE          this client's CURVE key pair (from `raftvisor keys gen`); default\n"
      "                      $RV_CLIENT_KEY, else the YAML's security.client-key\n"
      "  --server-key LIST   the nodes' public keys, host:port=KEY,... (with --nodes; default\n"
      "                      $RV_SERVER_KEYS; with -c: the YAML's, these added)\n"
      "  --json              one JSON object per line (ls: per entry), errors included\n"
      "  --stale             reads served at once by the contacted node, maybe behind\n"
      "  --timeout MS        one attempt on one node (default 1000)\n"
      "  --retry MS          give up after this long (default 15000)\n"
      "Exit codes: 0 ok, 1 an operation failed (Hadoop's message on stderr; -test: the answer\n"
      "is no), 2 usage error (Hadoop exits 255), 3 no node of the cluster answered.\n");
}

const char *cli_fs_usage_of(const char *cmd) {
  if (*cmd == '-') cmd++;
  for (size_t i = 0; i < S_NUSAGES; i++)
    if (strcmp(s_usages[i].cmd, cmd) == 0) return s_usages[i].usage;
  return NULL;
}

int cli_fs_usage_error(const char *cmd, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (*cmd == '-') cmd++;
  const char *u = cli_fs_usage_of(cmd);
  fprintf(stderr, "-%s: %s\nUsage: hadoop fs [generic options] -%s%s%s\n", cmd, msg, cmd,
          u && *u ? " " : "", u ? u : "");
  return CLI_USAGE;
}

bool cli_fs_has(const cli_fs_opts_t *o, const char *word) {
  size_t wl = strlen(word);
  unsigned bit = 1;
  for (const char *p = o->words; *p; bit <<= 1) {
    const char *e = strchr(p, ' ');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == wl && strncmp(p, word, l) == 0) return (o->set & bit) != 0;
    p = e ? e + 1 : p + l;
  }
  return false;
}

int cli_fs_usage_why(const char *why, int rc) {
  fprintf(stderr, "  (%s)\n", why);
  return rc;
}

int cli_fs_flags(const char *cmd, int argc, char **argv, cli_fs_opts_t *o) {
  o->set = 0;
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (strcmp(argv[i], "--") == 0) return i + 1;
    const char *w = argv[i] + 1;
    size_t wl = strlen(w);
    unsigned bit = 1;
    bool known = false;
    for (const char *p = o->words; *p && !known; bit <<= 1) {
      const char *e = strchr(p, ' ');
      size_t l = e ? (size_t)(e - p) : strlen(p);
      if (l == wl && strncmp(p, w, l) == 0) {
        o->set |= bit;
        known = true;
      }
      p = e ? e + 1 : p + l;
    }
    if (!known) {
      cli_fs_usage_error(cmd, "Illegal option -- %s", w);
      return -1;
    }
  }
  return i;
}

/* HDFS' wording of a failure, or NULL for codes it has no wording for. */
static const char *s_hdfs_text(const char *cmd, int code, const rv_client_result_t *res) {
  switch (code) {
    case RV_ENOTFOUND: return "No such file or directory";
    case RV_EEXIST:
      /* touchz of a file with content: HDFS' own words */
      return strcmp(cmd, "touchz") == 0 && strstr(res->msg, "non-zero length")
                 ? "Not a zero-length file"
                 : "File exists";
    case RV_ENOTDIR: return "Is not a directory";
    case RV_EISDIR: return "Is a directory";
    case RV_ENOTEMPTY: return strcmp(cmd, "rm") == 0 ? "Is a directory" : "Directory is not empty";
    default: return NULL;
  }
}

void cli_fs_fail(cli_fs_t *fs, const char *cmd, const char *path, const rv_client_result_t *res) {
  /* the server's detail without its own "<op> <path>: " prefix */
  const char *detail = strstr(res->msg, ": ");
  detail = detail ? detail + 2 : res->msg;
  const char *text = s_hdfs_text(cmd, res->code, res);
  char msg[RV_CLIENT_MSG_MAX + CLI_FS_PATH_MAX + 512];
  /* no node took a connection: nothing runs there (exit 3); running nodes that did not decide
   * (no quorum, no leader) are a failure (exit 1), not "not running" */
  bool unreachable = res->code == RV_ETIMEDOUT && res->attempts == 0;
  if (res->code == RV_ERECOVERY) /* the published line, as JindoFS prints it */
    snprintf(msg, sizeof msg, "%s", RV_ERECOVERY_MSG);
  else if (res->code == RV_EPERM) /* FsShell prints an AccessControlException's text as is: it names
                                the user, the access and the inode itself */
    snprintf(msg, sizeof msg, "%s: %s", cmd, res->msg);
  else if (res->code == RV_EFEATURE && strstr(detail, " needs every node "))
    /* the feature gate names the server's op ("append needs every node at feature level 2;
     * n3 runs level 1: ..."): said with the command the user typed */
    snprintf(msg, sizeof msg, "%s %s", cmd, strstr(detail, " needs every node ") + 1);
  else
    snprintf(msg, sizeof msg, "%s: `%s': %s%s", cmd, path, text ? text : detail,
             unreachable ? "; is the cluster running?" : "");
  if (fs->json) {
    printf("{\"op\":");
    cli_fs_json_str(cmd);
    printf(",\"path\":");
    cli_fs_json_str(path);
    printf(",\"ok\":false,\"code\":%d,\"error\":\"%s\",\"message\":", res->code,
           rv_code_name(res->code));
    cli_fs_json_str(msg);
    printf(",\"detail\":");
    cli_fs_json_str(res->msg);
    printf("}\n");
  } else {
    fprintf(stderr, "%s\n", msg);
  }
  if (unreachable)
    fs->status = CLI_NOT_RUNNING;
  else if (fs->status == CLI_OK)
    fs->status = CLI_FAILURE;
}

/* The JSON line of a successful write. */
static void s_json_write(const char *cmd, const char *path, const char *dst,
                         const rv_client_result_t *res) {
  printf("{\"op\":");
  cli_fs_json_str(cmd);
  printf(",\"path\":");
  cli_fs_json_str(path);
  if (dst) {
    printf(",\"dst\":");
    cli_fs_json_str(dst);
  }
  printf(",\"ok\":true,\"index\":%" PRIu64 ",\"inode\":%" PRIu64 ",\"n\":%" PRIu64
         ",\"replayed\":%s}\n",
         res->index, res->inode, res->n, res->replayed ? "true" : "false");
}

void cli_fs_qualified(const cli_fs_t *fs, const char *path, char *out, size_t cap) {
  const char *auth = fs->cluster[0] ? fs->cluster : fs->nodes;
  size_t al = strcspn(auth, ",");
  snprintf(out, cap, "hdfs://%.*s%s", (int)al, auth, path);
}

/* ---- writes ------------------------------------------------------------------------------- */

/* The parent of a path as shown ("a/b" -> "a", "/a" -> "/", "b" -> "."). */
static void s_parent_shown(const char *shown, char *out, size_t cap) {
  size_t l = strlen(shown);
  while (l > 1 && shown[l - 1] == '/') l--;
  while (l > 0 && shown[l - 1] != '/') l--;
  if (l == 0) {
    snprintf(out, cap, ".");
    return;
  }
  while (l > 1 && shown[l - 1] == '/' && shown[l - 2] != '/' && shown[l - 2] != ':') l--;
  snprintf(out, cap, "%.*s", (int)l, shown);
}

/* -mkdir [-p] PATH...: Hadoop's Mkdir: an existing directory is "File exists" without -p, an
 * existing file "Is not a directory" (with -p too); without -p a missing parent is named. */
static int s_mkdir(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "p"};
  int i = cli_fs_flags("mkdir", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (i == argc) return cli_fs_usage_error("mkdir", "Not enough arguments: expected 1 but got 0");
  unsigned flags = cli_fs_has(&o, "p") ? RV_CLIENT_PARENTS : 0;
  for (; i < argc; i++) {
    cli_fs_item_t it;
    if (cli_fs_resolve(fs, "mkdir", argv[i], &it)) continue;
    rv_client_result_t res;
    int rc = rv_client_mkdir(it.client, it.path, flags, &res);
    if (rc == RV_EEXIST || rc == RV_ENOTDIR) { /* what is in the way decides the words */
      rv_client_result_t st;
      if (rv_client_stat(it.client, it.path, fs->read_flags, &st) == RV_OK && !st.stat.dir)
        res.code = RV_ENOTDIR;
      else if (rc == RV_EEXIST && flags)
        rc = RV_OK;
      rv_client_result_clear(&st);
    }
    if (rc == RV_ENOTFOUND && !flags) {
      char parent[CLI_FS_PATH_MAX + 64];
      s_parent_shown(it.shown, parent, sizeof parent);
      cli_fs_error(fs, "mkdir", "`mkdir failed for path: %s. Item parent path not found: %s.': "
                   "No such file or directory", it.shown, parent);
    } else if (rc != RV_OK) {
      cli_fs_fail(fs, "mkdir", it.shown, &res);
    } else if (fs->json) {
      s_json_write("mkdir", it.shown, NULL, &res);
    }
    rv_client_result_clear(&res);
    cli_fs_item_close(&it);
  }
  return CLI_OK;
}

static int s_touchz(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = ""};
  int i = cli_fs_flags("touchz", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (i == argc) return cli_fs_usage_error("touchz", "Not enough arguments: expected 1 but got 0");
  for (; i < argc; i++) {
    cli_fs_item_t it;
    if (cli_fs_resolve(fs, "touchz", argv[i], &it)) continue;
    rv_client_result_t res;
    int rc = rv_client_touchz(it.client, it.path, &res);
    if (rc == RV_ENOTFOUND) { /* the parent is missing: Hadoop's Touchz adds the qualified path */
      char q[CLI_FS_PATH_MAX + CLI_FS_AUTH_MAX + 16];
      cli_fs_qualified(fs, it.path, q, sizeof q);
      cli_fs_error(fs, "touchz", "`%s': No such file or directory: `%s'", it.shown, q);
    } else if (rc != RV_OK)
      cli_fs_fail(fs, "touchz", it.shown, &res);
    else if (fs->json)
      s_json_write("touchz", it.shown, NULL, &res);
    rv_client_result_clear(&res);
    cli_fs_item_close(&it);
  }
  return CLI_OK;
}

/* -rm: without -r, a directory (even an empty one) is refused, as HDFS does. The check is in
 * the replicated command (RV_CLIENT_FILE_ONLY), not a stat first, so it is atomic with the
 * removal: what is at PATH when the command applies decides, and a directory that took the
 * place of a file meanwhile is never removed by mistake. There is no trash: -skipTrash is
 * accepted and changes nothing, and what is removed is gone ("Deleted p", as HDFS prints when
 * it skips the trash). */
static int s_rm(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "f r R skipTrash safely"};
  int i = cli_fs_flags("rm", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  bool force = cli_fs_has(&o, "f");
  if (i == argc && !force)
    return cli_fs_usage_error("rm", "Not enough arguments: expected 1 but got 0");
  unsigned flags = cli_fs_has(&o, "r") || cli_fs_has(&o, "R") ? RV_CLIENT_RECURSIVE
                                                               : RV_CLIENT_FILE_ONLY;
  for (; i < argc; i++) {
    cli_fs_items_t items = {0};
    fs->quiet_missing = force; /* -f: a glob that matches nothing is fine too */
    cli_fs_expand(fs, "rm", argv[i], &items);
    fs->quiet_missing = false;
    for (size_t k = 0; k < items.n; k++) {
      cli_fs_item_t *it = &items.v[k];
      if (!it->exists) {
        if (!force) cli_fs_missing(fs, "rm", it->shown);
        continue;
      }
      rv_client_result_t res;
      if (rv_client_rm(it->client, it->path, flags, &res) == RV_OK) {
        if (fs->json) s_json_write("rm", it->shown, NULL, &res);
        else printf("Deleted %s\n", it->shown);
      } else if (!(force && res.code == RV_ENOTFOUND)) {
        cli_fs_fail(fs, "rm", it->shown, &res);
      }
      rv_client_result_clear(&res);
    }
    cli_fs_items_clear(&items);
  }
  return CLI_OK;
}

/* -rmdir: empty directories only (RV_CLIENT_DIR_ONLY: a file or a non-empty directory is
 * refused in the same atomic step). Silent on success, as Hadoop's. */
static int s_rmdir(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "-ignore-fail-on-non-empty"};
  int i = cli_fs_flags("rmdir", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  bool ignore = o.set != 0;
  if (i == argc) return cli_fs_usage_error("rmdir", "Not enough arguments: expected 1 but got 0");
  for (; i < argc; i++) {
    cli_fs_items_t items = {0};
    cli_fs_expand(fs, "rmdir", argv[i], &items);
    for (size_t k = 0; k < items.n; k++) {
      cli_fs_item_t *it = &items.v[k];
      if (!it->exists) {
        cli_fs_missing(fs, "rmdir", it->shown);
        continue;
      }
      rv_client_result_t res;
      if (rv_client_rm(it->client, it->path, RV_CLIENT_DIR_ONLY, &res) == RV_OK) {
        if (fs->json) s_json_write("rmdir", it->shown, NULL, &res);
      } else if (!(ignore && res.code == RV_ENOTEMPTY)) {
        cli_fs_fail(fs, "rmdir", it->shown, &res);
      }
      rv_client_result_clear(&res);
    }
    cli_fs_items_clear(&items);
  }
  return CLI_OK;
}

/* -mv SRC... DST: each source is one atomic rename on the server (as HDFS' rename), onto DST
 * or, when DST is a directory, into it. Several sources need a directory. */
static int s_mv(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = ""};
  int i = cli_fs_flags("mv", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (argc - i < 2)
    return cli_fs_usage_error("mv", "Not enough arguments: expected 2 but got %d", argc - i);
  cli_fs_items_t srcs = {0};
  for (int k = i; k < argc - 1; k++) cli_fs_expand(fs, "mv", argv[k], &srcs);
  size_t nsrc = (size_t)(argc - 1 - i);
  cli_fs_item_t dst;
  bool dst_dir;
  bool refused = cli_fs_dst(fs, "mv", argv[argc - 1], nsrc > srcs.n ? nsrc : srcs.n, &dst,
                            &dst_dir) != 0;
  for (size_t k = 0; !refused && k < srcs.n; k++) {
    cli_fs_item_t *it = &srcs.v[k];
    if (!it->exists) {
      cli_fs_missing(fs, "mv", it->shown);
      continue;
    }
    if (it->client != dst.client) {
      cli_fs_error(fs, "mv", "`%s': Does not match target filesystem", it->shown);
      continue;
    }
    if (it->st.dir && dst_dir) { /* Hadoop's check: a directory never moves into itself */
      char *tpath = cli_fs_join(dst.path, strrchr(it->path, '/') + 1);
      size_t sl = strlen(it->path);
      bool inside = tpath && strncmp(tpath, it->path, sl) == 0 && (tpath[sl] == '/' || sl == 1);
      if (inside) {
        char *tshown = cli_fs_show_child(dst.shown, strrchr(it->path, '/') + 1);
        cli_fs_error(fs, "mv", "`%s' to `%s': is a subdirectory of itself", it->shown,
                     tshown ? tshown : dst.shown);
        free(tshown);
      }
      free(tpath);
      if (inside) continue;
    }
    rv_client_result_t res;
    if (rv_client_mv(it->client, it->path, dst.path, &res) != RV_OK) {
      /* the source was there: a missing or existing entry is the destination's */
      bool dst_named = res.code == RV_ENOTFOUND || res.code == RV_EEXIST || res.code == RV_ENOTDIR;
      char *target = dst_dir ? cli_fs_show_child(dst.shown, strrchr(it->path, '/') + 1) : NULL;
      cli_fs_fail(fs, "mv", dst_named ? (target ? target : dst.shown) : it->shown, &res);
      free(target);
    } else if (fs->json) {
      s_json_write("mv", it->shown, dst.shown, &res);
    }
    rv_client_result_clear(&res);
  }
  cli_fs_items_clear(&srcs);
  cli_fs_item_close(&dst);
  return CLI_OK;
}

/* ---- cat and digest ----------------------------------------------------------------------- */

static void s_base64(const uint8_t *p, size_t n) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                 (i + 2 < n ? p[i + 2] : 0);
    putchar(t[v >> 18 & 63]);
    putchar(t[v >> 12 & 63]);
    putchar(i + 1 < n ? t[v >> 6 & 63] : '=');
    putchar(i + 2 < n ? t[v & 63] : '=');
  }
}

int cli_fs_cat_as(cli_fs_t *fs, const char *cmd, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "ignoreCrc"};
  int i = cli_fs_flags(cmd, argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (i == argc) return cli_fs_usage_error(cmd, "Not enough arguments: expected 1 but got 0");
  for (; i < argc; i++) {
    cli_fs_items_t items = {0};
    cli_fs_expand(fs, cmd, argv[i], &items);
    for (size_t k = 0; k < items.n; k++) {
      cli_fs_item_t *it = &items.v[k];
      if (!it->exists) {
        cli_fs_missing(fs, cmd, it->shown);
        continue;
      }
      rv_client_result_t res;
      if (rv_client_cat(it->client, it->path, fs->read_flags, &res) != RV_OK) {
        cli_fs_fail(fs, cmd, it->shown, &res);
      } else if (fs->json) {
        printf("{\"op\":\"%s\",\"path\":", cmd);
        cli_fs_json_str(it->shown);
        printf(",\"ok\":true,\"size\":%zu,\"content_base64\":\"", res.len);
        s_base64(res.content, res.len);
        printf("\"}\n");
      } else {
        fwrite(res.content, 1, res.len, stdout);
      }
      rv_client_result_clear(&res);
    }
    cli_fs_items_clear(&items);
  }
  return CLI_OK;
}

static int s_cat(cli_fs_t *fs, int argc, char **argv) { return cli_fs_cat_as(fs, "cat", argc, argv); }

/* true when every argument is a local file: URI (file:/p, file:///p, file://localhost/p): what
 * Hadoop's shell reads through its local file system, with no cluster involved */
static bool s_all_local(int argc, char **argv) {
  for (int k = 0; k < argc; k++)
    if (cli_fs_local_path(argv[k]) == argv[k]) return false;
  return argc > 0;
}

/* -cat / -text of local files only (`hadoop fs -cat file:/tmp/x`): their bytes, in order; a
 * file that cannot be read is named as Hadoop names it, and the others are still printed */
static int s_cat_local(const char *cmd, int argc, char **argv) {
  int status = CLI_OK;
  for (int k = 0; k < argc; k++) {
    FILE *f = fopen(cli_fs_local_path(argv[k]), "rb");
    if (!f) {
      fprintf(stderr, "%s: `%s': %s\n", cmd, argv[k],
              errno == ENOENT ? "No such file or directory" : strerror(errno));
      status = CLI_FAILURE;
      continue;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
    if (ferror(f)) {
      fprintf(stderr, "%s: `%s': %s\n", cmd, argv[k], strerror(errno));
      status = CLI_FAILURE;
    }
    fclose(f);
  }
  fflush(stdout);
  return status;
}

/* -digest: "DIGEST APPLIED_INDEX NODE" of the node that answered (the first of the list that
 * does: with -c FILE, that node's own; with --nodes, the first given). */
static int s_digest(cli_fs_t *fs, int argc, char **argv) {
  if (argc)
    return cli_usage_error("fs", "-digest: takes no arguments (it covers the whole namespace), "
                           "got \"%s\"", argv[0]);
  cli_fs_uri_t u = {.kind = CLI_FS_ABSOLUTE};
  rv_client_t *c;
  if (cli_fs_client(fs, "digest", "/", &u, &c)) return CLI_OK;
  rv_client_result_t res;
  if (rv_client_digest(c, fs->read_flags, &res) != RV_OK) {
    cli_fs_fail(fs, "digest", "/", &res);
  } else if (fs->json) {
    printf("{\"op\":\"digest\",\"ok\":true,\"digest\":\"%016" PRIx64
           "\",\"scope\":\"namespace\",\"index\":%" PRIu64 ",\"node\":",
           res.digest, res.index);
    cli_fs_json_str(res.node);
    printf("}\n");
  } else {
    printf("%016" PRIx64 " %" PRIu64 " %s\n", res.digest, res.index, res.node);
  }
  rv_client_result_clear(&res);
  return CLI_OK;
}

static int s_usage_cmd(cli_fs_t *fs, int argc, char **argv, bool help) {
  (void)fs;
  bool all = argc == 0;
  if (all) printf("Usage: hadoop fs [generic options]\n");
  for (size_t k = 0; k < S_NUSAGES; k++) {
    bool want = all;
    for (int i = 0; i < argc && !want; i++)
      want = strcmp(argv[i][0] == '-' ? argv[i] + 1 : argv[i], s_usages[k].cmd) == 0;
    if (!want) continue;
    const char *u = s_usages[k].usage;
    if (all) printf("\t[-%s%s%s]\n", s_usages[k].cmd, *u ? " " : "", u);
    else printf("%s-%s%s%s\n", help ? "" : "Usage: hadoop fs [generic options] ", s_usages[k].cmd,
                *u ? " " : "", u);
    if (help && !all) printf("  %s\n", s_usages[k].what);
  }
  for (int i = 0; i < argc; i++)
    if (!cli_fs_usage_of(argv[i])) {
      fprintf(stderr, "%s: No such command: %s\n", help ? "help" : "usage", argv[i]);
      if (fs->status == CLI_OK) fs->status = CLI_FAILURE;
    }
  return CLI_OK;
}

static int s_usage(cli_fs_t *fs, int argc, char **argv) { return s_usage_cmd(fs, argc, argv, false); }
static int s_fshelp(cli_fs_t *fs, int argc, char **argv) {
  if (argc == 0) {
    s_help();
    return CLI_OK;
  }
  return s_usage_cmd(fs, argc, argv, true);
}

/* ---- the command -------------------------------------------------------------------------- */

typedef int (*s_cmd_fn)(cli_fs_t *fs, int argc, char **argv);
static const struct {
  const char *name;
  s_cmd_fn fn;
} s_cmds[] = {
    {"-mkdir", s_mkdir},
    {"-put", cli_fs_put},
    {"-copyFromLocal", cli_fs_copy_from_local},
    {"-moveFromLocal", cli_fs_move_from_local},
    {"-get", cli_fs_get},
    {"-copyToLocal", cli_fs_copy_to_local},
    {"-moveToLocal", cli_fs_move_to_local},
    {"-cp", cli_fs_cp},
    {"-getmerge", cli_fs_getmerge},
    {"-appendToFile", cli_fs_append},
    {"-truncate", cli_fs_truncate},
    {"-concat", cli_fs_concat},
    {"-setfattr", cli_fs_setfattr},
    {"-getfattr", cli_fs_getfattr},
    {"-cat", s_cat},
    {"-text", cli_fs_text},
    {"-tail", cli_fs_tail},
    {"-head", cli_fs_head},
    {"-ls", cli_fs_ls},
    {"-stat", cli_fs_stat},
    {"-rm", s_rm},
    {"-rmdir", s_rmdir},
    {"-mv", s_mv},
    {"-touchz", s_touchz},
    {"-touch", cli_fs_touch},
    {"-chmod", cli_fs_chmod},
    {"-chown", cli_fs_chown},
    {"-chgrp", cli_fs_chgrp},
    {"-count", cli_fs_count},
    {"-du", cli_fs_du},
    {"-dus", cli_fs_du},
    {"-df", cli_fs_df},
    {"-test", cli_fs_test},
    {"-find", cli_fs_find},
    {"-checksum", cli_fs_checksum},
    {"-expunge", cli_fs_expunge},
    {"-usage", s_usage},
    {"-help", s_fshelp},
    {"-digest", s_digest},
};
#define S_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

/* A positive integer option value in 1..max, or -1. */
static int s_ms(const char *v, int max) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  return !*v || *end || errno || n < 1 || n > max ? -1 : (int)n;
}

static s_cmd_fn s_lookup_cmd(const char *a) {
  for (size_t k = 0; k < S_NCMDS; k++)
    if (strcmp(a, s_cmds[k].name) == 0) return s_cmds[k].fn;
  return NULL;
}

int cli_fs_main(int argc, char **argv) {
  const char *config = NULL, *nodes = NULL, *key = NULL, *server_key = NULL;
  const char *default_fs = NULL; /* Hadoop's generic -fs URI (or -D fs.defaultFS=URI) */
  cli_fs_t fs = {.status = CLI_OK};
  rv_client_opts_default(&fs.opts);
  int i = 1;
  s_cmd_fn cmd = NULL;
  for (; i < argc && !cmd; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    if (cli_is_help(a)) {
      s_help();
      return CLI_OK;
    } else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && has_value) {
      config = argv[++i];
    } else if (strcmp(a, "--nodes") == 0 && has_value) {
      nodes = argv[++i];
    } else if (strcmp(a, "--key") == 0 && has_value) {
      key = argv[++i];
    } else if (strcmp(a, "--server-key") == 0 && has_value) {
      server_key = argv[++i];
    } else if (strcmp(a, "-fs") == 0 && has_value) {
      default_fs = argv[++i];
    } else if (strcmp(a, "-D") == 0 && has_value) {
      /* Hadoop's generic -D key=value: fs.defaultFS is -fs; the others configure what
       * raftvisor has no use for (dfs.replication, ...) and are accepted */
      if (strncmp(argv[++i], "fs.defaultFS=", 13) == 0) default_fs = argv[i] + 13;
    } else if (strncmp(a, "-D", 2) == 0 && strchr(a, '=')) {
      if (strncmp(a + 2, "fs.defaultFS=", 13) == 0) default_fs = a + 15;
    } else if (strcmp(a, "--json") == 0) {
      fs.json = true;
    } else if (strcmp(a, "--stale") == 0) {
      fs.read_flags = RV_CLIENT_STALE;
    } else if ((strcmp(a, "--timeout") == 0 || strcmp(a, "--retry") == 0) && has_value) {
      int v = s_ms(argv[++i], a[2] == 't' ? 600000 : 86400000);
      if (v < 0)
        return cli_usage_error("fs", "%s \"%s\": expected milliseconds, 1..%d", a, argv[i],
                               a[2] == 't' ? 600000 : 86400000);
      *(a[2] == 't' ? &fs.opts.timeout_ms : &fs.opts.retry_ms) = v;
    } else if ((cmd = s_lookup_cmd(a))) {
      continue; /* the loop ends here, i past the command */
    } else if (a[0] != '-' && cli_fs_usage_of(a)) {
      /* Hadoop's words for a command typed without its dash */
      fprintf(stderr, "%s: Unknown command\nDid you mean -%s?  This command begins with a "
              "dash.\n", a, a);
      return CLI_USAGE;
    } else if (a[0] == '-' && a[1] != '-' && strcmp(a, "-c") != 0) {
      fprintf(stderr, "%s: Unknown command\n", a);
      return CLI_USAGE;
    } else {
      return cli_usage_error("fs", "unknown command or option \"%s\"", a);
    }
  }
  if (!cmd) return cli_usage_error("fs", "no command given (-mkdir, -put, -ls, ...)");
  char fs_node[CLI_FS_AUTH_MAX] = "";
  if (default_fs) {
    /* -fs hdfs://HOST:PORT names a node, as --nodes; -fs hdfs://CLUSTER-ID (or hdfs:///)
     * needs -c to say where the cluster is; another scheme (file:///) is not a namespace */
    cli_fs_uri_t u;
    char why[256] = "";
    if (cli_fs_uri_parse(default_fs, "/", &u, why, sizeof why) != 0 || u.kind != CLI_FS_HAS_SCHEME)
      return cli_usage_error("fs", "-fs %s: %s", default_fs,
                             u.kind == CLI_FS_HAS_SCHEME || !*why ? "expected hdfs://HOST:PORT "
                             "or hdfs://CLUSTER-ID" : why);
    if (strchr(u.authority, ':') && !config && !nodes) {
      snprintf(fs_node, sizeof fs_node, "%s", u.authority);
      nodes = fs_node;
    }
  }
  if ((cmd == s_cat || cmd == cli_fs_text) && s_all_local(argc - i, argv + i))
    return s_cat_local(cmd == s_cat ? "cat" : "text", argc - i, argv + i);
  bool uri_node = false; /* a URI naming a node can stand for -c / --nodes */
  for (int k = i; k < argc; k++) uri_node |= strstr(argv[k], "://") && strchr(argv[k], ':') != strrchr(argv[k], ':');
  if (!config && !nodes && !uri_node)
    return cli_usage_error("fs", "give either -c FILE or --nodes HOST:PORT,... (or a URI naming "
                           "a node: hdfs://HOST:PORT/path)");
  if (config && nodes) return cli_usage_error("fs", "give either -c FILE or --nodes HOST:PORT,...");
  if (fs.opts.retry_ms < fs.opts.timeout_ms) fs.opts.retry_ms = fs.opts.timeout_ms;
  if (config) {
    cfg_node_t *cfg;
    int rc = cli_load_config(config, &cfg);
    if (rc) return rc;
    cli_cluster_nodes(cfg, fs.nodes, sizeof fs.nodes);
    snprintf(fs.cluster, sizeof fs.cluster, "%s", cfg->cluster_id);
    rc = cli_auth_load("fs", cfg, key, server_key, &fs.auth, &fs.opts);
    cfg_node_destroy(&cfg);
    if (rc) return rc;
  } else if (cli_auth_load("fs", NULL, key, server_key, &fs.auth, &fs.opts)) {
    return CLI_FAILURE;
  }
  if (!config && nodes) {
    char parsed[RV_CLIENT_NODES_MAX][RV_CLIENT_ADDR_MAX];
    int n;
    rv_err_t err;
    if (rv_client_nodes_parse(nodes, parsed, &n, &err))
      return cli_usage_error("fs", "--nodes: %s", err.msg);
    snprintf(fs.nodes, sizeof fs.nodes, "%s", nodes);
  }
  cli_fs_principal(fs.principal, sizeof fs.principal);
  cli_fs_home(fs.principal, fs.cwd, sizeof fs.cwd);
  int rc = cmd(&fs, argc - i, argv + i);
  rv_client_destroy(&fs.client);
  for (int k = 0; k < fs.nother; k++) rv_client_destroy(&fs.other[k].client);
  return rc ? rc : fs.status;
}
