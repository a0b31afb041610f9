#!/usr/bin/env bash
# raftvisor's Tablestore backend (repl_backend_ots) opening tables in rv-ots-server: its own
# table is created once and used again; a table with other key columns, fewer of them, or a
# time to live is refused naming the difference; a bad endpoint, cluster id, table name or
# instance is refused naming the field; a wrong secret is refused without printing any secret.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ots-server/lib-ots.sh"
ots_start
repl_ots_drive schema
ots_stop TERM
log PASS
