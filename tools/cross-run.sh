#!/bin/sh
# cross-run.sh QEMU PROBE PROGRAM [ARGS...]
# Runs PROGRAM natively when this kernel can execute PROBE (a trivial program
# built for the same target: i386 on an x86-64 kernel without IA-32
# emulation cannot be), else under the qemu-user emulator QEMU. A kernel that
# cannot execute a binary makes the shell read it as a script ("Syntax
# error"), so the probe is tried first rather than reading the program's own
# exit status.
qemu=$1
probe=$2
shift 2
if "$probe" >/dev/null 2>&1; then
    exec "$@"
fi
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "cross-run: this kernel cannot run $(basename "$1") and $qemu (Debian qemu-user) is not installed" >&2
    exit 1
fi
echo "cross-run: this kernel cannot run $(basename "$1") natively: running it under $qemu" >&2
exec "$qemu" "$@"
