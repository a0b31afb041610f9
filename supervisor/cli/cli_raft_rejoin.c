/* raftvisor raft rejoin NODE: brings back a member that lost its data-dir, in one step. Its
 * peers remember the incarnation it had (actors/raft-peer/shell/raft_gate.h) and ignore it while
 * it presents a new one; Raft lets it back only as a new member: removed from the configuration
 * (which forgets its old incarnation), added as a learner (its new incarnation is recorded, it
 * receives a snapshot and the log), and, if it was a voter, promoted once it has caught up with
 * the commit index of the moment it was added. Each step is a `raftvisor raft` change answered
 * once committed; the command stops at the first failure and says which step failed and what
 * is done. Run against the leader. I/O: the control socket only. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_raft.h"

#define S_BUSY_RETRIES 50  /* a change refused as busy (the previous one applying) is retried */
#define S_POLL_MS 200

static void s_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static uint64_t s_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One change, answered once committed; retried while refused as busy. Returns the Reply's code
 * (0 = done) with its text in msg, or a transport error. */
static int s_change(const cfg_node_t *cfg, Rv__RaftAdminOp op, const char *node, char *msg,
                    size_t len) {
  for (int attempt = 0;; attempt++) {
    Rv__RaftAdmin req = RV__RAFT_ADMIN__INIT;
    req.op = op;
    req.node = (char *)node;
    rv_msg_t reply;
    rv_err_t err;
    if (cli_request(cfg, RV_MSG_RAFT_ADMIN, &req.base, 20000, &reply, &err) != RV_OK) {
      snprintf(msg, len, "%s", err.msg);
      return err.code ? err.code : RV_EIO;
    }
    int code = RV_EPROTO;
    snprintf(msg, len, "unexpected answer from node %s", cfg->node_id);
    if (reply.type == RV_MSG_REPLY) {
      const Rv__Reply *r = (const Rv__Reply *)reply.body;
      code = (int)r->code;
      snprintf(msg, len, "%s", r->message);
    }
    rv_msg_clear(&reply);
    if (code != RV_EBUSY || attempt >= S_BUSY_RETRIES) return code;
    s_sleep_ms(S_POLL_MS);
  }
}

/* The node's Raft state, from its status. Returns 0 with *out set (clear with rv_msg_clear) and
 * *rs pointing into it, or a code with msg. */
static int s_raft_state(const cfg_node_t *cfg, rv_msg_t *out, const Rv__RaftState **rs, char *msg,
                        size_t len) {
  Rv__StatusRequest req = RV__STATUS_REQUEST__INIT;
  rv_err_t err;
  if (cli_request(cfg, RV_MSG_STATUS_REQUEST, &req.base, 5000, out, &err) != RV_OK) {
    snprintf(msg, len, "status: %.900s", err.msg);
    return err.code ? err.code : RV_EIO;
  }
  const Rv__StatusReply *r =
      out->type == RV_MSG_STATUS_REPLY ? (const Rv__StatusReply *)out->body : NULL;
  if (!r || !r->raft) {
    rv_msg_clear(out);
    snprintf(msg, len, "node %s has no raft-peer to ask", cfg->node_id);
    return RV_EPROTO;
  }
  *rs = r->raft;
  return RV_OK;
}

static bool s_listed(char **names, size_t n, const char *node) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], node) == 0) return true;
  return false;
}

/* Waits until the leader's progress shows node matching at least index. */
static int s_wait_caught_up(const cfg_node_t *cfg, const char *node, uint64_t index,
                            int timeout_s, char *msg, size_t len) {
  uint64_t deadline = s_now_ms() + (uint64_t)timeout_s * 1000u, match = 0;
  for (;;) {
    rv_msg_t st;
    const Rv__RaftState *rs;
    int rc = s_raft_state(cfg, &st, &rs, msg, len);
    if (rc) return rc;
    bool leading = strcmp(rs->role, "leader") == 0;
    for (size_t i = 0; i < rs->n_peers; i++)
      if (strcmp(rs->peers[i]->node, node) == 0) match = rs->peers[i]->match;
    rv_msg_clear(&st);
    if (!leading) {
      snprintf(msg, len, "node %s stopped leading while %s caught up", cfg->node_id, node);
      return RV_ENOTLEADER;
    }
    if (match >= index) return RV_OK;
    if (s_now_ms() >= deadline) {
      snprintf(msg, len, "%s did not catch up within %d s (match %llu, needs %llu)", node,
               timeout_s, (unsigned long long)match, (unsigned long long)index);
      return RV_ETIMEDOUT;
    }
    s_sleep_ms(S_POLL_MS);
  }
}

int cli_raft_rejoin(const cfg_node_t *cfg, const char *node, int timeout_s, bool json) {
  char msg[RV_ERR_MSG_MAX], done[512] = "";
  rv_msg_t st;
  const Rv__RaftState *rs;
  int code = s_raft_state(cfg, &st, &rs, msg, sizeof msg);
  bool voter = false, learner = false;
  if (!code) {
    if (strcmp(rs->role, "leader") != 0) {
      code = RV_ENOTLEADER;
      if (rs->leader_node[0])
        snprintf(msg, sizeof msg, "not the leader; run it against node %s", rs->leader_node);
      else
        snprintf(msg, sizeof msg, "not the leader, and no leader is known now; retry shortly");
    } else if (strcmp(node, cfg->node_id) == 0) {
      code = RV_EINVAL;
      snprintf(msg, sizeof msg, "%s is the leader asked: a node that lost its data-dir is not "
               "the leader; run it against the leader, naming the node to bring back", node);
    }
    voter = s_listed(rs->voters, rs->n_voters, node);
    learner = s_listed(rs->learners, rs->n_learners, node);
    rv_msg_clear(&st);
  }
  const char *step = "check";
  if (!code && (voter || learner)) {
    step = "remove";
    if (!(code = s_change(cfg, RV__RAFT_ADMIN_OP__RAFT_ADMIN_REMOVE, node, msg, sizeof msg)))
      snprintf(done, sizeof done, "removed");
  }
  uint64_t commit = 0;
  if (!code) {
    step = "add-learner";
    if (!(code = s_change(cfg, RV__RAFT_ADMIN_OP__RAFT_ADMIN_ADD_LEARNER, node, msg,
                          sizeof msg))) {
      snprintf(done + strlen(done), sizeof done - strlen(done), "%sadded as a learner",
               done[0] ? ", " : "");
      if (!(code = s_raft_state(cfg, &st, &rs, msg, sizeof msg))) {
        commit = rs->commit;
        rv_msg_clear(&st);
      }
    }
  }
  if (!code && voter) {
    step = "catch-up";
    if (!(code = s_wait_caught_up(cfg, node, commit, timeout_s, msg, sizeof msg))) {
      snprintf(done + strlen(done), sizeof done - strlen(done), ", caught up to index %llu",
               (unsigned long long)commit);
      step = "promote";
      if (!(code = s_change(cfg, RV__RAFT_ADMIN_OP__RAFT_ADMIN_PROMOTE, node, msg, sizeof msg)))
        snprintf(done + strlen(done), sizeof done - strlen(done), ", promoted to voter");
    }
  }
  char text[RV_ERR_MSG_MAX + 700];
  if (code)
    snprintf(text, sizeof text, "rejoin %s failed at %s: %s%s%s", node, step, msg,
             done[0] ? "; done so far: " : "", done);
  else
    snprintf(text, sizeof text, "%s rejoined: %s", node, done);
  if (json) {
    printf("{\"ok\":%s,\"code\":%d,\"error\":", code ? "false" : "true", code);
    if (code) printf("\"%s\"", rv_code_name(code));
    else printf("null");
    printf(",\"step\":");
    cli_json_str(code ? step : "done");
    printf(",\"message\":");
    cli_json_str(text);
    printf("}\n");
  } else if (code) {
    fprintf(stderr, "raftvisor raft: %s\n", text);
  } else {
    printf("%s\n", text);
  }
  return code ? CLI_FAILURE : CLI_OK;
}
