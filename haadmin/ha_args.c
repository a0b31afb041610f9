/* ha_args: `raftvisor haadmin`'s command line with Hadoop HAAdmin's messages. Pure: libc. */
#include "ha_args.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *cmd;
  ha_cmd_t id;
  const char *args;
  const char *help;
} s_usage_t;

/* In Hadoop's order (HAAdmin.USAGE and DFSHAAdmin's additions). */
static const s_usage_t s_usage[] = {
    {"-transitionToActive", HA_CMD_TO_ACTIVE, "[--forcemanual] <serviceId>",
     "Transitions the service into Active state (a Raft leadership transfer to it; returns when "
     "it serves writes)"},
    {"-transitionToStandby", HA_CMD_TO_STANDBY, "[--forcemanual] <serviceId>",
     "Transitions the service into Standby state (it hands leadership to the most up-to-date "
     "healthy voter)"},
    {"-getAllServiceState", HA_CMD_GET_ALL_STATE, "",
     "Returns the state of all the services"},
    {"-failover", HA_CMD_FAILOVER, "[--forcefence] [--forceactive] <serviceId> <serviceId>",
     "Failover from the first service to the second.\n"
     "Unconditionally fence services if the --forcefence option is used.\n"
     "Try to failover to the target service even if it is not ready if the --forceactive "
     "option is used."},
    {"-getServiceState", HA_CMD_GET_STATE, "<serviceId>", "Returns the state of the service"},
    {"-checkHealth", HA_CMD_CHECK_HEALTH, "<serviceId>",
     "Requests that the service perform a health check.\n"
     "The HAAdmin tool will exit with a non-zero exit code\n"
     "if the check fails."},
    {"-help", HA_CMD_HELP, "<command>", "Displays help on the specified command"},
};
#define S_NUSAGE (sizeof s_usage / sizeof *s_usage)

static void s_cat(char *out, size_t len, const char *fmt, ...) {
  size_t n = strlen(out);
  if (n >= len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out + n, len - n, fmt, ap);
  va_end(ap);
}

void ha_args_usage(char *out, size_t len) {
  s_cat(out, len, "Usage: raftvisor haadmin [-c FILE | --nodes host:port,...] "
                  "[-ns <nameserviceId>]\n");
  for (size_t i = 0; i < S_NUSAGE; i++)
    s_cat(out, len, "    [%s%s%s]\n", s_usage[i].cmd, s_usage[i].args[0] ? " " : "",
          s_usage[i].args);
  s_cat(out, len, "\n");
}

const char *ha_args_cmd_name(ha_cmd_t cmd) {
  for (size_t i = 0; i < S_NUSAGE; i++)
    if (s_usage[i].id == cmd) return s_usage[i].cmd + 1;
  return "?";
}

static const s_usage_t *s_find(const char *cmd) {
  for (size_t i = 0; i < S_NUSAGE; i++)
    if (strcmp(s_usage[i].cmd, cmd) == 0) return &s_usage[i];
  return NULL;
}

/* "<msg>\nUsage: raftvisor haadmin [CMD ARGS]" as HAAdmin.printUsage(errOut, cmd). */
static ha_args_rc_t s_cmd_usage(char *out, size_t len, const s_usage_t *u, const char *msg) {
  out[0] = '\0';
  if (msg) s_cat(out, len, "%s\n", msg);
  s_cat(out, len, "Usage: raftvisor haadmin [%s%s%s]\n", u->cmd, u->args[0] ? " " : "", u->args);
  return HA_ARGS_USAGE;
}

static ha_args_rc_t s_all_usage(char *out, size_t len, const char *fmt, const char *arg) {
  out[0] = '\0';
  if (fmt) {
    s_cat(out, len, fmt, arg);
    s_cat(out, len, "\n");
  }
  ha_args_usage(out, len);
  return HA_ARGS_USAGE;
}

ha_args_rc_t ha_args_parse(int argc, char **argv, ha_args_t *a, char *out, size_t len) {
  memset(a, 0, sizeof *a);
  out[0] = '\0';
  int i = 1;
  for (; i < argc; i++) {
    const char *s = argv[i];
    const char **val = NULL;
    if (!strcmp(s, "-c") || !strcmp(s, "--config")) val = &a->config;
    else if (!strcmp(s, "--nodes")) val = &a->nodes;
    else if (!strcmp(s, "-ns")) val = &a->ns;
    else if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
      ha_args_usage(out, len);
      return HA_ARGS_HELP;
    } else break;
    if (i + 1 >= argc || !argv[i + 1][0])
      return s_all_usage(out, len, "%s: missing its value", s);
    *val = argv[++i];
  }
  if (i >= argc) return s_all_usage(out, len, NULL, NULL);
  const char *cmd = argv[i];
  if (cmd[0] != '-')
    return s_all_usage(out, len, "Bad command '%s': expected command starting with '-'", cmd);
  const s_usage_t *u = s_find(cmd);
  if (!u) return s_all_usage(out, len, "%s: Unknown command", cmd + 1);
  a->cmd = u->id;
  char msg[128];
  /* the command's own arguments: options (any position) and ids */
  const char *pos[3];
  int npos = 0;
  for (int k = i + 1; k < argc; k++) {
    const char *s = argv[k];
    bool ok = true;
    if (a->cmd == HA_CMD_HELP) ok = false; /* -help takes a command name, even "-failover" */
    else if (!strcmp(s, "--forcefence") && a->cmd == HA_CMD_FAILOVER) a->forcefence = true;
    else if (!strcmp(s, "--forceactive") && a->cmd == HA_CMD_FAILOVER) a->forceactive = true;
    else if (!strcmp(s, "--forcemanual") &&
             (a->cmd == HA_CMD_TO_ACTIVE || a->cmd == HA_CMD_TO_STANDBY))
      a->forcemanual = true;
    else ok = false;
    if (ok) continue;
    if (s[0] == '-' && s[1] && a->cmd != HA_CMD_HELP) {
      /* an option this command does not take */
      snprintf(msg, sizeof msg, "%s: incorrect arguments", u->cmd + 1);
      return s_cmd_usage(out, len, u, msg);
    }
    if (npos < 3) pos[npos] = s;
    npos++;
  }
  switch (a->cmd) {
    case HA_CMD_FAILOVER:
      if (npos != 2) {
        snprintf(msg, sizeof msg, "failover: incorrect arguments");
        return s_cmd_usage(out, len, u, msg);
      }
      a->id[0] = pos[0];
      a->id[1] = pos[1];
      return HA_ARGS_OK;
    case HA_CMD_GET_ALL_STATE:
      if (npos != 0) {
        snprintf(msg, sizeof msg, "getAllServiceState: incorrect number of arguments");
        return s_cmd_usage(out, len, u, msg);
      }
      return HA_ARGS_OK;
    case HA_CMD_HELP: {
      if (npos != 1) return s_cmd_usage(out, len, u, NULL);
      const char *c = pos[0];
      char dashed[64];
      snprintf(dashed, sizeof dashed, "%s%s", c[0] == '-' ? "" : "-", c);
      const s_usage_t *h = s_find(dashed);
      if (!h) return s_all_usage(out, len, "%s: Unknown command", dashed);
      a->help_cmd = c;
      s_cat(out, len, "%s [%s]: %s\n", h->cmd, h->args, h->help);
      return HA_ARGS_HELP;
    }
    default:
      if (npos != 1) {
        snprintf(msg, sizeof msg, "%s: incorrect number of arguments", u->cmd + 1);
        return s_cmd_usage(out, len, u, msg);
      }
      a->id[0] = pos[0];
      return HA_ARGS_OK;
  }
}
