/* SPDX-License-Identifier: MIT */
/*
 * --test-connection (include/probe.h).  Uses the same HTTP client, token
 * cache, source and sink as the daemon, so what passes here works there;
 * nothing is fetched into the spool and no state is written.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "cycle.h"
#include "errcode.h"
#include "http.h"
#include "probe.h"
#include "sink.h"
#include "sink_kafka.h"
#include "source.h"
#include "text.h"
#include "token.h"
#include "url.h"

struct hint {
	const char *needle;
	const char *fix;
};

/* Likely fixes, matched against the error text (first match wins). */
static const struct hint hints[] = {
    /* First: a retired API's line also holds the HTTP status. */
    {"answers as retired",
        "Microsoft has switched this API off: move to api = graph "
        "(README, \"Migrating to Graph\")"},
    {"AADSTS7000215",
        "the client secret is wrong or expired: create a "
        "new secret in the app registration (Certificates & secrets) and "
        "use its Value, not its Secret ID"},
    {"AADSTS7000222", "the client secret has expired: create a new one"},
    {"AADSTS90002",
        "the tenant was not found: check [azure] tenant_id "
        "and [source] cloud"},
    {"AADSTS700016",
        "the application was not found in this tenant: "
        "check [azure] client_id and tenant_id"},
    {"AADSTS700027",
        "the certificate is not registered with the app, or "
        "the key does not match it: upload certificate_file to the app "
        "registration"},
    {"AADSTS700024",
        "the client assertion is outside its valid time: "
        "check this machine's clock (NTP)"},
    {"AADSTS500011",
        "the API is unknown in this tenant: check "
        "[source] audience"},
    {"proxy refused", "check the user and password in [source] proxy"},
    {"Topic authorization failed",
        "grant this client Write and Describe on the topic (kafka-acls "
        "--add --allow-principal User:NAME --operation Write --operation "
        "Describe --topic TOPIC); on Azure Event Hubs the policy of the "
        "connection string needs Send"},
    {"Cluster authorization failed",
        "the idempotent producer needs IdempotentWrite on the cluster "
        "(brokers before Kafka 2.8): grant it, or set [kafka] "
        "enable.idempotence = false"},
    {"Unknown topic or partition",
        "the topic does not exist: create it, or correct [output] topic "
        "(ArcSight Transformation Hub reads CEF from th-cef; on Azure "
        "Event Hubs the topic is the event hub's name)"},
    {"SASL authentication error",
        "the brokers refused the sign-in: check [kafka] sasl.mechanisms, "
        "sasl.username and sasl.password_file (Azure Event Hubs: PLAIN, "
        "user $ConnectionString, password the connection string)"},
    {"incorrect security.protocol",
        "the listener speaks another protocol: set [kafka] "
        "security.protocol (SSL or SASL_SSL for TLS listeners, such as "
        "Azure Event Hubs on port 9093)"},
    {"certificate verify failed",
        "the brokers' certificate is not trusted: set [kafka] "
        "ssl.ca.location to the CA bundle that signed it"},
    {"Failed to resolve",
        "a broker name does not resolve: check [output] brokers and "
        "DNS"},
    {"certificate verification failed",
        "the server certificate is not "
        "trusted: set the CA bundle ([source] ca_file for a TLS-"
        "inspecting proxy, [output] tls_ca_file for the collector)"},
    {"hostname mismatch",
        "the certificate does not name this host: "
        "check [output] host or tls_server_name"},
    {"Connection refused",
        "nothing listens there: check the host, the "
        "port and the firewall"},
    {"connection refused",
        "nothing listens there: check the host, the "
        "port and the firewall"},
    {"cannot resolve",
        "the name does not resolve: check the host name, "
        "[source] region and DNS"},
    {"timed out",
        "no answer: check the network path, the firewall and "
        "[source] proxy"},
    {"HTTP 401",
        "the token was refused: check that the app has the API "
        "permission for this api and that [source] audience matches it"},
    {"HTTP 403",
        "the app lacks the permission or admin consent: grant "
        "SecurityAlert.Read.All (Graph) or Alert.Read.All "
        "(WindowsDefenderATP) as an application permission and grant "
        "admin consent"},
    {"HTTP 404",
        "wrong endpoint: check [source] url and region (if they are "
        "right, Microsoft may have retired the API: README, \"Migrating "
        "to Graph\")"},
    {NULL, NULL},
};

/* The incidents stream's own: its permission is another. */
static const struct hint incident_hints[] = {
    {"HTTP 403",
        "the app lacks the permission or admin consent: grant "
        "SecurityIncident.Read.All (Microsoft Graph) as an application "
        "permission and grant admin consent, or set [source] streams = "
        "alerts"},
    {NULL, NULL},
};

static void report_with(FILE *out, int ok, const char *step, const char *detail,
    const struct hint *first);

static void
report(FILE *out, int ok, const char *step, const char *detail)
{
	report_with(out, ok, step, detail, NULL);
}

/* report(), with the hints of first (NULL: none) tried before the rest. */
static void
report_with(FILE *out, int ok, const char *step, const char *detail,
    const struct hint *first)
{
	const struct hint *h;
	char safe[2048];

	/* The detail may quote an answer: nothing in it may act on a tty. */
	fprintf(out, "%-6s %s: %s\n", ok ? "ok" : "FAIL", step,
	    text_log_safe(safe, sizeof(safe), detail));
	if (ok)
		return;
	for (h = first; h != NULL && h->needle != NULL; h++) {
		if (strstr(detail, h->needle) != NULL) {
			fprintf(out, "       likely fix: %s\n", h->fix);
			return;
		}
	}
	for (h = hints; h->needle != NULL; h++) {
		if (strstr(detail, h->needle) != NULL) {
			fprintf(out, "       likely fix: %s\n", h->fix);
			return;
		}
	}
}

static int
resolve(FILE *out, const char *what, const char *host)
{
	struct addrinfo hints_ai, *res = NULL;
	char detail[512];
	int rc;

	memset(&hints_ai, 0, sizeof(hints_ai));
	hints_ai.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints_ai, &res);
	if (rc == 0) {
		snprintf(detail, sizeof(detail), "%s resolves", host);
		freeaddrinfo(res);
	} else {
		snprintf(detail, sizeof(detail), "cannot resolve %s: %s", host,
		    gai_strerror(rc));
	}
	fprintf(out, "%-6s resolve %s: %s\n", rc == 0 ? "ok" : "FAIL", what,
	    detail);
	return rc == 0 ? 0 : -1;
}

static int
step_resolve(const struct config *c, FILE *out)
{
	char host[256];
	int bad = 0;

	if (c->proxy != NULL || getenv("https_proxy") != NULL) {
		fprintf(out,
		    "%-6s resolve: through a proxy, which resolves "
		    "the names\n",
		    "skip");
	} else {
		if (url_host(c->login_url, host, sizeof(host)) == 0)
			bad |= resolve(out, "sign-in host", host);
		if (url_host(c->url, host, sizeof(host)) == 0)
			bad |= resolve(out, "API host", host);
	}
	if (c->host != NULL &&
	    (c->transport == TRANSPORT_TCP || c->transport == TRANSPORT_TLS ||
	        c->transport == TRANSPORT_UDP))
		bad |= resolve(out, "collector", c->host);
	return bad;
}

static int step_stream(const struct config *c, struct http *h, struct token *t,
    enum config_stream stream, FILE *out);

static int
step_api(const struct config *c, struct http *h, FILE *out)
{
	struct token *t = cycle_token_new(c, h);
	const char *bearer;
	char detail[1200];
	int rc, st;

	if (t == NULL) {
		report(out, 0, "sign in", "cannot set up the sign-in");
		return -1;
	}
	if ((rc = token_get(t, &bearer)) != 0) {
		report(out, 0, "sign in", token_error(t));
		fprintf(out, "%-6s read one record: needs a token\n", "skip");
		token_free(t);
		return -1;
	}
	snprintf(detail, sizeof(detail), "token for %s from %s", c->audience,
	    c->login_url);
	report(out, 1, "sign in", detail);
	rc = 0;
	for (st = 0; st < STREAM__COUNT; st++)
		if (c->streams & CONFIG_STREAM_BIT(st))
			rc |= step_stream(c, h, t, (enum config_stream)st, out);
	token_free(t);
	return rc == 0 ? 0 : -1;
}

/* Read one record of a stream ("read one record": alerts; "read one
 * incident"). */
static int
step_stream(const struct config *c, struct http *h, struct token *t,
    enum config_stream stream, FILE *out)
{
	const char *step = stream == STREAM_INCIDENTS ? "read one incident"
	                                              : "read one record";
	struct source *s;
	char detail[1200];
	long count = 0;
	int rc;

	if ((s = source_new_stream(c, h, t, NULL, stream)) == NULL) {
		report(out, 0, step, "cannot set up the source");
		return -1;
	}
	rc = source_probe(s, &count);
	if (rc == 0)
		snprintf(detail, sizeof(detail),
		    "%s answered (%ld record%s "
		    "in the last 24 h sample)",
		    source_url(s), count, count == 1 ? "" : "s");
	else
		snprintf(detail, sizeof(detail), "%s", source_error(s));
	report_with(out, rc == 0, step, detail,
	    stream == STREAM_INCIDENTS ? incident_hints : NULL);
	/* Not a failure: the API works today, but not for ever. */
	if (source_deprecation(s) != NULL)
		fprintf(out, "%-6s %s\n", "note", source_deprecation(s));
	source_free(s);
	return rc == 0 ? 0 : -1;
}

/* Kafka: metadata, the topic, what can be said of write permission. */
static int
step_kafka(const struct config *c, FILE *out)
{
	struct sink_kafka_opts o = {c->brokers, c->topic, c->kafka};
	struct sink_kafka_probe pr;
	long ms =
	    c->timeout > 0 && c->timeout < 30 ? (long)c->timeout * 1000 : 30000;
	int rc;

	rc = sink_kafka_probe(&o, c->tenant_name, ms, &pr);
	report(out, pr.metadata_ok, "kafka metadata", pr.metadata);
	if (!pr.metadata_ok) {
		fprintf(out, "%-6s kafka topic: %s\n", "skip", pr.topic);
		fprintf(
		    out, "%-6s kafka write permission: %s\n", "skip", pr.write);
		return -1;
	}
	report(out, pr.topic_ok, "kafka topic", pr.topic);
	if (pr.write_ok < 0)
		fprintf(
		    out, "%-6s kafka write permission: %s\n", "skip", pr.write);
	else
		report(out, pr.write_ok, "kafka write permission", pr.write);
	return rc;
}

static int
step_collector(const struct config *c, FILE *out)
{
	struct sink *s;
	char why[600], detail[800];
	int rc;

	if (c->transport == TRANSPORT_KAFKA)
		return step_kafka(c, out);
	s = sink_new(c, NULL);
	if (s == NULL) {
		report(out, 0, "collector", "cannot set up the output");
		return -1;
	}
	rc = sink_probe(s, why, sizeof(why));
	if (rc == 0)
		snprintf(detail, sizeof(detail),
		    "%s %s:%d accepts a "
		    "connection",
		    config_transport_name(c->transport),
		    c->host != NULL ? c->host : "-", c->port);
	else
		snprintf(detail, sizeof(detail), "%s", why);
	report(out, rc == 0, "collector", detail);
	sink_free(s);
	return rc == 0 ? 0 : -1;
}

int
probe_run(const struct config *c, FILE *out)
{
	struct http_opts ho;
	struct http *h;
	int bad = 0;

	bad |= step_resolve(c, out);
	cycle_http_opts(c, NULL, &ho);
	if ((h = http_new(&ho)) == NULL)
		return -1;
	bad |= step_api(c, h, out);
	http_free(h);
	bad |= step_collector(c, out);
	fprintf(out, "%s\n",
	    bad ? "test-connection: FAILED"
	        : "test-connection: all steps passed");
	return bad ? -1 : 0;
}
