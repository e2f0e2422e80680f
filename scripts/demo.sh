#!/usr/bin/env bash
# `make demo`: a container in a VM through a private containerd, started cold and from the template.
# Everything it starts (containerd, VMs, the template's tmpfs) is stopped on exit. The containerd is
# the newest Debian has (sid's 2.x, fetched into build/containerd; STENCIL_CONTAINERD=bookworm for 1.6).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
PATH="$("$repo/scripts/containerd-release.sh" "${STENCIL_CONTAINERD:-sid}"):$PATH"
export PATH
dir=/tmp/stencil-demo            # short: unix socket paths below it must fit in 108 bytes
image=docker.io/library/busybox:latest
runtime=io.containerd.stencil.v2

cleanup() {
  ctr --address "$dir/containerd.sock" task rm -f demo-cold demo-template > /dev/null 2>&1 || true
  ctr --address "$dir/containerd.sock" containers rm demo-cold demo-template > /dev/null 2>&1 || true
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
"$repo/build/bin/stencil" factory destroy --config "$dir/template.toml" > /dev/null
echo "== done; stopping containerd"
