#!/usr/bin/env bash
# `make install`: the shim and the stencil tool to /usr/local/bin, the guest image to /usr/share/stencil,
# the default configuration and the dense preset to /etc/stencil (kept if present), the factory daemon's systemd unit
# (enabled and started when systemd runs), then the containerd snippet to add.
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
# The dense preset (runtime "stencil-dense"): everything from configuration.toml (its base) but a smaller TCG code buffer.
if [ -e /etc/stencil/configuration-dense.toml ]; then
  echo "install: /etc/stencil/configuration-dense.toml exists; left as it is (the new one is $repo/config/configuration-dense.toml)"
else
  install -D -m 0644 "$repo/config/configuration-dense.toml" /etc/stencil/configuration-dense.toml
fi
install -D -m 0644 "$repo/README.md" /usr/share/doc/stencil/README.md
# The node's factory daemon (paused clones for shims), as a systemd unit when systemd runs.
mkdir -p /etc/systemd/system
sed "s|/usr/local/bin/stencil|$prefix/bin/stencil|" "$repo/config/systemd/stencil-factory.service" > /etc/systemd/system/stencil-factory.service
echo "install: containerd-shim-stencil-v2 and stencil in $prefix/bin, guest image in /usr/share/stencil"
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now stencil-factory.service
  echo "install: stencil-factory.service enabled and started (the factory daemon: stencil factory metrics)"
else
  echo "install: systemd is not running here; start the factory daemon yourself: $prefix/bin/stencil factory serve"
fi
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
