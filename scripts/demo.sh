#!/usr/bin/env bash
# `make demo`: a container in a VM through a private containerd, started cold, from the template, and
# from the factory daemon's pool (`stencil factory serve`).
# Everything it starts (containerd, VMs, the template's tmpfs) is stopped on exit. The containerd is
# the newest Debian has (sid's 2.x, fetched into build/containerd; STENCIL_CONTAINERD=bookworm for 1.6).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
PATH="$("$repo/scripts/containerd-release.sh" "${STENCIL_CONTAINERD:-sid}"):$PATH"
export PATH
dir=/tmp/stencil-demo            # short: unix socket paths below it must fit in 108 bytes
image=docker.io/library/busybox:latest
runtime=io.containerd.stencil.v2

daemon=""
cleanup() {
  ctr --address "$dir/containerd.sock" task rm -f demo-cold demo-template demo-pool > /dev/null 2>&1 || true
  ctr --address "$dir/containerd.sock" containers rm demo-cold demo-template demo-pool > /dev/null 2>&1 || true
  if [ -n "$daemon" ]; then kill -TERM "$daemon" 2> /dev/null || true; wait "$daemon" 2> /dev/null || true; fi
  "$repo/scripts/private-containerd.sh" stop "$dir" || true
}
trap cleanup EXIT
"$repo/scripts/private-containerd.sh" stop "$dir" > /dev/null 2>&1 || true
mkdir -p "$dir"

write_config() { # file enable_template
  cat > "$1" <<TOML
[hypervisor]
kernel = "$repo/build/guest/vmlinux"
initrd = "$repo/build/guest/initrd"
[factory]
enable_template = $2
template_path = "$dir/template"
daemon_socket = "$dir/state/factory.sock"
pool_size = 1
[runtime]
state_dir = "$dir/state"
shim_socket_dir = "$dir/s"
TOML
}
write_config "$dir/cold.toml" false
write_config "$dir/template.toml" true

echo "== starting a private containerd in $dir ($(containerd --version | awk '{ print $3 }'))"
address=$("$repo/scripts/private-containerd.sh" start "$dir")
ctr() { command ctr --address "$address" "$@"; }
echo "== importing a busybox image built from Debian's busybox-static"
"$repo/scripts/busybox-image.sh" "$dir/busybox.tar" "$image" > /dev/null
ctr images import "$dir/busybox.tar" > /dev/null

echo "== stencil check: what this host offers ($(nproc) cores)"
CONTAINERD_ADDRESS="$address" "$repo/build/bin/stencil" check --config "$dir/template.toml"

run() { # name config
  local start end
  start=$(date +%s.%N)
  ctr run --rm --runtime "$runtime" --runtime-config-path "$2" "$image" "$1" uname -a
  end=$(date +%s.%N)
  printf '   %s: container started, ran and was removed in %.2f s\n' "$1" "$(awk "BEGIN{print $end - $start}")"
}
echo "== ctr run --runtime $runtime ... uname -a   (cold boot: the VM boots its kernel)"
run demo-cold "$dir/cold.toml"
echo "== building the VM template (boot once, save memory + device state to tmpfs)"
start=$(date +%s.%N)
"$repo/build/bin/stencil" factory init --config "$dir/template.toml"
printf '   template built in %.2f s\n' "$(awk "BEGIN{print $(date +%s.%N) - $start}")"
echo "== ctr run --runtime $runtime ... uname -a   (template clone)"
run demo-template "$dir/template.toml"
echo "== starting the factory daemon (stencil factory serve): it keeps a paused clone ready for the next pod"
"$repo/build/bin/stencil" --config "$dir/template.toml" factory serve 2> "$dir/factory.log" &
daemon=$!
for _ in $(seq 1 600); do
  "$repo/build/bin/stencil" --config "$dir/template.toml" factory metrics 2> /dev/null | grep -qx 'stencil_factory_pool_ready 1' && break
  sleep 0.2
done
echo "== ctr run --runtime $runtime ... uname -a   (a paused clone handed over by the factory daemon)"
run demo-pool "$dir/template.toml"
grep -ho 'took clone [^"]*' "$dir"/containerd.log | tail -1 | sed 's/^/   shim: /' || true
"$repo/build/bin/stencil" --config "$dir/template.toml" factory metrics | grep -E '^stencil_factory_(handovers_total|pool_ready) ' | sed 's/^/   metrics: /'
kill -TERM "$daemon"; wait "$daemon" || true; daemon=""
"$repo/build/bin/stencil" factory destroy --config "$dir/template.toml" > /dev/null
echo "== done; stopping containerd"
