#!/usr/bin/env bash
# Starts (or stops) a private containerd for the demo, with its own root, state and sockets under
# DIR, and the Stencil runtime configured. The shim is found on containerd's PATH (build/bin first).
# The containerd is the first on PATH; its config is version 3 for containerd 2.x, else version 2.
#   scripts/private-containerd.sh start DIR      prints the gRPC socket path
#   scripts/private-containerd.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?DIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
case "$cmd" in
start)
  mkdir -p "$dir"
  case "$(containerd --version | awk '{ v = $3; sub(/^v/, "", v); print v }')" in
    [2-9].*) version=3 cri='plugins."io.containerd.cri.v1.runtime"' ;;
    *) version=2 cri='plugins."io.containerd.grpc.v1.cri"' ;;
  esac
  cat > "$dir/config.toml" <<TOML
version = $version
root = "$dir/root"
state = "$dir/state"
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
[$cri]
  disable_apparmor = true
  restrict_oom_score_adj = true
  [$cri.containerd.runtimes.stencil]
    runtime_type = "io.containerd.stencil.v2"
    pod_annotations = ["io.stencil.*"]
TOML
  PATH="$repo/build/bin:$PATH" setsid containerd --config "$dir/config.toml" > "$dir/containerd.log" 2>&1 < /dev/null &
  echo $! > "$dir/containerd.pid"
  for _ in $(seq 100); do
    ctr --address "$dir/containerd.sock" version > /dev/null 2>&1 && { echo "$dir/containerd.sock"; exit 0; }
    sleep 0.1
  done
  echo "private-containerd: containerd did not answer in 10 s; log: $dir/containerd.log" >&2
  exit 1
  ;;
stop)
  if [ -f "$dir/containerd.pid" ]; then
    pid=$(cat "$dir/containerd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/containerd.pid"
  fi
  # containerd leaves its snapshots mounted only while tasks run; unmount anything left under DIR.
  # (grep finds nothing when all is clean: that must not end the script under pipefail.)
  { grep -o " $dir/[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
