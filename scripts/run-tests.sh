#!/usr/bin/env bash
# Runs every test project and ends with one plain line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# -m:1: one test assembly at a time. Several of them boot VMs under TCG; on 2 cores, running them side
# by side makes every VM slow enough to hit timeouts, and the sum is no faster.
# The console logger at "minimal" prints each failed test's message, stack and output (and nothing for
# passing ones): CI keeps only this output.
dotnet test Runtime.sln -c "${CONFIG:-Release}" --no-build --verbosity quiet --logger "console;verbosity=minimal" -m:1 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo
echo "tests: ${passed} passed, ${failed} failed"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then echo "dotnet test exited $rc"; fi
exit "$rc"
