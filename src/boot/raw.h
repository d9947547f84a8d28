/* --raw: a flat binary loaded at --addr and entered at --entry. */
#ifndef VMON_BOOT_RAW_H
#define VMON_BOOT_RAW_H

struct vm;

int raw_load(struct vm *vm);

#endif
