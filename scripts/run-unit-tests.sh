#!/usr/bin/env bash
# Runs the pure tests: the classes marked [Trait("Category", "Unit")], which start no QEMU, no containerd
# and no network namespace, and need nothing published (`make build` is enough). Meant to take well under
# a minute; ends with one plain line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The built assembly of every test project (tests/*.Tests), not Runtime.sln: the same tests are selected,
# but `dotnet test Runtime.sln` evaluates every project with MSBuild before it runs anything, which
# about doubles the time on a busy 2-core machine. The filter decides; an assembly without Unit tests
# costs only its discovery.
assemblies=()
for project in tests/*.Tests; do
  dll="$project/bin/${CONFIG:-Release}/net10.0/$(basename "$project").dll"
  [ -f "$dll" ] || { echo "run-unit-tests: $dll is missing (run \`make build\`)"; exit 1; }
  assemblies+=("$dll")
done

# The console logger at "minimal" prints each failed test's message, stack and output (and nothing for
# passing ones).
dotnet test "${assemblies[@]}" --verbosity quiet --logger "console;verbosity=minimal" \
  --filter "Category=Unit" 2>&1 | tee "$log"
code=${PIPESTATUS[0]}
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
# A filter that matched nothing is a broken selection, not a pass.
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "run-unit-tests: no test ran"
  code=1
fi
echo
echo "unit: ${passed} passed, ${failed} failed"
exit "$code"
