#!/usr/bin/env bash
# `make install`: the shim and the stencil tool to /usr/local/bin, the guest image to /usr/share/stencil,
# the default configuration to /etc/stencil (kept if present), then the containerd snippet to add.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-/usr/local}
install -D -m 0755 "$repo/build/bin/containerd-shim-stencil-v2" "$prefix/bin/containerd-shim-stencil-v2"
install -D -m 0755 "$repo/build/bin/stencil" "$prefix/bin/stencil"
install -D -m 0644 "$repo/build/guest/vmlinux" /usr/share/stencil/vmlinux
install -D -m 0644 "$repo/build/guest/initrd" /usr/share/stencil/initrd
if [ -e /etc/stencil/configuration.toml ]; then
  echo "install: /etc/stencil/configuration.toml exists; left as it is (the new default is $repo/config/configuration.toml)"
else
  install -D -m 0644 "$repo/config/configuration.toml" /etc/stencil/configuration.toml
fi
echo "install: containerd-shim-stencil-v2 and stencil in $prefix/bin, guest image in /usr/share/stencil"
echo
# containerd 2.x reads config version 3 natively (it migrates a version 2 file too).
snippet=stencil-runtime.toml
case "$(containerd --version 2>/dev/null | awk '{ v = $3; sub(/^v/, "", v); print v }')" in
  [2-9].*) snippet=stencil-runtime-v3.toml ;;
esac
echo "To enable the runtime, add this to /etc/containerd/config.toml and restart containerd:"
echo
cat "$repo/config/containerd/$snippet"
echo
echo "Then: ctr run --rm --runtime io.containerd.stencil.v2 docker.io/library/busybox:latest hello echo hello"
echo "Check the host with: stencil check"
