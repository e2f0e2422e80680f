#!/usr/bin/env bash
# Builds an OCI image layout tarball from Debian's busybox-static, for `ctr image import`
# (no registry is needed). Deterministic: the same busybox gives the same digests.
#   scripts/busybox-image.sh OUT.tar [IMAGE-NAME] [ENTRYPOINT-JSON]
# e.g. scripts/busybox-image.sh build/images/pause.tar registry.k8s.io/pause:3.6 '["sleep","2147483647"]'
set -euo pipefail
out=${1:?usage: busybox-image.sh OUT.tar [NAME] [ENTRYPOINT-JSON]}
name=${2:-docker.io/library/busybox:latest}
entrypoint=${3:-}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "busybox-image: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,root,var/www} "$work/layout/blobs/sha256"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser:x:1000:1000:user:/tmp:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\nuser:x:1000:\nextra:x:1500:user\n' > "$root/etc/group"

layer=$work/layer.tar
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$layer" .
blob() { # file mediatype -> writes blob, prints descriptor fields
  local d; d=$(sha256sum "$1" | cut -d' ' -f1)
  cp "$1" "$work/layout/blobs/sha256/$d"
  printf '{"mediaType":"%s","digest":"sha256:%s","size":%d}' "$2" "$d" "$(stat -c %s "$1")"
}
layer_desc=$(blob "$layer" application/vnd.oci.image.layer.v1.tar)
diff_id=$(sha256sum "$layer" | cut -d' ' -f1)
# With an entrypoint there is no Cmd: containerd would append it to the entrypoint's arguments.
cmd='"Cmd":["sh"],'
[ -n "$entrypoint" ] && cmd="\"Entrypoint\":$entrypoint,"
printf '{"architecture":"amd64","os":"linux","config":{%s"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$cmd" "$diff_id" > "$work/config.json"
config_desc=$(blob "$work/config.json" application/vnd.oci.image.config.v1+json)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
  "$config_desc" "$layer_desc" > "$work/manifest.json"
manifest_desc=$(blob "$work/manifest.json" application/vnd.oci.image.manifest.v1+json)
printf '{"schemaVersion":2,"manifests":[%s]}' \
  "${manifest_desc%\}},\"annotations\":{\"io.containerd.image.name\":\"$name\",\"org.opencontainers.image.ref.name\":\"${name##*:}\"}}" \
  > "$work/layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "$work/layout/oci-layout"
mkdir -p "$(dirname "$out")"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/layout" -cf "$out.tmp" . && mv "$out.tmp" "$out"
echo "busybox-image: $out ($name)"
