# shellcheck shell=bash
# bench/blk/guest.sh: shared by bench/blk/run and bench/net/run (sourced).
# Boots the test guest (guest/vmlinuz, an initramfs = guest/initrd.img plus
# an appended cpio archive with the static load programs) under vmon
# --accel emu or QEMU -accel tcg, drives its serial console, samples the
# VMM's per-thread CPU time, and prints medians.

now() { date +%s%N; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }

# mk_initrd OUT FILE...: guest/initrd.img with FILE... appended as /bin/NAME
# (concatenated newc archives are one initramfs to the kernel).
mk_initrd() {
	local out=$1 d
	shift
	d=$(mktemp -d)
	mkdir -p "$d/bin"
	cp "$@" "$d/bin/"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip) >"$d.cpio.gz"
	cat "$GUEST/initrd.img" "$d.cpio.gz" >"$out"
	rm -rf "$d" "$d.cpio.gz"
}

# vm_start NAME VMM ARGS...: starts VMM (vmon|qemu) with the kernel, $INITRD,
# $MEM, $CPUS and the device ARGS already in that VMM's syntax; console on
# $W/NAME.out, typed input through fd 7; the pid in $vm_pid.
vm_start() {
	local name=$1 vmm=$2
	shift 2
	local append="console=ttyS0 panic=-1 quiet"
	rm -f "$W/in"
	mkfifo "$W/in"
	vm_out=$W/$name.out
	if [ "$vmm" = vmon ]; then
		"$VMON" run --accel emu --cpus "$CPUS" --mem "$MEM" --kernel "$GUEST/vmlinuz" \
			--initrd "$INITRD" "$@" --append "$append" <"$W/in" >"$vm_out" 2>"$W/$name.err" &
	else
		qemu-system-x86_64 -accel tcg -smp "$CPUS" -m "$MEM" -nodefaults -display none \
			-serial stdio -no-reboot -kernel "$GUEST/vmlinuz" -initrd "$INITRD" "$@" \
			-append "$append" <"$W/in" >"$vm_out" 2>"$W/$name.err" &
	fi
	vm_pid=$!
	exec 7>"$W/in"
	vm_seq=0
	vm_wait '^vmon-guest: boot marker' 300 || return 1
	sleep 1
}

# vm_wait REGEX SECONDS: 0 once a console line matches (CRs removed).
vm_wait() {
	local t0=$SECONDS
	until tr -d '\r' <"$vm_out" | grep -a -q -E "$1"; do
		kill -0 "$vm_pid" 2>/dev/null || return 1
		[ $((SECONDS - t0)) -ge "$2" ] && return 1
		sleep 0.2
	done
}

# vm_run SECONDS CMD: types CMD, waits (at most SECONDS) for its output and
# leaves its first line in $vm_reply. Lines are tagged "OUT<n>" so the
# console's echo of the command never matches.
vm_run() {
	vm_seq=$((vm_seq + 1))
	printf 'echo OUT%d $(%s 2>&1 | tr "\\n" " ")\n' "$vm_seq" "$2" >&7
	vm_reply=
	vm_wait "^OUT$vm_seq( |\$)" "$1" || return 1
	vm_reply=$(tr -d '\r' <"$vm_out" | grep -a -E "^OUT$vm_seq( |\$)" | head -1 | sed "s/^OUT$vm_seq *//")
}

# vm_stop: poweroff, then SIGKILL after 60 s.
vm_stop() {
	printf 'poweroff -f\n' >&7
	for _ in $(seq 60); do kill -0 "$vm_pid" 2>/dev/null || break; sleep 1; done
	kill -KILL "$vm_pid" 2>/dev/null
	exec 7>&-
	wait "$vm_pid" 2>/dev/null
}

# cpu_snap PID: "tid ticks" per thread (utime + stime, clock ticks).
cpu_snap() {
	local f
	for f in /proc/"$1"/task/*/stat; do
		awk '{ sub(/^.*\) /, ""); print FILENAME, $12 + $13 }' "$f" 2>/dev/null
	done | sed -E 's|/proc/[0-9]+/task/([0-9]+)/stat|\1|'
}
# cpu_split BEFORE AFTER WALL_NS: "busiest% rest%": the busiest thread's CPU
# time over the interval (under emu/TCG: the vCPU thread running the guest's
# code in software), and all other threads together (I/O, timers, workers),
# each as a percentage of wall time.
cpu_split() {
	local hz
	hz=$(getconf CLK_TCK)
	# threads born during the interval (QEMU's workers) count from 0
	join -a 2 -e 0 -o 0,1.2,2.2 <(sort "$1") <(sort "$2") | awk -v hz="$hz" -v wall="$3" '
		{ d = $3 - $2; tot += d; if (d > max) max = d }
		END { s = wall / 1e9; printf "%.0f %.0f\n", 100 * max / hz / s, 100 * (tot - max) / hz / s }'
}
