/* fence_methods: the fencing-method syntax of Hadoop's NodeFencer (dfs.ha.fencing.methods),
 * parsed into a typed list that the fencer runs in order until one method succeeds.
 *
 * The spec is one method per line; blank lines are skipped and "#" starts a comment that runs to
 * the end of the line. A method is NAME or NAME(ARG), where ARG is everything between the first
 * "(" and the last ")" of the line, so ARG may hold parentheses of its own
 * ("shell(test $(id -u) = 0 && fence.sh)"), exactly as Hadoop's regular expression
 * ([a-zA-Z0-9.$]+)\((.*)\) takes it. Supported methods:
 *   shell(COMMAND)                 run by bash; exit 0 = fenced (alias
 *                                  org.apache.hadoop.ha.ShellCommandFencer)
 *   sshfence, sshfence([[user][:port]])   stop the target node over ssh (alias
 *                                  org.apache.hadoop.ha.SshFenceByTcpPort)
 * One difference from Hadoop, on purpose: Hadoop cuts a "#" comment anywhere, even inside
 * shell(...), which turns "shell(echo $#)" into the unparseable "shell(echo $"; here "#" starts
 * a comment only outside the parentheses, so a shell command keeps its own "#".
 *
 * Error texts keep Hadoop's wording (BadFencingConfigurationException) where it has one, with
 * what was expected after it. Pure: libc only. */
#ifndef FENCE_METHODS_H
#define FENCE_METHODS_H

#include <stddef.h>

#define FENCE_CMD_MAX 2048      /* a shell method's command, bytes with the NUL */
#define FENCE_USER_MAX 64       /* sshfence's user name, bytes with the NUL */
#define FENCE_SSH_DEFAULT_PORT 22
#define FENCE_METHODS_MAX 8     /* methods in one spec (as config's CFG_MAX_FENCE_METHODS) */

typedef enum {
  FENCE_METHOD_SHELL, /* shell(command) */
  FENCE_METHOD_SSH    /* sshfence([[user][:port]]) */
} fence_method_kind_t;

/* One parsed method. */
typedef struct {
  fence_method_kind_t kind;
  char command[FENCE_CMD_MAX]; /* shell: the command as written (not trimmed); else "" */
  char user[FENCE_USER_MAX];   /* sshfence: the user; "" = the fencer's own user, as Hadoop */
  int port;                    /* sshfence: the ssh port (default 22); else 0 */
} fence_method_t;

/* Finds the method within one raw line (line[0..n), no newline): cuts a "#" comment outside the
 * parentheses and trims blanks. Returns the method's length (0 = nothing on the line) and sets
 * *start to its offset in line. */
size_t fence_methods_line(const char *line, size_t n, size_t *start);

/* Parses one method (a line already cut by fence_methods_line; NUL-terminated) into *out.
 * Returns 0, or -1 with why[len] saying what is wrong, e.g.
 *   Unable to parse line: 'shell(x': expected NAME or NAME(ARGUMENT)
 *   No argument passed to 'shell' fencing method: expected shell(command [args])
 *   Unable to parse user and SSH port: 'u:': expected sshfence([[user][:port]]) ...
 *   unknown fencing method 'shel': expected shell(command [args]) or sshfence(...) */
int fence_method_parse(const char *text, fence_method_t *out, char *why, size_t len);

/* Parses a whole spec (Hadoop's form: one method per line) into out[0..max). Returns 0 with *n
 * set (0 methods is valid: no fencing configured), or -1 with why starting "line N: ". */
int fence_methods_parse(const char *spec, fence_method_t *out, int max, int *n, char *why,
                        size_t len);

/* The method's name as logs and results show it: "shell" or "sshfence". Static. */
const char *fence_method_name(const fence_method_t *m);

#endif
