/* raftvisor fs: -tail, -head, -text and -expunge. I/O over librvclient. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_fs.h"

#define S_KB 1024 /* what -tail and -head print: Hadoop's one kilobyte */

/* Is it a file -tail or -head can print? Reports why not. */
static bool s_printable(cli_fs_t *fs, const char *cmd, const cli_fs_item_t *it) {
  if (!it->exists) {
    cli_fs_missing(fs, cmd, it->shown);
    return false;
  }
  if (it->st.dir) {
    cli_fs_error(fs, cmd, "`%s': Is a directory", it->shown);
    return false;
  }
  return true;
}

static void s_sleep_ms(long ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* -tail [-f] [-s MS] FILE: the last kilobyte (of each file a glob matches); -f then prints what is appended, checking every
 * -s milliseconds (default 5000, as Hadoop's), until interrupted. A file replaced by a shorter
 * one is printed again from its start. */
int cli_fs_tail(cli_fs_t *fs, int argc, char **argv) {
  bool follow = false;
  long sleep_ms = 5000;
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (strcmp(argv[i], "-f") == 0) {
      follow = true;
    } else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
      char *end;
      sleep_ms = strtol(argv[++i], &end, 10);
      if (*end || sleep_ms < 1 || sleep_ms > 86400000)
        return cli_fs_usage_error("tail", "Illegal sleep interval: %s (milliseconds, 1..86400000)",
                                  argv[i]);
    } else {
      return cli_fs_usage_error("tail", "Illegal option -- %s", argv[i] + 1);
    }
  }
  if (argc - i != 1)
    return cli_fs_usage_error("tail", "%s arguments: expected 1 but got %d",
                              argc - i ? "Too many" : "Not enough", argc - i);
  /* one path, never a glob: Hadoop's Tail overrides expandArgument so ("be backwards
   * compat"), and -tail /d/f* is "`/d/f*': No such file or directory" unless so named */
  cli_fs_items_t items = {0};
  cli_fs_expand_literal(fs, "tail", argv[i], &items);
  {
    for (size_t k = 0; k < items.n; k++) {
      cli_fs_item_t *it = &items.v[k];
      if (!s_printable(fs, "tail", it)) continue;
      size_t offset = 0;
      for (bool first = true;; first = false) {
        rv_client_result_t res;
        if (rv_client_cat(it->client, it->path, fs->read_flags, &res) != RV_OK) {
          cli_fs_fail(fs, "tail", it->shown, &res);
          rv_client_result_clear(&res);
          break;
        }
        if (res.len < offset) offset = 0; /* replaced by a shorter file */
        size_t from = first ? (res.len > S_KB ? res.len - S_KB : 0) : offset;
        fwrite(res.content + from, 1, res.len - from, stdout);
        fflush(stdout);
        offset = res.len;
        rv_client_result_clear(&res);
        if (!follow) break;
        s_sleep_ms(sleep_ms); /* -f polls, as Hadoop's does: nothing tells it of an append */
      }
    }
  }
  cli_fs_items_clear(&items);
  return CLI_OK;
}

/* -head FILE: the first kilobyte. */
int cli_fs_head(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = ""};
  int i = cli_fs_flags("head", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (argc - i != 1)
    return cli_fs_usage_error("head", "%s arguments: expected 1 but got %d",
                              argc - i ? "Too many" : "Not enough", argc - i);
  cli_fs_items_t items = {0};
  cli_fs_expand(fs, "head", argv[i], &items);
  for (size_t k = 0; k < items.n; k++) {
    cli_fs_item_t *it = &items.v[k];
    if (!s_printable(fs, "head", it)) continue;
    rv_client_result_t res;
    if (rv_client_cat(it->client, it->path, fs->read_flags, &res) != RV_OK)
      cli_fs_fail(fs, "head", it->shown, &res);
    else
      fwrite(res.content, 1, res.len < S_KB ? res.len : S_KB, stdout);
    rv_client_result_clear(&res);
  }
  cli_fs_items_clear(&items);
  return CLI_OK;
}

/* -text [-ignoreCrc] SRC...: as -cat (no codecs or SequenceFiles are stored here). */
int cli_fs_text(cli_fs_t *fs, int argc, char **argv) { return cli_fs_cat_as(fs, "text", argc, argv); }

/* -expunge [-immediate] [-fs PATH]: there is no trash (removals are immediate), so nothing to
 * empty; it succeeds silently, as Hadoop's does when the trash is off. */
int cli_fs_expunge(cli_fs_t *fs, int argc, char **argv) {
  (void)fs;
  int i = 0;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "-immediate") == 0) continue;
    if (strcmp(argv[i], "-fs") == 0 && i + 1 < argc) {
      i++;
      continue;
    }
    return cli_fs_usage_error("expunge", "Illegal option -- %s",
                              argv[i][0] == '-' ? argv[i] + 1 : argv[i]);
  }
  return CLI_OK;
}
