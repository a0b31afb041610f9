/* fence_methods: Hadoop NodeFencer's method syntax, parsed (pure, libc only). See the header for
 * the grammar and the one place where it departs from Hadoop (comments inside parentheses). */
#include "fence_methods.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SUPPORTED "expected shell(command [args]) or sshfence([[user][:port]])"

static bool s_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

size_t fence_methods_line(const char *line, size_t n, size_t *start) {
  /* The comment starts at the first '#' outside parentheses. */
  int depth = 0;
  size_t end = n;
  for (size_t i = 0; i < n; i++) {
    if (line[i] == '(') depth++;
    else if (line[i] == ')' && depth > 0) depth--;
    else if (line[i] == '#' && depth == 0) {
      end = i;
      break;
    }
  }
  size_t s = 0;
  while (s < end && s_blank(line[s])) s++;
  while (end > s && s_blank(line[end - 1])) end--;
  *start = s;
  return end - s;
}

/* Hadoop's class-name characters: [a-zA-Z0-9.$]. */
static bool s_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '$';
}

/* sshfence's argument, Hadoop's ([^:]+?)?(?:\:(\d+))? with the user narrowed to a user name
 * (it becomes an ssh argument) and the port to 1..65535. arg may be NULL (no parentheses). */
static int s_ssh_args(const char *arg, fence_method_t *out, char *why, size_t len) {
  out->port = FENCE_SSH_DEFAULT_PORT;
  if (!arg || !*arg) return 0;
  const char *colon = strchr(arg, ':');
  size_t un = colon ? (size_t)(colon - arg) : strlen(arg);
  bool ok = un < FENCE_USER_MAX && (un == 0 || arg[0] != '-');
  for (size_t i = 0; ok && i < un; i++)
    ok = s_name_char(arg[i]) || arg[i] == '_' || arg[i] == '-';
  for (size_t i = 0; ok && i < un; i++) ok = arg[i] != '$';
  if (!ok) {
    snprintf(why, len,
             "Unable to parse user and SSH port: '%s': expected sshfence, sshfence(user), "
             "sshfence(user:port) or sshfence(:port), with a user name of letters, digits, "
             "'.', '_' and '-'",
             arg);
    return -1;
  }
  memcpy(out->user, arg, un);
  out->user[un] = '\0';
  if (!colon) return 0;
  const char *p = colon + 1;
  if (!*p || strspn(p, "0123456789") != strlen(p)) {
    snprintf(why, len,
             "Unable to parse user and SSH port: '%s': expected sshfence, sshfence(user), "
             "sshfence(user:port) or sshfence(:port), with the port a number",
             arg);
    return -1;
  }
  long port = strlen(p) > 5 ? 0 : strtol(p, NULL, 10);
  if (port < 1 || port > 65535) {
    snprintf(why, len, "Port number '%s' invalid: expected 1..65535", p);
    return -1;
  }
  out->port = (int)port;
  return 0;
}

/* True when text[0..n) is name. */
static bool s_is(const char *text, size_t n, const char *name) {
  return strlen(name) == n && !strncmp(text, name, n);
}

int fence_method_parse(const char *text, fence_method_t *out, char *why, size_t len) {
  memset(out, 0, sizeof *out);
  size_t n = strlen(text), name = 0;
  while (name < n && s_name_char(text[name])) name++;
  const char *arg = NULL;
  char argbuf[FENCE_CMD_MAX];
  if (name == 0 || (name < n && (text[name] != '(' || text[n - 1] != ')'))) {
    snprintf(why, len, "Unable to parse line: '%s': expected NAME or NAME(ARGUMENT)", text);
    return -1;
  }
  if (name < n) {
    size_t an = n - name - 2;
    if (an >= sizeof argbuf) {
      snprintf(why, len, "the argument of '%.*s' is %zu bytes long; at most %zu", (int)name, text,
               an, sizeof argbuf - 1);
      return -1;
    }
    memcpy(argbuf, text + name + 1, an);
    argbuf[an] = '\0';
    arg = argbuf;
  }
  if (s_is(text, name, "shell") || s_is(text, name, "org.apache.hadoop.ha.ShellCommandFencer")) {
    out->kind = FENCE_METHOD_SHELL;
    if (!arg || arg[strspn(arg, " \t")] == '\0') {
      snprintf(why, len,
               "No argument passed to 'shell' fencing method: expected shell(command [args]), "
               "got '%s'",
               text);
      return -1;
    }
    snprintf(out->command, sizeof out->command, "%s", arg);
    return 0;
  }
  if (s_is(text, name, "sshfence") || s_is(text, name, "org.apache.hadoop.ha.SshFenceByTcpPort")) {
    out->kind = FENCE_METHOD_SSH;
    return s_ssh_args(arg, out, why, len);
  }
  if (s_is(text, name, "powershell") || s_is(text, name, "org.apache.hadoop.ha.PowerShellFencer")) {
    snprintf(why, len, "fencing method '%.*s' is not supported: " S_SUPPORTED ", got '%s'",
             (int)name, text, text);
    return -1;
  }
  snprintf(why, len, "unknown fencing method '%.*s': " S_SUPPORTED ", got '%s'", (int)name, text,
           text);
  return -1;
}

int fence_methods_parse(const char *spec, fence_method_t *out, int max, int *n, char *why,
                        size_t len) {
  int count = 0, lineno = 0;
  char one[FENCE_CMD_MAX + 64], inner[1024];
  for (const char *s = spec; *s;) {
    size_t ln = strcspn(s, "\n"), start;
    lineno++;
    size_t m = fence_methods_line(s, ln, &start);
    if (m > 0) {
      if (m >= sizeof one) {
        snprintf(why, len, "line %d: %zu bytes long; at most %zu", lineno, m, sizeof one - 1);
        return -1;
      }
      if (count >= max) {
        snprintf(why, len, "line %d: more than %d fencing methods", lineno, max);
        return -1;
      }
      memcpy(one, s + start, m);
      one[m] = '\0';
      if (fence_method_parse(one, &out[count], inner, sizeof inner)) {
        snprintf(why, len, "line %d: %s", lineno, inner);
        return -1;
      }
      count++;
    }
    s += ln;
    if (*s) s++;
  }
  *n = count;
  return 0;
}

const char *fence_method_name(const fence_method_t *m) {
  return m->kind == FENCE_METHOD_SHELL ? "shell" : "sshfence";
}
