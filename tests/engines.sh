# Sourced by the test scripts: which vmon engines this host can run.
# kvm_usable VMON BUILD: true when /dev/kvm opens and really runs a guest
# (the exitcode guest ends with status 255).
kvm_usable() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	timeout 60 "$1" run --accel kvm --raw "$2/guests/exitcode.prot32.bin" --mode prot32 >/dev/null 2>&1 </dev/null
	[ $? -eq 255 ]
}
# kvm_pvm: true when the host's KVM is kvm-pvm (software-assisted: guest
# ring 3 runs in host user mode, guest ring 0 is emulated).
kvm_pvm() { [ -d /sys/module/kvm_pvm ]; }
