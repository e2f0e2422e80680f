#!/usr/bin/env bash
# `make reliability`: the fuzzers and the load, each printed as a table (tests/Stencil.Reliability).
#   - fuzz: the parsers that take bytes from outside (config.json, configuration.toml, QMP lines, ttRPC
#     frames), FUZZ_ITERATIONS mutated inputs each (default 100000, seed FUZZ_SEED, default 1): no
#     crash, no input over 64 MiB allocated or 2 s. About 3 minutes on 2 cores.
#   - load: LOAD_CYCLES `ctr run --rm` create/delete cycles (default 200) and LOAD_CONCURRENT pods at
#     once (default 20) through a private containerd (the release of STENCIL_CONTAINERD, default sid:
#     2.x, fetched by scripts/containerd-release.sh) and the published shim, real VMs; no failure and
#     nothing left behind. About 10 minutes under TCG on 2 cores.
# Crashing fuzz inputs are written to build/fuzz-crashes. `make test` runs a short version of both
# (Stencil.Reliability.Tests and the end-to-end ReliabilityTests).
set -uo pipefail
cd "$(dirname "$0")/.."
project=tests/Stencil.Reliability
dotnet build "$project" -c Release --nologo --verbosity quiet || { echo "run-reliability: build failed"; exit 1; }
run() { dotnet run --project "$project" -c Release --no-build -- "$@"; }
failed=()

echo "== fuzz"
run fuzz --target all --iterations "${FUZZ_ITERATIONS:-100000}" --seed "${FUZZ_SEED:-1}" --crash-dir build/fuzz-crashes || failed+=(fuzz)
echo

suite=${STENCIL_CONTAINERD:-sid}
if bin=$(scripts/containerd-release.sh "$suite"); then
  echo "== load, containerd $("$bin/containerd" --version | awk '{ print $3 }') ($suite)"
  PATH="$bin:$PATH" run load --cycles "${LOAD_CYCLES:-200}" --concurrent "${LOAD_CONCURRENT:-20}" || failed+=(load)
else
  failed+=("load (no containerd for $suite)")
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "run-reliability: failed: ${failed[*]}"
  exit 1
fi
echo "run-reliability: all passed"
