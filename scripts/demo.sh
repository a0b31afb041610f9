#!/usr/bin/env bash
# Builds raftvisor and starts a local three-node cluster on loopback (n1, n2, n3), each node a
# supervisor with its actors (health-monitor, raft-peer, kv-store), then shows it working: a few
# files written through one node, listed and counted from the others. Files live under ./demo/
# (YAML, data, logs).
#   scripts/demo.sh          set up, build, (re)start the three nodes, show their status
#   scripts/demo.sh --stop   stop the three nodes
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/lib-cluster.sh"
demo=$top/demo
RV=$top/build/bin/raftvisor
nodes=(n1 n2 n3)

if [ "${1:-}" = "--stop" ]; then
  cluster_stop "$demo" "$RV"
  exit 0
fi

"$top/scripts/setup.sh"
echo "== building"
"$top/scripts/build.sh" >/dev/null
mkdir -p "$demo"
cluster_stop "$demo" "$RV"
for n in "${nodes[@]}"; do
  # a demo written before the Raft log became a segment log (RocksDB's CURRENT file): start over
  if [ -e "$demo/$n/raft/CURRENT" ]; then
    echo "== $demo/$n was written by an older build (RocksDB Raft log): starting it afresh"
    rm -rf "${demo:?}/$n"
  fi
done
cluster_yaml "$demo" demo 7100 7200 "" 7300 # metrics: http://127.0.0.1:7301..7303
echo "== starting three nodes"
for n in "${nodes[@]}"; do "$RV" start --daemon -c "$demo/$n.yaml"; done
fs() { "$RV" fs -c "$demo/$1.yaml" "${@:2}"; }
# the first write waits for the election (the client retries until a leader answers, 15 s at most)
fs n1 -mkdir -p /user/demo/logs
echo
echo "== writing through n1 (the client follows the redirect if n1 is not the leader)"
echo "   raftvisor fs -c demo/n1.yaml -put ... /user/demo/..."
printf 'hello from raftvisor\n' | fs n1 -put -f - /user/demo/hello.txt
"$RV" config keys | fs n1 -put -f - /user/demo/config-keys.md
for i in 1 2 3; do printf 'line %d\n' "$i" | fs n1 -put -f - "/user/demo/logs/part-$i"; done
fs n1 -touchz /user/demo/logs/_SUCCESS
echo
echo "== raftvisor fs -c demo/n2.yaml -ls -R /      (read on n2)"
fs n2 -ls -R /
echo
echo "== raftvisor fs -c demo/n3.yaml -count /      (read on n3: dirs, files, bytes)"
fs n3 -count -v /
echo
echo "== raftvisor fs -c demo/n3.yaml -cat /user/demo/hello.txt"
fs n3 -cat /user/demo/hello.txt
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
  $RV fs -c demo/n2.yaml -ls -R /user
  $RV fs -c demo/n1.yaml --json -stat /user/demo/hello.txt
  curl -s http://127.0.0.1:7301/metrics | grep ^raftvisor_raft   # Prometheus text, per node
  curl -si http://127.0.0.1:7302/health                           # 200 when n2 can serve, else 503
  kill -9 \$($RV status -c demo/n1.yaml --json | jq '.actors[0].pid')   # and watch it come back
  kill -9 \$($RV status -c demo/n1.yaml --json | jq '.actors[] | select(.name == "raft-peer") | .pid')
                                      # (if n1 leads: another node takes over; fs keeps working)
  scripts/demo.sh --stop
EOF2
