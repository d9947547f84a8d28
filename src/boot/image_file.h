/* Reading a whole image file into memory, with the errors a user can act on. */
#ifndef VMON_BOOT_IMAGE_FILE_H
#define VMON_BOOT_IMAGE_FILE_H

#include <stddef.h>
#include <stdint.h>

struct image_file {
	uint8_t *data;
	size_t size;
};

/* Returns 0, or logs "<what> FILE: <why>" and returns -errno: missing or
 * unreadable file, a directory (-EISDIR), an empty file (-ENODATA), a file
 * larger than max_size (-EFBIG). */
int image_file_read(const char *what, const char *path, uint64_t max_size, struct image_file *out);
void image_file_free(struct image_file *f);

#endif
