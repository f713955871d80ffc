#!/usr/bin/env bash
# The main job: the default rpycbench run with the Python peers beside the .NET targets.
# Installs the peers (python3-rpyc, python3-flask, wrk) when missing, then runs the CLI in Release.
# Extra arguments go to rpycbench, e.g. `bash scripts/bench.sh --quiet`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh
mkdir -p artifacts
exec dotnet run -c Release --project src/Rpyc.Bench.Cli -- --python -o artifacts/rpycbench.json --plots artifacts/plots "$@"
