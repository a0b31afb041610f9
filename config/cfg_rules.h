/* cfg_rules: the checks that relate keys to each other, run once every key has its value
 * (defaults and derived defaults included). Internal to config/. */
#ifndef CFG_RULES_H
#define CFG_RULES_H

#include "cfg_node.h"
#include "cfg_source.h"

/* Checks cfg as a whole and sets cfg->self. Returns 0, or RV_ECONFIG with err pointing at the
 * value that breaks the rule (the one given in the file, when the other is a default):
 * node ids unique and node.id among them; host:port pairs unique over raft and client ports;
 * heartbeat-timeout-ms > heartbeat-interval-ms; restart-max-delay-ms >= restart-min-delay-ms;
 * ping-timeout-ms > ping-interval-ms; actor names unique; ots.enabled and ots.recovery-mode
 * need an endpoint, and a Tablestore endpoint its instance and keys; sshfence needs key files;
 * run-dir short enough for ipc:// socket paths. */
int cfg_rules_check(cfg_node_t *cfg, const cfg_source_t *src, rv_err_t *err);

#endif
