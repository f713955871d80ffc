#!/usr/bin/env bash
# Installs the real peers the tests and benchmarks talk to: Debian's rpyc 5.3.0 and Flask, run by
# /usr/bin/python3 (another python3 may come first on PATH and cannot import them), wrk, the
# independent HTTP load generator the suite checks its own client against, and chromium, the
# headless browser the HTML report's test renders the page in, and Debian's OpenSSH server, which the
# --remote-host tests start on 127.0.0.1 with keys of their own, and clang, which NativeAOT needs for
# rpyc_forking's worker (scripts/bench.sh publishes it).
set -euo pipefail
if /usr/bin/python3 -c "import rpyc, flask" 2>/dev/null && command -v wrk >/dev/null && command -v chromium >/dev/null && [ -x /usr/sbin/sshd ] && command -v clang >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-rpyc python3-flask wrk chromium openssh-server clang >/dev/null
/usr/bin/python3 -c "import rpyc; print('python peers: rpyc', rpyc.__version__)"
