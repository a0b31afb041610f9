# Sourced by demo.sh and the benchmarks: a three-node cluster on loopback, nodes n1..n3 whose
# YAML files are DIR/n1.yaml..DIR/n3.yaml and whose data-dirs are DIR/n1..DIR/n3.

# cluster_yaml DIR CLUSTER_ID RAFT_BASE [CLIENT_BASE] [EXTRA_YAML] [METRICS_BASE]
# Writes the three YAML files: node nI listens on RAFT_BASE+I (and CLIENT_BASE+I for clients
# when given); a security: section (insecure, the caller's user as superuser); EXTRA_YAML
# (other top-level sections, e.g. an actors: list) is appended to each; with
# METRICS_BASE, node nI serves /metrics, /health and /ready on 127.0.0.1:METRICS_BASE+I.
cluster_yaml() {
  local dir=$1 cluster=$2 raft=$3 client=${4:-} extra=${5:-} metrics=${6:-} i j
  for i in 1 2 3; do
    {
      echo "# node n$i of cluster $cluster: see config/node.example.yaml for every key"
      echo "node: {id: n$i, data-dir: $dir/n$i}"
      echo "cluster:"
      echo "  id: $cluster"
      echo "  nodes:"
      for j in 1 2 3; do
        if [ -n "$client" ]; then
          echo "    - {id: n$j, host: 127.0.0.1, raft-port: $((raft + j)), client-port: $((client + j))}"
        else
          echo "    - {id: n$j, host: 127.0.0.1, raft-port: $((raft + j))}"
        fi
      done
      if [ -n "$metrics" ]; then echo "metrics: {listen: \"127.0.0.1:$((metrics + i))\"}"; fi
      # no client authentication in this build (CURVE comes with the keys): the cluster believes
      # the user a client asserts, and whoever runs the script is its superuser
      echo "security: {insecure: true, superuser: $(id -un)}"
      if [ -n "$extra" ]; then printf '%s\n' "$extra"; fi
    } >"$dir/n$i.yaml"
  done
}

# cluster_start DIR RAFTVISOR: starts the three nodes as daemons.
cluster_start() {
  local i
  for i in 1 2 3; do "$2" start --daemon -c "$1/n$i.yaml" >/dev/null; done
}

# cluster_stop DIR RAFTVISOR: stops whichever of the three nodes have a YAML file.
cluster_stop() {
  local i
  for i in 1 2 3; do
    if [ -f "$1/n$i.yaml" ]; then "$2" stop -c "$1/n$i.yaml" >/dev/null 2>&1 || true; fi
  done
}
