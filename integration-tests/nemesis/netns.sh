# netns.sh: the nodes of a test cluster on a real network, each in a network namespace of its
# own, so that links between them can be cut with iptables inside the namespaces (both ways, one
# way, the bridge shape) while clients on the host still reach every node.
#
#   host (root namespace): bridge rvb<K>, 10.213.<K>.254/24 -- the CLI, the workloads, the checks
#     |-- veth rv<K>n1h <-> eth0 in namespace rv<K>-n1, 10.213.<K>.1/24  (node n1)
#     |-- veth rv<K>n2h <-> eth0 in namespace rv<K>-n2, 10.213.<K>.2/24  (node n2)
#     `-- ...
#
# K is claimed per scenario (an atomic mkdir of /tmp/rvit-netns/K, as lib.sh claims ports), so
# scenarios running at once never share a namespace, an address or a bridge; ports need no
# claim (each node has its own address). Only the node's processes run in its namespace; its
# run directory (unix sockets) is on the shared file system, so `raftvisor status/stop -c` work
# from the host unchanged.
#
# Sourced by a scenario after lib.sh: netns_up registers `netns.sh down K` with at_cleanup, so
# the namespaces, the bridge and any process still inside a namespace (killed by pid, from `ip
# netns pids`) are removed at exit, whether the scenario passed or failed. Run as a command:
#   bash netns.sh down K     removes what netns_up K made (idempotent)
# Needs root, iproute2 (ip, bridge and veth links), iptables and nsenter (util-linux).

NETNS_SUBNET=10.213

# netns_up N: makes namespaces for nodes n1..nN and the bridge joining them to the host; sets
# NETNS_ID. Fails the scenario, naming the step, when the host cannot (not root, no iptables).
netns_up() {
  local n=$1 k i ns try
  [ "$(id -u)" = 0 ] || fail "network namespaces need root (running as uid $(id -u))"
  command -v iptables >/dev/null || fail "iptables is not installed (scripts/setup.sh installs it)"
  command -v nsenter >/dev/null || fail "nsenter is not installed (util-linux)"
  mkdir -p /tmp/rvit-netns
  for ((try = 0; try < 200; try++)); do
    k=$((1 + RANDOM % 250))
    if mkdir "/tmp/rvit-netns/$k" 2>/dev/null; then break; fi
    local owner
    owner=$(cat "/tmp/rvit-netns/$k/pid" 2>/dev/null || true)
    if [ -n "$owner" ] && ! alive "$owner"; then # left by a scenario that died: take it over
      bash "${BASH_SOURCE[0]}" down "$k"
      mkdir "/tmp/rvit-netns/$k" 2>/dev/null && break
    fi
    k=""
  done
  [ -n "$k" ] || fail "no free network namespace id in /tmp/rvit-netns"
  echo $$ >"/tmp/rvit-netns/$k/pid"
  NETNS_ID=$k
  # links of an earlier holder of this id may outlive its lock: a namespace's veth goes with it
  # only when the kernel gets round to it (ip netns del returns before), so a fresh scenario
  # that drew the same id found "rv8n1h: File exists" (a fresh-clone CI run); with the lock held
  # they are nobody's, and go now
  s_netns_links_del "$k"
  at_cleanup "bash $(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/netns.sh down $k"
  ip link add "rvb$k" type bridge || fail "cannot create bridge rvb$k"
  ip addr add "$NETNS_SUBNET.$k.254/24" dev "rvb$k"
  ip link set "rvb$k" up
  for ((i = 1; i <= n; i++)); do
    ns="rv$k-n$i"
    ip netns add "$ns" || fail "cannot create network namespace $ns"
    ip link add "rv${k}n${i}h" type veth peer name "rv${k}n${i}c" || fail "cannot create veth rv${k}n${i}h"
    ip link set "rv${k}n${i}c" netns "$ns"
    ip link set "rv${k}n${i}h" master "rvb$k"
    ip link set "rv${k}n${i}h" up
    ip -n "$ns" link set "rv${k}n${i}c" name eth0
    ip -n "$ns" addr add "$(netns_ip "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  done
  for ((i = 1; i <= n; i++)); do
    wait_for "n$i's link up in its namespace" 10 s_netns_link_up "rv$k-n$i"
  done
  log "network namespaces rv$k-n1..n$n on bridge rvb$k ($NETNS_SUBNET.$k.0/24)"
}

s_netns_link_up() { local l; l=$(ip -n "$1" -br link show eth0) && matches ' UP ' "$l"; }

netns_ip() { echo "$NETNS_SUBNET.$NETNS_ID.$1"; }
netns_name() { echo "rv$NETNS_ID-n$1"; }

# netns_exec I COMMAND...: runs COMMAND in node nI's network namespace (only the network: the
# file system and everything else are the host's).
netns_exec() {
  local i=$1
  shift
  nsenter --net="/run/netns/$(netns_name "$i")" -- "$@"
}

# netns_cut A B [oneway]: node nA stops hearing nB and nB stops hearing nA (packets dropped, as
# a partition loses them, not refused); with oneway, only what nA sends to nB is lost.
netns_cut() {
  local a=$1 b=$2 way=${3:-both}
  netns_exec "$a" iptables -w -A OUTPUT -d "$(netns_ip "$b")" -j DROP
  if [ "$way" = both ]; then
    netns_exec "$a" iptables -w -A INPUT -s "$(netns_ip "$b")" -j DROP
    netns_exec "$b" iptables -w -A OUTPUT -d "$(netns_ip "$a")" -j DROP
    netns_exec "$b" iptables -w -A INPUT -s "$(netns_ip "$a")" -j DROP
  fi
}

# netns_heal N: every link of n1..nN works again (the filter rules of each namespace flushed;
# the namespaces are the test's own, nothing else puts rules there).
netns_heal() {
  local i
  for ((i = 1; i <= $1; i++)); do netns_exec "$i" iptables -w -F; done
}

# netns_rules I: node nI's filter rules, for the log.
netns_rules() { netns_exec "$1" iptables -w -S | grep -v '^-P' || true; }

# s_netns_links_del K: deletes the host's links of id K (each veth's host end, which takes its
# peer with it at once, and the bridge), whatever namespaces they lead to.
s_netns_links_del() {
  local k=$1 l
  for l in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^rv${k}n[0-9]+h$"); do
    ip link del "$l" 2>/dev/null || true
  done
  ip link del "rvb$k" 2>/dev/null || true
}

# netns.sh down K: the teardown (a command, so that at_cleanup can run it after the harness
# check has stopped the nodes).
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ "${1:-}" = down ]; then
  k=$2
  s_netns_links_del "$k" # at once: deleting the namespaces alone leaves their veths for a while
  for ns in $(ip netns list | awk -v p="rv$k-n" 'index($1, p) == 1 {print $1}'); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "/tmp/rvit-netns/$k"
  exit 0
fi
