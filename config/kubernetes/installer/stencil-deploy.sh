#!/usr/bin/env bash
# stencil-deploy: installs Stencil on the Kubernetes node it runs on, or removes it. It runs in the
# privileged pod of the stencil-deploy (or stencil-cleanup) DaemonSet, with the host's / mounted at
# $HOST_ROOT and the host's PID namespace (hostPID), so it can restart containerd on the host.
#
#   stencil-deploy.sh install [--wait]   copy shim, guest image and configuration to the host, add the
#                                        "stencil" and "stencil-dense" runtimes to containerd's config,
#                                        restart containerd
#   stencil-deploy.sh cleanup [--wait]   undo all of that
#   --wait: then sleep until the pod is stopped (a DaemonSet's pod must keep running).
#
# Both are idempotent: running install twice changes nothing the second time (and does not restart
# containerd); the containerd config gets one block between markers, replaced on upgrade, removed
# on cleanup, and nothing else in that file is touched.
#
# Settings (environment; host paths are as seen on the host):
#   HOST_ROOT          where the host's / is mounted in this container        (/host)
#   HOST_EXEC          prefix that runs a command in the host's namespaces,
#                      or "none" to run nothing on the host (tests)           (nsenter --target 1 --mount --uts --ipc --net --pid --)
#   RESTART_CMD        how containerd is restarted on the host                (systemctl restart containerd)
#   PAYLOAD_DIR        what this image carries: bin/, share/, etc/            (directory of this script)
#   CONFIG_OVERRIDE    a configuration.toml used as is instead of the
#                      image's default, when the file exists                  (/etc/stencil-deploy/configuration.toml)
#   INSTALL_DIR        where Stencil goes on the host                         (/opt/stencil)
#   BIN_DIR            where containerd looks for containerd-shim-*-v2        (/usr/local/bin)
#   CONTAINERD_CONFIG  containerd's config file                               (/etc/containerd/config.toml)
#   QEMU_PATH          the host's QEMU                                        (/usr/bin/qemu-system-x86_64)
#   TEMPLATE_DIR       the VM template folder (tmpfs) removed by cleanup      (/run/stencil/template)
#   CONTAINERD_VERSION the host's containerd release, when the config file does
#                      not exist yet (2.x gets a version 3 file)              (asked: containerd --version on the host)
#   SANDBOXER          "podsandbox": a pause container holds each pod's namespaces in its VM; "shim":
#                      containerd 2.x's sandbox API, the shim is the pod's sandbox (faster and smaller per
#                      pod; containerd before 2.3 crashes on a hostNetwork pod with it, hence not the default) (podsandbox)
set -euo pipefail

HOST_ROOT=${HOST_ROOT:-/host}
HOST_EXEC=${HOST_EXEC:-nsenter --target 1 --mount --uts --ipc --net --pid --}
RESTART_CMD=${RESTART_CMD:-systemctl restart containerd}
PAYLOAD_DIR=${PAYLOAD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
CONFIG_OVERRIDE=${CONFIG_OVERRIDE:-/etc/stencil-deploy/configuration.toml}
INSTALL_DIR=${INSTALL_DIR:-/opt/stencil}
BIN_DIR=${BIN_DIR:-/usr/local/bin}
CONTAINERD_CONFIG=${CONTAINERD_CONFIG:-/etc/containerd/config.toml}
QEMU_PATH=${QEMU_PATH:-/usr/bin/qemu-system-x86_64}
TEMPLATE_DIR=${TEMPLATE_DIR:-/run/stencil/template}
SANDBOXER=${SANDBOXER:-podsandbox}
# The node's factory daemon (paused clones for shims): installed as a systemd unit and started with
# these commands; FACTORY_START=none leaves it to the node's own init system.
FACTORY_UNIT=${FACTORY_UNIT:-/etc/systemd/system/stencil-factory.service}
FACTORY_START=${FACTORY_START:-systemctl daemon-reload && systemctl enable stencil-factory.service && systemctl restart stencil-factory.service}
FACTORY_STOP=${FACTORY_STOP:-systemctl disable --now stencil-factory.service}

SHIM=containerd-shim-stencil-v2
BEGIN_MARK="# BEGIN stencil-deploy: managed block, removed by \`stencil-deploy.sh cleanup\`; do not edit"
END_MARK="# END stencil-deploy"

log() { echo "stencil-deploy: $*"; }
die() { echo "stencil-deploy: error: $*" >&2; exit 1; }
host() { printf '%s%s' "$HOST_ROOT" "$1"; }

# Runs a command in the host's namespaces (restart, unmount); nothing when HOST_EXEC=none.
host_exec() {
  if [ "$HOST_EXEC" = none ]; then
    log "not run on the host (HOST_EXEC=none): $*"
    return 0
  fi
  # shellcheck disable=SC2086 # HOST_EXEC is a command prefix, split on purpose
  $HOST_EXEC "$@"
}

# Copies a file so that a running reader (a shim executing the old binary) keeps the old inode:
# write next to it, then rename over it.
install_file() { # SRC DST MODE
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.stencil-new"
  chmod "$3" "$2.stencil-new"
  mv -f "$2.stencil-new" "$2"
}

# The CRI runtime table names of a containerd config: version 1 (or none), 2 (containerd 1.x), 3 (2.x).
runtime_table() { # CONFIG-FILE
  local version
  # Only a top-level key counts: the ones before the first [table].
  version=$(awk '/^[[:space:]]*\[/ { exit } match($0, /^[[:space:]]*version[[:space:]]*=[[:space:]]*[0-9]+/) { v = $0; sub(/^[^=]*=[[:space:]]*/, "", v); sub(/[^0-9].*/, "", v); print v; exit }' "$1" 2>/dev/null)
  case "${version:-1}" in
    1) echo 'plugins.cri.containerd.runtimes.stencil' ;;
    2) echo 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes.stencil' ;;
    3) echo 'plugins."io.containerd.cri.v1.runtime".containerd.runtimes.stencil' ;;
    *) die "$CONTAINERD_CONFIG has version = $version, which this installer does not know (1, 2 or 3)" ;;
  esac
}

# The config without our block (everything between the markers, the markers included).
without_block() { # CONFIG-FILE
  awk -v begin="$BEGIN_MARK" -v end="$END_MARK" '
    $0 == begin { skip = 1; next }
    skip && $0 == end { skip = 0; next }
    !skip { print }' "$1"
}

# Stdin without its trailing blank lines.
trim_trailing_blank_lines() {
  awk '{ lines[NR] = $0 } END { n = NR; while (n > 0 && lines[n] ~ /^[[:space:]]*$/) n--; for (i = 1; i <= n; i++) print lines[i] }'
}

runtime_block() { # TABLE
  cat <<TOML
$BEGIN_MARK
[$1]
  runtime_type = "io.containerd.stencil.v2"
  pod_annotations = ["io.stencil.*"]
  container_annotations = ["io.stencil.*"]
  privileged_without_host_devices = true${SANDBOXER_LINE:-}
[$1.options]
  ConfigPath = "$INSTALL_DIR/etc/configuration.toml"
[$1-dense]
  runtime_type = "io.containerd.stencil.v2"
  pod_annotations = ["io.stencil.*"]
  container_annotations = ["io.stencil.*"]
  privileged_without_host_devices = true${SANDBOXER_LINE:-}
[$1-dense.options]
  ConfigPath = "$INSTALL_DIR/etc/configuration-dense.toml"
$END_MARK
TOML
}

# Writes CONTENT-FILE over the config (keeping its mode) if it differs; returns 0 when it changed.
replace_config() { # CONFIG CONTENT-FILE
  if [ -f "$1" ] && cmp -s "$1" "$2"; then
    rm -f "$2"
    return 1
  fi
  if [ -f "$1" ]; then chmod --reference="$1" "$2"; else chmod 0644 "$2"; fi
  mv -f "$2" "$1"
  return 0
}

# The runtime's `sandboxer` line for SANDBOXER (nothing for the default), refused for containerd 1.x,
# which has no sandbox API for shims.
sandboxer_line() {
  case "$SANDBOXER" in
    podsandbox) ;;
    shim)
      case "$(host_containerd_version)" in
        0.*|1.*) die "SANDBOXER=shim needs containerd 2.x (the sandbox API); this node runs containerd $(host_containerd_version)" ;;
      esac
      printf '\n  sandboxer = "shim"' ;;
    *) die "SANDBOXER=$SANDBOXER: expected podsandbox or shim" ;;
  esac
}

# The host's containerd release ("2.1.9"), or nothing when it cannot be asked.
host_containerd_version() {
  if [ -n "${CONTAINERD_VERSION:-}" ]; then echo "$CONTAINERD_VERSION"; return 0; fi
  [ "$HOST_EXEC" != none ] || return 0
  # shellcheck disable=SC2086 # HOST_EXEC is a command prefix, split on purpose
  $HOST_EXEC containerd --version 2>/dev/null | awk '{ v = $3; sub(/^v/, "", v); print v; exit }' || true
}

restart_containerd() {
  log "restarting containerd on the host: $RESTART_CMD"
  # shellcheck disable=SC2086 # RESTART_CMD is a command line
  host_exec $RESTART_CMD || die "restarting containerd failed (command: $RESTART_CMD); set RESTART_CMD for this node's init system"
}

# The image's configuration.toml with the paths of this installation (kernel, initrd, QEMU).
installed_configuration() { # SRC
  awk -v dir="$INSTALL_DIR" -v qemu="$QEMU_PATH" '
    /^\[/ { section = $0 }
    section == "[hypervisor]" && /^path[[:space:]]*=/ { print "path = \"" qemu "\""; next }
    section == "[hypervisor]" && /^kernel[[:space:]]*=/ { print "kernel = \"" dir "/share/vmlinux\""; next }
    section == "[hypervisor]" && /^initrd[[:space:]]*=/ { print "initrd = \"" dir "/share/initrd\""; next }
    { print }' "$1"
}

install() {
  for f in "bin/$SHIM" share/vmlinux share/initrd etc/configuration.toml etc/configuration-dense.toml; do
    [ -f "$PAYLOAD_DIR/$f" ] || die "the image lacks $PAYLOAD_DIR/$f (was it built with \`make publish guest\` first?)"
  done
  [ -d "$HOST_ROOT" ] || die "the host's / is not mounted at $HOST_ROOT"
  if [ ! -e "$(host "$QEMU_PATH")" ] && [ ! -L "$(host "$QEMU_PATH")" ]; then
    die "QEMU is not installed on this node ($QEMU_PATH is missing): install it on the host (Debian/Ubuntu: apt-get install qemu-system-x86) or set QEMU_PATH"
  fi
  local nft_found=""
  for d in /usr/sbin /sbin /usr/bin /bin; do
    if [ -e "$(host "$d/nft")" ] || [ -L "$(host "$d/nft")" ]; then nft_found=1; fi
  done
  [ -n "$nft_found" ] || die "nftables is not installed on this node (no nft in /usr/sbin, /sbin, /usr/bin, /bin): the shim's PortForward relay needs it; install it on the host (Debian/Ubuntu: apt-get install nftables)"
  [ -e "$(host /dev/kvm)" ] || log "note: this node has no /dev/kvm; VMs will run with TCG (slow)"

  local config
  config=$(host "$CONTAINERD_CONFIG")
  if [ -f "$config" ] && grep -Eq '^[[:space:]]*disabled_plugins[[:space:]]*=.*"(cri|io\.containerd\.grpc\.v1\.cri)"' "$config"; then
    die "$CONTAINERD_CONFIG disables containerd's CRI plugin (disabled_plugins); Kubernetes cannot use containerd on this node"
  fi
  if [ -f "$config" ] && without_block "$config" | grep -Eq 'runtimes\.stencil(-dense)?[].]'; then
    die "$CONTAINERD_CONFIG already defines a \"stencil\" or \"stencil-dense\" runtime outside stencil-deploy's block; remove it first"
  fi

  log "installing into $INSTALL_DIR"
  install_file "$PAYLOAD_DIR/bin/$SHIM" "$(host "$INSTALL_DIR/bin/$SHIM")" 0755
  install_file "$PAYLOAD_DIR/share/vmlinux" "$(host "$INSTALL_DIR/share/vmlinux")" 0644
  install_file "$PAYLOAD_DIR/share/initrd" "$(host "$INSTALL_DIR/share/initrd")" 0644
  local generated
  generated=$(mktemp)
  if [ -f "$CONFIG_OVERRIDE" ]; then
    log "configuration: $CONFIG_OVERRIDE (override, used as is)"
    cp "$CONFIG_OVERRIDE" "$generated"
  else
    installed_configuration "$PAYLOAD_DIR/etc/configuration.toml" > "$generated"
  fi
  install_file "$generated" "$(host "$INSTALL_DIR/etc/configuration.toml")" 0644
  # The dense preset takes everything but its own keys from the configuration above (its base).
  sed -e "s|^base = .*|base = \"$INSTALL_DIR/etc/configuration.toml\"|" "$PAYLOAD_DIR/etc/configuration-dense.toml" > "$generated"
  grep -qxF "base = \"$INSTALL_DIR/etc/configuration.toml\"" "$generated" || die "the image's etc/configuration-dense.toml has no base = line"
  install_file "$generated" "$(host "$INSTALL_DIR/etc/configuration-dense.toml")" 0644
  rm -f "$generated"
  mkdir -p "$(host "$BIN_DIR")"
  ln -sfn "$INSTALL_DIR/bin/$SHIM" "$(host "$BIN_DIR/$SHIM")"
  install_factory_daemon

  SANDBOXER_LINE=$(sandboxer_line)
  mkdir -p "$(dirname "$config")"
  local table new fresh_version=2
  if [ -f "$config" ]; then
    table=$(runtime_table "$config")
  else
    # No file yet: write the version the host's containerd reads natively (3 for 2.x).
    case "$(host_containerd_version)" in 0.*|1.*|"") fresh_version=2 ;; *) fresh_version=3 ;; esac
    echo "version = $fresh_version" > "$config.stencil-probe"
    table=$(runtime_table "$config.stencil-probe")
    rm -f "$config.stencil-probe"
  fi
  new=$(mktemp "$config.stencil-XXXXXX")
  {
    if [ -f "$config" ]; then
      without_block "$config" | trim_trailing_blank_lines
    else
      echo "version = $fresh_version"
    fi
    echo
    runtime_block "$table"
  } > "$new"
  if [ -f "$config" ] && [ ! -f "$config.stencil-backup" ]; then
    cp -p "$config" "$config.stencil-backup"
  fi
  if replace_config "$config" "$new"; then
    log "added the stencil runtime to $CONTAINERD_CONFIG ([$table], and [$table-dense] for the dense preset)"
    restart_containerd
  else
    log "$CONTAINERD_CONFIG already has the stencil runtime; containerd not restarted"
  fi
  date -u +%Y-%m-%dT%H:%M:%SZ > "$(host "$INSTALL_DIR/.installed")"
  log "installed"
}

# The factory daemon: the stencil tool and its unit, pointed at the installed configuration.
install_factory_daemon() {
  if [ ! -f "$PAYLOAD_DIR/bin/stencil" ] || [ ! -f "$PAYLOAD_DIR/etc/stencil-factory.service" ]; then
    log "note: the image has no bin/stencil or etc/stencil-factory.service; no factory daemon (shims clone the template themselves)"
    return 0
  fi
  local unit changed=""
  unit=$(mktemp)
  sed -e "s|^ExecStart=.*|ExecStart=$INSTALL_DIR/bin/stencil --config $INSTALL_DIR/etc/configuration.toml factory serve|" \
    "$PAYLOAD_DIR/etc/stencil-factory.service" > "$unit"
  cmp -s "$PAYLOAD_DIR/bin/stencil" "$(host "$INSTALL_DIR/bin/stencil")" || changed=1
  cmp -s "$unit" "$(host "$FACTORY_UNIT")" || changed=1
  install_file "$PAYLOAD_DIR/bin/stencil" "$(host "$INSTALL_DIR/bin/stencil")" 0755
  install_file "$unit" "$(host "$FACTORY_UNIT")" 0644
  rm -f "$unit"
  # (Re)started only when it changed: a restart is safe (clones already handed over keep running), but not needed.
  if [ -z "$changed" ]; then
    log "factory daemon unchanged in $FACTORY_UNIT; not restarted"
  elif [ "$FACTORY_START" = none ]; then
    log "factory daemon unit in $FACTORY_UNIT; not started (FACTORY_START=none)"
  else
    log "starting the factory daemon: $FACTORY_START"
    host_exec sh -c "$FACTORY_START" || die "starting the factory daemon failed (command: $FACTORY_START); set FACTORY_START for this node's init system"
  fi
}

cleanup() {
  local config
  config=$(host "$CONTAINERD_CONFIG")
  if [ -f "$config" ] && grep -qxF "$BEGIN_MARK" "$config"; then
    local new
    new=$(mktemp "$config.stencil-XXXXXX")
    # Drop the blank line install put before the block, so install + cleanup gives the file back.
    without_block "$config" | trim_trailing_blank_lines > "$new"
    if grep -qxE 'version = [23]' "$new" && [ "$(wc -l < "$new")" -le 1 ]; then
      rm -f "$new" "$config" # install created the file: nothing of the host's is in it
    else
      replace_config "$config" "$new" || true
    fi
    log "removed the stencil runtime from $CONTAINERD_CONFIG"
    restart_containerd
  fi
  if [ -f "$(host "$FACTORY_UNIT")" ]; then
    if [ "$FACTORY_STOP" != none ]; then
      host_exec sh -c "$FACTORY_STOP" || log "note: stopping the factory daemon failed (command: $FACTORY_STOP)"
    fi
    rm -f "$(host "$FACTORY_UNIT")"
  fi
  if [ "$(readlink "$(host "$BIN_DIR/$SHIM")" 2>/dev/null)" = "$INSTALL_DIR/bin/$SHIM" ]; then
    rm -f "$(host "$BIN_DIR/$SHIM")"
  fi
  # Running clones keep their template's memory file open; unlinking it does not hurt them.
  host_exec umount -l "$TEMPLATE_DIR" 2>/dev/null || true
  rm -rf "$(host "$TEMPLATE_DIR")"
  rm -rf "$(host "$INSTALL_DIR")"
  rm -f "$config.stencil-backup"
  log "removed"
}

wait_forever() {
  trap 'exit 0' TERM INT
  sleep infinity &
  wait $!
}

case "${1:-}" in
  install) install ;;
  cleanup) cleanup ;;
  *) echo "usage: $0 install|cleanup [--wait]" >&2; exit 2 ;;
esac
[ "${2:-}" = --wait ] && wait_forever
exit 0
