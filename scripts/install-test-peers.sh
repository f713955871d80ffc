#!/usr/bin/env bash
# Installs what only the tests need beyond scripts/install-peers.sh (the main job does not):
# Debian's python3-locust, the distributed load engine `rpycbench locust` drives.
set -euo pipefail
if /usr/bin/python3 -c "import locust" 2>/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-locust >/dev/null
/usr/bin/python3 -c "import locust; print('locust installed')"
