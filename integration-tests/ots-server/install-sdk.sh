#!/usr/bin/env bash
# Installs the official Tablestore SDK for JavaScript (npm `tablestore`, pinned) into
# ${RV_OTS_SDK:-<repo>/build/ots-sdk}, outside the sources. Quiet and offline when that version
# is already there; otherwise it needs the npm registry and fails loudly without it.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
prefix=${RV_OTS_SDK:-$top/build/ots-sdk}
version=5.6.5
pkg=$prefix/node_modules/tablestore/package.json
mkdir -p "$prefix"
exec 9>"$prefix/.install.lock"
flock 9 # scenarios run in parallel: one installs, the others wait and find it there
if [ -f "$pkg" ] && node -e "process.exit(require('$pkg').version === '$version' ? 0 : 1)" 2>/dev/null; then
  exit 0
fi
command -v npm >/dev/null || { echo "install-sdk: npm is missing (scripts/setup.sh installs it)" >&2; exit 1; }
echo "install-sdk: npm install tablestore@$version into $prefix"
if ! npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "tablestore@$version" >"$prefix/npm.log" 2>&1; then
  echo "install-sdk: FAILED to install tablestore@$version from the npm registry:" >&2
  tail -n 20 "$prefix/npm.log" >&2
  exit 1
fi
node -e "process.exit(require('$pkg').version === '$version' ? 0 : 1)" ||
  { echo "install-sdk: installed package is not tablestore@$version" >&2; exit 1; }
