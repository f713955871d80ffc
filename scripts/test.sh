#!/usr/bin/env bash
# Installs the Python peers, builds, runs every test project, and prints one summary line
# "N passed, N failed, N skipped" (CI reads it; dotnet test's own summary is per project).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh || { echo "could not install the Python peers"; echo "0 passed, 1 failed"; exit 1; }
bash scripts/install-test-peers.sh || { echo "could not install the test peers"; echo "0 passed, 1 failed"; exit 1; }
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
# A bounded coverage-guided fuzz run (AFL++ + SharpFuzz) of brine, framing and dispatch: one more
# check that passes when it finds nothing. Its log stays in artifacts/fuzz.log.
fuzz_status=0
mkdir -p artifacts
echo "fuzzing (scripts/fuzz.sh ${FUZZ_SECONDS:-60})..."
bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}" > artifacts/fuzz.log 2>&1 || fuzz_status=$?
grep -E "^fuzz \[.*(executions|exec|found|crash|hang)" artifacts/fuzz.log | tail -8 || true
if [ "$fuzz_status" -ne 0 ]; then
  echo "fuzz run failed (exit $fuzz_status); the end of its log:"
  tail -40 artifacts/fuzz.log
fi
# The ForkingServer worker compiled with NativeAOT, as the main job runs it (scripts/bench.sh): code
# that works under the JIT can fail there (MethodInfo.MetadataToken, which NativeAOT lacks, once
# killed every worker at its start), and no test project runs that binary. One more check: publish
# it, then serve a short rpyc_forking run with it. Its log stays in artifacts/aot-worker.log.
aot_status=0
echo "NativeAOT worker check (publish, then a short rpyc_forking run)..."
{ dotnet publish src/Rpyc.Bench.Worker -c Release -o src/Rpyc.Bench.Cli/bin/Release/net10.0/aot-worker -v q --nologo \
    -p:SuppressTrimAnalysisWarnings=true -p:SuppressAotAnalysisWarnings=true -p:NativeDebugSymbols=false \
  && dotnet src/Rpyc.Bench.Cli/bin/Release/net10.0/rpycbench.dll --targets rpyc_forking --runs 1 --scenarios none --no-wrk \
    --payload-sizes 1K --num-connections 20 --min-phase-seconds 0.1 -q -o artifacts/aot-worker.json \
  && grep -q '"implementation": ".NET ForkingServer (NativeAOT worker' artifacts/aot-worker.json; } > artifacts/aot-worker.log 2>&1 || aot_status=1
if [ "$aot_status" -ne 0 ]; then
  echo "NativeAOT worker check failed; the end of its log:"
  tail -40 artifacts/aot-worker.log
fi
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
if [ "$fuzz_status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
if [ "$aot_status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then echo "no test ran"; failed=1; status=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
