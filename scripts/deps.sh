#!/usr/bin/env bash
# Installs the Debian packages Stencil builds and tests with; does nothing when they are present.
set -euo pipefail
packages=(
  qemu-system-x86 qemu-utils          # the hypervisor (TCG here, KVM where /dev/kvm opens)
  containerd runc                     # containerd 1.6 for the end-to-end tests and the demo
  crun                                # OCI runtime inside the guest
  strace                              # a test watches crun skip its self-copy when run from the agent's sealed copy
  busybox-static                      # guest userland and the test image
  containernetworking-plugins iproute2 # CNI bridge + host-local, tc, ip
  nftables                            # nft: the port-forward redirect in a pod's network namespace
  iptables                            # the guest kernel feature tests run the host's iptables in a container
  clang zlib1g-dev                    # NativeAOT linking
  cpio zstd lz4 xz-utils kmod         # building the guest initrd (lz4: its compression)
  e2fsprogs                           # mkfs.ext4 -d: containers' rootfs images with [hypervisor] shared_fs = "none"
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
