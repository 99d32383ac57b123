/* SPDX-License-Identifier: MIT */
/*
 * Tests for the configuration loader: real files in a private temporary
 * directory (modes set as each case needs), the exact messages a user
 * sees, the defaults per api/region/cloud and per transport, secret
 * handling (file modes, client_secret_file, $CREDENTIALS_DIRECTORY,
 * redaction), and the duration and size parsers.  Golden files are in
 * tests/data/config/; run from the top of the tree.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "kafka_conf.h"

#define DATA "tests/data/config"

#define AZURE \
	"[azure]\n" \
	"tenant_id = contoso.onmicrosoft.com\n" \
	"client_id = 00000000-1111-2222-3333-444444444444\n" \
	"client_secret = hunter2hunter2\n"
#define AZURE_NOSECRET \
	"[azure]\n" \
	"tenant_id = contoso.onmicrosoft.com\n" \
	"client_id = 00000000-1111-2222-3333-444444444444\n"
#define OUTPUT \
	"[output]\n" \
	"host = siem.example.com\n" \
	"[state]\n" \
	"directory = /tmp/mdesiem-test-state\n"

static char tmpdir[64];

static void
path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void
write_file(const char *name, mode_t mode, const char *text)
{
	char path[256];
	FILE *f;

	path_of(path, sizeof(path), name);
	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static char *
read_all(const char *path)
{
	FILE *f;
	char *buf;
	long n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	if (n < 0 || (buf = calloc(1, (size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Load path; *err receives everything written to the error stream. */
static struct config *
load_path(const char *path, int check_only, char **err)
{
	struct config *c;
	size_t len = 0;
	FILE *f;

	*err = NULL;
	f = open_memstream(err, &len);
	c = config_load_opts(path, f, check_only);
	fclose(f);
	return c;
}

static struct config *
load_text(const char *text, mode_t mode, int check_only, char **err)
{
	char path[256];

	write_file("test.conf", mode, text);
	path_of(path, sizeof(path), "test.conf");
	return load_path(path, check_only, err);
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; s != NULL && *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static char *
dump(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	config_dump(c, f);
	fclose(f);
	return buf;
}

/* The one error line text must give, and a NULL config. */
static void
expect_error(const char *text, const char *want)
{
	struct config *c;
	char *err;

	c = load_text(text, 0600, 0, &err);
	CHECK(c == NULL);
	CHECK_STR(err, want);
	config_free(c);
	free(err);
	/* mdesiemd -n refuses what a start refuses, in the same words */
	c = load_text(text, 0600, 1, &err);
	CHECK(c == NULL);
	CHECK_STR(err, want);
	config_free(c);
	free(err);
}

static struct config *
expect_ok(const char *text)
{
	struct config *c;
	char *err;

	c = load_text(text, 0600, 0, &err);
	CHECK(c != NULL);
	CHECK_STR(err, "");
	free(err);
	return c;
}

static void
test_duration(void)
{
	int64_t d = -7;

	CHECK(config_parse_duration("0", &d) == 0 && d == 0);
	CHECK(config_parse_duration("45", &d) == 0 && d == 45);
	CHECK(config_parse_duration("30s", &d) == 0 && d == 30);
	CHECK(config_parse_duration("5m", &d) == 0 && d == 300);
	CHECK(config_parse_duration("2h", &d) == 0 && d == 7200);
	CHECK(config_parse_duration("7d", &d) == 0 && d == 604800);
	CHECK(config_parse_duration("9223372036854775807", &d) == 0 &&
	    d == INT64_MAX);
	d = 99;
	CHECK(config_parse_duration("", &d) == -1);
	CHECK(config_parse_duration("5x", &d) == -1);
	CHECK(config_parse_duration("-1", &d) == -1);
	CHECK(config_parse_duration("+5", &d) == -1);
	CHECK(config_parse_duration(" 5", &d) == -1);
	CHECK(config_parse_duration("5 m", &d) == -1);
	CHECK(config_parse_duration("5M", &d) == -1);
	CHECK(config_parse_duration("1h30m", &d) == -1);
	CHECK(config_parse_duration("s", &d) == -1);
	CHECK(config_parse_duration("9223372036854775808", &d) == -1);
	CHECK(config_parse_duration("106751991167301d", &d) == -1);
	CHECK(d == 99);
}

static void
test_size(void)
{
	uint64_t n = 7;

	CHECK(config_parse_size("0", &n) == 0 && n == 0);
	CHECK(config_parse_size("512", &n) == 0 && n == 512);
	CHECK(config_parse_size("512B", &n) == 0 && n == 512);
	CHECK(config_parse_size("1K", &n) == 0 && n == 1024);
	CHECK(config_parse_size("512k", &n) == 0 && n == 512 * 1024);
	CHECK(config_parse_size("64M", &n) == 0 && n == 64 * 1048576ULL);
	CHECK(config_parse_size("64MB", &n) == 0 && n == 64 * 1048576ULL);
	CHECK(config_parse_size("1G", &n) == 0 && n == 1073741824ULL);
	CHECK(config_parse_size("1g", &n) == 0 && n == 1073741824ULL);
	CHECK(config_parse_size("17179869183G", &n) == 0 &&
	    n == 17179869183ULL << 30);
	n = 99;
	CHECK(config_parse_size("", &n) == -1);
	CHECK(config_parse_size("-1", &n) == -1);
	CHECK(config_parse_size("5x", &n) == -1);
	CHECK(config_parse_size("1T", &n) == -1);
	CHECK(config_parse_size("1KK", &n) == -1);
	CHECK(config_parse_size(" 1", &n) == -1);
	CHECK(config_parse_size("18446744073709551616", &n) == -1);
	CHECK(config_parse_size("17179869184G", &n) == -1);
	CHECK(n == 99);
}

static void
test_names(void)
{
	CHECK_STR(config_api_name(API_GRAPH), "graph");
	CHECK_STR(config_api_name(API_SIEM), "siem");
	CHECK_STR(config_transport_name(TRANSPORT_TCP), "tcp");
	CHECK_STR(config_transport_name(TRANSPORT_STDOUT), "stdout");
}

static void
test_full(void)
{
	struct config *c;
	char *text, *err, *out, *want;

	if ((text = read_all(DATA "/full.conf")) == NULL) {
		CHECK(!"tests/data/config/full.conf readable (run from top)");
		return;
	}
	c = load_text(text, 0600, 0, &err);
	free(text);
	CHECK_STR(err, "");
	free(err);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK_STR(c->tenant_id, "11111111-2222-3333-4444-555555555555");
	CHECK_STR(c->client_secret, "Zx8Q~not.a.real.secret-0123456789abcdef");
	CHECK_STR(c->login_url, "https://login.microsoftonline.com");
	CHECK(c->api == API_ALERTS);
	CHECK_STR(c->url, "https://127.0.0.1:8443/api/alerts");
	CHECK_STR(c->region, "eu");
	CHECK_STR(c->audience, "https://api.securitycenter.microsoft.com");
	CHECK(c->poll_interval == 300 && c->page_size == 200);
	CHECK(c->overlap == 900 && c->timeout == 30);
	CHECK(c->clock_tolerance == 300);
	CHECK_STR(c->start_from, "2024-01-31T00:00:00Z");
	CHECK_STR(c->filter, "severity eq 'High'");
	CHECK(c->machine_groups == NULL);
	CHECK(c->format == FORMAT_LEEF && c->leef_version == 1);
	CHECK(c->leef_delimiter == '\t');
	CHECK(c->port == 1514 && c->framing == FRAMING_OCTET);
	CHECK(c->header == HEADER_RFC3164 && c->facility == 23);
	CHECK(c->max_message_size == 16384);
	CHECK_STR(c->tls_server_name, "collector.example.com");
	CHECK_STR(c->product, "Defender Bridge");
	CHECK_STR(c->state_dir, "/tmp");
	CHECK(c->spool_max_size == 512ULL << 20 && c->shutdown_grace == 30);
	CHECK_STR(c->textfile_dir, "/tmp");
	CHECK(c->log_level == LOG_LVL_DEBUG);

	out = dump(c);
	want = read_all(DATA "/full.dump");
	CHECK_STR(out, want);
	CHECK(strstr(out, "not.a.real.secret") == NULL);
	CHECK(strstr(out, "user:pw") == NULL);
	free(out);
	free(want);
	config_free(c);
}

static void
test_defaults_siem(void)
{
	struct config *c;
	char host[256];

	c = expect_ok(AZURE "[source]\napi = siem\n" OUTPUT);
	if (c == NULL)
		return;
	CHECK_STR(
	    c->url, "https://wdatp-alertexporter-us.windows.com/api/alerts");
	CHECK_STR(c->region, "us");
	CHECK_STR(c->audience, "https://graph.windows.net");
	CHECK_STR(c->login_url, "https://login.microsoftonline.com");
	CHECK(c->page_size == 1000 && c->poll_interval == 60);
	CHECK(c->overlap == 600 && c->timeout == 60);
	CHECK(c->clock_tolerance == 120);
	CHECK_STR(c->start_from, "24h");
	CHECK(c->format == FORMAT_CEF && c->leef_version == 2);
	CHECK(c->leef_delimiter == '^');
	CHECK(c->transport == TRANSPORT_TCP && c->port == 514);
	CHECK(c->framing == FRAMING_LF && c->header == HEADER_RFC5424);
	CHECK(c->facility == 20 && c->max_message_size == 4096);
	CHECK(gethostname(host, sizeof(host)) == 0);
	CHECK_STR(c->hostname, host);
	CHECK_STR(c->app_name, "mdesiemd");
	CHECK_STR(c->tls_server_name, "siem.example.com");
	CHECK_STR(c->vendor, "Microsoft");
	CHECK_STR(c->product, "Microsoft Defender ATP");
	CHECK_STR(c->product_version, "2.0");
	CHECK(c->spool_max_size == 1ULL << 30 && c->shutdown_grace == 10);
	CHECK(c->textfile_dir == NULL && c->proxy == NULL);
	CHECK(c->log_level == LOG_LVL_INFO);
	config_free(c);

	c = expect_ok(AZURE "[source]\napi = siem\nregion = uk\n" OUTPUT);
	if (c != NULL)
		CHECK_STR(c->url,
		    "https://wdatp-alertexporter-uk.windows.com/api/alerts");
	config_free(c);
	c = expect_ok(AZURE "[source]\napi = siem\ncloud = gcc\n" OUTPUT);
	if (c != NULL) {
		CHECK_STR(c->url,
		    "https://wdatp-alertexporter-us.gcc."
		    "securitycenter.windows.us/api/alerts");
		CHECK_STR(c->login_url, "https://login.microsoftonline.com");
	}
	config_free(c);
	c = expect_ok(AZURE "[source]\napi = siem\ncloud = dod\n" OUTPUT);
	if (c != NULL) {
		CHECK_STR(c->url,
		    "https://wdatp-alertexporter-us."
		    "securitycenter.windows.us/api/alerts");
		CHECK_STR(c->login_url, "https://login.microsoftonline.us");
	}
	config_free(c);
}

static void
test_defaults_alerts(void)
{
	struct config *c;

	c = expect_ok(AZURE "[source]\napi = alerts\nregion = eu\n" OUTPUT);
	if (c != NULL) {
		CHECK_STR(
		    c->url, "https://eu.api.security.microsoft.com/api/alerts");
		CHECK_STR(
		    c->audience, "https://api.securitycenter.microsoft.com");
		CHECK(c->page_size == 1000);
	}
	config_free(c);
	c = expect_ok(AZURE "[source]\napi = alerts\n" OUTPUT);
	if (c != NULL) {
		CHECK_STR(
		    c->url, "https://api.security.microsoft.com/api/alerts");
		CHECK(c->region == NULL);
	}
	config_free(c);
	/* India: ina.api.security.microsoft.com, as Microsoft lists it. */
	c = expect_ok(AZURE "[source]\napi = alerts\nregion = INA\n" OUTPUT);
	if (c != NULL)
		CHECK_STR(c->url,
		    "https://ina.api.security.microsoft.com/api/alerts");
	config_free(c);
	expect_error(AZURE OUTPUT "[source]\napi = alerts\nregion = in\n",
	    "[source] region: \"in\" is not one of us, eu, uk, au, swa, ina "
	    "(api = alerts)\n");
	expect_error(AZURE OUTPUT "[source]\napi = siem\nregion = ina\n",
	    "[source] region: \"ina\" is not one of us, eu, uk (api = siem)\n");
	c = expect_ok(AZURE "[source]\napi = alerts\ncloud = gcc\n" OUTPUT);
	if (c != NULL) {
		CHECK_STR(c->url,
		    "https://api-gcc.securitycenter.microsoft.us/api/alerts");
		CHECK_STR(
		    c->audience, "https://api-gcc.securitycenter.microsoft.us");
	}
	config_free(c);
}

static void
test_defaults_graph(void)
{
	struct config *c;

	c = expect_ok(AZURE OUTPUT);
	if (c != NULL) {
		CHECK(c->api == API_GRAPH && c->page_size == 500);
		CHECK_STR(c->url,
		    "https://graph.microsoft.com/v1.0/security/alerts_v2");
		CHECK_STR(c->audience, "https://graph.microsoft.com");
	}
	config_free(c);
	c = expect_ok(AZURE "[source]\ncloud = gcc-high\n" OUTPUT);
	if (c != NULL) {
		CHECK_STR(c->url,
		    "https://graph.microsoft.us/v1.0/security/alerts_v2");
		CHECK_STR(c->login_url, "https://login.microsoftonline.us");
		CHECK_STR(c->audience, "https://graph.microsoft.us");
	}
	config_free(c);
	c = expect_ok(AZURE "[source]\ncloud = dod\n" OUTPUT);
	if (c != NULL)
		CHECK_STR(c->url,
		    "https://dod-graph.microsoft.us/v1.0/security/alerts_v2");
	config_free(c);
}

static void
test_transport(void)
{
	struct config *c;

	c = expect_ok(AZURE OUTPUT "[output]\ntransport = tls\n");
	if (c != NULL)
		CHECK(c->port == 6514 && c->framing == FRAMING_OCTET &&
		    c->max_message_size == 4096);
	config_free(c);
	c = expect_ok(AZURE "[output]\ntransport = stdout\n");
	if (c != NULL)
		CHECK(c->max_message_size == 8096);
	config_free(c);
	c = expect_ok(AZURE OUTPUT "[output]\ntransport = udp\n");
	if (c != NULL)
		CHECK(c->port == 514 && c->max_message_size == 2048);
	config_free(c);
	c = expect_ok(AZURE "[output]\ntransport = stdout\n");
	if (c != NULL)
		CHECK(c->host == NULL && c->tls_server_name == NULL);
	config_free(c);
	expect_error(AZURE OUTPUT "[output]\ntransport = udp\n"
	                          "max_message_size = 70000\n",
	    "[output] max_message_size: 70000 is too large for transport = udp "
	    "(at most 65535)\n");
	expect_error(AZURE "[output]\ntransport = tls\n",
	    "[output] host: required with transport = tls\n");
	expect_error(AZURE OUTPUT "[output]\nmax_message_size = 512\n",
	    "[output] max_message_size: \"512\" is too small (at least "
	    "1024)\n");
	expect_error(AZURE OUTPUT "[output]\nport = 65536\n",
	    "[output] port: \"65536\" is not a number from 1 to 65535\n");
	expect_error(AZURE OUTPUT "[output]\ntransport = tls\n"
	                          "tls_cert_file = /etc/passwd\n",
	    "[output] tls_key_file: required with tls_cert_file\n");
	expect_error(AZURE OUTPUT "[output]\napp_name = my app\n",
	    "[output] app_name: \"my app\" must be printable ASCII without "
	    "spaces\n");
}

static void
test_file_problems(void)
{
	char path[256], want[1024], *err;
	struct config *c;

	path_of(path, sizeof(path), "no-such.conf");
	c = load_path(path, 0, &err);
	CHECK(c == NULL);
	snprintf(want, sizeof(want),
	    "%s: cannot read: No such file or directory\n", path);
	CHECK_STR(err, want);
	free(err);

	path_of(path, sizeof(path), "test.conf");
	c = load_text(AZURE "[source]\napi = siem\nnonsense\n  continued\n"
	                    "[broken\n" OUTPUT,
	    0600, 0, &err);
	CHECK(c == NULL);
	snprintf(want, sizeof(want),
	    "%s:7: syntax error\n%s:8: syntax error\n"
	    "%s:9: syntax error\n",
	    path, path, path);
	CHECK_STR(err, want);
	free(err);

	c = load_text(AZURE OUTPUT
	    "[source]\nfilter = "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\n",
	    0600, 0, &err);
	CHECK(c == NULL);
	snprintf(
	    want, sizeof(want), "%s:10: line longer than 198 bytes\n", path);
	CHECK_STR(err, want);
	free(err);

	c = load_text("api = siem\n" AZURE OUTPUT, 0600, 0, &err);
	CHECK(c == NULL);
	snprintf(want, sizeof(want), "%s:1: api: comes before any [section]\n",
	    path);
	CHECK_STR(err, want);
	free(err);
}

static void
test_single_problems(void)
{
	expect_error(AZURE OUTPUT "[foo]\nbar = 1\nbaz = 2\n",
	    "[foo]: unknown section\n");
	expect_error(AZURE OUTPUT "[azure]\ntenantid = x\n",
	    "[azure] tenantid: unknown key\n");
	expect_error(AZURE OUTPUT "[azure]\napi = siem\n",
	    "[azure] api: unknown key (it belongs in [source])\n");
	expect_error(AZURE OUTPUT "[azure]\ntenant_id = fabrikam.com\n",
	    "[azure] tenant_id: given twice (lines 2 and 10)\n");
	expect_error("[azure]\nclient_id = 00000000-1111-2222-3333-444444444444"
	             "\nclient_secret = x\n" OUTPUT,
	    "[azure] tenant_id: required\n");
	expect_error(AZURE OUTPUT "[azure]\n[azure]\nclient_id = 1234\n",
	    "[azure] client_id: given twice (lines 3 and 11)\n");
	expect_error(AZURE OUTPUT "[source]\npoll_interval = 5x\n",
	    "[source] poll_interval: \"5x\" is not a duration (use 30s, 5m, "
	    "2h, 7d)\n");
	expect_error(AZURE OUTPUT "[source]\npoll_interval = 0\n",
	    "[source] poll_interval: \"0\" is too short (at least 1s)\n");
	expect_error(AZURE OUTPUT "[source]\ntimeout = 2h\n",
	    "[source] timeout: \"2h\" is too long (at most 1h)\n");
	expect_error(AZURE OUTPUT "[source]\nclock_tolerance = 5s\n",
	    "[source] clock_tolerance: \"5s\" is too short (at least 10s)\n");
	expect_error(AZURE OUTPUT "[state]\nspool_max_size = 10X\n",
	    "[state] spool_max_size: \"10X\" is not a size (use 512K, 64M, "
	    "1G)\n");
	expect_error(AZURE OUTPUT "[state]\nspool_max_size = 512K\n",
	    "[state] spool_max_size: \"512K\" is too small (at least 1M)\n");
	expect_error(AZURE OUTPUT "[output]\ntransport = xyz\n",
	    "[output] transport: \"xyz\" is not one of tcp, tls, udp, local, "
	    "stdout, kafka\n");
	/* A bad transport is reported alone, not as a missing host too. */
	expect_error(AZURE "[output]\ntransport = carrier\n",
	    "[output] transport: \"carrier\" is not one of tcp, tls, udp, "
	    "local, stdout, kafka\n");
	expect_error(AZURE OUTPUT "[log]\nlevel = verbose\n",
	    "[log] level: \"verbose\" is not one of error, warning, info, "
	    "debug\n");
	expect_error(AZURE OUTPUT "[source]\nfilter =\n",
	    "[source] filter: empty value\n");
	config_free(expect_ok(AZURE OUTPUT
	    "[azure]\n[Azure]\nLogin_URL = "
	    "https://login.microsoftonline.com\n[log]\nlevel = debug ; "
	    "inline comment\n"));
}

static void
test_values(void)
{
	struct config *c;

	expect_error(
	    "[azure]\ntenant_id = contoso onmicrosoft\nclient_id = "
	    "00000000-1111-2222-3333-444444444444\nclient_secret = x\n" OUTPUT,
	    "[azure] tenant_id: not a tenant id (a GUID, or a domain like "
	    "contoso.onmicrosoft.com); the value (19 characters, a blank at "
	    "position 8) is not shown, as it may be a secret\n");
	expect_error("[azure]\ntenant_id = contoso.com\nclient_id = 1234\n"
	             "client_secret = x\n" OUTPUT,
	    "[azure] client_id: not a GUID (8-4-4-4-12 hex digits, like "
	    "00000000-0000-0000-0000-000000000000); the value (4 characters) "
	    "is not shown, as it may be a secret\n");
	/* A secret pasted into an id key never reaches the error stream. */
	expect_error("[azure]\ntenant_id = contoso.com\nclient_id = "
	             "Zx48Q~abcdefghijklmnopqrstuvwxyz0123456\n"
	             "client_secret = x\n" OUTPUT,
	    "[azure] client_id: not a GUID (8-4-4-4-12 hex digits, like "
	    "00000000-0000-0000-0000-000000000000); the value (39 characters, "
	    "a '~' at position 6) is not shown, as it may be a secret; it "
	    "looks like a client secret, which belongs in "
	    "client_secret_file\n");
	expect_error("[azure]\ntenant_id = Zx48Q~abcdefghijklmnop\nclient_id "
	             "= 00000000-1111-2222-3333-444444444444\n"
	             "client_secret = x\n" OUTPUT,
	    "[azure] tenant_id: not a tenant id (a GUID, or a domain like "
	    "contoso.onmicrosoft.com); the value (22 characters, a '~' at "
	    "position 6) is not shown, as it may be a secret; it looks like a "
	    "client secret, which belongs in client_secret_file\n");
	expect_error(AZURE OUTPUT "[source]\nstart_from = yesterday\n",
	    "[source] start_from: \"yesterday\" is neither a duration (24h, "
	    "7d) nor a UTC time (2024-01-31T00:00:00Z)\n");
	c = expect_ok(AZURE OUTPUT "[source]\nstart_from = 7d\n");
	config_free(c);
	expect_error(AZURE OUTPUT "[output]\nleef_delimiter = 0x7C\n",
	    "[output] leef_delimiter: \"0x7C\" cannot delimit LEEF attributes: "
	    "use TAB (x09) or an ASCII punctuation character other than '=' "
	    "and '|'\n");
	/* the formatter's rule, whatever the format: -n refuses it too */
	expect_error(AZURE OUTPUT "[output]\nleef_delimiter = a\n",
	    "[output] leef_delimiter: \"a\" cannot delimit LEEF attributes: "
	    "use TAB (x09) or an ASCII punctuation character other than '=' "
	    "and '|'\n");
	expect_error(AZURE OUTPUT "[output]\nleef_delimiter = xZZ\n",
	    "[output] leef_delimiter: \"xZZ\" is not one character or an ASCII "
	    "code like x09\n");
	c = expect_ok(AZURE OUTPUT "[output]\nleef_delimiter = 0x5e\n");
	if (c != NULL)
		CHECK(c->leef_delimiter == '^');
	config_free(c);
	c = expect_ok(AZURE OUTPUT "[output]\nleef_delimiter = ~\n"
	                           "facility = daemon\nformat = JSON\n");
	if (c != NULL)
		CHECK(c->leef_delimiter == '~' && c->facility == 3 &&
		    c->format == FORMAT_JSON);
	config_free(c);
	expect_error(AZURE OUTPUT "[source]\nregion = eu\n",
	    "[source] region: only with api = alerts or siem\n");
	expect_error(AZURE OUTPUT "[source]\napi = siem\nregion = au\n",
	    "[source] region: \"au\" is not one of us, eu, uk (api = siem)\n");
	expect_error(AZURE OUTPUT "[source]\napi = alerts\nregion = eu\n"
	                          "cloud = gcc\n",
	    "[source] region: \"eu\" is not available with cloud = gcc\n");
	expect_error(AZURE OUTPUT "[source]\napi = siem\nfilter = x eq 1\n",
	    "[source] filter: only with api = graph or alerts\n");
	expect_error(AZURE OUTPUT "[source]\nproxy = proxy.example.com\n",
	    "[source] proxy: not a proxy URL (like "
	    "http://proxy.example.com:3128; https://, socks5:// and socks5h:// "
	    "work too)\n");
	c = expect_ok(AZURE OUTPUT "[source]\nproxy = http://10.1.2.3:3128\n");
	config_free(c);
}

static void
test_urls(void)
{
	struct config *c;

	expect_error(AZURE OUTPUT "[source]\nurl = http://alerts.example.com/"
	                          "api/alerts\n",
	    "[source] url: plain http is allowed only to loopback addresses; "
	    "use https\n");
	expect_error(AZURE OUTPUT "[azure]\nlogin_url = http://login.example."
	                          "com\n",
	    "[azure] login_url: plain http is allowed only to loopback "
	    "addresses; use https\n");
	expect_error(AZURE OUTPUT "[source]\nurl = ftp://example.com/x\n",
	    "[source] url: \"ftp://example.com/x\" is not an https URL\n");
	c = expect_ok(
	    AZURE OUTPUT "[source]\napi = siem\n"
	                 "url = http://127.0.0.1:8080/api/alerts\n"
	                 "[azure]\nlogin_url = http://127.0.0.1:8080/\n");
	if (c != NULL) {
		CHECK_STR(c->url, "http://127.0.0.1:8080/api/alerts");
		CHECK_STR(c->login_url, "http://127.0.0.1:8080");
		CHECK_STR(c->region, "us");
	}
	config_free(c);
}

static void
test_machine_groups(void)
{
	struct config *c;

	c = expect_ok(
	    AZURE OUTPUT "[source]\napi = siem\n"
	                 "machine_groups = UK Machines , FranceMachines,x\n");
	if (c != NULL && c->machine_groups != NULL) {
		CHECK_STR(c->machine_groups[0], "UK Machines");
		CHECK_STR(c->machine_groups[1], "FranceMachines");
		CHECK_STR(c->machine_groups[2], "x");
		CHECK(c->machine_groups[3] == NULL);
	} else {
		CHECK(!"machine_groups parsed");
	}
	config_free(c);
	expect_error(AZURE OUTPUT "[source]\napi = siem\n"
	                          "machine_groups = a, ,b\n",
	    "[source] machine_groups: empty item in \"a, ,b\"\n");
	expect_error(AZURE OUTPUT "[source]\nmachine_groups = a\n",
	    "[source] machine_groups: only with api = siem\n");
}

static void
test_config_mode(void)
{
	char path[256], want[1024], *err;
	struct config *c;

	path_of(path, sizeof(path), "test.conf");
	snprintf(want, sizeof(want),
	    "[azure] client_secret: %s holds a secret but is readable by group "
	    "or others (mode 0644); run: chmod 600 %s, or move the secret to "
	    "client_secret_file\n",
	    path, path);
	c = load_text(AZURE OUTPUT, 0644, 0, &err);
	CHECK(c == NULL);
	CHECK_STR(err, want);
	CHECK(err != NULL && strstr(err, "client_secret") != NULL &&
	    strstr(err, "chmod 600") != NULL);
	free(err);
	c = load_text(AZURE OUTPUT, 0644, 1, &err);
	CHECK(c == NULL);
	CHECK_STR(err, want);
	free(err);
	/* Without the secret in it, the file may be world-readable. */
	write_file("cs", 0600, "s\n");
	c = load_text(
	    AZURE_NOSECRET "client_secret_file = cs\n" OUTPUT, 0644, 0, &err);
	CHECK(c != NULL);
	CHECK_STR(err, "");
	free(err);
	config_free(c);
	/* Whoever may change it may point the sign-in elsewhere. */
	snprintf(want, sizeof(want),
	    "%s: writable by group or others (mode 0664), who could point the "
	    "sign-in elsewhere and receive the secret; run: chmod go-w %s\n",
	    path, path);
	c = load_text(
	    AZURE_NOSECRET "client_secret_file = cs\n" OUTPUT, 0664, 0, &err);
	CHECK(c == NULL);
	CHECK_STR(err, want);
	free(err);
	c = load_text(
	    AZURE_NOSECRET "client_secret_file = cs\n" OUTPUT, 0602, 1, &err);
	CHECK(c == NULL);
	CHECK(err != NULL &&
	    strstr(err,
	        "writable by group or others (mode "
	        "0602)") != NULL);
	free(err);
}

/* Files the configuration names: writable by group or others is refused. */
static void
test_writable_files(void)
{
	char path[256], key[256], want[2048];
	struct config *c;

	unsetenv("CREDENTIALS_DIRECTORY");
	write_file("secret.txt", 0620, "topsecret-value\n");
	path_of(path, sizeof(path), "secret.txt");
	snprintf(want, sizeof(want),
	    "[azure] client_secret_file: %s is writable by group or others "
	    "(mode 0620); run: chmod 600 %s\n",
	    path, path);
	expect_error(
	    AZURE_NOSECRET "client_secret_file = secret.txt\n" OUTPUT, want);
	write_file("cert.pem", 0646, "-----BEGIN CERTIFICATE-----\n");
	write_file("key.pem", 0602, "-----BEGIN PRIVATE KEY-----\n");
	path_of(path, sizeof(path), "cert.pem");
	path_of(key, sizeof(key), "key.pem");
	snprintf(want, sizeof(want),
	    "[azure] certificate_file: %s is writable by group or others (mode "
	    "0646); run: chmod go-w %s\n"
	    "[azure] private_key_file: %s is writable by group or others (mode "
	    "0602); run: chmod 600 %s\n",
	    path, path, key, key);
	expect_error(AZURE_NOSECRET "certificate_file = cert.pem\n"
	                            "private_key_file = key.pem\n" OUTPUT,
	    want);
	write_file("ca.pem", 0666, "x\n");
	path_of(path, sizeof(path), "ca.pem");
	snprintf(want, sizeof(want),
	    "[source] ca_file: %s is writable by group or others (mode 0666); "
	    "run: chmod go-w %s\n",
	    path, path);
	expect_error(AZURE OUTPUT "[source]\nca_file = ca.pem\n", want);
	chmod(path, 0644);
	c = expect_ok(AZURE OUTPUT "[source]\nca_file = ca.pem\n");
	config_free(c);
}

static void
test_secret_file(void)
{
	char path[256], want[1024], *err, *out;
	struct config *c;

	unsetenv("CREDENTIALS_DIRECTORY");
	write_file("secret.txt", 0600, "topsecret-value\r\n \n");
	c = expect_ok(
	    AZURE_NOSECRET "client_secret_file = secret.txt\n" OUTPUT);
	if (c == NULL)
		return;
	CHECK_STR(c->client_secret, "topsecret-value");
	CHECK_STR(c->client_secret_file, "secret.txt");
	out = dump(c);
	CHECK(strstr(out, "topsecret") == NULL);
	CHECK(strstr(out, "\nclient_secret_file = secret.txt\n") != NULL);
	CHECK(strstr(out, "\nclient_secret = ") == NULL);
	free(out);
	config_free(c);

	write_file("secret.txt", 0644, "topsecret-value\n");
	path_of(path, sizeof(path), "secret.txt");
	snprintf(want, sizeof(want),
	    "[azure] client_secret_file: %s is readable by group or others "
	    "(mode 0644); run: chmod 600 %s\n",
	    path, path);
	expect_error(
	    AZURE_NOSECRET "client_secret_file = secret.txt\n" OUTPUT, want);
	c = load_text(AZURE_NOSECRET "client_secret_file = secret.txt\n" OUTPUT,
	    0600, 1, &err);
	CHECK(c == NULL);
	CHECK_STR(err, want);
	free(err);

	write_file("secret.txt", 0600, "\n");
	snprintf(want, sizeof(want),
	    "[azure] client_secret_file: %s is empty\n", path);
	expect_error(
	    AZURE_NOSECRET "client_secret_file = secret.txt\n" OUTPUT, want);
	write_file("secret.txt", 0600, "one\ntwo\n");
	snprintf(want, sizeof(want),
	    "[azure] client_secret_file: %s must hold the secret on one line\n",
	    path);
	expect_error(
	    AZURE_NOSECRET "client_secret_file = secret.txt\n" OUTPUT, want);
}

/* client_secret_file = given, a 0644 file at shown: refused. */
static void
refused_outside(const char *given, const char *shown)
{
	char text[1024], want[1024];

	snprintf(text, sizeof(text),
	    AZURE_NOSECRET "client_secret_file = %s\n" OUTPUT, given);
	snprintf(want, sizeof(want),
	    "[azure] client_secret_file: %s is readable by group or others "
	    "(mode 0644); run: chmod 600 %s\n",
	    shown, shown);
	expect_error(text, want);
}

static void
test_credentials_directory(void)
{
	char dir[128], path[256], want[1024];
	struct config *c;

	path_of(dir, sizeof(dir), "creds");
	mkdir(dir, 0700);
	/* systemd controls these modes: 0644 is not refused here. */
	write_file("creds/client_secret", 0644, "from-credentials\n");
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	c = expect_ok(
	    AZURE_NOSECRET "client_secret_file = client_secret\n" OUTPUT);
	if (c != NULL)
		CHECK_STR(c->client_secret, "from-credentials");
	config_free(c);

	snprintf(path, sizeof(path), "%s/client_secret", dir);
	snprintf(want, sizeof(want),
	    AZURE_NOSECRET "client_secret_file = %s\n" OUTPUT, path);
	c = expect_ok(want);
	if (c != NULL)
		CHECK_STR(c->client_secret, "from-credentials");
	config_free(c);

	snprintf(want, sizeof(want),
	    "[azure] client_secret_file: cannot read %s/missing: No such file "
	    "or directory\n",
	    dir);
	expect_error(
	    AZURE_NOSECRET "client_secret_file = missing\n" OUTPUT, want);

	/*
	 * The exemption holds for files inside the directory, as resolved:
	 * "../" out of it, a path that only starts with its name, or a
	 * symbolic link out of it, is an ordinary file whose mode is checked.
	 */
	write_file("outside", 0644, "not-from-credentials\n");
	snprintf(path, sizeof(path), "%s/../outside", dir);
	refused_outside("../outside", path);
	refused_outside(path, path);
	/* a sibling whose name starts with the directory's */
	path_of(path, sizeof(path), "creds2");
	mkdir(path, 0700);
	write_file("creds2/client_secret", 0644, "beside-credentials\n");
	path_of(path, sizeof(path), "creds2/client_secret");
	refused_outside(path, path);
	snprintf(path, sizeof(path), "%s/link", dir);
	unlink(path);
	path_of(want, sizeof(want), "outside");
	CHECK(symlink(want, path) == 0);
	refused_outside("link", path);
	unsetenv("CREDENTIALS_DIRECTORY");
}

static void
test_credentials(void)
{
	char path[256], want[1024];
	struct config *c;

	expect_error(AZURE_NOSECRET OUTPUT,
	    "[azure] client_secret: required (or client_secret_file, or "
	    "certificate_file and private_key_file)\n");
	expect_error(AZURE "client_secret_file = /run/x\n" OUTPUT,
	    "[azure] client_secret_file: cannot be used together with "
	    "client_secret; keep one credential\n");
	expect_error(AZURE_NOSECRET "certificate_file = /etc/passwd\n" OUTPUT,
	    "[azure] private_key_file: required with certificate_file\n");

	write_file("cert.pem", 0644, "-----BEGIN CERTIFICATE-----\n");
	write_file("key.pem", 0640, "-----BEGIN PRIVATE KEY-----\n");
	path_of(path, sizeof(path), "key.pem");
	snprintf(want, sizeof(want),
	    "[azure] private_key_file: %s is readable by group or others (mode "
	    "0640); run: chmod 600 %s\n",
	    path, path);
	expect_error(AZURE_NOSECRET "certificate_file = cert.pem\n"
	                            "private_key_file = key.pem\n" OUTPUT,
	    want);
	chmod(path, 0600);
	c = expect_ok(AZURE_NOSECRET "certificate_file = cert.pem\n"
	                             "private_key_file = key.pem\n" OUTPUT);
	if (c != NULL) {
		CHECK_STR(c->private_key_file, path);
		CHECK(c->client_secret == NULL);
		CHECK(c->assertion_alg == ASSERTION_PS256);
	}
	config_free(c);
	c = expect_ok(AZURE_NOSECRET "certificate_file = cert.pem\n"
	                             "private_key_file = key.pem\n"
	                             "assertion_alg = RS256\n" OUTPUT);
	if (c != NULL)
		CHECK(c->assertion_alg == ASSERTION_RS256);
	config_free(c);
	expect_error(AZURE_NOSECRET "certificate_file = cert.pem\n"
	                            "private_key_file = key.pem\n"
	                            "assertion_alg = es256\n" OUTPUT,
	    "[azure] assertion_alg: \"es256\" is not one of ps256, rs256\n");
	expect_error(AZURE "assertion_alg = rs256\n" OUTPUT,
	    "[azure] assertion_alg: only with certificate_file\n");

	expect_error(AZURE OUTPUT "[source]\nca_file = /nonexistent/ca.pem\n",
	    "[source] ca_file: cannot read /nonexistent/ca.pem: No such file "
	    "or directory\n");
	expect_error(AZURE OUTPUT "[metrics]\ntextfile_dir = /etc/passwd\n",
	    "[metrics] textfile_dir: /etc/passwd is not a directory\n");
	expect_error(AZURE "[output]\nhost = h\n[state]\ndirectory = "
	                   "/nonexistent/mdesiem\n",
	    "[state] directory: cannot use /nonexistent/mdesiem: its parent "
	    "directory /nonexistent does not exist\n");
}

/* A file this user may not open: -n leaves it to the start. */
static void
locked_file_checks(void)
{
	struct config *c;
	char *err;

	c = load_text(
	    AZURE "[source]\nca_file = locked-ca\n" OUTPUT, 0600, 1, &err);
	CHECK(c != NULL);
	CHECK_STR(err, "");
	free(err);
	config_free(c);
	c = load_text(
	    AZURE "[source]\nca_file = locked-ca\n" OUTPUT, 0600, 0, &err);
	CHECK(c == NULL);
	CHECK(err != NULL && strstr(err, "Permission denied\n") != NULL);
	free(err);
}

/* As root (who opens every file), the checks run as nobody in a child. */
static void
locked_file(void)
{
	const uid_t nobody = 65534;
	char conf[256];
	int status = 0;
	pid_t pid;

	write_file("locked-ca", 0000, "x\n");
	if (geteuid() != 0) {
		locked_file_checks();
		return;
	}
	if ((pid = fork()) < 0) {
		CHECK(!"fork");
		return;
	}
	if (pid == 0) {
		/* root's test.conf: nobody writes a new one */
		path_of(conf, sizeof(conf), "test.conf");
		unlink(conf);
		if (chown(tmpdir, nobody, nobody) != 0 || setgid(nobody) != 0 ||
		    setuid(nobody) != 0)
			_exit(2);
		locked_file_checks();
		_exit(check_fail == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	if (chown(tmpdir, 0, 0) != 0)
		CHECK(!"chown back");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		printf("skip test_config: a file -n may not open (cannot "
		       "become nobody)\n");
		return;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * mdesiemd -n checks the files a start reads, except a credential file
 * given by a relative name while $CREDENTIALS_DIRECTORY is unset (systemd
 * provides it at start) and a file this user may not open.
 */
static void
test_check_only(void)
{
	const char *text = AZURE_NOSECRET
	    "client_secret_file = "
	    "/nonexistent/client_secret\n[source]\nca_file = /nonexistent/ca\n"
	    "[output]\nhost = h\n[state]\ndirectory = /nonexistent/state\n";
	const char *want =
	    "[azure] client_secret_file: cannot read "
	    "/nonexistent/client_secret: "
	    "No such file or directory\n"
	    "[source] ca_file: cannot read /nonexistent/ca: No such file or "
	    "directory\n"
	    "[state] directory: cannot use /nonexistent/state: its parent "
	    "directory /nonexistent does not exist\n";
	const char *rel = AZURE_NOSECRET "client_secret_file = no-such-secret\n"
	                                 "[output]\nhost = h\n";
	struct config *c;
	char *err;

	c = load_text(text, 0644, 1, &err);
	CHECK(c == NULL);
	CHECK_STR(err, want);
	free(err);
	c = load_text(text, 0644, 0, &err);
	CHECK(c == NULL);
	CHECK_STR(err, want);
	free(err);

	unsetenv("CREDENTIALS_DIRECTORY");
	c = load_text(rel, 0644, 1, &err);
	CHECK(c != NULL);
	CHECK_STR(err, "");
	if (c != NULL)
		CHECK(c->client_secret == NULL);
	free(err);
	config_free(c);
	c = load_text(rel, 0644, 0, &err);
	CHECK(c == NULL);
	CHECK(err != NULL &&
	    strstr(err, "no-such-secret: No such file or directory\n") != NULL);
	free(err);

	/* -n reads a secret it can read, and judges it as a start does */
	write_file("empty-secret", 0600, "\n");
	c = load_text(AZURE_NOSECRET "client_secret_file = empty-secret\n"
	                             "[output]\nhost = h\n",
	    0644, 1, &err);
	CHECK(c == NULL);
	CHECK(err != NULL && strstr(err, "empty-secret is empty\n") != NULL);
	free(err);

	locked_file();
}

static void
test_many_problems(void)
{
	struct config *c;
	char *err, *want;

	c = load_path(DATA "/errors.conf", 0, &err);
	CHECK(c == NULL);
	want = read_all(DATA "/errors.err");
	CHECK_STR(err, want);
	CHECK(count_lines(err) == 16);
	free(want);
	free(err);
}

#define KAFKA_OUT \
	"[output]\n" \
	"transport = kafka\n" \
	"brokers = kafka1:9092, kafka2:9092\n" \
	"topic = th-%t\n" \
	"[state]\n" \
	"directory = /tmp/mdesiem-test-state\n"

static void
test_kafka(void)
{
	struct config *c;
	char *out;

	c = expect_ok(AZURE KAFKA_OUT);
	if (c != NULL) {
		CHECK(c->transport == TRANSPORT_KAFKA);
		CHECK_STR(c->brokers, "kafka1:9092, kafka2:9092");
		CHECK_STR(c->topic, "th-%t");
		CHECK(c->header == HEADER_NONE);
		/* librdkafka's message.max.bytes less key and headers */
		CHECK(c->max_message_size == 1000000 - 2048);
		out = dump(c);
		CHECK(strstr(out,
		          "\nbrokers = kafka1:9092, kafka2:9092\n"
		          "topic = th-%t\n") != NULL);
		CHECK(strstr(out,
		          "\n[kafka]\nenable.idempotence = true\n"
		          "acks = all\n") != NULL);
		free(out);
	}
	config_free(c);
	c = expect_ok(AZURE KAFKA_OUT "[output]\nheader = rfc5424\n"
	                              "[kafka]\nmessage.max.bytes = 100000\n"
	                              "acks = 1\nenable.idempotence = false\n");
	if (c != NULL) {
		CHECK(c->header == HEADER_RFC5424);
		CHECK(c->max_message_size == 100000 - 2048);
		out = dump(c);
		CHECK(strstr(out, "\nacks = all\n") == NULL);
		CHECK(strstr(out, "\nacks = 1\n") != NULL);
		free(out);
	}
	config_free(c);
	expect_error(AZURE "[output]\ntransport = kafka\n",
	    "[output] brokers: required with transport = kafka (host:port, "
	    "...)\n"
	    "[output] topic: required with transport = kafka (%t is replaced "
	    "by the tenant name)\n");
	expect_error(AZURE KAFKA_OUT "[output]\nhost = siem\nport = 9092\n",
	    "[output] host: not used with transport = kafka (brokers, topic "
	    "and the [kafka] section set the producer)\n"
	    "[output] port: not used with transport = kafka (brokers, topic "
	    "and the [kafka] section set the producer)\n");
	expect_error(AZURE OUTPUT "[output]\nbrokers = k:9092\ntopic = t\n"
	                          "[kafka]\nlinger.ms = 5\n",
	    "[output] brokers: only with transport = kafka\n"
	    "[output] topic: only with transport = kafka\n"
	    "[kafka]: only with [output] transport = kafka\n");
	expect_error(AZURE KAFKA_OUT "[output]\nmax_message_size = 999000\n",
	    "[output] max_message_size: 999000 is more than the producer "
	    "takes ([kafka] message.max.bytes 1000000 less 2048 bytes for key "
	    "and headers)\n");
	expect_error(AZURE "[output]\ntransport = kafka\nbrokers = k:99999\n"
	                   "topic = th cef\n",
	    "[output] brokers: \"k:99999\" is not a broker (host:port, like "
	    "kafka1:9092)\n"
	    "[output] topic: \"th cef\" is not a Kafka topic name (letters, "
	    "digits, '.', '_' and '-', and %t)\n");
	expect_error(AZURE "[output]\ntransport = kafka\nbrokers = a:1,,b:2\n"
	                   "topic = x-%h\n",
	    "[output] brokers: empty item in \"a:1,,b:2\" (write host:port, "
	    "host:port, ...)\n"
	    "[output] topic: \"%h\" is not known: %t (the tenant name) is the "
	    "only substitution\n");
}

/* librdkafka itself judges [kafka] properties, also under -n. */
static void
test_kafka_rejected(void)
{
	const char *text;
	struct config *c;
	char *err;
	int only;

	text = AZURE KAFKA_OUT "[kafka]\nfoo.bar = 1\n"
	                       "compression.codec = rar\n"
	                       "bootstrap.servers = x:1\n"
	                       "linger.ms = 5\nlinger.ms = 6\n";
	for (only = 0; only <= 1; only++) {
		c = load_text(text, 0600, only, &err);
		CHECK(c == NULL);
		CHECK_STR(err,
		    "[kafka] bootstrap.servers: set [output] brokers instead\n"
		    "[kafka] linger.ms: given twice (lines 15 and 16)\n"
		    "[kafka] foo.bar: No such configuration property: "
		    "\"foo.bar\"\n"
		    "[kafka] compression.codec: Invalid value \"rar\" for "
		    "configuration property \"compression.codec\"\n");
		free(err);
		config_free(c);
		c = load_text(
		    AZURE KAFKA_OUT "[kafka]\nacks = 1\n", 0600, only, &err);
		CHECK(c == NULL);
		CHECK_STR(err,
		    "[kafka]: librdkafka refuses this configuration: `acks` "
		    "must be set to `all` when `enable.idempotence` is true\n");
		free(err);
		config_free(c);
	}
	expect_error(AZURE KAFKA_OUT "[kafka]\ntransactional.id = x\n",
	    "[kafka] transactional.id: transactions are not used: the "
	    "producer is idempotent and the spool resends what was not "
	    "acknowledged\n");
}

static void
test_kafka_files(void)
{
	char dir[128], path[256], want[1024], *out, *err;
	struct config *c;

	unsetenv("CREDENTIALS_DIRECTORY");
	write_file("eh_secret", 0600,
	    "Endpoint=sb://ns.servicebus.windows.net/"
	    ";SharedAccessKey=k3y\n");
	c = expect_ok(AZURE KAFKA_OUT "[kafka]\nsecurity.protocol = SASL_SSL\n"
	                              "sasl.mechanisms = PLAIN\n"
	                              "sasl.username = $ConnectionString\n"
	                              "sasl.password_file = eh_secret\n");
	if (c != NULL) {
		CHECK(c->kafka != NULL && c->kafka->n == 4);
		if (c->kafka != NULL && c->kafka->n == 4) {
			CHECK_STR(c->kafka->props[3].name, "sasl.password");
			CHECK_STR(c->kafka->props[3].value,
			    "Endpoint=sb://ns.servicebus.windows.net/"
			    ";SharedAccessKey=k3y");
		}
		out = dump(c);
		CHECK(strstr(out, "k3y") == NULL);
		CHECK(strstr(out, "ConnectionString") == NULL);
		CHECK(strstr(out,
		          "\nsasl.username = (redacted)\n"
		          "sasl.password_file = eh_secret\n") != NULL);
		free(out);
	}
	config_free(c);

	write_file("eh_secret", 0640, "k3y\n");
	path_of(path, sizeof(path), "eh_secret");
	snprintf(want, sizeof(want),
	    "[kafka] sasl.password_file: %s is readable by group or others "
	    "(mode 0640); run: chmod 600 %s\n",
	    path, path);
	expect_error(
	    AZURE KAFKA_OUT "[kafka]\nsasl.password_file = eh_secret\n", want);
	c = load_text(AZURE KAFKA_OUT
	    "[kafka]\nsasl.password_file = eh_secret\n",
	    0600, 1, &err);
	CHECK(c == NULL);
	CHECK_STR(err, want);
	free(err);
	/* -n reads no secret, but still knows the property's name. */
	c = load_text(AZURE KAFKA_OUT "[kafka]\nsasl.pasword_file = nothere\n",
	    0600, 1, &err);
	CHECK(c == NULL);
	CHECK_STR(err,
	    "[kafka] sasl.pasword_file: No such configuration property: "
	    "\"sasl.pasword\"\n");
	free(err);

	path_of(dir, sizeof(dir), "kcreds");
	mkdir(dir, 0700);
	write_file("kcreds/eventhubs", 0644, "from-credentials\n");
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	c = expect_ok(
	    AZURE KAFKA_OUT "[kafka]\nsasl.password_file = eventhubs\n");
	if (c != NULL && c->kafka != NULL && c->kafka->n == 1)
		CHECK_STR(c->kafka->props[0].value, "from-credentials");
	config_free(c);
	unsetenv("CREDENTIALS_DIRECTORY");

	path_of(path, sizeof(path), "test.conf");
	snprintf(want, sizeof(want),
	    "[kafka] sasl.password: %s holds a secret but is readable by group "
	    "or others (mode 0644); run: chmod 600 %s, or move the secret to "
	    "sasl.password_file\n",
	    path, path);
	write_file("eh_secret", 0600, "k3y\n");
	c = load_text(AZURE_NOSECRET
	    "client_secret_file = eh_secret\n" KAFKA_OUT
	    "[kafka]\nsasl.password = hunter3\n",
	    0644, 1, &err);
	CHECK(c == NULL);
	CHECK_STR(err, want);
	free(err);
}

/* [kafka] properties that name files: the rules of the tls_* files. */
static void
test_kafka_file_props(void)
{
	char path[256], want[1024], *err;
	struct config *c;
	int n;

	unsetenv("CREDENTIALS_DIRECTORY");
	/* Relative to the configuration's directory, as [source] ca_file. */
	write_file("kca.pem", 0644, "not read without security.protocol\n");
	c = expect_ok(AZURE KAFKA_OUT "[kafka]\nssl.ca.location = kca.pem\n");
	path_of(path, sizeof(path), "kca.pem");
	if (c != NULL && c->kafka != NULL && c->kafka->n == 1)
		CHECK_STR(c->kafka->props[0].value, path);
	config_free(c);
	/* A directory of CAs will do; "probe" names no file. */
	config_free(
	    expect_ok(AZURE KAFKA_OUT "[kafka]\nssl.ca.location = /\n"));
	config_free(
	    expect_ok(AZURE KAFKA_OUT "[kafka]\nssl.ca.location = probe\n"));

	/* Missing: the same line from -n and from a start. */
	path_of(path, sizeof(path), "nothere.pem");
	snprintf(want, sizeof(want),
	    "[kafka] ssl.ca.location: cannot read %s: No such file or "
	    "directory\n",
	    path);
	for (n = 0; n < 2; n++) {
		c = load_text(AZURE KAFKA_OUT
		    "[kafka]\nsecurity.protocol = SSL\n"
		    "ssl.ca.location = nothere.pem\n",
		    0600, n, &err);
		CHECK(c == NULL);
		CHECK_STR(err, want);
		free(err);
	}

	/* A private key readable by others, as [output] tls_key_file. */
	write_file("kkey.pem", 0640, "key\n");
	path_of(path, sizeof(path), "kkey.pem");
	snprintf(want, sizeof(want),
	    "[kafka] ssl.key.location: %s is readable by group or others "
	    "(mode 0640); run: chmod 600 %s\n",
	    path, path);
	expect_error(
	    AZURE KAFKA_OUT "[kafka]\nssl.key.location = kkey.pem\n", want);
	/* Files others may write, as everywhere. */
	chmod(path, 0602);
	snprintf(want, sizeof(want),
	    "[kafka] ssl.key.location: %s is writable by group or others "
	    "(mode 0602); run: chmod 600 %s\n",
	    path, path);
	expect_error(
	    AZURE KAFKA_OUT "[kafka]\nssl.key.location = kkey.pem\n", want);
	write_file("kca.pem", 0664, "x\n");
	path_of(path, sizeof(path), "kca.pem");
	snprintf(want, sizeof(want),
	    "[kafka] ssl.ca.location: %s is writable by group or others "
	    "(mode 0664); run: chmod go-w %s\n",
	    path, path);
	expect_error(
	    AZURE KAFKA_OUT "[kafka]\nssl.ca.location = kca.pem\n", want);
	chmod(path, 0644);
	CHECK(kafka_conf_file("ssl.key.location", "k") ==
	    (KAFKA_FILE | KAFKA_FILE_CRED | KAFKA_FILE_PRIVATE));
	CHECK(kafka_conf_file("ssl.crl.location", "c") == KAFKA_FILE);
	CHECK(kafka_conf_file("ssl.ca.location", "probe") == 0);
	CHECK(kafka_conf_file("linger.ms", "5") == 0);
}

static void
test_dump_redacts(void)
{
	struct config *c;
	char *out;

	c = expect_ok(AZURE OUTPUT);
	if (c == NULL)
		return;
	out = dump(c);
	CHECK(strstr(out, "hunter2") == NULL);
	CHECK(strstr(out, "\nclient_secret = (redacted)\n") != NULL);
	CHECK(strstr(out, "\n; client_secret_file = (not set)\n") != NULL);
	CHECK(strstr(out,
	          "\nurl = https://graph.microsoft.com/v1.0/security/"
	          "alerts_v2\n") != NULL);
	CHECK(strstr(out, "\nport = 514\n") != NULL);
	CHECK(strstr(out, "\nframing = lf\n") != NULL);
	CHECK(strstr(out, "\n[log]\nlevel = info\n") != NULL);
	free(out);
	config_free(c);
}

/* The shipped example passes mdesiemd -n on a fresh checkout. */
static void
test_example(void)
{
	struct config *c;
	char *err;

	if (access("conf/mdesiem.conf.example", R_OK) != 0) {
		CHECK(!"conf/mdesiem.conf.example readable (run from top)");
		return;
	}
	c = load_path("conf/mdesiem.conf.example", 1, &err);
	CHECK(c != NULL);
	CHECK_STR(err, "");
	free(err);
	config_free(c);
}

/* --- many tenants --- */

#define SHARED \
	"[azure]\n" \
	"client_id = 00000000-1111-2222-3333-444444444444\n" \
	"client_secret = hunter2hunter2\n" \
	"[source]\n" \
	"api = graph\n" \
	"[output]\n" \
	"host = siem.example.com\n" \
	"[state]\n" \
	"directory = /tmp/mdesiem-test-state\n"

static struct config_set *
load_set(const char *text, int check_only, char **err)
{
	struct config_set *set;
	char path[256];
	size_t len = 0;
	FILE *f;

	write_file("set.conf", 0600, text);
	path_of(path, sizeof(path), "set.conf");
	*err = NULL;
	f = open_memstream(err, &len);
	set = config_set_load(path, f, check_only);
	fclose(f);
	return set;
}

static void
test_tenants(void)
{
	struct config_set *set;
	const struct config *a, *b;
	char *err;

	set =
	    load_set(SHARED "[tenant contoso]\n"
	                    "tenant_id = 11111111-0000-0000-0000-000000000001\n"
	                    "[tenant fabrikam.eu]\n"
	                    "tenant_id = fabrikam.onmicrosoft.com\n"
	                    "api = alerts\n"
	                    "region = eu\n"
	                    "host = qradar.fabrikam.example\n"
	                    "format = leef\n"
	                    "hostname = fabrikam\n",
	        0, &err);
	CHECK_STR(err, "");
	free(err);
	CHECK(set != NULL && set->ntenant == 2 && set->multi);
	if (set == NULL)
		return;
	a = config_set_find(set, "contoso");
	b = config_set_find(set, "fabrikam.eu");
	CHECK(a != NULL && b != NULL && config_set_find(set, "x") == NULL);
	if (a == NULL || b == NULL)
		goto out;
	CHECK_STR(a->tenant_id, "11111111-0000-0000-0000-000000000001");
	CHECK(a->api == API_GRAPH && a->format == FORMAT_CEF);
	CHECK_STR(
	    a->url, "https://graph.microsoft.com/v1.0/security/alerts_v2");
	CHECK_STR(a->host, "siem.example.com");
	CHECK_STR(a->client_secret, "hunter2hunter2");
	CHECK(strstr(a->tenant_where, "set.conf:10") != NULL);
	CHECK_STR(b->tenant_id, "fabrikam.onmicrosoft.com");
	CHECK(b->api == API_ALERTS && b->format == FORMAT_LEEF);
	CHECK_STR(b->url, "https://eu.api.security.microsoft.com/api/alerts");
	CHECK_STR(b->host, "qradar.fabrikam.example");
	CHECK_STR(b->hostname, "fabrikam");
	CHECK_STR(b->client_id, "00000000-1111-2222-3333-444444444444");
	CHECK(!config_equal(a, b) && config_equal(a, a));
out:
	config_set_free(set);

	/* One tenant without sections: named "default", as before. */
	set = load_set(AZURE OUTPUT, 0, &err);
	CHECK_STR(err, "");
	free(err);
	CHECK(set != NULL && set->ntenant == 1 && !set->multi);
	if (set != NULL)
		CHECK_STR(set->tenant[0]->tenant_name, "default");
	config_set_free(set);
}

/*
 * Tenants of one configuration on Kafka and on syslog: the shared [output]
 * holds the keys of both; each tenant uses its transport's; %t gives each
 * its topic.
 */
static void
test_tenants_kafka(void)
{
	struct config_set *set;
	const struct config *a, *b;
	char *err;

	set = load_set(SHARED
	    "[output]\nbrokers = kafka1:9092\n"
	    "topic = th-%t\n"
	    "[kafka]\nlinger.ms = 20\n"
	    "[tenant contoso]\n"
	    "tenant_id = 11111111-0000-0000-0000-000000000001\n"
	    "transport = kafka\n"
	    "[tenant fabrikam]\n"
	    "tenant_id = 11111111-0000-0000-0000-000000000002\n",
	    0, &err);
	CHECK_STR(err, "");
	free(err);
	CHECK(set != NULL && set->ntenant == 2);
	if (set == NULL)
		return;
	a = config_set_find(set, "contoso");
	b = config_set_find(set, "fabrikam");
	if (a != NULL && b != NULL) {
		CHECK(a->transport == TRANSPORT_KAFKA);
		CHECK(a->header == HEADER_NONE);
		CHECK(a->kafka != NULL && a->kafka->n == 1);
		CHECK(b->transport == TRANSPORT_TCP);
		CHECK(b->header == HEADER_RFC5424);
		CHECK(config_equal(a, a) && !config_equal(a, b));
	}
	config_set_free(set);
	/* A tenant's own key that its transport does not use. */
	set =
	    load_set(SHARED "[output]\nbrokers = kafka1:9092\ntopic = th-%t\n"
	                    "[tenant contoso]\n"
	                    "tenant_id = 11111111-0000-0000-0000-000000000001\n"
	                    "transport = kafka\n"
	                    "port = 9092\n",
	        0, &err);
	CHECK(set == NULL);
	CHECK_STR(err,
	    "[tenant contoso] port: not used with transport = kafka (brokers, "
	    "topic and the [kafka] section set the producer)\n");
	free(err);
	config_set_free(set);
}

static void
expect_set_error(const char *text, const char *want)
{
	struct config_set *set;
	char *err;

	set = load_set(text, 0, &err);
	CHECK(set == NULL);
	CHECK_STR(err, want);
	config_set_free(set);
	free(err);
}

static void
test_tenant_problems(void)
{
	char want[1024], p[256];

	path_of(p, sizeof(p), "set.conf");
	expect_set_error(AZURE OUTPUT "[tenant a]\n"
	                              "tenant_id = 11111111-0000-0000-0000-"
	                              "000000000001\n",
	    "[azure] tenant_id: cannot be used together with [tenant NAME] "
	    "sections; give each tenant its own tenant_id\n");
	snprintf(want, sizeof(want),
	    "[tenant a]: defined twice, at %s:10 and %s:12\n", p, p);
	expect_set_error(SHARED
	    "[tenant a]\n"
	    "tenant_id = 11111111-0000-0000-0000-000000000001\n"
	    "[tenant a]\n"
	    "tenant_id = 11111111-0000-0000-0000-000000000002\n",
	    want);
	snprintf(want, sizeof(want),
	    "[tenant b] tenant_id: the same as [tenant a]'s (%s:11 and "
	    "%s:13)\n",
	    p, p);
	expect_set_error(SHARED
	    "[tenant a]\n"
	    "tenant_id = 11111111-0000-0000-0000-000000000001\n"
	    "[tenant b]\n"
	    "tenant_id = 11111111-0000-0000-0000-000000000001\n",
	    want);
	snprintf(
	    want, sizeof(want), "[tenant a] tenant_id: required (%s:10)\n", p);
	expect_set_error(SHARED "[tenant a]\napi = siem\n", want);
	snprintf(want, sizeof(want),
	    "%s:10: [tenant a b]: a tenant name is 1 to 64 of A-Z a-z 0-9 . _ "
	    "-\n",
	    p);
	expect_set_error(SHARED
	    "[tenant a b]\n"
	    "tenant_id = 11111111-0000-0000-0000-000000000001\n",
	    want);
	expect_set_error(SHARED
	    "[tenant a]\n"
	    "tenant_id = 11111111-0000-0000-0000-000000000001\n"
	    "facility = local0\n"
	    "colour = red\n",
	    "[tenant a] facility: not a key a tenant can set; it belongs in "
	    "[output], shared by every tenant\n"
	    "[tenant a] colour: unknown key\n");
	/* A shared key's problem once, a tenant's own with its name. */
	expect_set_error(SHARED
	    "[output]\nformat = xml\n"
	    "[tenant a]\n"
	    "tenant_id = 11111111-0000-0000-0000-000000000001\n"
	    "[tenant b]\n"
	    "tenant_id = 11111111-0000-0000-0000-000000000002\n"
	    "api = nope\n",
	    "[output] format: \"xml\" is not one of cef, leef, json\n"
	    "[tenant b] api: \"nope\" is not one of graph, alerts, siem\n");
}

/* Seven tenants without a credential: five lines, then a count. */
static void
test_tenant_same_problem(void)
{
	char text[4096], want[2048];
	size_t n = 0;
	int i;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
	    "[azure]\nclient_id = 00000000-1111-2222-3333-444444444444\n"
	    "[output]\nhost = h\n[state]\ndirectory = /tmp\n");
	for (i = 1; i <= 7; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "[tenant t%d]\ntenant_id = 11111111-0000-0000-0000-%012d\n",
		    i, i);
	want[0] = '\0';
	for (i = 1; i <= 5; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
		    "[tenant t%d] client_secret: required (or "
		    "client_secret_file, "
		    "or certificate_file and private_key_file)\n",
		    i);
	snprintf(want + strlen(want), sizeof(want) - strlen(want),
	    "... 2 more tenants: client_secret: required (or "
	    "client_secret_file, or certificate_file and private_key_file)\n");
	expect_set_error(text, want);
}

static void
test_tenants_dir(void)
{
	struct config_set *set;
	char text[1024], dir[256], want[1024], p[256];
	char *err;

	path_of(dir, sizeof(dir), "tenants.d");
	mkdir(dir, 0700);
	write_file("tenants.d/b.conf", 0600,
	    "[tenant beta]\ntenant_id = 11111111-0000-0000-0000-000000000002\n"
	    "client_secret_file = beta.secret\n");
	write_file("tenants.d/a.conf", 0600,
	    "[tenant alpha]\ntenant_id = "
	    "11111111-0000-0000-0000-000000000001\n");
	write_file("tenants.d/notes.txt", 0600, "[tenant ignored]\n");
	write_file("tenants.d/beta.secret", 0600, "beta-secret\n");
	snprintf(text, sizeof(text),
	    "[azure]\nclient_id = 00000000-1111-2222-3333-444444444444\n"
	    "client_secret = hunter2hunter2\n"
	    "[output]\nhost = h\n[state]\ndirectory = /tmp\n"
	    "[daemon]\ntenants_dir = tenants.d\n"
	    "[tenant main]\ntenant_id = "
	    "11111111-0000-0000-0000-000000000009\n");
	set = load_set(text, 0, &err);
	CHECK_STR(err, "");
	free(err);
	CHECK(set != NULL && set->ntenant == 3);
	if (set != NULL && set->ntenant == 3) {
		CHECK_STR(set->tenant[0]->tenant_name, "main");
		CHECK_STR(set->tenant[1]->tenant_name, "alpha");
		CHECK_STR(set->tenant[2]->tenant_name, "beta");
		CHECK_STR(set->tenant[1]->client_secret, "hunter2hunter2");
		/* Beside the file that names it. */
		CHECK_STR(set->tenant[2]->client_secret, "beta-secret");
	}
	config_set_free(set);

	write_file("tenants.d/c.conf", 0600,
	    "[output]\nhost = x\n"
	    "[tenant alpha]\ntenant_id = "
	    "11111111-0000-0000-0000-000000000003\n");
	snprintf(want, sizeof(want),
	    "%s/c.conf:1: [output]: a tenants_dir file holds only [tenant "
	    "NAME] sections\n"
	    "[tenant alpha]: defined twice, at %s/a.conf:1 and %s/c.conf:3\n",
	    dir, dir, dir);
	expect_set_error(text, want);
	path_of(p, sizeof(p), "tenants.d/c.conf");
	unlink(p);
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("CREDENTIALS_DIRECTORY");
	test_duration();
	test_size();
	test_names();
	test_full();
	test_defaults_siem();
	test_defaults_alerts();
	test_defaults_graph();
	test_transport();
	test_file_problems();
	test_single_problems();
	test_values();
	test_urls();
	test_machine_groups();
	test_config_mode();
	test_writable_files();
	test_secret_file();
	test_credentials_directory();
	test_credentials();
	test_check_only();
	test_many_problems();
	test_kafka();
	test_kafka_rejected();
	test_kafka_files();
	test_kafka_file_props();
	test_dump_redacts();
	test_example();
	test_tenants();
	test_tenants_kafka();
	test_tenant_problems();
	test_tenant_same_problem();
	test_tenants_dir();
	nftw(tmpdir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	return check_done();
}
