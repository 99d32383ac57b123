/* SPDX-License-Identifier: MIT */
/*
 * Whole-file reads and crash-atomic replacement of state files
 * (include/statefile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "errcode.h"
#include "statefile.h"

int
statefile_read(const char *path, struct buf *b)
{
	char chunk[65536];
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = ERR_IO;
			break;
		}
		if ((rc = buf_add(b, chunk, (size_t)n)) != 0)
			break;
	}
	close(fd);
	return rc;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL) {
		dir[0] = '.';
		dir[1] = '\0';
	} else {
		size_t n = (size_t)(slash - path);

		if (n == 0)
			n = 1;
		if (n >= sizeof(dir))
			return -1;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
statefile_replace(const char *path, const char *tmp, const void *data,
    size_t len, unsigned mode, int sync)
{
	char own[PATH_MAX];
	int fd, n, saved;

	if (tmp == NULL) {
		n = snprintf(own, sizeof(own), "%s.tmp", path);
		if (n < 0 || (size_t)n >= sizeof(own)) {
			errno = ENAMETOOLONG;
			return ERR_IO;
		}
		tmp = own;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    (mode_t)mode);
	if (fd < 0)
		return ERR_IO;
	/* the mode exactly, whatever the umask */
	if (fchmod(fd, (mode_t)mode) != 0 || write_all(fd, data, len) != 0 ||
	    (sync && fsync(fd) != 0)) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return ERR_IO;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return ERR_IO;
	}
	if (!sync)
		return 0;
	return fsync_dir_of(path) == 0 ? 0 : ERR_IO;
}

int
statefile_write(const char *path, const void *data, size_t len)
{
	return statefile_replace(path, NULL, data, len, 0600, 1);
}

int
statefile_write_nosync(const char *path, const void *data, size_t len)
{
	return statefile_replace(path, NULL, data, len, 0600, 0);
}

int
statefile_sync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ERR_IO;
	rc = fsync(fd);
	close(fd);
	return rc == 0 ? 0 : ERR_IO;
}

int
statefile_mkdir(const char *path)
{
	struct stat st;

	/* A new directory's name is made durable in its parent. */
	if (mkdir(path, 0700) == 0)
		return fsync_dir_of(path) == 0 ? 0 : ERR_IO;
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return ERR_IO;
}
