#!/usr/bin/env bash
# Installs the system libraries Qt needs offscreen and under a virtual display, and the PDF tools the tests
# use, when running as root on Debian/Ubuntu and something is missing. Elsewhere it only reports.
set -euo pipefail
PACKAGES=(libgl1 libegl1 libxkbcommon0 libglib2.0-0 libfontconfig1 libdbus-1-3
          xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
          libxcb-shape0 libxkbcommon-x11-0 poppler-utils qpdf sqlite3)
command -v dpkg-query >/dev/null 2>&1 || { echo "not Debian: install Qt's system libraries, poppler-utils and qpdf yourself"; exit 0; }
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages (install them as root): ${missing[*]}"
  exit 0
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
