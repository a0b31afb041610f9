#!/usr/bin/env bash
# Installs what raftvisor needs to build and test, from Debian's archive. Idempotent: when every
# package is already installed it does nothing (and needs no network).
set -euo pipefail
PACKAGES=(build-essential cmake pkg-config
  libczmq-dev libzmq3-dev librocksdb-dev zlib1g-dev libprotobuf-c-dev protobuf-c-compiler
  libcurl4-openssl-dev libssl-dev libyaml-dev libcmocka-dev libmicrohttpd-dev libsystemd-dev
  prometheus curl systemd jq iproute2 procps psmisc openssh-client openssh-server)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
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
