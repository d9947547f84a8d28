#!/usr/bin/env bash
# Linux guest tests: boot Debian's cloud kernel with the busybox initramfs of
# tools/mkguest to its boot marker, type commands into its shell through the
# console, and check what it prints and how vmon exits.
#   tests/linux/run.sh ENGINE VMLINUZ INITRD      (ENGINE: kvm or emu)
# LINUX_CPUS (default "1 2") lists the vCPU counts to boot with; LINUX_PANIC=0
# leaves out the kernel-panic case.
set -u
ENGINE=$1 KERNEL=$2 INITRD=$3
BUILD=${BUILD:-build}
VMON=${VMON:-$BUILD/vmon}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
MARKER="vmon-guest: boot marker"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# boot NAME "COMMANDS" vmon-args...: boots, waits for the marker, types the
# commands, waits for vmon to end; leaves $TMP/NAME.out and the status in $st.
boot() {
	local name=$1 cmds=$2 i
	shift 2
	rm -f "$TMP/in"
	mkfifo "$TMP/in"
	"$VMON" run --accel "$ENGINE" --kernel "$KERNEL" --initrd "$INITRD" "$@" <"$TMP/in" >"$TMP/$name.out" \
		2>"$TMP/$name.err" &
	local pid=$!
	exec 7>"$TMP/in"
	local t0=$SECONDS
	until grep -q "$MARKER" "$TMP/$name.out" 2>/dev/null; do
		if ! kill -0 $pid 2>/dev/null || [ $((SECONDS - t0)) -ge "$BOOT_TIMEOUT" ]; then
			break
		fi
		sleep 1
	done
	boot_s=$((SECONDS - t0))
	# The shell needs a moment after the marker to print its prompt.
	sleep 2
	printf '%s\n' "$cmds" >&7
	for i in $(seq "$BOOT_TIMEOUT"); do kill -0 $pid 2>/dev/null || break; sleep 1; done
	kill -KILL $pid 2>/dev/null
	exec 7>&-
	wait $pid
	st=$?
}

check() { # check DESC PATTERN FILE
	if grep -q -E "$2" "$3"; then
		ok "$1"
	else
		bad "$1 (no /$2/ in the output)"
		grep -E "^(NPROC|MEM|CS|YEAR)=" "$3" | sed 's/^/     /'
		tail -3 "$3" | sed 's/^/     /'
	fi
}

for cpus in ${LINUX_CPUS:-1 2}; do
	boot "smp$cpus" 'echo "NPROC=$(nproc)"; echo "MEM=$(free -m | awk "/Mem:/ { print \$2 }")"; echo "CS=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"; echo "YEAR=$(date +%Y)"; poweroff' \
		--cpus $cpus --mem 256M --append "console=ttyS0"
	out=$TMP/smp$cpus.out
	check "[$ENGINE] --cpus $cpus: boot marker (${boot_s}s)" "$MARKER" "$out"
	check "[$ENGINE] --cpus $cpus: nproc is $cpus" "NPROC=$cpus" "$out"
	check "[$ENGINE] --cpus $cpus: memory about 256 MiB" "MEM=(19|2[0-5])[0-9]" "$out"
	check "[$ENGINE] --cpus $cpus: clock source is not jiffies" "CS=(tsc|kvm-clock|acpi_pm|hpet)" "$out"
	check "[$ENGINE] --cpus $cpus: the RTC gives this year" "YEAR=$(date -u +%Y)" "$out"
	if [ "$st" -eq 0 ]; then ok "[$ENGINE] --cpus $cpus: poweroff -> status 0"; else bad "[$ENGINE] --cpus $cpus: status $st after poweroff"; tail -3 "$TMP/smp$cpus.err" | sed 's/^/     /'; fi
done

boot reboot 'reboot' --mem 128M --append "console=ttyS0"
if [ "$st" -eq 0 ]; then ok "[$ENGINE] reboot -> status 0"; else bad "[$ENGINE] reboot: status $st"; fi

if [ "${LINUX_PANIC:-1}" = 1 ]; then
	boot panic 'echo c > /proc/sysrq-trigger' --mem 128M --append "console=ttyS0 panic=-1"
	if [ "$st" -eq 0 ] || [ "$st" -eq 4 ]; then ok "[$ENGINE] kernel panic with panic=-1: vmon exits (status $st)";
	else bad "[$ENGINE] panic: status $st"; fi
fi

echo "linux: $pass passed, $fail failed"
[ $fail -eq 0 ]
