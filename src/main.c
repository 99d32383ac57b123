/* SPDX-License-Identifier: MIT */
/*
 * mdesiemd: pull Microsoft Defender for Endpoint detections and deliver
 * them to a SIEM over syslog.  Command line (ARCHITECTURE section 5),
 * signals, the single-instance lock on the state directory, and the poll
 * loop around cycle_run().  Never forks: systemd supervises it.
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
#include "cycle.h"
#include "errcode.h"
#include "http.h"
#include "log.h"
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
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: mdesiemd [-c FILE] [--once] [-n | --check-config] "
	    "[--test-connection]\n"
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
	    "collector; report each step\n"
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
	return -1;
}

static int
check_config(const struct options *o)
{
	struct config *c = config_load_opts(o->config_path, stderr, 1);

	if (c == NULL)
		return EXIT_CONFIG;
	if (o->verbose)
		config_dump(c, stdout);
	else
		printf("%s: configuration OK\n", o->config_path);
	config_free(c);
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

static void
log_totals(const struct cycle *cy, const char *what)
{
	const struct cycle_stats *st = cycle_stats(cy);

	log_info("%s: %lu fetched, %lu delivered, %lu duplicates dropped, "
	         "%lu bad records, %llu bytes in the spool",
	    what, st->fetched, st->delivered, st->duplicates, st->bad_records,
	    (unsigned long long)cycle_pending_bytes(cy));
}

struct liveness {
	long interval_ms; /* 0: no watchdog */
	struct timespec last;
};

/* The systemd watchdog ping, at half of WatchdogSec. */
static void
watchdog_tick(void *arg)
{
	struct liveness *lv = arg;
	struct timespec now;

	if (lv->interval_ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - lv->last.tv_sec) * 1000 +
	        (now.tv_nsec - lv->last.tv_nsec) / 1000000 >=
	    lv->interval_ms) {
		notify_watchdog();
		lv->last = now;
	}
}

/* status.json, the Prometheus file, and systemd's STATUS= line. */
static void
publish(
    const struct cycle *cy, const struct config *c, time_t started, int running)
{
	static int warned;
	struct status st;

	status_init(&st);
	cycle_status(cy, &st);
	st.pid = (long)getpid();
	st.running = running;
	st.started = started;
	st.updated = time(NULL);
	st.poll_interval = c->poll_interval;
	if ((status_write(c->state_dir, &st) != 0 ||
	        (c->textfile_dir != NULL &&
	            status_write_metrics(c->textfile_dir, &st) != 0)) &&
	    !warned) {
		warned = 1;
		log_warning("cannot write the status or metrics file: %s",
		    strerror(errno));
	}
	notify_status("%llu fetched, %llu delivered, %llu in the spool, "
	              "collector %s%s",
	    (unsigned long long)st.fetched, (unsigned long long)st.delivered,
	    (unsigned long long)st.spool_bytes, st.collector_up ? "up" : "DOWN",
	    st.fetch_ok ? "" : ", fetching FAILS");
}

/*
 * Deliver what is left, wait for the collector's acknowledgements (both
 * bounded by shutdown_grace) and save positions.
 */
static int
wind_down(struct cycle *cy, const struct config *c)
{
	int rc = cycle_finish(cy, (long)c->shutdown_grace * 1000);

	if (rc != 0 && rc != ERR_IO && cycle_pending_bytes(cy) > 0)
		log_warning("%llu bytes stay in the spool for the next run: "
		            "the collector did not take them within [state] "
		            "shutdown_grace",
		    (unsigned long long)cycle_pending_bytes(cy));
	return rc;
}

/*
 * Load path for a reload, logging every problem.  Returns the new config,
 * or NULL (problems logged) when the old one must stay.
 */
static struct config *
load_for_reload(const char *path, const struct config *old)
{
	char *text = NULL, *line, *next;
	size_t len = 0;
	FILE *err = open_memstream(&text, &len);
	struct config *c;

	if (err == NULL)
		return NULL;
	c = config_load(path, err);
	fclose(err);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		log_error("reload: %s", line);
	}
	free(text);
	if (c != NULL && strcmp(c->state_dir, old->state_dir) != 0) {
		log_error("reload: [state] directory: cannot change while "
		          "running; restart the daemon to use %s",
		    c->state_dir);
		config_free(c);
		return NULL;
	}
	if (c == NULL)
		log_error("reload: %s has errors; the running configuration "
		          "stays in force",
		    path);
	return c;
}

/*
 * SIGHUP: swap in a valid new configuration without losing the cursor or
 * the spool (both are on disk and reloaded by the new pipeline).
 */
static int
reload(struct cycle **cy, struct config **c, const char *path)
{
	struct config *nc = load_for_reload(path, *c);
	struct cycle *ncy;

	if (nc == NULL)
		return 0;
	notify_reloading();
	/* Nothing acknowledged is sent again through the new pipeline. */
	cycle_settle(*cy, (long)(*c)->shutdown_grace * 1000);
	cycle_free(*cy);
	*cy = NULL;
	if ((ncy = cycle_new(nc, &stop_requested)) == NULL) {
		log_error(
		    "reload: the new configuration cannot start; going on "
		    "with the old one");
		config_free(nc);
		if ((*cy = cycle_new(*c, &stop_requested)) == NULL)
			return ERR_IO;
		notify_ready();
		return 0;
	}
	notify_ready();
	config_free(*c);
	*c = nc;
	*cy = ncy;
	log_set_level(nc->log_level);
	log_info("reload: configuration %s applied (%s API, %s output to %s)",
	    path, config_api_name(nc->api),
	    config_transport_name(nc->transport), config_destination(nc));
	return 0;
}

static int
run(struct config **cp, const char *path, int once)
{
	struct config *c = *cp;
	struct liveness lv;
	struct cycle *cy;
	time_t started = time(NULL);
	const char *why;
	int rc, status = 0;

	if ((cy = cycle_new(c, &stop_requested)) == NULL)
		return EXIT_RUNTIME;
	lv.interval_ms = notify_watchdog_interval_ms();
	clock_gettime(CLOCK_MONOTONIC, &lv.last);
	cycle_set_tick(cy, watchdog_tick, &lv, lv.interval_ms);
	log_info("mdesiemd %s started: %s API, %s output to %s",
	    MDESIEM_VERSION, config_api_name(c->api),
	    config_transport_name(c->transport), config_destination(c));
	notify_ready();
	if (once) {
		rc = cycle_fetch(cy);
		why = cycle_paused(cy);
		if (wind_down(cy, c) != 0 || rc != 0 || why != NULL)
			status = EXIT_RUNTIME;
		if (why != NULL)
			log_error(
			    "--once stopped fetching early: %s; what was "
			    "fetched is delivered or kept, the rest waits at "
			    "Defender for the next run",
			    why);
		log_totals(cy, "run complete");
		publish(cy, c, started, 0);
		cycle_free(cy);
		return status;
	}
	while (!stop_requested) {
		unsigned long before = cycle_stats(cy)->delivered;

		if (reload_requested) {
			reload_requested = 0;
			if (reload(&cy, cp, path) != 0)
				return EXIT_RUNTIME;
			c = *cp;
			cycle_set_tick(cy, watchdog_tick, &lv, lv.interval_ms);
		}
		cycle_fetch(cy);
		if (cycle_stats(cy)->delivered != before)
			log_totals(cy, "cycle done");
		publish(cy, c, started, 1);
		if (counters_requested) {
			counters_requested = 0;
			log_totals(cy, "counters");
		}
		if (cycle_idle(cy, (long)c->poll_interval * 1000,
		        &wake_requested) != 0)
			wake_requested = 0;
	}
	notify_stopping();
	log_info("stopping: delivering what the spool holds (at most %lld s)",
	    (long long)c->shutdown_grace);
	wind_down(cy, c);
	log_totals(cy, "stopped");
	publish(cy, c, started, 0);
	cycle_free(cy);
	return 0;
}

/* --status and --test-connection read the configuration only. */
static int
inspect(const struct options *o)
{
	struct config *c = config_load_opts(o->config_path, stderr, o->status);
	int rc;

	if (c == NULL)
		return EXIT_CONFIG;
	if (o->status) {
		rc = status_read_print(c->state_dir, stdout, 0);
	} else {
		/* A collector that resets the connection: EPIPE, not death. */
		ignore_sigpipe();
		log_setup(LOG_TO_STDERR, LOG_LVL_WARNING);
		http_global_init();
		rc = probe_run(c, stdout) == 0 ? 0 : EXIT_RUNTIME;
		http_global_cleanup();
	}
	config_free(c);
	return rc;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct config *c;
	int rc, lockfd;

	/*
	 * No core dump, no ptrace and no /proc/PID/mem or environ for other
	 * processes of this user: the memory holds the secret and tokens.
	 */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
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
	if ((c = config_load(o.config_path, stderr)) == NULL)
		return EXIT_CONFIG;
	log_set_level(o.verbose ? LOG_LVL_DEBUG : c->log_level);
	setup_signals();
	if ((lockfd = lock_state_dir(c->state_dir)) < 0) {
		config_free(c);
		return EXIT_RUNTIME;
	}
	if (http_global_init() != 0) {
		log_error("cannot initialise libcurl");
		config_free(c);
		return EXIT_RUNTIME;
	}
	rc = run(&c, o.config_path, o.once);
	http_global_cleanup();
	config_free(c);
	close(lockfd);
	return rc;
}
