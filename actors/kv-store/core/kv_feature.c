/* kv_feature: the feature level of each op and the leader's gate (kv_feature.h). Pure. */
#include "kv_feature.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kv_cmd.h"
#include "rv_error.h"

/* The one table: which level brought each op. Never lower an entry; a new op gets the level of
 * the build that adds it (KV_FEATURE_LEVEL, bumped when the op is added). */
static const unsigned char s_level[KV_OP_RECOVERY_LAST + 1] = {
    [KV_OP_MKDIR] = 1,           [KV_OP_PUT] = 1,         [KV_OP_TOUCHZ] = 1,
    [KV_OP_RM] = 1,              [KV_OP_MV] = 1,          [KV_OP_SETATTR] = 1,
    [KV_OP_APPEND] = 2,          [KV_OP_TRUNCATE] = 2,    [KV_OP_CONCAT] = 2,
    [KV_OP_SETXATTR] = 2,        [KV_OP_REMOVEXATTR] = 2, [KV_OP_RECOVERY_BEGIN] = 2,
    [KV_OP_RECOVERY_ROWS] = 2,   [KV_OP_RECOVERY_FINISH] = 2,
    [KV_OP_RECOVERY_LEAVE] = 2,
};

unsigned kv_feature_op_level(int op) {
  return op >= 0 && op < (int)sizeof s_level ? s_level[op] : 0;
}

unsigned kv_feature_cluster_level(const kv_feature_view_t *v) {
  unsigned least = 0;
  for (size_t i = 0; i < v->n; i++) {
    unsigned l = v->m[i].level ? v->m[i].level : 1;
    if (!least || l < least) least = l;
  }
  return least;
}

/* Appends fmt to buf[*at..cap), keeping it NUL-terminated (a cut message stays a string). */
static void s_add(char *buf, size_t cap, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void s_add(char *buf, size_t cap, size_t *at, const char *fmt, ...) {
  if (*at >= cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *at, cap - *at, fmt, ap);
  va_end(ap);
  if (n > 0) *at = (size_t)n < cap - *at ? *at + (size_t)n : cap;
}

int kv_feature_gate(const kv_feature_view_t *v, unsigned need, char *why, size_t cap) {
  size_t below = 0, silent = 0, waiting = 0;
  for (size_t i = 0; i < v->n; i++) {
    const kv_feature_member_t *m = &v->m[i];
    if (m->level >= need || need <= 1) continue; /* every build knows level 1 */
    if (m->level) below++;
    else if (v->settling || m->active) waiting++;
    else silent++;
  }
  if (!below && !silent && !waiting) return RV_OK;
  size_t at = 0;
  if (cap) why[0] = '\0';
  s_add(why, cap, &at, "needs every node at feature level %u", need);
  if (!below && !silent) { /* only levels that may still come */
    for (size_t i = 0, k = 0; i < v->n; i++)
      if (!v->m[i].level)
        s_add(why, cap, &at, "%s%s", k++ ? ", " : "; the level of ", v->m[i].node);
    s_add(why, cap, &at, " is not known yet (the leader has not heard it since it began to "
                         "lead): retry");
    return RV_EUNAVAIL;
  }
  size_t k = 0;
  for (size_t i = 0; i < v->n; i++) {
    const kv_feature_member_t *m = &v->m[i];
    if (m->level >= need) continue;
    if (m->level)
      s_add(why, cap, &at, "%s%s runs level %u", k++ ? ", " : "; ", m->node, m->level);
    else if (!v->settling && !m->active)
      s_add(why, cap, &at, "%s%s has not answered the leader (its level is not known: it counts "
            "as 1)", k++ ? ", " : "; ", m->node);
  }
  s_add(why, cap, &at, ": upgrade %s (raftvisor endpoints shows each node's level)",
        below + silent > 1 ? "them" : "it");
  return RV_EFEATURE;
}
