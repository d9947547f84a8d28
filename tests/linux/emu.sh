#!/usr/bin/env bash
# `make linux`: the Linux guest tests under vmon's software CPU on this host.
# Builds the guest with tools/mkguest first (cached in $BUILD/guest; a cache
# without root.ext4 is from before the virtio drivers were loaded: rebuilt).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
G=$BUILD/guest
if [ ! -f "$G/vmlinuz" ] || [ ! -f "$G/initrd.img" ] || [ ! -f "$G/root.ext4" ]; then
	tools/mkguest "$G" >/dev/null || { echo "FAIL linux: tools/mkguest failed"; echo "linux: 0 passed, 1 failed"; exit 1; }
fi
st=0
env BUILD="$BUILD" tests/linux/run.sh emu "$G/vmlinuz" "$G/initrd.img" || st=1
env BUILD="$BUILD" tests/linux/console.sh emu "$G/vmlinuz" "$G/initrd.img" || st=1
env BUILD="$BUILD" tests/linux/virtio.sh emu "$G/vmlinuz" "$G/initrd.img" "$G/root.ext4" || st=1
env BUILD="$BUILD" tests/linux/net.sh "$G/vmlinuz" "$G/initrd.img" || st=1
env BUILD="$BUILD" tests/linux/vsock_console.sh emu "$G/vmlinuz" "$G/initrd.img" || st=1
exit $st
