/* SPDX-License-Identifier: MIT */
/*
 * Syslog over TLS (RFC 5425) to the collector, with OpenSSL: TLS 1.2 at
 * least, the collector's certificate chain verified against tls_ca_file
 * or the system store and its name (or IP address) against
 * tls_server_name, an optional client certificate for mutual TLS.  The
 * connection is made over sink_tcp_connect(); the handshake runs on the
 * non-blocking socket within io_timeout (noticing a stop request), and
 * nothing is written before it and the verification have succeeded.  A
 * failure becomes one reason a SIEM engineer can act on ("certificate
 * verification failed: ...").  Framing (octet counting by default for
 * tls) is done by frame.c.
 *
 * Delivery: one SSL_write() per whole message, and only when the send
 * queue has room for all of its records with a wide margin (as for tcp);
 * a write the kernel could not take whole is finished with the same
 * buffer before anything else.  OpenSSL talks to the socket through our
 * own BIO, which sends with MSG_NOSIGNAL (no SIGPIPE, even in
 * --test-connection) and counts the raw bytes written: a message is
 * acknowledged when the collector's kernel acknowledged the last raw
 * byte of its records (raw bytes written minus SIOCOUTQ).
 *
 * The SSL_CTX is built at each connection, so a renewed CA bundle or
 * client certificate is picked up at the next reconnect.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "errcode.h"
#include "nap.h"
#include "sink_impl.h"

/*
 * In TLS 1.3 the client finishes its handshake before the server has
 * looked at the client certificate; the server's verdict (session tickets,
 * or an alert) follows.  When the collector asked for a certificate, wait
 * this long for that verdict so that a refusal is reported as such.
 */
#define VERDICT_WAIT_MS 2000
#define RECORD_OVERHEAD 64 /* header, nonce, tag, padding of one record */
#define BIO_TYPE_MDESIEM (0x6d | BIO_TYPE_SOURCE_SINK)

/* --- the socket BIO --- */

static int
bio_write(BIO *b, const char *data, int len)
{
	struct sink *s = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do {
		n = send(s->fd, data, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_write(b);
		return -1;
	}
	s->written += (uint64_t)n;
	return (int)n;
}

static int
bio_read(BIO *b, char *data, int len)
{
	struct sink *s = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do {
		n = recv(s->fd, data, (size_t)len, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_read(b);
	else if (n == 0)
		BIO_set_flags(b, BIO_FLAGS_IN_EOF);
	return (int)n;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct sink *s = BIO_get_data(b);

	(void)num;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
	case BIO_C_GET_FD:
		if (ptr != NULL)
			*(int *)ptr = s->fd;
		return s->fd;
	default:
		return 0;
	}
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *
bio_method(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_TYPE_MDESIEM, "mdesiem socket");

	if (m == NULL || BIO_meth_set_write(m, bio_write) != 1 ||
	    BIO_meth_set_read(m, bio_read) != 1 ||
	    BIO_meth_set_ctrl(m, bio_ctrl) != 1 ||
	    BIO_meth_set_create(m, bio_create) != 1) {
		BIO_meth_free(m);
		return NULL;
	}
	return m;
}

/* Remember what the collector sent that explains a later failure. */
static void
on_msg(int write_p, int version, int content_type, const void *buf, size_t len,
    SSL *ssl, void *arg)
{
	struct sink *s = arg;
	const unsigned char *p = buf;

	(void)version;
	(void)ssl;
	if (write_p || s == NULL || len < 1)
		return;
	if (content_type == SSL3_RT_HANDSHAKE) {
		if (p[0] == SSL3_MT_CERTIFICATE_REQUEST)
			s->tls_cert_requested = 1;
		else if (p[0] == SSL3_MT_NEWSESSION_TICKET)
			s->tls_ticket = 1;
	} else if (content_type == SSL3_RT_ALERT && len >= 2) {
		s->tls_alert = p[1];
	}
}

/* The reason of the first queued OpenSSL error, or NULL; clears them. */
static const char *
ssl_reason(void)
{
	unsigned long e = ERR_get_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r;
}

static int
load_files(struct sink *s, SSL_CTX *ctx, char *why, size_t whylen)
{
	const char *r;

	if (s->tls_ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, s->tls_ca_file, NULL) !=
		    1) {
			r = ssl_reason();
			snprintf(why, whylen,
			    "cannot load [output] tls_ca_file "
			    "%s: %s",
			    s->tls_ca_file, r ? r : "unknown error");
			return ERR_SINK;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		r = ssl_reason();
		snprintf(why, whylen, "cannot load the system CA store: %s",
		    r ? r : "unknown error");
		return ERR_SINK;
	}
	if (s->tls_cert_file == NULL)
		return 0;
	if (SSL_CTX_use_certificate_chain_file(ctx, s->tls_cert_file) != 1) {
		r = ssl_reason();
		snprintf(why, whylen,
		    "cannot load [output] tls_cert_file %s: "
		    "%s",
		    s->tls_cert_file, r ? r : "unknown error");
		return ERR_SINK;
	}
	if (s->tls_key_file == NULL ||
	    SSL_CTX_use_PrivateKey_file(
	        ctx, s->tls_key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		r = ssl_reason();
		snprintf(why, whylen,
		    "cannot use [output] tls_key_file %s "
		    "with tls_cert_file: %s",
		    s->tls_key_file ? s->tls_key_file : "(none)",
		    r ? r : "unknown error");
		return ERR_SINK;
	}
	return 0;
}

/* Never prompt on a terminal: an encrypted key is refused instead. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int
make_ctx(struct sink *s, char *why, size_t whylen)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ERR_clear_error();
		snprintf(why, whylen, "cannot set up TLS: out of memory");
		return ERR_SINK;
	}
	s->tls_ctx = ctx;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		snprintf(why, whylen, "cannot require TLS 1.2");
		return ERR_SINK;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	/* A write finished later may come from a moved copy of the message. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_msg_callback(ctx, on_msg);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	return load_files(s, ctx, why, whylen);
}

static int
is_ip_literal(const char *name)
{
	unsigned char a[16];

	return inet_pton(AF_INET, name, a) == 1 ||
	    inet_pton(AF_INET6, name, a) == 1;
}

/* The connection object: what to verify, and SNI for host names. */
static int
make_ssl(struct sink *s, char *why, size_t whylen)
{
	SSL *ssl;
	BIO *bio;
	int ok;

	if ((ssl = SSL_new(s->tls_ctx)) == NULL ||
	    (s->tls_bio = bio_method()) == NULL ||
	    (bio = BIO_new(s->tls_bio)) == NULL) {
		SSL_free(ssl);
		snprintf(why, whylen, "cannot set up TLS: out of memory");
		return ERR_SINK;
	}
	BIO_set_data(bio, s);
	SSL_set_bio(ssl, bio, bio);
	s->tls = ssl;
	SSL_set_msg_callback_arg(ssl, s);
	if (is_ip_literal(s->tls_name)) {
		/* RFC 6066: no SNI for addresses; match an iPAddress SAN. */
		ok = X509_VERIFY_PARAM_set1_ip_asc(
		         SSL_get0_param(ssl), s->tls_name) == 1;
	} else {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set1_host(ssl, s->tls_name) == 1 &&
		    SSL_set_tlsext_host_name(ssl, s->tls_name) == 1;
	}
	if (!ok) {
		snprintf(
		    why, whylen, "cannot set up TLS for \"%s\"", s->tls_name);
		return ERR_SINK;
	}
	SSL_set_connect_state(ssl);
	return 0;
}

/* The name of a TLS alert, including those OpenSSL 3.0 cannot name. */
static const char *
alert_name(int desc, char *tmp, size_t tmplen)
{
	const char *name;

	if (desc == 116) /* RFC 8446 section 6.2 */
		return "certificate required";
	name = SSL_alert_desc_string_long(desc);
	if (name == NULL || strcmp(name, "unknown") == 0) {
		snprintf(tmp, tmplen, "alert number %d", desc);
		return tmp;
	}
	return name;
}

/* Why the collector refused us, when it said so with an alert. */
static void
alert_reason(struct sink *s, char *why, size_t whylen)
{
	char tmp[32];
	const char *alert = alert_name(s->tls_alert, tmp, sizeof(tmp));

	if (s->tls_cert_requested && s->tls_cert_file == NULL)
		snprintf(why, whylen,
		    "the collector requires a TLS client "
		    "certificate (set [output] tls_cert_file and tls_key_file)"
		    "; it sent alert \"%s\"",
		    alert);
	else if (s->tls_cert_requested)
		snprintf(why, whylen,
		    "the collector refused our TLS client "
		    "certificate with alert \"%s\" (check [output] "
		    "tls_cert_file and tls_key_file)",
		    alert);
	else
		snprintf(why, whylen,
		    "TLS handshake failed: the collector "
		    "sent alert \"%s\"",
		    alert);
}

/* A handshake error from OpenSSL that says "this is not TLS". */
static int
not_tls(unsigned long e)
{
	int r = ERR_GET_REASON(e);

	return ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    (r == SSL_R_WRONG_VERSION_NUMBER ||
	        r == SSL_R_PACKET_LENGTH_TOO_LONG ||
	        r == SSL_R_RECORD_LENGTH_MISMATCH ||
	        r == SSL_R_UNEXPECTED_EOF_WHILE_READING);
}

/* One clear reason for a failed handshake; err from SSL_get_error(). */
static void
handshake_error(struct sink *s, int err, char *why, size_t whylen)
{
	long vr = SSL_get_verify_result(s->tls);
	unsigned long e = ERR_peek_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (vr == X509_V_ERR_HOSTNAME_MISMATCH ||
	    vr == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		snprintf(why, whylen,
		    "TLS certificate verification failed: "
		    "hostname mismatch: certificate is not valid for \"%s\" "
		    "(check [output] host or tls_server_name)",
		    s->tls_name);
	} else if (vr != X509_V_OK) {
		snprintf(why, whylen,
		    "TLS certificate verification failed: "
		    "%s (%s)",
		    X509_verify_cert_error_string(vr),
		    s->tls_ca_file != NULL
		        ? "check [output] tls_ca_file"
		        : "the system CA store does not trust it: set [output] "
		          "tls_ca_file");
	} else if (s->tls_alert >= 0) {
		alert_reason(s, why, whylen);
	} else if (r != NULL) {
		snprintf(why, whylen, "TLS handshake failed: %s%s", r,
		    not_tls(e) ? " (is the collector listening for TLS on this "
		                 "port?)"
		               : "");
	} else if (err == SSL_ERROR_SYSCALL && errno != 0) {
		snprintf(
		    why, whylen, "TLS handshake failed: %s", strerror(errno));
	} else {
		snprintf(why, whylen,
		    "TLS handshake failed: connection "
		    "closed by the collector (is it listening for TLS on this "
		    "port?)");
	}
	ERR_clear_error();
}

static int
handshake(struct sink *s, char *why, size_t whylen)
{
	int64_t deadline = nap_now_ms() + s->io_timeout * 1000;
	int rc, err;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((rc = SSL_connect(s->tls)) == 1)
			return 0;
		err = SSL_get_error(s->tls, rc);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
			break;
		rc = sink_wait_fd(s, s->fd,
		    err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline,
		    NULL);
		if (rc == ERR_STOPPED) {
			s->tls_broken = 1;
			return rc;
		}
		if (rc != 0) {
			snprintf(why, whylen,
			    "TLS handshake timed out after "
			    "%ld s (is the collector listening for TLS on this "
			    "port?)",
			    s->io_timeout);
			s->tls_broken = 1;
			return ERR_SINK;
		}
	}
	s->tls_broken = 1;
	handshake_error(s, err, why, whylen);
	return ERR_SINK;
}

/*
 * TLS 1.3 with a client certificate requested: read until the collector
 * has accepted us (a session ticket, or data) or refused us (an alert).
 * No verdict within VERDICT_WAIT_MS counts as accepted: some servers
 * send no tickets.
 */
static int
await_verdict(struct sink *s, char *why, size_t whylen)
{
	int64_t deadline = nap_now_ms() + VERDICT_WAIT_MS;
	char c;
	int n, err, rc;

	if (!s->tls_cert_requested || SSL_version(s->tls) < TLS1_3_VERSION)
		return 0;
	while (!s->tls_ticket) {
		ERR_clear_error();
		errno = 0;
		if ((n = SSL_peek(s->tls, &c, 1)) > 0)
			return 0;
		err = SSL_get_error(s->tls, n);
		if (err == SSL_ERROR_WANT_READ) {
			rc = sink_wait_fd(s, s->fd, POLLIN, deadline, NULL);
			if (rc != 0)
				return rc == ERR_STOPPED ? rc : 0;
			continue;
		}
		s->tls_broken = err != SSL_ERROR_ZERO_RETURN;
		handshake_error(s, err, why, whylen);
		return ERR_SINK;
	}
	return 0;
}

static void
tls_close(struct sink *s)
{
	struct pollfd pfd = {s->fd, 0, 0};

	if (s->tls != NULL) {
		/*
		 * close_notify (RFC 5425 section 4.4), without waiting for
		 * the collector's; not twice, not after a fatal error, nor
		 * into a connection the collector has already reset.
		 */
		if (!s->tls_broken && !s->tls_shut &&
		    !(poll(&pfd, 1, 0) == 1 &&
		        (pfd.revents & (POLLERR | POLLHUP)))) {
			ERR_clear_error();
			SSL_shutdown(s->tls);
		}
		SSL_free(s->tls);
	}
	SSL_CTX_free(s->tls_ctx);
	BIO_meth_free(s->tls_bio);
	if (s->fd >= 0)
		close(s->fd);
	ERR_clear_error();
	s->tls = NULL;
	s->tls_ctx = NULL;
	s->tls_bio = NULL;
	s->fd = -1;
	s->tls_broken = 0;
	s->tls_shut = 0;
}

static int
tls_open(struct sink *s, char *why, size_t whylen)
{
	int rc;

	s->tls_cert_requested = 0;
	s->tls_ticket = 0;
	s->tls_alert = -1;
	s->tls_broken = 1;
	s->tls_shut = 0;
	if ((rc = make_ctx(s, why, whylen)) != 0 ||
	    (rc = sink_tcp_connect(s, SOCK_STREAM, &s->fd, why, whylen)) != 0 ||
	    (rc = make_ssl(s, why, whylen)) != 0)
		goto out;
	s->tls_broken = 0;
	if ((rc = handshake(s, why, whylen)) != 0 ||
	    (rc = await_verdict(s, why, whylen)) != 0)
		goto out;
out:
	if (rc != 0)
		tls_close(s);
	return rc;
}

/*
 * Nonzero when the collector has closed its end or broken the session.
 * Records it sent since (TLS 1.3 session tickets, an alert, close_notify)
 * are processed here; application data from a syslog collector has no
 * meaning and is discarded.
 */
static int
tls_peer_closed(struct sink *s, char *why, size_t whylen)
{
	struct pollfd pfd = {s->fd, POLLIN | POLLRDHUP, 0};
	char scratch[512];
	int n, err, closed = 0;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	if (pfd.revents & (POLLHUP | POLLERR))
		closed = 1;
	while (!closed) {
		ERR_clear_error();
		if ((n = SSL_read(s->tls, scratch, sizeof(scratch))) > 0)
			continue;
		err = SSL_get_error(s->tls, n);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			break;
		closed = 1;
		if (err != SSL_ERROR_ZERO_RETURN)
			s->tls_broken = 1;
	}
	ERR_clear_error();
	if (closed)
		snprintf(why, whylen, "connection closed by the collector");
	return closed;
}

/* The reason of a failed SSL_write(); the session is unusable. */
static void
write_error(struct sink *s, int err, char *why, size_t whylen)
{
	const char *r;

	s->tls_broken = 1;
	if (err == SSL_ERROR_SYSCALL && errno != 0)
		snprintf(why, whylen, "send failed: %s", strerror(errno));
	else if ((r = ssl_reason()) != NULL)
		snprintf(why, whylen, "send failed: %s", r);
	else
		snprintf(why, whylen, "connection closed by the collector");
	ERR_clear_error();
}

/*
 * One SSL_write() of a whole message.  Returns 0 (written), 1 (OpenSSL
 * holds part of it: call again with the same bytes) or ERR_SINK.
 */
static int
write_msg(
    struct sink *s, const char *data, size_t len, char *why, size_t whylen)
{
	int n, err;

	ERR_clear_error();
	errno = 0;
	if ((n = SSL_write(s->tls, data, (int)len)) > 0)
		return 0;
	err = SSL_get_error(s->tls, n);
	if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)
		return 1;
	write_error(s, err, why, whylen);
	return ERR_SINK;
}

static size_t
held(const struct sink *s)
{
	return s->out.len - s->out_off;
}

/* Finish the message an earlier SSL_write() left.  0 or ERR_SINK. */
static int
finish_write(struct sink *s, char *why, size_t whylen)
{
	int rc;

	if (held(s) == 0)
		return 0;
	if ((rc = write_msg(s, s->out.data, s->out.len, why, whylen)) != 0)
		return rc == 1 ? 0 : rc;
	buf_clear(&s->out);
	s->out_off = 0;
	sink_ring_push(s, s->written, s->tls_retry_mark);
	return 0;
}

static int
tls_send(struct sink *s, const struct sink_msg *m, char *why, size_t whylen)
{
	long need = (long)m->len + (long)(m->len / 16384 + 1) * RECORD_OVERHEAD;
	int rc, empty = 0;

	if (m->len > INT_MAX)
		return ERR_BADREC;
	if ((rc = finish_write(s, why, whylen)) != 0)
		return rc;
	if (held(s) > 0 || s->ring_len == SINK_RING)
		return ERR_AGAIN;
	if (need > s->budget) {
		long room = sink_stream_room(s, &empty);

		s->budget = room > 0 ? room : 0;
		if (need > s->budget && !empty)
			return ERR_AGAIN;
	}
	s->budget -= need;
	if ((rc = write_msg(s, m->data, m->len, why, whylen)) == 0)
		return sink_ring_push(s, s->written, m->mark);
	if (rc == 1) {
		/* Taken: the rest follows before anything else. */
		s->budget = 0;
		s->tls_retry_mark = m->mark;
		if (buf_add(&s->out, m->data, m->len) != 0) {
			snprintf(why, whylen, "out of memory");
			return ERR_SINK;
		}
		return 0;
	}
	return rc;
}

static void
take_acks(struct sink *s)
{
	uint64_t b;

	if (sink_stream_acked(s, &b) == 0)
		sink_ring_ack(s, b);
}

/* Sleep until end at most (a write to finish waits for POLLOUT). */
static void
nap_fd(struct sink *s, int64_t end)
{
	sink_stream_nap(s, held(s) > 0, end);
}

static int
tls_poll(struct sink *s, long wait_ms, uint64_t *acked)
{
	int64_t end = nap_now_ms() + wait_ms;
	uint64_t before = s->acked;
	size_t was = held(s);

	for (;;) {
		int rc = finish_write(s, s->why, sizeof(s->why));

		take_acks(s);
		*acked = s->acked;
		if (rc != 0 || tls_peer_closed(s, s->why, sizeof(s->why)))
			return ERR_SINK;
		if ((s->ring_len == 0 && held(s) == 0) || s->acked != before ||
		    held(s) < was || nap_now_ms() >= end)
			return 0;
		nap_fd(s, end);
	}
}

/* close_notify, then the write side; 0, ERR_AGAIN or ERR_SINK. */
static int
shut_write(struct sink *s, int64_t end)
{
	int n, err;

	while (!s->tls_shut && !s->tls_broken) {
		ERR_clear_error();
		errno = 0;
		if ((n = SSL_shutdown(s->tls)) >= 0) {
			s->tls_shut = 1;
			break;
		}
		err = SSL_get_error(s->tls, n);
		if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ) {
			write_error(s, err, s->why, sizeof(s->why));
			return ERR_SINK;
		}
		if (nap_now_ms() >= end)
			return ERR_AGAIN;
		nap_fd(s, end);
	}
	shutdown(s->fd, SHUT_WR);
	s->fin_sent = 1;
	return 0;
}

static int
tls_drain(struct sink *s, long ms, uint64_t *acked)
{
	int64_t end = nap_now_ms() + ms;
	struct pollfd pfd;
	int rc;

	while ((rc = finish_write(s, s->why, sizeof(s->why))) == 0 &&
	    held(s) > 0 && nap_now_ms() < end)
		nap_fd(s, end);
	if (rc == 0 && held(s) > 0)
		rc = ERR_AGAIN;
	if (rc == 0 && !s->fin_sent)
		rc = shut_write(s, end);
	for (;;) {
		take_acks(s);
		*acked = s->acked;
		if (rc != 0 || s->ring_len == 0)
			return rc;
		pfd.fd = s->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR)) {
			snprintf(s->why, sizeof(s->why),
			    "connection reset by "
			    "the collector");
			return ERR_SINK;
		}
		if (nap_now_ms() >= end)
			return ERR_AGAIN;
		nap_fd(s, end);
	}
}

const struct sink_ops sink_tls_ops = {
    .name = "tls",
    .needs_host = 1,
    .default_port = 6514, /* RFC 5425 */
    .framing = FRAMING_OCTET, /* RFC 5425 octet counting */
    /* QRadar's TCP syslog payload limit (README "Message size and
     * receivers") */
    .max_message = 4096,
    .reads_tls = 1,
    .per_message = 0,
    .open = tls_open,
    .send = tls_send,
    .poll = tls_poll,
    .drain = tls_drain,
    .close = tls_close,
};
