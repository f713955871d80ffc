#!/usr/bin/env bash
# The main job: the default rpycbench run with the Python peers beside the .NET targets, three
# interleaved runs (medians with 95 % intervals), 60 connections per connection figure (20 a run: a
# ForkingServer connection is a process start), within 3 minutes from a fresh clone on 2 cores.
# Installs the peers (python3-rpyc, python3-flask, wrk) when missing, then runs the CLI in Release.
# Extra arguments go to rpycbench, e.g. `bash scripts/bench.sh --quiet`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh
mkdir -p artifacts
exec dotnet run -c Release --project src/Rpyc.Bench.Cli -- --python --runs 3 --num-connections 60 -o artifacts/rpycbench.json --plots artifacts/plots "$@"
