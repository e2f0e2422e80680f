#!/usr/bin/env bash
# Runs every benchmark of tests/Stencil.Bench (the names come from `Stencil.Bench list`, so a new
# benchmark class is picked up without touching this script) and exits non-zero if any failed.
# They are: shim (`ctr run` through a private containerd: runc vs Stencil cold boot, template clone
# and pool; shim start/delete; shim and pod RSS/PSS; needs the published shim and the guest image,
# which `make bench` builds first; about 3 minutes on 2 cores under TCG), cri (containerd's CRI plugin:
# pod start to first exec runc vs stencil, ten pods at once, PSS per idle pod at 1/10/20 pods; same
# needs; about 6 minutes, with the dense preset's sections), density (idle pods: PSS by component with one memory lever per row, the TCG
# code buffer's speed cost, 50 idle pods with exec latency; about 8 minutes), ttrpc (unary echo over a
# unix socket), vm (cold boot vs template clone, PSS per VM, pool hand-over; needs the guest image) and
# checkpoint (`ctr container checkpoint`/`restore --live` of a pod VM: size and times; about 2-3 minutes).
# The shim and cri benchmarks run once per containerd release in BENCH_CONTAINERD (density and checkpoint with the last one) (Debian suites,
# default "bookworm sid": 1.6 and 2.x, fetched by scripts/containerd-release.sh), one after the other
# in the same run, so their ratios to runc can be set side by side.
# Extra arguments go to every benchmark, e.g. scripts/run-bench.sh --duration 10 --warmup 3
set -uo pipefail
cd "$(dirname "$0")/.."
project=tests/Stencil.Bench
dotnet build "$project" -c Release --nologo --verbosity quiet || { echo "run-bench: build failed"; exit 1; }
bench() { dotnet run --project "$project" -c Release --no-build -- "$@"; }
names=$(bench list) || { echo "run-bench: could not list benchmarks"; exit 1; }
failed=()
for name in $names; do
  case $name in
  cri-start) ;; # section 1 of cri alone (`make bench-start`): cri runs it below
  shim|cri|density|checkpoint)
    suites=${BENCH_CONTAINERD:-bookworm sid}
    # density (memory and scale) and checkpoint are not about containerd: once, with the last (newest) release.
    case $name in density|checkpoint) suites=${suites##* } ;; esac
    for suite in $suites; do
      bin=$(scripts/containerd-release.sh "$suite") || { failed+=("$name($suite)"); continue; }
      echo "== $name, containerd $("$bin/containerd" --version | awk '{ print $3 }') ($suite)"
      if ! PATH="$bin:$PATH" bench "$name" "$@"; then failed+=("$name($suite)"); fi
      echo
    done
    ;;
  *)
    echo "== $name"
    if ! bench "$name" "$@"; then failed+=("$name"); fi
    echo
    ;;
  esac
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run-bench: failed: ${failed[*]}"
  exit 1
fi
echo "run-bench: all passed ($(echo $names | wc -w) benchmarks)"
