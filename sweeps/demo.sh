#!/bin/bash
# demo.sh: the README's main job on a fresh machine -- install what is
# missing, build, run the small default sweep (sweeps/demo.yaml) under
# mpirun on 2 ranks, show its status table, fit the light cones (window
# 12 <= t <= 20: the demo stops at t = 20) and draw the paper's figures.
# Output: demo/demo.h5 and demo/figures/*.png.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p demo
mpirun --oversubscribe -n 2 build/engine/kapitza run sweeps/demo.yaml \
	-o demo/demo.h5 --force || echo "demo: some points did not finish (see the table)"
build/engine/kapitza status demo/demo.h5
build/engine/kapitza fit demo/demo.h5 --window 12:20 || echo "demo: some fits not done (see above)"
build/engine/kapitza plot demo/demo.h5 -o demo/figures
ls demo/figures/*.png
