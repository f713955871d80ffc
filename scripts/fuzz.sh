#!/usr/bin/env bash
# Coverage-guided fuzzing of the brine loader, the frame reader and message dispatch:
# SharpFuzz instruments Rpyc.dll and AFL++ (Debian's afl++) drives it.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS (default 60) is the fuzzing time of the whole run, shared evenly by the targets
# (default: brine frame dispatch). Seeds come from tests/vectors (the Python reference's golden
# bytes) plus fuzz/Rpyc.Fuzz/corpus/TARGET/ (inputs that once failed). Work goes to
# artifacts/fuzz/ (findings/TARGET/default/queue holds what each run found, until the next run).
#
# Exit codes: 0 nothing found; 1 a crash or hang was found (each input is printed in hex with
# the exception it throws); 2 bad usage; 3 the tools could not be installed or built.
# FUZZ_REPLAY_ONLY=1 skips AFL++ and only replays the seeds: a regression check, not fuzzing.
set -euo pipefail

usage() {
    echo "usage: scripts/fuzz.sh [SECONDS] [brine|frame|dispatch ...]" >&2
    exit 2
}

seconds=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
[[ $seconds -ge 3 ]] || usage
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(brine frame dispatch)
for t in "${targets[@]}"; do
    [[ $t == brine || $t == frame || $t == dispatch ]] || usage
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$root/artifacts/fuzz
build=$root/fuzz/Rpyc.Fuzz/bin/Release/net10.0
started=$SECONDS

log() { echo "fuzz [$(( SECONDS - started ))s]: $*"; }
fail_setup() { echo "fuzz: $*" >&2; exit 3; }

# 1. Tools. Both installs are no-ops once done.
if [[ ${FUZZ_REPLAY_ONLY:-0} != 1 ]] && ! command -v afl-fuzz >/dev/null; then
    log "installing afl++ (Debian package)"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq afl++ >/dev/null; } \
        || fail_setup "could not install afl++; FUZZ_REPLAY_ONLY=1 replays the seeds without fuzzing"
fi
(cd "$root/fuzz" && dotnet tool restore >/dev/null) || fail_setup "dotnet tool restore (SharpFuzz.CommandLine) failed"

# 2. Build, then instrument a fresh copy: sharpfuzz rewrites Rpyc.dll in place and refuses to do it twice.
log "building fuzz/Rpyc.Fuzz"
mkdir -p "$work"
dotnet build "$root/fuzz/Rpyc.Fuzz/Rpyc.Fuzz.csproj" -c Release -nologo -v quiet >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; fail_setup "build failed"; }
rm -rf "$work/bin" "$work/seeds" "$work/findings"
cp -r "$build" "$work/bin"
harness=(dotnet "$build/Rpyc.Fuzz.dll")
dotnet "$build/Rpyc.Fuzz.dll" --seed-corpus "$work/seeds" "$root/tests/vectors" >/dev/null
for t in "${targets[@]}"; do
    if [[ -d $root/fuzz/Rpyc.Fuzz/corpus/$t ]]; then
        cp "$root/fuzz/Rpyc.Fuzz/corpus/$t/"* "$work/seeds/$t/" 2>/dev/null || true
    fi
done

# 3. Every seed must pass before fuzzing starts (and this is all that FUZZ_REPLAY_ONLY does).
status=0
for t in "${targets[@]}"; do
    if ! "${harness[@]}" "$t" --replay "$work/seeds/$t"/*; then
        log "a seed of target $t fails (above)"
        status=1
    fi
done
if [[ ${FUZZ_REPLAY_ONLY:-0} == 1 ]]; then
    log "FUZZ_REPLAY_ONLY=1: replayed the seeds only, no fuzzing was done"
    exit $status
fi
[[ $status -eq 0 ]] || exit 1
(cd "$root/fuzz" && dotnet tool run sharpfuzz "$work/bin/Rpyc.dll" >/dev/null) || fail_setup "sharpfuzz could not instrument Rpyc.dll"

# 4. Fuzz each target for its share of the time.
export AFL_SKIP_BIN_CHECK=1          # the target is the dotnet host; the coverage hooks are in Rpyc.dll
export AFL_NO_UI=1
export AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_FAST_CAL=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1   # core_pattern belongs to the host, not to us
share=$(( seconds / ${#targets[@]} ))
total_execs=0
fuzzed=0
found=0
for t in "${targets[@]}"; do
    out=$work/findings/$t
    input=$work/seeds/$t
    mkdir -p "$out"
    log "target $t: ${share}s"
    rc=0
    # -V bounds the fuzzing; timeout bounds calibration and a wedged fork server on top of it.
    timeout --kill-after=10 $(( share + 60 )) \
        afl-fuzz -i "$input" -o "$out" -m none -t 2000 -V "$share" -- dotnet "$work/bin/Rpyc.Fuzz.dll" "$t" \
        >"$out/afl.log" 2>&1 || rc=$?
    stats=$out/default/fuzzer_stats
    if [[ $rc -ne 0 || ! -f $stats ]]; then
        # SharpFuzz's fork server dies on a timeout or an uncatchable exception (stack overflow):
        # the input it was running is .cur_input.
        log "afl-fuzz stopped with code $rc on target $t; last lines of its log:"
        tail -n 15 "$out/afl.log" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g'
        if [[ -f $out/default/.cur_input ]]; then
            echo "  input it was running: $(od -An -v -tx1 "$out/default/.cur_input" | tr -d ' \n')"
        fi
        found=1
        continue
    fi
    execs=$(awk -F': *' '$1 ~ /^execs_done/ {print $2}' "$stats")
    run_time=$(awk -F': *' '$1 ~ /^run_time/ {print $2}' "$stats")
    crashes=$(awk -F': *' '$1 ~ /^saved_crashes/ {print $2}' "$stats")
    hangs=$(awk -F': *' '$1 ~ /^saved_hangs/ {print $2}' "$stats")
    corpus=$(awk -F': *' '$1 ~ /^corpus_count/ {print $2}' "$stats")
    rate=$(( execs / (run_time > 0 ? run_time : 1) ))
    total_execs=$(( total_execs + execs ))
    fuzzed=$(( fuzzed + run_time ))
    log "target $t: $execs executions in ${run_time}s ($rate/s), corpus $corpus, crashes $crashes, hangs $hangs"
    for f in "$out/default/crashes"/id:*; do
        [[ -f $f ]] || continue
        found=1
        echo "  crash ${f##*/}: $(od -An -v -tx1 "$f" | tr -d ' \n')"
        "${harness[@]}" "$t" --replay "$f" | sed 's/^/    /' || true
    done
    # afl-fuzz counts as a hang any run over 2 s, which a loaded machine or the restart of the
    # target process can cause: a hang counts only if the input still runs for 30 s on its own.
    for f in "$out/default/hangs"/id:*; do
        [[ -f $f ]] || continue
        hex=$(od -An -v -tx1 "$f" | tr -d ' \n')
        rc=0
        timeout --kill-after=5 30 "${harness[@]}" "$t" --replay "$f" >/dev/null 2>&1 || rc=$?
        if [[ $rc -eq 124 || $rc -eq 137 ]]; then
            found=1
            echo "  hang ${f##*/} (still running after 30 s): $hex"
        elif [[ $rc -ne 0 ]]; then
            found=1
            echo "  hang ${f##*/} (crashes on replay): $hex"
            "${harness[@]}" "$t" --replay "$f" | sed 's/^/    /' || true
        else
            echo "  slow run ${f##*/} finished on replay, not counted: $hex"
        fi
    done
done

log "total: $total_execs executions in ${fuzzed}s of fuzzing ($(( total_execs / (fuzzed > 0 ? fuzzed : 1) ))/s), $(( SECONDS - started ))s wall time"
if [[ $found -ne 0 ]]; then
    log "FAILED: keep each input above under fuzz/Rpyc.Fuzz/corpus/TARGET/ and as a test in tests/Rpyc.Tests"
    exit 1
fi
log "no crash and no hang found"
