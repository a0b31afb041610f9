#!/usr/bin/env bash
# Builds raftvisor and starts a local three-node cluster on loopback (n1, n2, n3), each node a
# supervisor with its actors, then shows it working. Files live under ./demo/ (YAML, data, logs).
#   scripts/demo.sh          set up, build, (re)start the three nodes, show their status
#   scripts/demo.sh --stop   stop the three nodes
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
demo=$top/demo
RV=$top/build/bin/raftvisor
nodes=(n1 n2 n3)

stop_all() {
  for n in "${nodes[@]}"; do
    [ -f "$demo/$n.yaml" ] || continue
    "$RV" stop -c "$demo/$n.yaml" 2>/dev/null || true
  done
}

if [ "${1:-}" = "--stop" ]; then
  stop_all
  exit 0
fi

"$top/scripts/setup.sh"
echo "== building"
"$top/scripts/build.sh" >/dev/null
mkdir -p "$demo"
stop_all
for i in 1 2 3; do
  cat >"$demo/n$i.yaml" <<YAML
# demo node n$i: see config/node.example.yaml for every key
node:
  id: n$i
  data-dir: $demo/n$i
cluster:
  id: demo
  nodes:
    - {id: n1, host: 127.0.0.1, raft-port: 7101, client-port: 7201}
    - {id: n2, host: 127.0.0.1, raft-port: 7102, client-port: 7202}
    - {id: n3, host: 127.0.0.1, raft-port: 7103, client-port: 7203}
YAML
done
echo "== starting three nodes"
for n in "${nodes[@]}"; do "$RV" start --daemon -c "$demo/$n.yaml"; done
sleep 1.2 # let the health-monitors complete a round of pings, so status shows their verdicts
for n in "${nodes[@]}"; do
  echo
  echo "== raftvisor status -c demo/$n.yaml"
  "$RV" status -c "$demo/$n.yaml"
done
echo
echo "== a few live messages on n1 (raftvisor tap -c demo/n1.yaml --count 4)"
"$RV" tap -c "$demo/n1.yaml" --count 4 --timeout 5 || true
cat <<EOF2

The cluster is running. Try:
  $RV status -c demo/n1.yaml --json
  $RV tap -c demo/n1.yaml --type HealthReport
  kill -9 \$($RV status -c demo/n1.yaml --json | jq '.actors[0].pid')   # and watch it come back
  scripts/demo.sh --stop
EOF2
