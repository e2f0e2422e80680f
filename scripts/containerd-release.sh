#!/usr/bin/env bash
# Prints the folder that holds containerd, ctr and containerd-shim-runc-v2 of a Debian suite's
# containerd, fetching and unpacking it under build/containerd/SUITE first when needed. The host's
# own suite is the installed package (scripts/deps.sh); every other suite comes from Debian's
# archive through scripts/debian-suite.sh, so the machine's apt and its containerd stay as they are.
#   scripts/containerd-release.sh SUITE      e.g. bookworm (1.6), trixie (1.7), sid (2.x)
set -euo pipefail
suite=${1:?SUITE}
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
host=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$suite" = "$host" ]; then
	dirname "$(command -v containerd || { echo "containerd-release: containerd is not installed (make deps)" >&2; exit 1; })"
	exit 0
fi
dest=$repo/build/containerd/$suite
version=$("$repo/scripts/debian-suite.sh" "$suite" versions containerd | awk '{ print $2 }')
[ -n "$version" ] || { echo "containerd-release: $suite has no containerd package" >&2; exit 1; }
if [ "$(cat "$dest.version" 2>/dev/null)" != "$version" ] || [ ! -x "$dest/usr/bin/containerd" ]; then
	cache=$repo/build/containerd/cache
	"$repo/scripts/debian-suite.sh" "$suite" download "$cache" "containerd=$version"
	rm -rf "$dest" "$dest.version"
	mkdir -p "$dest"
	dpkg-deb -x "$cache/containerd_${version//:/%3a}_"*.deb "$dest"
	for b in containerd ctr containerd-shim-runc-v2; do
		[ -x "$dest/usr/bin/$b" ] || { echo "containerd-release: containerd=$version ($suite) has no usr/bin/$b" >&2; exit 1; }
	done
	echo "$version" > "$dest.version"
fi
echo "$dest/usr/bin"
