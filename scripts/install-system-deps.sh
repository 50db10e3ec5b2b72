#!/usr/bin/env bash
# Installs the Debian packages that Saldo's integration tests start for real.
# Runs as root on a fresh machine (CI); elsewhere it says what is missing and leaves the
# decision to skip those tests to the test suite (tests/conftest.py).
set -euo pipefail

packages=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null || packages+=(postgresql)
# Kannel: bearerbox and smsbox come with kannel, the fake SMS centre with kannel-extras.
if [ ! -x /usr/sbin/bearerbox ] || [ ! -x /usr/sbin/smsbox ] || [ ! -x /usr/lib/kannel/test/fakesmsc ]; then
    packages+=(kannel kannel-extras)
fi
# jq: docs/cli.md's scripting examples use it, and a test runs them.
command -v jq > /dev/null || packages+=(jq)
# Chromium: the portal's browser journeys drive Debian's own build through Playwright.
# Its fonts: Noto CJK for Chinese pages, DejaVu for the rest.
command -v chromium > /dev/null || packages+=(chromium)
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || packages+=(fonts-noto-cjk)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || packages+=(fonts-dejavu-core)
# The hotline: SIPp places the test calls (and plays RFC 2833 DTMF from its pcaps), espeak-ng
# speaks the prompts and sox makes them 8 kHz telephone audio.
command -v sipp > /dev/null || packages+=(sip-tester)
command -v espeak-ng > /dev/null || packages+=(espeak-ng)
command -v sox > /dev/null || packages+=(sox)

if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get > /dev/null; then
    echo "install-system-deps: not root or no apt-get; missing: ${packages[*]} (their tests will be skipped)" >&2
    exit 0
fi
echo "install-system-deps: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
# The packages must not start their services: the tests start their own, on loopback only
# (Debian's kannel would otherwise run its example configuration on every interface).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" > /dev/null
