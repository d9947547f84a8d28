/* The virtio devices the command line asks for, each on its own PCI slot
 * with the modern transport (design.md: virtio devices sit on PCI). Part
 * of vm.c's wiring, in a file of its own. */
#ifndef VMON_VM_VIRTIO_H
#define VMON_VM_VIRTIO_H

struct vm;

/* Creates every --disk, --net, --rng ... device in slot order (disks,
 * then nets, then the others) and adds each to the device list. Errors are
 * logged; any failure means status 2. */
int vm_create_virtio(struct vm *vm);

#endif
