#!/bin/sh
# Debian's chromium and chromium-driver for the explorer's browser tests (tests/explorer). Idempotent:
# does nothing when both are installed. No browser download from anywhere else.
set -eu
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q chromium chromium-driver
