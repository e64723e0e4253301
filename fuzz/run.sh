#!/bin/sh
# Runs one libFuzzer harness with its fuzz/<name>.options, on its corpus.
#   fuzz/run.sh NAME SECONDS [extra libFuzzer flags...]
# The binary and corpus live under $BUILD (default build): $BUILD/fuzz/NAME and
# $BUILD/fuzz/corpus/NAME. Crash inputs go to $BUILD/fuzz/crashes/NAME/.
# The .options file is the ClusterFuzz format: a [libfuzzer] section of
# "key = value" lines, each becoming -key=value; dict is relative to fuzz/.
set -eu
name=$1
secs=$2
shift 2
build=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
base=$(echo "$name" | sed 's/_noalloc$//')
opts=$here/$base.options
flags=
if [ -f "$opts" ]; then
    flags=$(sed -n 's/^[[:space:]]*\([a-z_]*\)[[:space:]]*=[[:space:]]*\(.*[^[:space:]]\)[[:space:]]*$/-\1=\2/p' "$opts" |
            sed "s|^-dict=|-dict=$here/|")
fi
mkdir -p "$build/fuzz/corpus/$name" "$build/fuzz/crashes/$name"
# A variant (fuzz_decode_noalloc) also reads its base harness' corpus; new
# inputs go to the first directory, its own.
seeds=
[ "$base" = "$name" ] || seeds="$build/fuzz/corpus/$base"
# shellcheck disable=SC2086
exec "$build/fuzz/$name" $flags -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$build/fuzz/crashes/$name/" "$@" "$build/fuzz/corpus/$name" $seeds
