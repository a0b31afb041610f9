# Sourced by demo.sh and the benchmarks: a three-node cluster on loopback, nodes n1..n3 whose
# YAML files are DIR/n1.yaml..DIR/n3.yaml and whose data-dirs are DIR/n1..DIR/n3.
# RV_CLUSTER_NODES=N (1..9, default 3) makes N nodes instead (hadoop-cli-suite.sh runs one: a
# replication of 1, as Hadoop's own CLI test harness configures).
#
# The clusters are secure: CURVE keys for n1..n3 and for the admin client (principal: the login
# name, the cluster's superuser) are made in DIR/keys by `raftvisor keys gen` and pinned in every
# YAML, whose security.client-key lets `raftvisor fs -c DIR/n1.yaml` authenticate as the admin.
# RV_INSECURE=1 writes security.insecure: true instead (a benchmark's comparison run).
# cluster_yaml also exports RV_CLIENT_KEY and RV_SERVER_KEYS, for the tools and commands given
# node lists (--nodes, rv-lin-workload) rather than a YAML.

# cluster_yaml DIR CLUSTER_ID RAFT_BASE [CLIENT_BASE] [EXTRA_YAML] [METRICS_BASE]
# Writes the three YAML files: node nI listens on RAFT_BASE+I (and CLIENT_BASE+I for clients
# when given); a security: section (insecure, the caller's user as superuser); EXTRA_YAML
# (other top-level sections, e.g. an actors: list) is appended to each; with
# METRICS_BASE, node nI serves /metrics, /health and /ready on 127.0.0.1:METRICS_BASE+I.
cluster_yaml() {
  local dir=$1 cluster=$2 raft=$3 client=${4:-} extra=${5:-} metrics=${6:-} i j
  local rv=${RV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/bin/raftvisor}
  local admin pub=() akey="" nodes
  nodes=$(s_cluster_nodes) || return 1
  admin=$(id -un)
  if [ "${RV_INSECURE:-0}" != 1 ]; then
    mkdir -p -m 0700 "$dir/keys"
    for j in $nodes "$admin"; do
      local name=$j
      [ "$j" = "$admin" ] || name=n$j
      if [ ! -s "$dir/keys/$name.key" ]; then
        rm -f "$dir/keys/$name.secret" "$dir/keys/$name.pub"
        "$rv" keys gen --out "$dir/keys" "$name" >"$dir/keys/$name.key"
      fi
    done
    for j in $nodes; do pub[j]=", public-key: \"$(cat "$dir/keys/n$j.key")\""; done
    akey=$(cat "$dir/keys/$admin.key")
    export RV_CLIENT_KEY=$dir/keys/$admin.secret RV_SERVER_KEYS=""
    if [ -n "$client" ]; then
      for j in $nodes; do
        RV_SERVER_KEYS+="${RV_SERVER_KEYS:+,}127.0.0.1:$((client + j))=$(cat "$dir/keys/n$j.key")"
      done
    fi
  else
    unset RV_CLIENT_KEY RV_SERVER_KEYS
  fi
  for i in $nodes; do
    {
      echo "# node n$i of cluster $cluster: see config/node.example.yaml for every key"
      echo "node: {id: n$i, data-dir: $dir/n$i}"
      echo "cluster:"
      echo "  id: $cluster"
      echo "  nodes:"
      for j in $nodes; do
        if [ -n "$client" ]; then
          echo "    - {id: n$j, host: 127.0.0.1, raft-port: $((raft + j)), client-port: $((client + j))${pub[j]:-}}"
        else
          echo "    - {id: n$j, host: 127.0.0.1, raft-port: $((raft + j))${pub[j]:-}}"
        fi
      done
      # whoever runs the script is the cluster's superuser (its key's principal, or the user an
      # insecure cluster believes)
      if [ "${RV_INSECURE:-0}" = 1 ]; then
        echo "security: {insecure: true, superuser: $(id -un)}"
      else
        echo "security:"
        echo "  key: \"@$dir/keys/n$i.secret\""
        echo "  client-key: $dir/keys/$admin.secret"
        echo "  clients:"
        echo "    - {principal: $admin, key: \"$akey\"}"
        echo "  superuser: $admin"
      fi
      if [ -n "$metrics" ]; then echo "metrics: {listen: \"127.0.0.1:$((metrics + i))\"}"; fi
      if [ -n "$extra" ]; then printf '%s\n' "$extra"; fi
    } >"$dir/n$i.yaml"
  done
}

# s_cluster_nodes: the node numbers, 1..RV_CLUSTER_NODES (default 3).
s_cluster_nodes() {
  local n=${RV_CLUSTER_NODES:-3}
  case $n in
    [1-9]) seq 1 "$n" | tr '\n' ' ' ;;
    *) echo "lib-cluster: RV_CLUSTER_NODES must be 1..9, got '$n'" >&2; return 1 ;;
  esac
}

# cluster_start DIR RAFTVISOR: starts the nodes as daemons.
cluster_start() {
  local i
  for i in $(s_cluster_nodes); do "$2" start --daemon -c "$1/n$i.yaml" >/dev/null; done
}

# cluster_stop DIR RAFTVISOR: stops whichever of the nodes have a YAML file.
cluster_stop() {
  local i
  for i in 1 2 3 4 5 6 7 8 9; do
    if [ -f "$1/n$i.yaml" ]; then "$2" stop -c "$1/n$i.yaml" >/dev/null 2>&1 || true; fi
  done
}
