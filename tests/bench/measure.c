/* SPDX-License-Identifier: MIT */
/*
 * measure: run a command and report its wall time and resource usage.
 *
 *   measure OUTFILE PROGRAM [ARG...]
 *
 * Writes "exit wall_us user_us sys_us maxrss_kb" to OUTFILE and exits
 * with the command's status.  It exists because Linux carries a process's
 * peak RSS across execve(): a command started straight from the Python
 * driver would report the driver's own peak (tens of MB) whenever its own
 * is lower.  Started from this small program, the figure is the
 * command's own.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long
us(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	pid_t pid;
	FILE *out;
	int status, rc, code;

	if (argc < 3) {
		fprintf(stderr, "usage: measure OUTFILE PROGRAM [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ)) !=
	    0) {
		fprintf(stderr, "measure: %s: %s\n", argv[2], strerror(rc));
		return 127;
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("measure: wait4");
			return 127;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if ((out = fopen(argv[1], "w")) == NULL) {
		perror("measure: output file");
		return 127;
	}
	fprintf(out, "%d %lld %lld %lld %ld\n", code,
	    (long long)(t1.tv_sec - t0.tv_sec) * 1000000 +
	        (t1.tv_nsec - t0.tv_nsec) / 1000,
	    us(&ru.ru_utime), us(&ru.ru_stime), ru.ru_maxrss);
	fclose(out);
	return code;
}
