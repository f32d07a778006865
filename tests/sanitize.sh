#!/bin/bash
# sanitize.sh: the default suite again, in a build with AddressSanitizer and
# UndefinedBehaviorSanitizer (meson's b_sanitize option; suite long).  Any
# sanitizer report fails the test that triggered it (halt_on_error).  Leak
# checking is off: Open MPI and HDF5 keep allocations until exit.
#   usage: sanitize.sh SOURCE_ROOT BUILD_ROOT
set -uo pipefail
SRC=$1 SB="$2/sanitize-build"
if [ ! -f "$SB/build.ninja" ]; then
	meson setup "$SB" "$SRC" -Dwerror=true \
		-Db_sanitize=address,undefined >/dev/null || exit 1
fi
ninja -C "$SB" >/dev/null || exit 1
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# OpenBLAS's SSE3 kernels: its AVX2/AVX-512 ones (0.3.21) read past the end
# of buffers, ScaLAPACK's internal ones included, which kapitza cannot pad
# (psvd_n1 segfaults so under ASan's allocator).  test_blas_pad checks
# kapitza's own buffers against those reads on every kernel set.
export OPENBLAS_CORETYPE=Prescott
# the sanitizers slow the kernels 2-4x: stretch the timeouts
meson test -C "$SB" --no-suite long --num-processes 1 --timeout-multiplier 4 \
	--print-errorlogs | tail -15
