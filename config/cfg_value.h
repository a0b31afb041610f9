/* cfg_value: one value of one key: text in, checked field out, and the checks the key table
 * names (ids, hosts, endpoints, fencing methods). Also the lexical path rules: relative paths
 * are joined to the YAML file's directory and cleaned ("a/./b/../c" -> "a/c").
 *
 * Pure (libc only, no file system): secrets given as "@file" are stored as written and read by
 * the loader. Messages written to why read "expected <what>, got <text>", without key or
 * position, which the caller adds; a secret's text never appears in them. Internal to config/. */
#ifndef CFG_VALUE_H
#define CFG_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg_keys.h"

/* What k accepts, as a message says it: "an integer in 10..60000", "one of debug, info, warn,
 * error", "a list of at most 8 strings". Written into buf, which is returned. */
const char *cfg_value_expected(const cfg_key_t *k, char *buf, size_t len);

/* Stores text as k's value in base (the table's struct): scalar types only (string, path, id,
 * int, bool, enum, secret). dir is the absolute directory relative paths resolve against.
 * Returns 0, or -1 with why. A secret replaces (and frees) the previous one. */
int cfg_value_set(const cfg_key_t *k, void *base, const char *text, const char *dir, char *why,
                  size_t len);

/* Appends text as one more item of list k (string or path list), checked by k->check. Returns 0,
 * or -1 with why (also when the list already holds k->max items). */
int cfg_value_append(const cfg_key_t *k, void *base, const char *text, const char *dir,
                     char *why, size_t len);

/* Frees what k owns in base (list items, the secret, the args of each actor) and zeroes the
 * counts; safe twice. */
void cfg_value_clear(const cfg_key_t *k, void *base);

/* Parsers shared with the alias forms. Each returns 0, or -1 when text is not of the form. */
int cfg_value_int(const char *text, long min, long max, int *out);  /* -1 also out of range */
int cfg_value_bool(const char *text, bool *out);
/* "host:port" or "host:port:index" ("[v6]:port..." too); host gets the host without brackets,
 * *index -1 when absent (index is never allowed when index is NULL). */
int cfg_value_hostport(const char *text, char *host, size_t hostlen, int *port, long *index);

/* dir + "/" + rel, cleaned lexically; rel as is (cleaned) when absolute. Returns 0, or -1 when
 * the result does not fit in len. */
int cfg_value_path(const char *dir, const char *rel, char *out, size_t len);

/* Checks named by the key table (cfg_check_fn). */
int cfg_value_check_host(const char *text, char *why, size_t len);
int cfg_value_check_endpoint(const char *text, char *why, size_t len);
int cfg_value_check_fence(const char *text, char *why, size_t len);
int cfg_value_check_nonempty(const char *text, char *why, size_t len);
/* A user or group name: 1..CFG_PRINCIPAL_MAX bytes, no control characters, no ',' '=' ':'. */
int cfg_value_check_principal(const char *text, char *why, size_t len);
/* An octal umask: 1 to 4 octal digits, at most 0777 ("022"). */
int cfg_value_check_umask(const char *text, char *why, size_t len);
/* One security.groups entry: "user=group1,group2" (Hadoop's static mapping of one user; "user="
 * = no groups). */
int cfg_value_check_group_mapping(const char *text, char *why, size_t len);
/* "" (the default) or a host name or address. */
int cfg_value_check_listen_host(const char *text, char *why, size_t len);
/* "" (off) or "host:port" / "[v6]:port" for a listener. */
int cfg_value_check_listen(const char *text, char *why, size_t len);

#endif
