/* --kernel: tells the image format by content (ELF, Multiboot, Linux bzImage)
 * and hands it to the matching loader. */
#ifndef VMON_BOOT_KERNEL_H
#define VMON_BOOT_KERNEL_H

struct vm;

int kernel_load(struct vm *vm);

#endif
