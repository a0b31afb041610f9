/* sup_spawn: fork+exec of actor processes with their log files and parent-death signal. */
#include "sup_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

void sup_spawn_program(const cfg_actor_t *a, char *buf, size_t len) {
  if (a->exec[0]) {
    snprintf(buf, len, "%s", a->exec);
    return;
  }
  char self[CFG_PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) n = 0;
  self[n] = '\0';
  snprintf(buf, len, "%s/raftvisor-%s", n ? dirname(self) : ".", a->name);
}

int sup_spawn_check_programs(const cfg_node_t *cfg, rv_err_t *err) {
  for (int i = 0; i < cfg->nactors; i++) {
    char prog[CFG_PATH_MAX];
    sup_spawn_program(&cfg->actors[i], prog, sizeof prog);
    struct stat st;
    if (stat(prog, &st) != 0 || !S_ISREG(st.st_mode) || access(prog, X_OK) != 0)
      return rv_err_set(err, RV_ECONFIG, "%s: actors[%d] (%s): program %s %s", cfg->source, i,
                        cfg->actors[i].name, prog,
                        errno == ENOENT ? "does not exist" : "is not an executable file");
  }
  return RV_OK;
}

int sup_spawn_actor(const cfg_node_t *cfg, const cfg_actor_t *a, const char *config_path,
                    pid_t *pid, rv_err_t *err) {
  char prog[CFG_PATH_MAX], logpath[CFG_PATH_MAX + 64];
  sup_spawn_program(a, prog, sizeof prog);
  snprintf(logpath, sizeof logpath, "%s/%s.log", cfg->log_dir, a->name);
  int logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (logfd < 0)
    return rv_err_set(err, RV_EIO, "cannot open log file %s: %s", logpath, strerror(errno));

  /* Everything the child needs is built before fork: after it, no malloc. */
  char *argv[CFG_MAX_ARGS + 8];
  int argc = 0;
  argv[argc++] = prog;
  argv[argc++] = "--config";
  argv[argc++] = (char *)config_path;
  argv[argc++] = "--name";
  argv[argc++] = (char *)a->name;
  for (int k = 0; k < a->nargs && k < CFG_MAX_ARGS; k++) argv[argc++] = a->args[k];
  argv[argc] = NULL;

  size_t nenv = 0;
  while (environ[nenv]) nenv++;
  char **envp = calloc(nenv + 2, sizeof *envp);
  char pidvar[64];
  pid_t parent = getpid();
  snprintf(pidvar, sizeof pidvar, "RV_SUPERVISOR_PID=%d", (int)parent);
  size_t k = 0;
  for (size_t e = 0; e < nenv; e++)
    if (strncmp(environ[e], "RV_SUPERVISOR_PID=", 18) != 0) envp[k++] = environ[e];
  envp[k++] = pidvar;
  envp[k] = NULL;

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    int e = errno;
    close(logfd);
    free(envp);
    return rv_err_set(err, RV_EIO, "cannot create pipe: %s", strerror(e));
  }
  pid_t child = fork();
  if (child < 0) {
    int e = errno;
    close(logfd);
    close(pipefd[0]);
    close(pipefd[1]);
    free(envp);
    return rv_err_set(err, RV_EIO, "cannot fork actor %s: %s", a->name, strerror(e));
  }
  if (child == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(RV_EXIT_FAILURE); /* the supervisor died before prctl */
    dup2(logfd, STDOUT_FILENO);
    dup2(logfd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    execve(prog, argv, envp);
    int e = errno;
    if (write(pipefd[1], &e, sizeof e) < 0) { /* nothing more we can do */
    }
    _exit(127);
  }
  close(pipefd[1]);
  close(logfd);
  free(envp);
  int child_errno = 0;
  ssize_t n;
  do n = read(pipefd[0], &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  close(pipefd[0]);
  *pid = child;
  if (n == (ssize_t)sizeof child_errno)
    return rv_err_set(err, RV_EIO, "cannot execute %s: %s", prog, strerror(child_errno));
  return RV_OK;
}

/* ---- an actor's own reason for failing ---------------------------------------------------- */

static void s_log_path(const cfg_node_t *cfg, const char *actor, char *buf, size_t len) {
  snprintf(buf, len, "%s/%s.log", cfg->log_dir, actor);
}

off_t sup_spawn_log_size(const cfg_node_t *cfg, const char *actor) {
  char path[CFG_PATH_MAX + 64];
  s_log_path(cfg, actor, path, sizeof path);
  struct stat st;
  return stat(path, &st) == 0 ? st.st_size : 0;
}

void sup_spawn_exit_note(const cfg_node_t *cfg, const char *actor, off_t from, char *out,
                         size_t len) {
  out[0] = '\0';
  char path[CFG_PATH_MAX + 64];
  s_log_path(cfg, actor, path, sizeof path);
  FILE *f = fopen(path, "re");
  if (!f) return;
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && st.st_size - from > 65536) from = st.st_size - 65536;
  if (from > 0) fseeko(f, from, SEEK_SET);
  char line[2400], plain[1024] = "";
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (!line[0]) continue;
    char when[64], node[128], who[128], level[16];
    int msg_at = 0;
    bool logline = sscanf(line, "%63s %127s %127s %15s %n", when, node, who, level, &msg_at) == 4 &&
                   msg_at > 0 && strlen(when) > 20 && when[4] == '-' && when[10] == 'T';
    if (line[0] == '{' && strstr(line, "\"level\":\"")) { /* node.log-format: json */
      char *m = strstr(line, "\",\"msg\":\"");
      logline = m != NULL;
      snprintf(level, sizeof level, "%s", strstr(line, "\"level\":\"error\"") ? "error" : "-");
      if (m) {
        msg_at = (int)(m + 9 - line);
        size_t end = strlen(line);
        if (end >= 2 && line[end - 1] == '}' && line[end - 2] == '"') line[end - 2] = '\0';
      }
    }
    /* (copies bounded by hand: the note may be cut, the compiler need not warn of it) */
    if (!logline) {
      size_t k = strnlen(line, sizeof plain - 1);
      memcpy(plain, line, k);
      plain[k] = '\0';
    } else if (strcmp(level, "error") == 0) {
      size_t k = strnlen(line + msg_at, len - 1);
      memcpy(out, line + msg_at, k);
      out[k] = '\0';
    }
  }
  fclose(f);
  if (!out[0]) {
    size_t k = strnlen(plain, len - 1);
    memcpy(out, plain, k);
    out[k] = '\0';
  }
}
