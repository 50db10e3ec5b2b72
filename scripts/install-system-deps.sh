#!/usr/bin/env bash
# Installs the Debian packages that Saldo's integration tests start for real.
# Runs as root on a fresh machine (CI); elsewhere it says what is missing and leaves the
# decision to skip those tests to the test suite (tests/conftest.py).
set -euo pipefail

packages=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null || packages+=(postgresql)

if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get > /dev/null; then
    echo "install-system-deps: not root or no apt-get; missing: ${packages[*]} (their tests will be skipped)" >&2
    exit 0
fi
echo "install-system-deps: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" > /dev/null
