#!/usr/bin/env bash
# The keys and the configuration of CURVE, as an operator meets them: `raftvisor keys gen`
# writes a secret file only its owner may read and prints the public key (never the secret),
# and never overwrites a key; `config check` refuses a secure file that lacks a node's public
# key or pins the wrong one, naming file, line and key; a node run with security.insecure says
# so loudly at start, in its log and in `status`.
source "$(dirname "$0")/lib.sh"

# keys gen
out=$("$RV" keys gen --out "$T/k" alice) || fail "keys gen: $out"
[ "$(stat -c %a "$T/k/alice.secret")" = 600 ] || fail "alice.secret is mode $(stat -c %a "$T/k/alice.secret")"
[ "$(stat -c %a "$T/k")" = 700 ] || fail "the key directory is mode $(stat -c %a "$T/k")"
[ ${#out} -eq 40 ] || fail "keys gen printed \"$out\", not a 40-character public key"
grep -qF "public-key = \"$out\"" "$T/k/alice.pub" || fail "alice.pub does not hold the printed key"
secret=$(sed -n 's/.*secret-key = "\(.*\)"/\1/p' "$T/k/alice.secret")
[ ${#secret} -eq 40 ] || fail "alice.secret holds no secret key"
case "$out" in *"$secret"*) fail "keys gen printed the secret key" ;; esac
! grep -q "secret-key" "$T/k/alice.pub" || fail "alice.pub holds the secret key"
expect_fail 1 "alice.secret exists; a key file is never overwritten" "$RV" keys gen --out "$T/k" alice
expect_fail 2 "expected a principal" "$RV" keys gen --out "$T/k" "bad name"

# config check: one node of a secure two-node cluster
cfg=$(node_yaml c1)
out=$("$RV" config check -c "$cfg") || fail "config check of a secure file: $out"
assert_contains "$out" "security: CURVE, 1 node keys pinned, 1 clients accepted" "config check"
sed 's/public-key: "[^"]*", //' "$cfg" >"$T/nokey.yaml"
expect_fail 1 "nokey.yaml:6:7: cluster.nodes[0].public-key: missing: node c1's CURVE public key" \
  "$RV" config check -c "$T/nokey.yaml"
text=$(cat "$cfg")
mine=$(key_of c1)
other=$(key_of other)
printf '%s\n' "${text//"$mine"/"$other"}" >"$T/wrongkey.yaml" # c1's entry pins another key
expect_fail 1 "wrongkey.yaml:8:8: security.key: its public key" "$RV" config check -c "$T/wrongkey.yaml"
sed '/^security:/,/^supervisor:/{/^supervisor:/!d}' "$cfg" >"$T/nosec.yaml"
expect_fail 1 "security.key: missing: this node's CURVE key pair" "$RV" config check -c "$T/nosec.yaml"

# an insecure node says so at every start, in its log and in status
sed -e '/^security:/,/^supervisor:/{/^supervisor:/!d}' -e 's/^supervisor:/security: {insecure: true}\nsupervisor:/' \
  "$cfg" >"$T/c1i.yaml"
cp "$T/c1i.yaml" "$cfg"
out=$("$RV" start --daemon -c "$cfg") || fail "start of an insecure node: $out"
supervisor_pid "$cfg" >>"$T/pids"
echo "started c1" >>"$T/nodes"
assert_contains "$out" "INSECURE: security.insecure is true" "start's answer"
assert_contains "$("$RV" status -c "$cfg")" "INSECURE: security.insecure is true" "status"
[ "$(status_json "$cfg" | jq -r .security.insecure)" = true ] || fail "status --json: security.insecure is not true"
grep -q "INSECURE: security.insecure is true" "$T/c1/log/supervisor.log" || fail "no INSECURE line in the log"
log "PASS"
