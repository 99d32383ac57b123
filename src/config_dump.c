/* SPDX-License-Identifier: MIT */
/*
 * mdesiemd -n -v: the configuration as loaded, every key with its value
 * (given or default), secrets replaced by "(redacted)".
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "config_impl.h"
#include "errcode.h"
#include "kafka_conf.h"
#include "leef.h"
#include "log.h"
#include "ts.h"
#include "url.h"

/* A proxy URL may carry a password: print user info as (redacted). */
static void
dump_proxy(const char *v, FILE *out)
{
	const char *host = strstr(v, "://"), *at, *end;

	if (host == NULL) {
		fprintf(out, "proxy = %s\n", v);
		return;
	}
	host += 3;
	end = host + strcspn(host, "/?#");
	for (at = end; at > host && at[-1] != '@'; at--)
		continue;
	if (at == host)
		fprintf(out, "proxy = %s\n", v);
	else
		fprintf(
		    out, "proxy = %.*s(redacted)@%s\n", (int)(host - v), v, at);
}

static void
dump_list(char *const *list, const char *name, FILE *out)
{
	fprintf(out, "%s = ", name);
	for (; *list != NULL; list++)
		fprintf(out, "%s%s", *list, list[1] != NULL ? ", " : "\n");
}

static void
dump_key(const struct config *c, const struct key *k, FILE *out)
{
	const char *v = NULL;
	char buf[32];
	uint64_t u;

	switch (k->type) {
	case K_STR:
		v = *(char *const *)config_keys_cfield(c, k);
		if (v != NULL && k->off == OFF(proxy)) {
			dump_proxy(v, out);
			return;
		}
		break;
	case K_SECRET:
		if (*(char *const *)config_keys_cfield(c, k) == NULL)
			break;
		if (c->client_secret_file != NULL) {
			fprintf(
			    out, "; %s = (from client_secret_file)\n", k->name);
			return;
		}
		v = "(redacted)";
		break;
	case K_ENUM:
		v = config_keys_choice_name(
		    config_keys_choices(k), config_keys_load_int(c, k));
		break;
	case K_LEVEL:
		v = config_keys_choice_name(
		    config_keys_level_choices, config_keys_load_int(c, k));
		break;
	case K_DURATION:
		config_keys_fmt_duration(
		    config_keys_load_int(c, k), buf, sizeof(buf));
		v = buf;
		break;
	case K_SIZE:
		memcpy(&u, config_keys_cfield(c, k), sizeof(u));
		config_keys_fmt_size(u, buf, sizeof(buf));
		v = buf;
		break;
	case K_INT:
		/* below its range: a key this transport does not use */
		if (config_keys_load_int(c, k) < k->min)
			break;
		snprintf(buf, sizeof(buf), "%lld",
		    (long long)config_keys_load_int(c, k));
		v = buf;
		break;
	case K_BOOL:
		v = config_keys_load_int(c, k) ? "yes" : "no";
		break;
	case K_CHAR:
		memcpy(buf, config_keys_cfield(c, k), 1);
		if (buf[0] > ' ' && buf[0] <= '~')
			buf[1] = '\0';
		else
			snprintf(buf, sizeof(buf), "x%02X",
			    (unsigned)(unsigned char)buf[0]);
		v = buf;
		break;
	case K_LIST:
		if (*(char **const *)config_keys_cfield(c, k) != NULL) {
			dump_list(*(char **const *)config_keys_cfield(c, k),
			    k->name, out);
			return;
		}
		break;
	}
	if (v == NULL)
		fprintf(out, "; %s = (not set)\n", k->name);
	else
		fprintf(out, "%s = %s\n", k->name, v);
}

void
config_dump(const struct config *c, FILE *out)
{
	const char *section = NULL;
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (section == NULL ||
		    strcmp(section, config_keys[i].section) != 0) {
			fprintf(out, "%s[%s]\n", section != NULL ? "\n" : "",
			    config_keys[i].section);
			section = config_keys[i].section;
		}
		dump_key(c, &config_keys[i], out);
	}
	if (c->transport == TRANSPORT_KAFKA) {
		fputc('\n', out);
		kafka_conf_dump(c->kafka, out);
	}
}
