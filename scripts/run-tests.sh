#!/usr/bin/env bash
# Runs the tests against a matrix of containerd releases and ends with one plain line
# "N passed, N failed" over all of them.
#   - every test project with the containerd of STENCIL_CONTAINERD_FULL (default sid: 2.x, what users
#     run today);
#   - the smoke set (tests marked [Trait("Category", "Smoke")]: ctr run, exec, exit codes, a CRI pod with
#     an exec) with each release in STENCIL_CONTAINERD_SMOKE (default: bookworm's 1.6 and trixie's 1.7).
# A release is chosen by putting its folder first on PATH (scripts/containerd-release.sh fetches it from
# Debian's archive); the tests start whichever containerd and ctr they find first.
set -uo pipefail
cd "$(dirname "$0")/.."
full=${STENCIL_CONTAINERD_FULL:-sid}
smoke=${STENCIL_CONTAINERD_SMOKE:-bookworm trixie}
smoke_projects=(tests/Stencil.EndToEnd.Tests tests/Stencil.Cri.Tests)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

total_passed=0
total_failed=0
rc=0
matrix=()
failures=()

# run SUITE LABEL dotnet-test-arguments...: one dotnet test with SUITE's containerd first on PATH.
run() {
  local suite=$1 label=$2 bin version passed failed code
  shift 2
  if ! bin=$(scripts/containerd-release.sh "$suite"); then
    echo "run-tests: no containerd for $suite"
    matrix+=("$suite: containerd not available")
    rc=1
    return
  fi
  version=$("$bin/containerd" --version | awk '{ print $3 }')
  echo "== containerd $version ($suite, $bin): $label"
  : > "$log"
  # -m:1: one test assembly at a time. Several of them boot VMs under TCG; on 2 cores, running them side
  # by side makes every VM slow enough to hit timeouts, and the sum is no faster.
  # The console logger at "minimal" prints each failed test's message, stack and output (and nothing for
  # passing ones): CI keeps only this output.
  PATH="$bin:$PATH" dotnet test "$@" -c "${CONFIG:-Release}" --no-build --verbosity quiet \
    --logger "console;verbosity=minimal" -m:1 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
  failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
  if [ "$code" -ne 0 ]; then
    rc=$code
    [ "$failed" -ne 0 ] || echo "dotnet test exited $code"
  fi
  # A filter that matched nothing is a broken matrix, not a pass.
  if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
    echo "run-tests: $label ran no test"
    rc=1
  fi
  # The names of failed tests and the first lines of their messages go into the summary too: CI keeps
  # only the end of this output.
  while IFS= read -r line; do
    failures+=("$line")
  done < <(awk -v suite="$suite" '
    /^[ \t]*Failed [A-Za-z_][A-Za-z0-9_.]*/ { sub(/^[ \t]+/, ""); print suite ": " $0; inmsg = 0; n = 0; next }
    /^[ \t]*Error Message:/ { inmsg = 1; next }
    /^[ \t]*(Stack Trace:|Standard Output Messages:)/ { inmsg = 0; next }
    inmsg && n < 8 { sub(/^[ \t]+/, ""); print "    " substr($0, 1, 400); n++ }
  ' "$log")
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  matrix+=("containerd $version ($suite) $label: $passed passed, $failed failed")
}

run "$full" "full suite" Runtime.sln
for suite in $smoke; do
  [ "$suite" != "$full" ] || continue
  for project in "${smoke_projects[@]}"; do
    run "$suite" "smoke $(basename "$project")" "$project" --filter "Category=Smoke"
  done
done

echo
echo "test matrix:"
printf '  %s\n' "${matrix[@]}"
if [ ${#failures[@]} -gt 0 ]; then
  echo
  echo "failed tests:"
  printf '  %s\n' "${failures[@]}"
fi
echo
echo "tests: ${total_passed} passed, ${total_failed} failed"
exit "$rc"
