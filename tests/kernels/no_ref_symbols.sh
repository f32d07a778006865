#!/bin/sh
# Checks that the kapitza executable carries none of the test references:
# no function defined by the reference library (exact diagonalisation,
# free fermions, state vector -> MPS) may be present in it.
#   no_ref_symbols.sh NM REF_LIBRARY EXECUTABLE
# The symbol list comes from the library itself, so a new reference
# function is covered without editing this file.
set -u
nm=$1 lib=$2 exe=$3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
"$nm" -g --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort -u \
	>"$tmp/ref" || exit 1
"$nm" --defined-only "$exe" | awk '{ print $3 }' | sort -u >"$tmp/exe" ||
	exit 1
# the check means something only if both lists are what they claim to be
for s in ed_create ff_create mps_create_from_vector; do
	grep -qx "$s" "$tmp/ref" ||
		{ echo "$lib lacks $s: not the reference library?"; exit 1; }
done
grep -qx tebd_run "$tmp/exe" ||
	{ echo "$exe lacks tebd_run: not kapitza, or stripped?"; exit 1; }
comm -12 "$tmp/ref" "$tmp/exe" >"$tmp/bad"
if [ -s "$tmp/bad" ]; then
	echo "reference symbols in $exe:"
	cat "$tmp/bad"
	exit 1
fi
echo "none of $(wc -l <"$tmp/ref") reference functions among" \
	"$(wc -l <"$tmp/exe") symbols of $exe"
