#!/usr/bin/env bash
# Installs the Python peers, builds, runs every test project, and prints one summary line
# "N passed, N failed, N skipped" (CI reads it; dotnet test's own summary is per project).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh || { echo "could not install the Python peers"; echo "0 passed, 1 failed"; exit 1; }
results=artifacts/test-results
rm -rf "$results"
dotnet build Rpyc.slnx -c Release -nologo -v q || { echo "0 passed, 1 failed"; exit 1; }
# One run per test project, each with its own results file: counts cannot collide.
status=0
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" -c Release --no-build -nologo -v q \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" --results-directory "$results" || status=1
done
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then echo "no test ran"; failed=1; status=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
