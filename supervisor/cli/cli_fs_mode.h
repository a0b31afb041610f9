/* cli_fs_mode: the argument parsers of `raftvisor fs -chmod`, `-chown`, `-chgrp` and `-touch`,
 * with Hadoop's syntax (FsShellPermissions, ChmodParser, TouchCommands). Pure (libc only), so
 * tests/test_cli_fs_mode.c checks them alone. Each parser returns 0, or -1 with a sentence in
 * why[0..cap) naming the argument and what is expected, for a usage error (exit 2).
 *
 * Modes, as `hadoop fs -chmod` takes them:
 *   - octal: [01]?[0-7]{3} (an optional '+' first): "755", "0644", "1777" (sticky); Hadoop has
 *     no setuid/setgid, so "4755" is refused;
 *   - symbolic: clauses separated by ',': [ugoa]* then an operator [+-=]+ (the last one counts)
 *     then permissions [rwxXt]+. No who means all (u, g and o: Hadoop ignores the umask here).
 *     X is x when the entry is a directory or already has an x bit; t is the sticky bit and,
 *     as in Hadoop, counts only in a clause that includes o ("o+t", "a+t", "+t").
 *     Clauses apply one after the other, as chmod(1) does ("u+r,u+w" grants both; Hadoop keeps
 *     only the last clause per class, which we consider a bug not worth copying).
 * A symbolic mode depends on the entry's current bits, so the caller stats it first; an octal
 * mode does not. */
#ifndef CLI_FS_MODE_H
#define CLI_FS_MODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_FS_MODE_CLAUSES 16 /* symbolic clauses in one mode at most */
#define CLI_FS_NAME_MAX 64     /* bytes of an owner or group (RV_CLIENT_OWNER_MAX) */

/* One symbolic clause: "go-w" is who = 0077 (the g and o classes), op '-', bits 0022. */
typedef struct {
  unsigned who;  /* the class bits it touches: 0700 u, 0070 g, 0007 o (combined) */
  char op;       /* '+', '-' or '=' */
  unsigned bits; /* r, w, x expanded over who */
  bool exec_if;  /* X: x over who, if the entry is a directory or has an x bit */
  bool sticky;   /* t, and who includes o */
} cli_fs_clause_t;

/* A parsed mode. */
typedef struct {
  bool octal;
  unsigned perm; /* octal: the new bits (0..01777) */
  size_t n;      /* symbolic: clauses in c */
  cli_fs_clause_t c[CLI_FS_MODE_CLAUSES];
} cli_fs_mode_t;

/* Parses s into *out. */
int cli_fs_mode_parse(const char *s, cli_fs_mode_t *out, char *why, size_t cap);

/* The bits an entry with bits `perm` (a directory when dir) gets from m. */
unsigned cli_fs_mode_apply(const cli_fs_mode_t *m, unsigned perm, bool dir);

/* Parses -chown's [OWNER][:[GROUP]] (Hadoop's pattern): owner and group get the names
 * (NUL-terminated, "" when not given, CLI_FS_NAME_MAX + 1 bytes each); at least one must be
 * given. Names hold letters, digits and "-_./@" (Hadoop's allowed characters), 1..64 bytes. */
int cli_fs_owner_parse(const char *s, char *owner, char *group, char *why, size_t cap);

/* Checks -chgrp's GROUP by the same rules. */
int cli_fs_group_check(const char *s, char *why, size_t cap);

/* Parses -touch -t's yyyyMMdd:HHmmss, in the local time zone as Hadoop's SimpleDateFormat
 * does (TZ=UTC for UTC), into ms since the epoch. Refuses dates that do not exist (20230230)
 * and a time a DST change skips. */
int cli_fs_timestamp_parse(const char *s, int64_t *ms, char *why, size_t cap);

#endif
