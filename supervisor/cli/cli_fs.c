/* raftvisor fs: the namespace's shell commands, as `hadoop fs` spells them (-mkdir, -put, -cat,
 * -ls, -stat, -rm, -rmdir, -mv, -touchz, -touch, -chmod, -chown, -chgrp, -count) and -digest,
 * over librvclient: the nodes come from the node's YAML (every cluster.nodes entry, this node
 * first) or --nodes; the client finds the leader itself. Output and error messages follow HDFS
 * ("mkdir: '/a': File exists"); --json prints one JSON object per line instead. This file:
 * options, dispatch, writes, cat, count, digest; ls and stat are cli_fs_list.c, the attribute
 * commands cli_fs_attr.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_fs.h"

static void s_help(void) {
  printf(
      "usage: raftvisor fs (-c FILE | --nodes HOST:PORT,...) [--json] [--stale] [--timeout MS]\n"
      "                    [--retry MS] COMMAND ARGS...\n"
      "The namespace, as 'hadoop fs' shows it. Writes go to the leader (the client follows the\n"
      "nodes' redirects and fails over by itself); reads are linearizable on any node.\n"
      "commands:\n"
      "  -mkdir [-p] PATH...          make directories (-p: with their parents, no error if\n"
      "                               they exist)\n"
      "  -put [-f] LOCALFILE|- PATH   store a local file (- = stdin) as PATH (into PATH when it\n"
      "                               is a directory); parents are made; -f replaces a file\n"
      "  -cat PATH...                 print files' contents\n"
      "  -ls [-R] PATH...             list (default /); -R: recursively\n"
      "  -stat [FORMAT] PATH...       print attributes; FORMAT as HDFS: %%a %%A %%b %%F %%g %%n\n"
      "                               %%o %%r %%u %%x %%X %%y %%Y (default %%y, mtime in UTC)\n"
      "  -rm [-r|-R] [-f] PATH...     remove (-r: directories and what they hold; without -r\n"
      "                               a directory, even empty, is refused: \"Is a directory\";\n"
      "                               -f: no error when missing)\n"
      "  -rmdir [--ignore-fail-on-non-empty] DIR...\n"
      "                               remove empty directories (else \"Directory is not empty\",\n"
      "                               unless --ignore-fail-on-non-empty)\n"
      "  -mv SRC... DST               move or rename (onto a directory: into it)\n"
      "  -touchz PATH...              make empty files\n"
      "  -touch [-a] [-m] [-t TIMESTAMP] [-c] PATH...\n"
      "                               set access (-a) and/or modification (-m) time, both by\n"
      "                               default, to TIMESTAMP (yyyyMMdd:HHmmss, local time) or to\n"
      "                               now (the leader's clock); a missing file is made empty,\n"
      "                               unless -c\n"
      "  -chmod [-R] MODE PATH...     permissions: octal ([01]NNN: 755, 1777) or symbolic\n"
      "                               ([ugoa][+-=][rwxXt], comma-separated: u+x,go-w,a=r)\n"
      "  -chown [-R] [OWNER][:[GROUP]] PATH...\n"
      "                               owner and/or group (:GROUP changes the group only)\n"
      "  -chgrp [-R] GROUP PATH...    group\n"
      "                               -R: the whole subtree, walked from this client a page at a\n"
      "                               time, as Hadoop does: each entry changes atomically, the\n"
      "                               walk as a whole does not (run it again after a failure)\n"
      "  -count [-v] PATH...          DIR_COUNT FILE_COUNT CONTENT_SIZE PATHNAME (-v: a header)\n"
      "  -digest                      DIGEST APPLIED_INDEX NODE: a hash (FNV-1a 64) of the whole\n"
      "                               namespace (entries, attributes, contents) as the node that\n"
      "                               answered has applied it; nodes at one index must agree;\n"
      "                               --stale: the contacted node's state at once. It reads the\n"
      "                               whole namespace: for checks and tests\n"
      "options:\n"
      "  -c, --config FILE   a node's YAML: the cluster's nodes (this one tried first)\n"
      "  --nodes LIST        host:client-port,... instead of -c\n"
      "  --json              one JSON object per line (ls: per entry), errors included\n"
      "  --stale             reads served at once by the contacted node, maybe behind\n"
      "  --timeout MS        one attempt on one node (default 1000)\n"
      "  --retry MS          give up after this long (default 15000)\n"
      "Exit codes: 0 ok, 1 an operation failed (HDFS' message on stderr), 2 usage error,\n"
      "3 no node of the cluster answered.\n");
}

/* ---- shared helpers ---------------------------------------------------------------------- */

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

/* HDFS' wording of a failure, or NULL for codes it has no wording for. */
static const char *s_hdfs_text(const char *cmd, int code, const rv_client_result_t *res) {
  switch (code) {
    case RV_ENOTFOUND: return "No such file or directory";
    case RV_EEXIST:
      /* touchz of a file with content: HDFS' own words */
      return strcmp(cmd, "touchz") == 0 && strstr(res->msg, "non-zero length")
                 ? "Not a zero-length file"
                 : "File exists";
    case RV_ENOTDIR: return strcmp(cmd, "rmdir") == 0 ? "Is not a directory" : "Not a directory";
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
  char msg[RV_CLIENT_MSG_MAX + 512];
  /* no node took a connection: nothing runs there (exit 3); running nodes that did not decide
   * (no quorum, no leader) are a failure (exit 1), not "not running" */
  bool unreachable = res->code == RV_ETIMEDOUT && res->attempts == 0;
  snprintf(msg, sizeof msg, "%s: '%s': %s%s", cmd, path, text ? text : detail,
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

/* ---- writes ------------------------------------------------------------------------------- */

static int s_mkdir(cli_fs_t *fs, int argc, char **argv) {
  unsigned flags = 0;
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (strcmp(argv[i], "-p") == 0) flags |= RV_CLIENT_PARENTS;
    else return cli_usage_error("fs", "-mkdir: unknown option \"%s\" (it takes -p)", argv[i]);
  }
  if (i == argc) return cli_usage_error("fs", "-mkdir: no PATH given");
  for (; i < argc; i++) {
    rv_client_result_t res;
    if (rv_client_mkdir(fs->client, argv[i], flags, &res) != RV_OK)
      cli_fs_fail(fs, "mkdir", argv[i], &res);
    else if (fs->json)
      s_json_write("mkdir", argv[i], NULL, &res);
    rv_client_result_clear(&res);
  }
  return CLI_OK;
}

static int s_touchz(cli_fs_t *fs, int argc, char **argv) {
  if (argc == 0) return cli_usage_error("fs", "-touchz: no PATH given");
  for (int i = 0; i < argc; i++) {
    rv_client_result_t res;
    if (rv_client_touchz(fs->client, argv[i], &res) != RV_OK)
      cli_fs_fail(fs, "touchz", argv[i], &res);
    else if (fs->json)
      s_json_write("touchz", argv[i], NULL, &res);
    rv_client_result_clear(&res);
  }
  return CLI_OK;
}

/* -rm: without -r, a directory (even an empty one) is refused, as HDFS does. The check is in
 * the replicated command (RV_CLIENT_FILE_ONLY), not a stat first, so it is atomic with the
 * removal: what is at PATH when the command applies decides, and a directory that took the
 * place of a file meanwhile is never removed by mistake. */
static int s_rm(cli_fs_t *fs, int argc, char **argv) {
  unsigned flags = 0;
  bool force = false;
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (strcmp(argv[i], "-r") == 0 || strcmp(argv[i], "-R") == 0) flags |= RV_CLIENT_RECURSIVE;
    else if (strcmp(argv[i], "-f") == 0) force = true;
    else if (strcmp(argv[i], "-skipTrash") == 0) continue; /* there is no trash to skip */
    else return cli_usage_error("fs", "-rm: unknown option \"%s\" (it takes -r, -R, -f)", argv[i]);
  }
  if (i == argc) return cli_usage_error("fs", "-rm: no PATH given");
  if (!(flags & RV_CLIENT_RECURSIVE)) flags |= RV_CLIENT_FILE_ONLY;
  for (; i < argc; i++) {
    rv_client_result_t res;
    if (rv_client_rm(fs->client, argv[i], flags, &res) == RV_OK) {
      if (fs->json) s_json_write("rm", argv[i], NULL, &res);
      else printf("Deleted %s\n", argv[i]);
    } else if (!(force && res.code == RV_ENOTFOUND)) {
      cli_fs_fail(fs, "rm", argv[i], &res);
    }
    rv_client_result_clear(&res);
  }
  return CLI_OK;
}

/* -rmdir: empty directories only (RV_CLIENT_DIR_ONLY: a file or a non-empty directory is
 * refused in the same atomic step). Silent on success, as Hadoop's. */
static int s_rmdir(cli_fs_t *fs, int argc, char **argv) {
  bool ignore = false;
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (strcmp(argv[i], "--ignore-fail-on-non-empty") == 0) ignore = true;
    else
      return cli_usage_error("fs", "-rmdir: unknown option \"%s\" (it takes "
                             "--ignore-fail-on-non-empty)", argv[i]);
  }
  if (i == argc) return cli_usage_error("fs", "-rmdir: no DIR given");
  for (; i < argc; i++) {
    rv_client_result_t res;
    if (rv_client_rm(fs->client, argv[i], RV_CLIENT_DIR_ONLY, &res) == RV_OK) {
      if (fs->json) s_json_write("rmdir", argv[i], NULL, &res);
    } else if (!(ignore && res.code == RV_ENOTEMPTY)) {
      cli_fs_fail(fs, "rmdir", argv[i], &res);
    }
    rv_client_result_clear(&res);
  }
  return CLI_OK;
}

static int s_mv(cli_fs_t *fs, int argc, char **argv) {
  if (argc < 2) return cli_usage_error("fs", "-mv: needs SRC... DST");
  const char *dst = argv[argc - 1];
  for (int i = 0; i < argc - 1; i++) {
    rv_client_result_t res;
    if (rv_client_mv(fs->client, argv[i], dst, &res) != RV_OK)
      cli_fs_fail(fs, "mv", res.code == RV_EEXIST ? dst : argv[i], &res);
    else if (fs->json)
      s_json_write("mv", argv[i], dst, &res);
    rv_client_result_clear(&res);
  }
  return CLI_OK;
}

/* Reads all of f (at most RV_CLIENT_DATA_MAX bytes) into *out (malloc'd). Returns 0, ETOOBIG,
 * or an errno. */
static int s_slurp(FILE *f, char **out, size_t *len) {
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  if (!buf) return ENOMEM;
  for (;;) {
    if (n == cap) {
      if (cap > RV_CLIENT_DATA_MAX) {
        free(buf);
        return EFBIG;
      }
      char *b = realloc(buf, cap * 2);
      if (!b) {
        free(buf);
        return ENOMEM;
      }
      buf = b;
      cap *= 2;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
  }
  if (ferror(f)) {
    free(buf);
    return EIO;
  }
  if (n > RV_CLIENT_DATA_MAX) {
    free(buf);
    return EFBIG;
  }
  *out = buf;
  *len = n;
  return 0;
}

static int s_put(cli_fs_t *fs, int argc, char **argv) {
  unsigned flags = RV_CLIENT_PARENTS; /* as HDFS' create: missing parents are made */
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (strcmp(argv[i], "-f") == 0) flags |= RV_CLIENT_OVERWRITE;
    else return cli_usage_error("fs", "-put: unknown option \"%s\" (it takes -f)", argv[i]);
  }
  if (argc - i != 2) return cli_usage_error("fs", "-put: needs LOCALFILE (or -) and PATH");
  const char *local = argv[i], *dst = argv[i + 1];
  bool stdin_src = strcmp(local, "-") == 0;
  FILE *f = stdin_src ? stdin : fopen(local, "rb");
  char *data = NULL;
  size_t len = 0;
  int e = f ? s_slurp(f, &data, &len) : errno;
  if (f && !stdin_src) fclose(f);
  if (e) {
    rv_client_result_t res = {.code = e == EFBIG ? RV_ETOOBIG : RV_EIO};
    snprintf(res.msg, sizeof res.msg, "put: %s",
             e == EFBIG ? "larger than the 4 MiB a file may hold" : strerror(e));
    if (e == ENOENT) res.code = RV_ENOTFOUND;
    cli_fs_fail(fs, "put", local, &res);
    return CLI_OK;
  }
  rv_client_result_t res;
  int rc = rv_client_put(fs->client, dst, data, len, flags, &res);
  char *into = NULL;
  if (rc == RV_EISDIR && !stdin_src) { /* onto a directory: into it, under the local name */
    const char *base = strrchr(local, '/');
    base = base ? base + 1 : local;
    size_t dl = strlen(dst);
    into = malloc(dl + strlen(base) + 2);
    if (into) {
      sprintf(into, "%s%s%s", dst, dl && dst[dl - 1] == '/' ? "" : "/", base);
      rv_client_result_clear(&res);
      rc = rv_client_put(fs->client, into, data, len, flags, &res);
    }
  }
  const char *target = into ? into : dst;
  if (rc != RV_OK)
    cli_fs_fail(fs, "put", target, &res);
  else if (fs->json)
    s_json_write("put", target, NULL, &res);
  rv_client_result_clear(&res);
  free(into);
  free(data);
  return CLI_OK;
}

/* ---- cat and count ------------------------------------------------------------------------ */

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

static int s_cat(cli_fs_t *fs, int argc, char **argv) {
  if (argc == 0) return cli_usage_error("fs", "-cat: no PATH given");
  for (int i = 0; i < argc; i++) {
    rv_client_result_t res;
    if (rv_client_cat(fs->client, argv[i], fs->read_flags, &res) != RV_OK) {
      cli_fs_fail(fs, "cat", argv[i], &res);
    } else if (fs->json) {
      printf("{\"op\":\"cat\",\"path\":");
      cli_fs_json_str(argv[i]);
      printf(",\"ok\":true,\"size\":%zu,\"content_base64\":\"", res.len);
      s_base64(res.content, res.len);
      printf("\"}\n");
    } else {
      fwrite(res.content, 1, res.len, stdout);
    }
    rv_client_result_clear(&res);
  }
  return CLI_OK;
}

static int s_count(cli_fs_t *fs, int argc, char **argv) {
  int i = 0;
  bool header = false;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (strcmp(argv[i], "-v") == 0) header = true;
    else return cli_usage_error("fs", "-count: unknown option \"%s\" (it takes -v)", argv[i]);
  }
  if (i == argc) return cli_usage_error("fs", "-count: no PATH given");
  /* Hadoop's ContentSummary columns: "%12s %15s %18s " then the path */
  if (header && !fs->json)
    printf("%12s %15s %18s %s\n", "DIR_COUNT", "FILE_COUNT", "CONTENT_SIZE", "PATHNAME");
  for (; i < argc; i++) {
    rv_client_result_t res;
    if (rv_client_count(fs->client, argv[i], fs->read_flags, &res) != RV_OK) {
      cli_fs_fail(fs, "count", argv[i], &res);
    } else if (fs->json) {
      printf("{\"op\":\"count\",\"path\":");
      cli_fs_json_str(argv[i]);
      printf(",\"ok\":true,\"dirs\":%" PRIu64 ",\"files\":%" PRIu64 ",\"bytes\":%" PRIu64
             ",\"index\":%" PRIu64 "}\n",
             res.dirs, res.files, res.bytes, res.index);
    } else {
      printf("%12" PRIu64 " %15" PRIu64 " %18" PRIu64 " %s\n", res.dirs, res.files, res.bytes,
             argv[i]);
    }
    rv_client_result_clear(&res);
  }
  return CLI_OK;
}

/* -digest: "DIGEST APPLIED_INDEX NODE" of the node that answered (the first of the list that
 * does: with -c FILE, that node's own; with --nodes, the first given). */
static int s_digest(cli_fs_t *fs, int argc, char **argv) {
  if (argc)
    return cli_usage_error("fs", "-digest: takes no arguments (it covers the whole namespace), "
                           "got \"%s\"", argv[0]);
  rv_client_result_t res;
  if (rv_client_digest(fs->client, fs->read_flags, &res) != RV_OK) {
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

/* ---- the command -------------------------------------------------------------------------- */

typedef int (*s_cmd_fn)(cli_fs_t *fs, int argc, char **argv);
static const struct {
  const char *name;
  s_cmd_fn fn;
} s_cmds[] = {
    {"-mkdir", s_mkdir},    {"-put", s_put},          {"-cat", s_cat},
    {"-ls", cli_fs_ls},     {"-stat", cli_fs_stat},   {"-rm", s_rm},
    {"-rmdir", s_rmdir},    {"-mv", s_mv},            {"-touchz", s_touchz},
    {"-touch", cli_fs_touch}, {"-chmod", cli_fs_chmod}, {"-chown", cli_fs_chown},
    {"-chgrp", cli_fs_chgrp}, {"-count", s_count},      {"-digest", s_digest},
};
#define S_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

/* A positive integer option value in 1..max, or -1. */
static int s_ms(const char *v, int max) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  return !*v || *end || errno || n < 1 || n > max ? -1 : (int)n;
}

/* The node list of cfg: every node's host:client-port, this node first. */
int cli_fs_main(int argc, char **argv) {
  const char *config = NULL, *nodes = NULL;
  cli_fs_t fs = {.status = CLI_OK};
  rv_client_opts_t o;
  rv_client_opts_default(&o);
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
    } else if (strcmp(a, "--json") == 0) {
      fs.json = true;
    } else if (strcmp(a, "--stale") == 0) {
      fs.read_flags = RV_CLIENT_STALE;
    } else if ((strcmp(a, "--timeout") == 0 || strcmp(a, "--retry") == 0) && has_value) {
      int v = s_ms(argv[++i], a[2] == 't' ? 600000 : 86400000);
      if (v < 0)
        return cli_usage_error("fs", "%s \"%s\": expected milliseconds, 1..%d", a, argv[i],
                               a[2] == 't' ? 600000 : 86400000);
      *(a[2] == 't' ? &o.timeout_ms : &o.retry_ms) = v;
    } else {
      for (size_t k = 0; k < S_NCMDS && !cmd; k++)
        if (strcmp(a, s_cmds[k].name) == 0) cmd = s_cmds[k].fn;
      if (!cmd) return cli_usage_error("fs", "unknown command or option \"%s\"", a);
    }
  }
  if (!cmd) return cli_usage_error("fs", "no command given (-mkdir, -put, -ls, ...)");
  if (!config == !nodes)
    return cli_usage_error("fs", "give either -c FILE or --nodes HOST:PORT,...");
  if (o.retry_ms < o.timeout_ms) o.retry_ms = o.timeout_ms;
  char list[CFG_MAX_NODES * (CFG_HOST_MAX + 16)];
  if (config) {
    cfg_node_t *cfg;
    int rc = cli_load_config(config, &cfg);
    if (rc) return rc;
    cli_cluster_nodes(cfg, list, sizeof list);
    cfg_node_destroy(&cfg);
    nodes = list;
  }
  rv_err_t err;
  int rc = rv_client_new(nodes, &o, &fs.client, &err);
  if (rc == RV_EINVAL) return cli_usage_error("fs", "--nodes: %s", err.msg);
  if (rc) {
    fprintf(stderr, "raftvisor fs: %s\n", err.msg);
    return CLI_FAILURE;
  }
  rc = cmd(&fs, argc - i, argv + i);
  rv_client_destroy(&fs.client);
  return rc ? rc : fs.status;
}
