#!/usr/bin/env bash
# The attack table of issue 14, redone (a figure-taking tool, not a test): builds rpycbench in
# Release, then runs every attack of the issue's table against `rpycbench serve rpyc_threaded` and
# `rpycbench serve rpyc_forking`, each started afresh under DOTNET_GCHeapHardLimit=768 MiB, and prints
# a Markdown table (peak RSS and CPU of the server's process tree, a fresh client's ping during and
# after each attack, whether the server survived), then the two rpycbench-under-faults rows.
# Takes about 5 minutes; every attack has a time limit and every process started is stopped.
#
#   bash scripts/attack-table.sh                          # everything
#   bash scripts/attack-table.sh --targets rpyc_forking --only idle150,bomb10 --skip-rpycbench
#   bash scripts/attack-table.sh --no-build ...           # use the rpycbench already built
#
# The attacks are a Python script run by Debian's /usr/bin/python3: raw sockets, zlib and rpyc's own
# brine make hostile frames in a few lines each, python3-rpyc is the real client the download()
# attack needs, and /proc gives the process tree's figures without a build step.
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
if [[ "${1:-}" == "--no-build" ]]; then
    build=0
    shift
fi
if ! /usr/bin/python3 -c "import rpyc" 2>/dev/null; then
    bash scripts/install-peers.sh
fi
if [[ $build == 1 ]]; then
    dotnet build src/Rpyc.Bench.Cli/Rpyc.Bench.Cli.csproj -c Release -v quiet -nologo >&2
fi
cli=src/Rpyc.Bench.Cli/bin/Release/net10.0/rpycbench.dll
if [[ ! -f $cli ]]; then
    echo "attack-table: $cli is missing; run without --no-build." >&2
    exit 2
fi
exec /usr/bin/python3 scripts/attack-table.py --cli "$cli" "$@"
