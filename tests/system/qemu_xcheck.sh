#!/usr/bin/env bash
# Runs the task-switch and debug-register guests under QEMU's TCG as a second
# opinion on their expected outputs: taskswitch.prot32.S assembled as a
# Multiboot kernel (-DMULTIBOOT, at 1 MiB), debugreg.long64 inside
# mbwrap64.S (the Multiboot wrapper that enters a long64 binary as vmon does). Prints how many leading lines agree with
# tests/system/expected/ and the diff after them. Not part of tests/run.sh:
# QEMU is optional here (apt-get install qemu-system-x86).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
QEMU=${QEMU:-qemu-system-x86_64}
command -v "$QEMU" >/dev/null || { echo "SKIP qemu_xcheck: $QEMU not installed"; exit 0; }
T=$(mktemp -d)
AS="gcc -m32 -Wl,-m,elf_i386 -Itests/guests -nostdlib -ffreestanding -fno-pic -no-pie -Wl,--no-warn-rwx-segments -Wl,--build-id=none"
$AS -DMULTIBOOT -Wl,-Ttext=0x100000 -o "$T/ts.elf" tests/guests/taskswitch.prot32.S || exit 1
make -s BUILD="$BUILD" "$BUILD/guests/debugreg.long64.bin" || exit 1
$AS -Wl,-Ttext=0x100000 -Wl,-N -DPAYLOAD="\"$BUILD/guests/debugreg.long64.bin\"" -o "$T/dr.elf" \
	tests/system/mbwrap64.S || exit 1
run() { # run NAME KERNEL
	timeout 60 "$QEMU" -accel tcg -display none -monitor none -serial stdio -m 256 \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$2" >"$T/$1.out" 2>"$T/$1.err" </dev/null
	local st=$? exp=tests/system/expected/$1.out
	local n=0 total
	total=$(wc -l <"$exp")
	while [ $n -lt "$total" ] && [ "$(sed -n "$((n + 1))p" "$exp")" = "$(sed -n "$((n + 1))p" "$T/$1.out")" ]; do
		n=$((n + 1))
	done
	echo "$1: QEMU TCG status $st; lines 1-$n of $total agree with $exp"
	diff "$exp" "$T/$1.out" | sed 's/^/    /'
}
run taskswitch.prot32 "$T/ts.elf"
run debugreg.long64 "$T/dr.elf"
rm -rf "$T"
