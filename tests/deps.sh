#!/bin/bash
# deps.sh: install (once, quietly) every Debian package kapitza builds, tests
# and plots with (and, with --fuzz, what the fuzzers need).  Idempotent:
# does nothing when all are present.
set -euo pipefail
PKGS="build-essential pkg-config meson ninja-build git
 libopenblas-dev liblapacke-dev libopenmpi-dev openmpi-bin
 libhdf5-openmpi-dev hdf5-tools libscalapack-openmpi-dev libyaml-dev
 python3 python3-numpy python3-h5py python3-matplotlib"
# --fuzz: also clang and its libFuzzer/sanitizer runtimes (tests/fuzz/fuzz.sh)
[ "${1:-}" = "--fuzz" ] && PKGS="$PKGS clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing$missing" >&2
	SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq >/dev/null
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
