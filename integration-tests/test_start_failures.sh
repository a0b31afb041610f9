#!/usr/bin/env bash
# A node that cannot start says why, in raftvisor start's own answer: a port in use, a host that
# does not resolve, a host that is not this machine, a data-dir whose parent is missing (an
# unmounted data disk), and an actor's own reason for failing (its last error line), never only
# "restart intensity exceeded ... see supervisor.log". `config check` finds the host's problems too.
source "$(dirname "$0")/lib.sh"

# one-node YAML with the node's host and data-dir given
host_yaml() {
  local name=$1 host=$2 dir=$3 port=$4
  cat >"$T/$name.yaml" <<YAML
node:
  id: n1
  data-dir: $dir
cluster:
  nodes:
    - {public-key: "$(key_of n1)", id: n1, host: $host, raft-port: $port, client-port: $((port + 1))}
$(security_yaml n1)
actors:
  - {name: health-monitor}
  - {name: raft-peer}
  - {name: kv-store}
YAML
  echo "$T/$name.yaml" >>"$T/configs"
  echo "$T/$name.yaml"
}
port=$((10000 + RANDOM % 20000))

# a port in use: a running node holds it; a second node on the same ports is refused at once
cluster_yaml 1 health-monitor raft-peer kv-store
start_node "$T/n1.yaml"
other=$(host_yaml other 127.0.0.1 "$T/other" "$(sed -n 's/.*raft-port: \([0-9]*\).*/\1/p' "$T/n1.yaml")")
expect_fail 1 "cannot listen on 127.0.0.1:" "$RV" config check -c "$other"
expect_fail 1 "for raft-peer: Address already in use" "$RV" start --daemon -c "$other"
expect_fail 1 "Address already in use" "$RV" start -c "$other"
# the running node itself passes config check (its own ports are not held against it)
out=$("$RV" config check -c "$T/n1.yaml") || fail "config check of a running node failed: $out"
assert_contains "$out" "running, so its ports were not checked" "config check of a running node"

# an unresolvable host, a host of another machine (TEST-NET-1, RFC 5737)
bad=$(host_yaml unresolvable no-such-host.invalid "$T/u1" "$port")
expect_fail 1 "cluster.nodes[0].host: cannot resolve \"no-such-host.invalid\"" "$RV" config check -c "$bad"
expect_fail 1 "cannot resolve \"no-such-host.invalid\"" "$RV" start --daemon -c "$bad"
far=$(host_yaml far 192.0.2.1 "$T/f1" "$port")
expect_fail 1 "\"192.0.2.1\" (192.0.2.1) is not an address of this machine" "$RV" config check -c "$far"
expect_fail 1 "is not an address of this machine" "$RV" start --daemon -c "$far"
assert_contains "$("$RV" start --daemon -c "$far" 2>&1)" \
  "behind NAT, set node.listen-host" "the refusal says how to listen behind NAT"

# behind NAT: the advertised host is not this machine's, node.listen-host binds every address
sed -i 's/^  data-dir: \(.*\)$/  data-dir: \1\n  listen-host: 0.0.0.0/' "$far"
out=$("$RV" config check -c "$far") || fail "config check with listen-host failed: $out"
start_node "$far"
[ -n "$(ss -Hltn "src 0.0.0.0 and sport = :$port")" ] || fail "raft-peer does not listen on 0.0.0.0:$port"
[ -n "$(ss -Hltn "src 0.0.0.0 and sport = :$((port + 1))")" ] || fail "kv-store does not listen on 0.0.0.0"
# (reached at an address its YAML does not advertise: the client pins its key for that address)
wait_for "the NAT node takes a write on 127.0.0.1" 20 "$RV" fs --nodes "127.0.0.1:$((port + 1))" \
  --server-key "127.0.0.1:$((port + 1))=$(key_of n1)" -mkdir /nat
stop_node "$far"

# a data-dir whose parent is missing is refused, and nothing is created in its place
nomount=$(host_yaml nomount 127.0.0.1 "$T/mnt/disk1/rv" "$port")
expect_fail 1 "the parent of $T/mnt/disk1/rv, $T/mnt/disk1, does not exist" "$RV" config check -c "$nomount"
expect_fail 1 "does not exist (is the data disk mounted?)" "$RV" start --daemon -c "$nomount"
[ -e "$T/mnt" ] && fail "start created $T/mnt for a data-dir whose parent was missing"

# an actor's own reason reaches start: a temporary failure until the intensity gives up, and a
# configuration error at once
RV_INTENSITY=2
tf=$(node_yaml tf "  - {name: flaky, exec: $RV_BIN/raftvisor-test-actor, args: [--start-fail]}")
expect_fail 1 "last: actor flaky exited with code 75: " "$RV" start --daemon -c "$tf"
expect_fail 1 "start failure, as told" "$RV" start --daemon -c "$tf"
cf=$(node_yaml cf "  - {name: broken, exec: $RV_BIN/raftvisor-test-actor, args: [--config-fail]}")
out=$("$RV" start --daemon -c "$cf" 2>&1) && fail "start of a misconfigured actor succeeded: $out"
assert_contains "$out" "actor broken exited with a configuration error" "config error"
assert_contains "$out" "configuration failure, as told" "config error names the actor's reason"
out=$("$RV" start -c "$cf" 2>&1) && fail "foreground start of a misconfigured actor succeeded"
assert_contains "$out" "configuration failure, as told" "foreground start names the actor's reason"

# node.log-format: json: every line of every log is one JSON object, and the actor's reason
# still reaches start
jf=$(node_yaml jf "  - {name: health-monitor}
  - {name: flaky, exec: $RV_BIN/raftvisor-test-actor, args: [--start-fail]}")
sed -i 's/^  id: jf$/  id: jf\n  log-format: json/' "$jf"
expect_fail 1 "exited with code 75: cannot start: start failure, as told" "$RV" start --daemon -c "$jf"
for f in "$T"/jf/log/*.log; do
  jq -e -c 'select((.time | test("^[0-9-]+T[0-9:.]+Z$")) and .node == "jf" and
    (.level | IN("debug", "info", "warn", "error")) and (.msg | type == "string"))' "$f" \
    >"$T/json.ok" 2>"$T/json.err" || fail "$f is not JSON lines: $(cat "$T/json.err"; head -n 3 "$f")"
  [ "$(wc -l <"$T/json.ok")" = "$(wc -l <"$f")" ] || fail "$f: lines without the fields: $(head -n 3 "$f")"
done
grep -q '"actor":"flaky","level":"error","msg":"cannot start: start failure, as told"' "$T/jf/log/flaky.log" ||
  fail "flaky.log lacks its error as JSON: $(tail -n 3 "$T/jf/log/flaky.log")"

# recovery mode without a remote copy to recover from is refused by config check and start
orm=$(host_yaml otsrm 127.0.0.1 "$T/orm" "$port")
printf 'ots:\n  recovery-mode: true\n' >>"$orm"
expect_fail 1 "ots.recovery-mode: needs ots.endpoint" "$RV" config check -c "$orm"
expect_fail 1 "ots.recovery-mode: needs ots.endpoint" "$RV" start --daemon -c "$orm"
log "ok"
