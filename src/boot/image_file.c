#include "boot/image_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

int image_file_read(const char *what, const char *path, uint64_t max_size, struct image_file *out)
{
	memset(out, 0, sizeof(*out));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		log_error("%s %s: %s", what, path, strerror(e));
		return -e;
	}
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		log_error("%s %s: %s", what, path, strerror(-r));
	} else if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		log_error("%s %s: is a directory, not an image file", what, path);
	} else if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		log_error("%s %s: not a regular file", what, path);
	} else if (st.st_size == 0) {
		r = -ENODATA;
		log_error("%s %s: file is empty", what, path);
	} else if ((uint64_t)st.st_size > max_size) {
		r = -EFBIG;
		log_error("%s %s: %lld bytes do not fit in guest RAM (%llu bytes)", what, path,
			  (long long)st.st_size, (unsigned long long)max_size);
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	out->size = (size_t)st.st_size;
	out->data = malloc(out->size);
	if (!out->data) {
		close(fd);
		log_error("%s %s: out of memory for %zu bytes", what, path, out->size);
		return -ENOMEM;
	}
	size_t done = 0;
	while (done < out->size) {
		ssize_t n = read(fd, out->data + done, out->size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			log_error("%s %s: read failed: %s", what, path, n < 0 ? strerror(-r) : "file shrank");
			close(fd);
			image_file_free(out);
			return r;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

void image_file_free(struct image_file *f)
{
	free(f->data);
	f->data = NULL;
	f->size = 0;
}
