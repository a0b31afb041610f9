/* cli_fs_path: paths as `hadoop fs` takes them, pure (libc only; tests/test_cli_fs_path.c).
 *
 * An argument is one of (Hadoop's PathData types):
 *   - a scheme URI: hdfs://AUTHORITY/p, jfs://AUTHORITY/p or rv://AUTHORITY/p (scheme
 *     case-insensitive); AUTHORITY names the cluster (its cluster id) or a node (host:port),
 *     and may be empty (hdfs:///p: the configured cluster); any other scheme is refused as
 *     Hadoop refuses one it has no file system for;
 *   - an absolute path (/p);
 *   - a relative path (p, ./p, ../p, .), resolved against the working directory, which is the
 *     home directory /user/<principal> as in HDFS.
 * The path is normalised as Java's URI.normalize does: "//" and "/./" collapse, ".." removes
 * the name before it (never above /), a trailing '/' goes. Backslashes are kept: a glob's
 * escapes are the glob's business (kv_glob.h).
 *
 * Hadoop shows a path as the user typed it, and what it finds below or by a glob in the same
 * form: a child of "d" is "d/x", of "." just "x"; a glob match of a relative pattern is
 * relative to the working directory, of an absolute one absolute, of a URI a URI with the
 * authority as typed ("hdfs:///p" when none was: Hadoop's CLI tests expect that form). */
#ifndef CLI_FS_PATH_H
#define CLI_FS_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define CLI_FS_PATH_MAX 4096 /* bytes of a path (the kv-store's KV_PATH_MAX) */
#define CLI_FS_AUTH_MAX 280  /* bytes of an authority: host:port or a cluster id */

typedef enum {
  CLI_FS_RELATIVE = 0,   /* p, ./p, ../p */
  CLI_FS_ABSOLUTE = 1,   /* /p */
  CLI_FS_HAS_SCHEME = 2  /* hdfs://a/p */
} cli_fs_kind_t;

typedef struct {
  cli_fs_kind_t kind;
  char scheme[8];                      /* HAS_SCHEME: "hdfs", "jfs", "rv" as typed */
  char authority[CLI_FS_AUTH_MAX];     /* HAS_SCHEME: as typed, "" when none */
  char path[CLI_FS_PATH_MAX];          /* absolute and normalised: what the server is sent */
} cli_fs_uri_t;

/* Parses typed against the working directory cwd (absolute, normalised). Returns 0, or -1
 * with a sentence in why[0..cap): an empty path ("Can not create a Path from an empty
 * string", Hadoop's words), an unknown scheme ("No FileSystem for scheme \"s3a\""), a path
 * longer than CLI_FS_PATH_MAX. */
int cli_fs_uri_parse(const char *typed, const char *cwd, cli_fs_uri_t *out, char *why,
                     size_t cap);

/* How Hadoop shows the absolute path abs (found from u: a glob match) into out[0..cap): see
 * above. cwd as given to parse. Returns the length (truncated to cap - 1). */
size_t cli_fs_show_match(const cli_fs_uri_t *u, const char *abs, const char *cwd, char *out,
                         size_t cap);

/* How Hadoop shows the child name of a path shown as parent: "d" -> "d/x", "d/" -> "d/x",
 * "." -> "x". Returns a malloc'd string (caller frees) or NULL when memory runs out. */
char *cli_fs_show_child(const char *parent, const char *name);

/* A local path as Hadoop's local file system takes it: "file:/p", "file:///p" and
 * "file://localhost/p" name /p (Hadoop's CLI tests give local files as File.toURI() writes
 * them); anything else is the path itself. Returns a pointer into typed (borrowed). */
const char *cli_fs_local_path(const char *typed);

/* "/user/<principal>" into out[0..cap). */
void cli_fs_home(const char *principal, char *out, size_t cap);

#endif
