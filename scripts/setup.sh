#!/usr/bin/env bash
# Installs what raftvisor needs to build and test, from Debian's archive, then the official
# Tablestore SDK for JavaScript (npm `tablestore`) that the rv-ots-server scenarios drive, into
# build/ots-sdk (outside the sources). Idempotent: when everything is there it does nothing (and
# needs no network).
set -euo pipefail
PACKAGES=(build-essential cmake pkg-config
  libczmq-dev libzmq3-dev librocksdb-dev zlib1g-dev libprotobuf-c-dev protobuf-c-compiler
  libcurl4-openssl-dev libssl-dev libyaml-dev libcmocka-dev
  jq iproute2 procps psmisc openssh-client openssh-server
  libmicrohttpd-dev nodejs libsystemd-dev prometheus curl systemd
  iptables faketime gdb)
# libmicrohttpd-dev: the HTTP/1.1 server of rv-ots-server (integration-tests/ots-server), a small,
#   long-maintained GNU library with a thread-per-connection mode, which the server's fault modes
#   (slow answers, blackholes) need so one stuck request holds up no other.
# iptables, faketime: the nemesis suite (integration-tests/nemesis/) cuts links between nodes in
#   network namespaces with iptables, and jumps nodes' wall clocks with libfaketime.
# gdb: it_test_supervisor_paused stops a supervisor at a breakpoint inside an event (a stop no
#   signal can be timed to land in).
# nodejs (+ npm): runs the official Tablestore SDK for JavaScript against rv-ots-server, a client
#   nobody here wrote. Debian splits npm into its own package; NodeSource's nodejs carries it.
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null || missing+=(npm)
sdk() { bash "$(cd "$(dirname "$0")/.." && pwd)/integration-tests/ots-server/install-sdk.sh"; }
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  sdk
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root or install sudo (missing: ${missing[*]})" >&2; exit 1; }
  SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
sdk
