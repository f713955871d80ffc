#!/usr/bin/env bash
# The main job: the default rpycbench run with the Python peers beside the .NET targets, three
# interleaved runs (medians with 95 % intervals), 60 connections per connection figure (20 a run: a
# ForkingServer connection is a process start), wrk and our clients' sustained load 1 s each (the
# NativeAOT worker's publish below costs its time), within 3 minutes from a fresh clone on 2 cores.
# Installs the peers (python3-rpyc, python3-flask, wrk) when missing, then runs the CLI in Release.
# Extra arguments go to rpycbench, e.g. `bash scripts/bench.sh --quiet`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh
mkdir -p artifacts
# Built to be measured, not reviewed: no NuGet vulnerability audit (it asks nuget.org on every
# restore: the NativeAOT publish's took 25.7 s with it, 4.7 s without), no analyzers, code-style
# checks or XML docs (33 -> 27 s from a fresh clone). The tests' build (.ci/run) does all of them.
# The compiler server on, as a developer's machine has it (some CI images turn it off with
# UseSharedCompilation=false; one compiler JIT-warmed once for the six projects: 23-33 -> 18 s), and
# stopped before the suite, which must not share the machine with it.
BUILD_FLAGS=(-p:NuGetAudit=false -p:RunAnalyzers=false -p:EnforceCodeStyleInBuild=false -p:GenerateDocumentationFile=false -p:UseSharedCompilation=true)
dotnet build -c Release src/Rpyc.Bench.Cli -v q --nologo "${BUILD_FLAGS[@]}"
# rpyc_forking's worker compiled with NativeAOT (src/Rpyc.Bench.Worker), after the CLI's build so both
# come from the same sources: a worker start is then ~20 ms of CPU instead of a runtime start and JIT
# (~200 ms). Without it (no clang) the suite runs the JIT rpyc-worker.dll. Its trim and AOT analysis
# warnings are known and explained in its project (Rpyc's reflection binder); the main job does not
# print them (ten lines of 400-1,100 characters each). Without native debug information
# (NativeDebugSymbols=false: the same stripped 4.9 MB worker, no .dbg beside it; its exceptions keep
# their method names, which NativeAOT's stack trace data in the binary holds): published in 19.0 and
# 21.2 s against 21.4 and 22.1 from fresh clones. Not DebugType=none, which also dropped the libraries'
# PDBs: their build then differed from the CLI's, and every later run compiled both again (169 s).
dotnet publish src/Rpyc.Bench.Worker -c Release -o src/Rpyc.Bench.Cli/bin/Release/net10.0/aot-worker -v q --nologo "${BUILD_FLAGS[@]}" \
    -p:SuppressTrimAnalysisWarnings=true -p:SuppressAotAnalysisWarnings=true -p:NativeDebugSymbols=false \
  || { rm -rf src/Rpyc.Bench.Cli/bin/Release/net10.0/aot-worker  # an older one left there would be used instead
       echo "bench.sh: the NativeAOT worker did not build (it needs clang); rpyc_forking runs the JIT rpyc-worker.dll" >&2; }
dotnet build-server shutdown --vbcscompiler > /dev/null 2>&1 || true
exec dotnet src/Rpyc.Bench.Cli/bin/Release/net10.0/rpycbench.dll --python --runs 3 --num-connections 60 --wrk-seconds 1 -o artifacts/rpycbench.json --plots artifacts/plots "$@"
