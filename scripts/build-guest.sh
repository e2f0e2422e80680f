#!/usr/bin/env bash
# Builds the guest image from the recipe in config/guest/ (see its README.md):
#   build/guest/vmlinux  Debian's generic kernel, uncompressed (an ELF with a PVH note, so QEMU
#                        boots it with -kernel directly and skips the ~3 s XZ decompression)
#   build/guest/initrd   busybox, kernel modules, the OCI runtime, the agent, /init
# Nothing is installed on the host: packages are fetched with `apt-get download` into
# build/guest/cache and unpacked with `dpkg -x` under build/guest/work. The kernel comes from the
# machine's own suite; the userland (busybox, the OCI runtime, glibc and every library they load)
# from GUEST_SUITE through a private package list (scripts/debian-suite.sh), resolved by that
# suite's own dynamic loader, so the image never mixes two glibc versions. The image is rebuilt only
# when an input changes (this script, config/guest/*, the agent binary, a package version).
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$self")/.."

recipe=config/guest
out=build/guest
cache=$out/cache
work=$PWD/$out/work   # absolute: modprobe -d prints absolute paths
agent=build/agent/stencil-agent
# shellcheck source=../config/guest/recipe.conf
. "$recipe/recipe.conf"

die() { echo "build-guest: $*" >&2; exit 1; }
apt_opts=(-o APT::Sandbox::User=root -qq)   # root downloads into our own folder: no _apt sandbox

[ "$(id -u)" = 0 ] || die "run as root: /dev/console and /dev/null in the initrd are made with mknod"
[ -f "$agent" ] || die "$agent is missing (run \`make publish\`)"
case $INITRD_COMPRESSION in none|gzip|lz4|zstd) ;; *) die "INITRD_COMPRESSION=$INITRD_COMPRESSION: use none, gzip, lz4 or zstd" ;; esac
for t in apt-get apt-cache dpkg-deb depmod modprobe cpio xz ldd sha256sum "${INITRD_COMPRESSION/none/cat}"; do
	command -v "$t" >/dev/null || die "$t not found (run \`scripts/deps.sh\`)"
done

# --- which packages, at which versions --------------------------------------------------------
# config/guest/packages: "<package> <tag> <file>..." per line.
mapfile -t package_lines < <(grep -v '^\s*\(#\|$\)' "$recipe/packages")
wanted() {   # wanted <package> <tag>: is the package shipped in this build?
	[ "$2" = base ] || [[ " $OCI_RUNTIME " == *" $1 "* ]]
}
runtime_packages=()
for line in "${package_lines[@]}"; do
	read -r pkg tag _ <<< "$line"
	if [ "$tag" = runtime ]; then runtime_packages+=("$pkg"); fi
done
for rt in $OCI_RUNTIME; do
	[[ " ${runtime_packages[*]} " == *" $rt "* ]] || die "OCI_RUNTIME=$OCI_RUNTIME: '$rt' is not a runtime package in $recipe/packages (${runtime_packages[*]})"
done
[ -n "$OCI_RUNTIME" ] || die "OCI_RUNTIME is empty: name crun or runc"

kernel_package() {
	apt-cache depends "$KERNEL_PACKAGE" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
candidates() {   # "<package> <candidate version>" for each package that has one; one apt-cache run
	apt-cache policy "$@" 2>/dev/null | awk '/^[^ ]/ { p = $1; sub(/:$/, "", p) } $1 == "Candidate:" && $2 != "(none)" { print p, $2 }'
}

updated=
apt_update() {
	[ -z "$updated" ] || return 0
	echo "build-guest: apt-get update"
	apt-get update "${apt_opts[@]}"
	updated=1
}

kpkg=$(kernel_package)
[ -n "$kpkg" ] || { apt_update; kpkg=$(kernel_package); }
[ -n "$kpkg" ] || die "apt-cache depends $KERNEL_PACKAGE names no linux-image-<version> package"
kver=${kpkg#linux-image-}                      # e.g. 6.1.0-56-amd64: the modules folder name

packages=("$kpkg")
userland=()
for line in "${package_lines[@]}"; do
	read -r pkg tag _ <<< "$line"
	if wanted "$pkg" "$tag"; then userland+=("$pkg"); fi
done

declare -A version
resolve_versions() {
	local p v
	while read -r p v; do version[$p]=$v; done < <(candidates "${packages[@]}")
	for p in "${packages[@]}"; do [ -n "${version[$p]:-}" ] || return 1; done
}
resolve_versions || { apt_update; resolve_versions; } ||
	die "apt-cache policy shows no candidate version for one of: ${packages[*]}"

# The userland and its libraries (Depends, recursively; libc6 always: the agent needs it) from GUEST_SUITE.
suite() { scripts/debian-suite.sh "$GUEST_SUITE" "$@"; }
mapfile -t sysroot_packages < <(suite closure "${userland[@]}" libc6) ||
	die "no package list for suite $GUEST_SUITE"
while read -r p v; do version[$p]=$v; done < <(suite versions "${sysroot_packages[@]}")
for p in "${sysroot_packages[@]}"; do
	[ -n "${version[$p]:-}" ] || die "suite $GUEST_SUITE has no candidate version of $p"
done

# --- up to date? ------------------------------------------------------------------------------
inputs_hash() {
	{
		sha256sum scripts/build-guest.sh "$agent"   # relative: a moved clone stays up to date
		find "$recipe" -type f -print0 | sort -z | xargs -0 sha256sum
		for p in "${packages[@]}" "${sysroot_packages[@]}"; do echo "$p=${version[$p]}"; done
		echo "OCI_RUNTIME=$OCI_RUNTIME INITRD_COMPRESSION=$INITRD_COMPRESSION GUEST_SUITE=$GUEST_SUITE"
	} | sha256sum | cut -d' ' -f1
}
hash=$(inputs_hash)

print_sizes() {
	local f
	for f in "$out/vmlinux" "$out/initrd" "$agent"; do
		awk -v f="$f" -v s="$(stat -c %s "$f")" 'BEGIN { printf "build-guest: %-28s %6.1f MiB\n", f, s / 1048576 }'
	done
}

if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$hash" ] && [ -f "$out/vmlinux" ] && [ -f "$out/initrd" ]; then
	echo "build-guest: up to date ($kpkg, ${OCI_RUNTIME// /+} from $GUEST_SUITE, $INITRD_COMPRESSION)"
	print_sizes
	exit 0
fi
rm -f "$out/stamp"

# --- download and unpack ----------------------------------------------------------------------
mkdir -p "$cache" "$work"
deb_of() { echo "$cache/${1}_${version[$1]//:/%3a}_"*.deb; }   # apt's file name, epoch escaped
for p in "${packages[@]}"; do
	deb=$(deb_of "$p")
	[ -f "$deb" ] && continue
	echo "build-guest: downloading $p=${version[$p]}"
	rm -f "$cache/${p}_"*.deb   # an older version (package names have no "_")
	if ! (cd "$cache" && apt-get download "${apt_opts[@]}" "$p=${version[$p]}"); then
		# The lists can name a version the mirror no longer has (a security update replaced it):
		# refresh them once and start over, since the kernel package name may change too.
		[ -z "${STENCIL_GUEST_APT_UPDATED:-}" ] || die "apt-get download $p=${version[$p]} failed"
		apt_update
		STENCIL_GUEST_APT_UPDATED=1 exec "$self"
	fi
	deb=$(deb_of "$p")
	[ -f "$deb" ] || die "apt-get download $p=${version[$p]} left no $deb"
done
sysroot_debs=()
for p in "${sysroot_packages[@]}"; do sysroot_debs+=("$p=${version[$p]}"); done
suite download "$cache" "${sysroot_debs[@]}"

unpack() {   # unpack <package> -> prints the folder; reuses it when the version is unchanged
	local dir=$work/pkg/$1
	if [ "$(cat "$dir.version" 2>/dev/null)" != "${version[$1]}" ]; then
		rm -rf "$dir" "$dir.version"
		mkdir -p "$dir"
		dpkg-deb -x "$(deb_of "$1")" "$dir"
		echo "${version[$1]}" > "$dir.version"
	fi
	echo "$dir"
}

# --- kernel: vmlinux out of the XZ-compressed bzImage -----------------------------------------
kdir=$(unpack "$kpkg")
vmlinuz=$kdir/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "$vmlinuz is missing from $kpkg"
is_pvh_elf() {   # an ELF whose notes hold XEN_ELFNOTE_PHYS32_ENTRY (type 18, name "Xen"): PVH entry
	[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ] &&
		LC_ALL=C grep -qaP '\x04\x00\x00\x00\x08\x00\x00\x00\x12\x00\x00\x00Xen\x00' "$1"
}
if [ "$(cat "$out/vmlinux.version" 2>/dev/null)" != "$kpkg=${version[$kpkg]}" ] || [ ! -f "$out/vmlinux" ]; then
	rm -f "$out/vmlinux" "$out/vmlinux.version"
	found=
	# Every offset of the XZ stream magic (FD 37 7A 58 5A 00); the first one that decompresses to
	# a PVH ELF is the kernel (a stray match in the setup code would not decompress).
	for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1); do
		# (xz reads from a process substitution: it stops at the stream end, which would make a
		# pipe from tail die of SIGPIPE and fail the pipeline under pipefail.)
		if xz -dc --single-stream < <(tail -c +$((off + 1)) "$vmlinuz") > "$out/vmlinux.tmp" 2>/dev/null &&
			is_pvh_elf "$out/vmlinux.tmp"; then
			found=1
			break
		fi
	done
	[ -n "$found" ] || { rm -f "$out/vmlinux.tmp"; die "no XZ-compressed PVH ELF found in $vmlinuz"; }
	mv "$out/vmlinux.tmp" "$out/vmlinux"
	echo "$kpkg=${version[$kpkg]}" > "$out/vmlinux.version"
fi

# --- initrd tree ------------------------------------------------------------------------------
root=$work/initrd
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,dev,proc,sys,run,tmp,root,mnt,newroot,usr/bin,usr/sbin,usr/libexec/stencil}
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
mknod -m 0600 "$root/dev/console" c 5 1
mknod -m 0666 "$root/dev/null" c 1 3

install -m 0755 "$recipe/init" "$root/init"
install -m 0755 "$recipe/bench-runtimes" "$root/usr/libexec/stencil/bench-runtimes"
cp -a "$recipe/rootfs/." "$root/"

# The guest suite's libraries, all packages unpacked into one tree; its own loader lists what a
# binary needs (as ldd would on a machine of that suite).
sysroot=$work/sysroot
rm -rf "$sysroot"
mkdir -p "$sysroot"
for p in "${sysroot_packages[@]}"; do dpkg-deb -x "$(deb_of "$p")" "$sysroot"; done
multiarch=x86_64-linux-gnu
libdirs=$sysroot/usr/lib/$multiarch:$sysroot/lib/$multiarch
loader=$(find "$sysroot" -name ld-linux-x86-64.so.2 -path "*/lib/$multiarch/*" 2>/dev/null | head -n 1)
[ -n "$loader" ] || die "libc6 of $GUEST_SUITE has no ld-linux-x86-64.so.2"

copy_with_libs() {   # copy_with_libs <source file> <path in the image>
	install -D -m 0755 "$1" "$root$2"
	local libs lib name
	# A static binary: "not a dynamic executable" (exit 1); nothing to copy.
	libs=$("$loader" --library-path "$libdirs" --list "$(readlink -f "$1")" 2>&1) || return 0
	if grep -q 'not found' <<< "$libs"; then
		die "$1 needs libraries that $GUEST_SUITE's packages ${sysroot_packages[*]} lack: $(grep 'not found' <<< "$libs" | tr -s ' \t\n' ' ')"
	fi
	# "name => /path (addr)" for each library: into /lib/<multiarch>, on the loader's default path;
	# "/interp => /path (addr)": the loader, at the path the binary names (/lib64/ld-linux-x86-64.so.2).
	while read -r name lib; do
		case $name in /*) ;; *) name=/lib/$multiarch/$name ;; esac
		[ -f "$root$name" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$name"
	done < <(awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' <<< "$libs")
}

for line in "${package_lines[@]}"; do
	read -r pkg tag files <<< "$line"
	if wanted "$pkg" "$tag"; then
		pdir=$(unpack "$pkg")
		for f in $files; do   # "<file in the package>[:<path in the image>]"
			src=${f%%:*}
			dst=${f#*:}
			[ -f "$pdir$src" ] || die "$src is not in package $pkg=${version[$pkg]}"
			copy_with_libs "$pdir$src" "$dst"
		done
		# The agent runs whichever runtime is first in OCI_RUNTIME through one fixed path.
		first=${files%% *}
		[ "$pkg" != "${OCI_RUNTIME%% *}" ] || ln -s "${first#*:}" "$root/usr/bin/oci-runtime"
	fi
done

# busybox applets as symlinks now, rather than `busybox --install` on every boot.
"$root/bin/busybox" --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

copy_with_libs "$agent" /sbin/stencil-agent

# --- kernel modules, in dependency order ------------------------------------------------------
mdir=$kdir/lib/modules/$kver
if [ ! -f "$mdir/modules.dep" ]; then
	depmod -b "$kdir" "$kver"
	: > "$mdir/modules.softdep"   # soft dependencies are not followed (see config/guest/modules)
fi
mkdir -p "$work/modprobe.d"   # empty: the host's /etc/modprobe.d must not shape the guest's order
declare -A seen
module_files() {   # module_files <list in config/guest>: the new .ko paths its modules need, dependencies first
	local m deps ko
	for m in $(sed 's/#.*//' "$recipe/$1"); do
		# "insmod <path>" lines, dependencies first; built-in modules print "builtin <name>" instead.
		deps=$(modprobe -d "$kdir" -S "$kver" -C "$work/modprobe.d" --show-depends "$m" 2>&1) ||
			die "module $m (config/guest/$1) is not in $kpkg: $deps"
		for ko in $(awk '$1 == "insmod" { print $2 }' <<< "$deps"); do
			ko=${ko#"$kdir"}
			[ -z "${seen[$ko]:-}" ] || continue
			seen[$ko]=1
			files+=("$ko")
		done
	done
}
files=()
module_files modules
order=("${files[@]}")
for ko in "${order[@]}"; do install -D -m 0644 "$kdir$ko" "$root$ko"; done
printf '%s\n' "${order[@]}" > "$root/etc/modules.order"

# --- kernel modules loaded on demand ----------------------------------------------------------
# config/guest/modules-on-demand: copied xz-compressed (CRC32, as kmod writes them; busybox's
# decoder reads it) and not loaded at boot. depmod over the image's own tree then writes the
# modules.dep, modules.alias and modules.devname that busybox's modprobe reads when the kernel asks
# for a module (request_module runs /sbin/modprobe). The .bin indexes are kmod's; busybox reads
# only the text files, so they are left out. /init makes the nodes modules.devname names.
files=()
module_files modules-on-demand
for ko in "${files[@]}"; do
	mkdir -p "$(dirname "$root$ko")"
	xz -c -6 --check=crc32 "$kdir$ko" > "$root$ko.xz"
done
ondemand=${#files[@]}
cp "$mdir/modules.builtin" "$mdir/modules.builtin.modinfo" "$root/lib/modules/$kver/"
: > "$root/lib/modules/$kver/modules.order"
depmod -b "$root" "$kver" || die "depmod over the image's modules failed"
rm -f "$root/lib/modules/$kver/"*.bin "$root/lib/modules/$kver/modules.builtin.modinfo" "$root/lib/modules/$kver/modules.order"

# --- archive ----------------------------------------------------------------------------------
compress() {
	case $INITRD_COMPRESSION in
	none) cat ;;
	gzip) gzip -9 ;;
	lz4) lz4 -l -12 -q ;;           # the kernel reads only the legacy lz4 frame format (-l)
	zstd) zstd -19 -q -T0 ;;
	esac
}
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
	compress > "$out/initrd.tmp"
mv "$out/initrd.tmp" "$out/initrd"
echo "$hash" > "$out/stamp"
echo "build-guest: ${#order[@]} modules loaded at boot, $ondemand on demand"
echo "build-guest: built $kpkg=${version[$kpkg]}, runtime ${OCI_RUNTIME// /+} from $GUEST_SUITE ($(for r in $OCI_RUNTIME; do printf '%s=%s ' "$r" "${version[$r]}"; done | sed 's/ $//')), initrd $INITRD_COMPRESSION"
print_sizes
