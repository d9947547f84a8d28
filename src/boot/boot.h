/* Loading the guest: picks the loader for --raw or --kernel and leaves guest
 * memory filled and vm->boot_state ready. Errors are logged as one line
 * naming the file and the reason; the caller turns them into status 2. */
#ifndef VMON_BOOT_BOOT_H
#define VMON_BOOT_BOOT_H

struct vm;

int boot_load(struct vm *vm);

#endif
