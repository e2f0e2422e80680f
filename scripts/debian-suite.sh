#!/usr/bin/env bash
# Fetches packages from another Debian suite (trixie, sid, ...) without touching the machine's own
# apt: a private sources list, package lists and cache under build/apt/SUITE. The mirror is the one
# the machine's own sources name for its Debian archive, so nothing here names a host.
#   scripts/debian-suite.sh SUITE versions PACKAGE...           "PACKAGE VERSION" per package that has a candidate
#   scripts/debian-suite.sh SUITE download DIR PACKAGE[=V]...   .deb files into DIR (kept if present)
#   scripts/debian-suite.sh SUITE closure PACKAGE...           the package and its Depends/Pre-Depends, recursively
# The lists are refreshed when older than a day (STENCIL_APT_MAX_AGE seconds), or on a failed download.
set -euo pipefail
suite=${1:?SUITE}
verb=${2:?versions|download|closure}
shift 2
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
base=$repo/build/apt/$suite
die() { echo "debian-suite: $*" >&2; exit 1; }

# The machine's Debian archive: the URI of the first source whose suite is the host's codename
# (deb822 .sources files and one-line sources.list alike), security and updates suites aside.
mirror() {
	local codename
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "/etc/os-release names no VERSION_CODENAME"
	{
		cat /etc/apt/sources.list 2>/dev/null || true
	} | awk -v c="$codename" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) == c) { print $i; exit } }'
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v c="$codename" '
			/^[ \t]*$/ { if (u != "" && s) { print u; exit } u = ""; s = 0; next }
			tolower($1) == "uris:" { u = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == c) s = 1 }
			END { if (u != "" && s) print u }' "$f"
	done
}

apt_opts() {
	printf '%s\n' -o "Dir::Etc::SourceList=$base/sources.list" -o "Dir::Etc::SourceParts=/dev/null" \
		-o "Dir::State::Lists=$base/lists" -o "Dir::Cache=$base/cache" -o "Dir::State::status=/dev/null" \
		-o "APT::Sandbox::User=root" -o "Debug::NoLocking=1" -qq
}

update() {
	local uri
	uri=$(mirror | head -n 1)
	[ -n "$uri" ] || die "the machine's apt sources name no Debian archive for its own release"
	mkdir -p "$base/lists/partial" "$base/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" > "$base/sources.list"
	echo "debian-suite: apt-get update ($suite)" >&2
	mapfile -t o < <(apt_opts)
	apt-get "${o[@]}" update >&2 || die "apt-get update for $suite failed"
	touch "$base/updated"
}

fresh() {
	local max=${STENCIL_APT_MAX_AGE:-86400}
	[ -f "$base/updated" ] && [ $(( $(date +%s) - $(stat -c %Y "$base/updated") )) -lt "$max" ] || update
}

fresh
mapfile -t o < <(apt_opts)
case $verb in
versions)
	apt-cache "${o[@]}" policy "$@" | awk '/^[^ ]/ { p = $1; sub(/:$/, "", p) } $1 == "Candidate:" && $2 != "(none)" { print p, $2 }'
	;;
download)
	dir=${1:?DIR}
	shift
	mkdir -p "$dir"
	for p in "$@"; do
		name=${p%%=*}
		ver=${p#*=}
		[ "$ver" != "$p" ] || ver=$(apt-cache "${o[@]}" policy "$name" | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }')
		[ -n "$ver" ] || die "$suite has no package $name"
		ls "$dir/${name}_${ver//:/%3a}_"*.deb > /dev/null 2>&1 && continue
		echo "debian-suite: downloading $name=$ver ($suite)" >&2
		if ! (cd "$dir" && apt-get "${o[@]}" download "$name=$ver" >&2); then
			update   # the lists may name a version the mirror has replaced
			(cd "$dir" && apt-get "${o[@]}" download "$name=$ver" >&2) || die "apt-get download $name=$ver ($suite) failed"
		fi
	done
	;;
closure)
	apt-cache "${o[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances "$@" | awk '/^[a-z0-9]/ { print $1 }' | sort -u
	;;
*) die "unknown verb $verb (versions, download, closure)" ;;
esac
