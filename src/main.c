/* SPDX-License-Identifier: MIT */
/*
 * mdesiemd: pull Microsoft Defender for Endpoint detections and deliver
 * them to a SIEM over syslog.  Command line (ARCHITECTURE section 5),
 * signals and the single-instance lock on the state directory; the run
 * itself is daemon.c's.  Never forks: systemd supervises it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "errcode.h"
#include "http.h"
#include "log.h"
#include "replay.h"
#include "nap.h"
#include "notify.h"
#include "probe.h"
#include "statefile.h"
#include "status.h"

#ifndef MDESIEM_VERSION
#define MDESIEM_VERSION "0.0.0"
#endif

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_CONFIG 78

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;
static volatile sig_atomic_t counters_requested;
static volatile sig_atomic_t wake_requested; /* any of the above */

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGHUP:
		reload_requested = 1;
		break;
	case SIGUSR1:
		counters_requested = 1;
		break;
	default:
		stop_requested = 1;
		break;
	}
	wake_requested = 1;
}

struct options {
	const char *config_path;
	int once;
	int check_only;
	int verbose;
	int status;
	int test_connection;
	const char *tenant; /* --tenant NAME: --test-connection of one */
	const char *replay_from; /* --replay FROM */
	const char *replay_until; /* --until TO */
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: mdesiemd [-c FILE] [--once] [-n | --check-config] "
	    "[--test-connection [--tenant NAME]]\n"
	    "                [--replay FROM [--until TO] [--tenant NAME]]\n"
	    "                [--status] [-v | --verbose] [-V | --version] "
	    "[-h | --help]\n"
	    "\n"
	    "  -c FILE          configuration file (default %s)\n"
	    "  --once           run one complete cycle, deliver everything, "
	    "exit\n"
	    "  -n, --check-config\n"
	    "                   check the configuration and exit (0 or 78)\n"
	    "  --test-connection\n"
	    "                   sign in, read one record, connect to the "
	    "collector; report each step, for every tenant\n"
	    "  --replay FROM    send again what was updated from FROM (an ISO "
	    "8601 UTC time,\n"
	    "                   or a duration back from now: 90m, 2d), without "
	    "touching the\n"
	    "                   live state; exit 0 once all of it is "
	    "delivered\n"
	    "  --until TO       with --replay: up to TO (default: now)\n"
	    "  --tenant NAME    with --test-connection or --replay: only that "
	    "tenant\n"
	    "  --status         print the health of the running daemon "
	    "(exit 0 healthy, 1 degraded)\n"
	    "  -v, --verbose    with -n: print the effective configuration; "
	    "else debug logs\n"
	    "  -V, --version    print the version\n"
	    "  -h, --help       this text\n"
	    "\n"
	    "exit status: 0 success, 1 runtime failure, 2 usage, 78 "
	    "configuration error\n",
	    CONFIG_DEFAULT_PATH);
}

/* Returns -1 to continue, or an exit status. */
static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"once", no_argument, NULL, 'o'},
	    {"check-config", no_argument, NULL, 'n'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {"config", required_argument, NULL, 'c'},
	    {"status", no_argument, NULL, 's'},
	    {"test-connection", no_argument, NULL, 't'},
	    {"tenant", required_argument, NULL, 'T'},
	    {"replay", required_argument, NULL, 'R'},
	    {"until", required_argument, NULL, 'U'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->config_path = CONFIG_DEFAULT_PATH;
	while ((ch = getopt_long(argc, argv, "c:nvVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'o':
			o->once = 1;
			break;
		case 'n':
			o->check_only = 1;
			break;
		case 's':
			o->status = 1;
			break;
		case 't':
			o->test_connection = 1;
			break;
		case 'T':
			o->tenant = optarg;
			break;
		case 'R':
			o->replay_from = optarg;
			break;
		case 'U':
			o->replay_until = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'V':
			printf("mdesiemd %s\n", MDESIEM_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mdesiemd: unexpected argument: %s\n",
		    argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o->replay_until != NULL && o->replay_from == NULL) {
		fprintf(stderr, "mdesiemd: --until goes with --replay\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o->replay_from != NULL &&
	    (o->once || o->check_only || o->status || o->test_connection)) {
		fprintf(stderr,
		    "mdesiemd: --replay goes alone (with --until "
		    "and --tenant)\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o->tenant != NULL && !o->test_connection &&
	    o->replay_from == NULL) {
		fprintf(stderr,
		    "mdesiemd: --tenant goes with "
		    "--test-connection or --replay\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

static int
check_config(const struct options *o)
{
	struct config_set *set = config_set_load(o->config_path, stderr, 1);
	size_t i;

	if (set == NULL)
		return EXIT_CONFIG;
	for (i = 0; o->verbose && i < set->ntenant; i++) {
		if (set->multi)
			printf("%s; tenant %s\n", i > 0 ? "\n" : "",
			    set->tenant[i]->tenant_name);
		config_dump(set->tenant[i], stdout);
	}
	if (!o->verbose && set->multi)
		printf("%s: configuration OK (%zu tenants)\n", o->config_path,
		    set->ntenant);
	else if (!o->verbose)
		printf("%s: configuration OK\n", o->config_path);
	config_set_free(set);
	return 0;
}

static void
ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void
setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	ignore_sigpipe();
}

/*
 * Two daemons on one state directory would deliver everything twice: hold
 * an exclusive lock for the process lifetime.  Returns the fd or -1.
 */
static int
lock_state_dir(const char *dir)
{
	char path[PATH_MAX];
	int fd, n;

	if (statefile_mkdir(dir) != 0) {
		log_error("[state] directory: cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	n = snprintf(path, sizeof(path), "%s/lock", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		log_error("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		log_error("another mdesiemd is already using %s", dir);
		close(fd);
		return -1;
	}
	return fd;
}

/* --test-connection of every tenant (or o->tenant), one block each. */
static int
test_connection(const struct options *o, const struct config_set *set)
{
	size_t i, tried = 0, ok = 0;
	const struct config *one = NULL;

	if (o->tenant != NULL &&
	    (one = config_set_find(set, o->tenant)) == NULL) {
		fprintf(stderr, "mdesiemd: --tenant %s: no such tenant in %s\n",
		    o->tenant, o->config_path);
		return EXIT_USAGE;
	}
	/* A collector that resets the connection: EPIPE, not death. */
	ignore_sigpipe();
	log_setup(LOG_TO_STDERR, LOG_LVL_WARNING);
	http_global_init();
	for (i = 0; i < set->ntenant; i++) {
		const struct config *c = set->tenant[i];

		if (one != NULL && c != one)
			continue;
		if (set->multi)
			printf("%s== tenant %s\n", tried > 0 ? "\n" : "",
			    c->tenant_name);
		tried++;
		if (probe_run(c, stdout) == 0)
			ok++;
	}
	http_global_cleanup();
	if (set->multi)
		printf("\n%zu of %zu tenant%s passed%s\n", ok, tried,
		    tried == 1 ? "" : "s", ok == tried ? "" : ": see above");
	return ok == tried ? 0 : EXIT_RUNTIME;
}

/* --status and --test-connection read the configuration only. */
static int
inspect(const struct options *o)
{
	struct config_set *set =
	    config_set_load(o->config_path, stderr, o->status);
	int rc;

	if (set == NULL)
		return EXIT_CONFIG;
	if (o->status)
		rc = status_read_print(set->tenant[0]->state_dir, stdout, 0);
	else
		rc = test_connection(o, set);
	config_set_free(set);
	return rc;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct config_set *set;
	struct daemon_flags flags = {&stop_requested, &reload_requested,
	    &counters_requested, &wake_requested};
	int rc, lockfd;

	/*
	 * No core dump, no ptrace and no /proc/PID/mem or environ for other
	 * processes of this user: the memory holds the secret and tokens.
	 */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)http_wipe_openssl();
	if ((rc = parse_args(argc, argv, &o)) >= 0)
		return rc;
	if (o.check_only)
		return check_config(&o);
	if (o.status || o.test_connection)
		return inspect(&o);
	log_setup(isatty(STDERR_FILENO) || getenv("INVOCATION_ID") == NULL
	        ? LOG_TO_STDERR
	        : LOG_TO_SYSLOG,
	    LOG_LVL_INFO);
	if ((set = config_set_load(o.config_path, stderr, 0)) == NULL)
		return EXIT_CONFIG;
	log_set_level(o.verbose ? LOG_LVL_DEBUG : set->tenant[0]->log_level);
	setup_signals();
	/* A replay locks its own area, never the service's state. */
	if (o.replay_from != NULL) {
		rc = replay_prepare(
		    set, o.replay_from, o.replay_until, o.tenant, &lockfd);
		if (rc != 0) {
			config_set_free(set);
			return rc;
		}
		o.once = 1;
	} else if ((lockfd = lock_state_dir(set->tenant[0]->state_dir)) < 0) {
		config_set_free(set);
		return EXIT_RUNTIME;
	}
	if (http_global_init() != 0) {
		log_error("cannot initialise libcurl");
		config_set_free(set);
		return EXIT_RUNTIME;
	}
	rc = daemon_run(&set, o.config_path, o.once, &flags);
	http_global_cleanup();
	config_set_free(set);
	close(lockfd);
	return rc;
}
