#!/usr/bin/env bash
# Synod's kv store beside etcd 3.4, three processes each on loopback, fsync
# on, the same load in one run. Installs Debian's etcd-server if missing,
# then runs `kv_bench compare` (which starts and stops every process; they
# are stopped on failure and on Ctrl-C too). Extra arguments go to it, e.g.
#   bash examples/kv_bench.sh --seconds 10 --chart docs/kv-bench.png --json /tmp/kv-bench.json
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v etcd >/dev/null 2>&1; then
  sudo_=""
  if [ "$(id -u)" != 0 ]; then sudo_="sudo"; fi
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends etcd-server
fi
exec cargo run --release --example kv_bench -- compare --etcd "$(command -v etcd)" "$@"
