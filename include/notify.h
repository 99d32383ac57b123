/* SPDX-License-Identifier: MIT */
/*
 * systemd service notifications (the sd_notify(3) protocol) without
 * libsystemd: one datagram per message to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or an abstract name written with a leading
 * '@').  Outside systemd, where $NOTIFY_SOCKET is unset, every call does
 * nothing.  main.c tells systemd when the daemon is ready, what it is
 * doing, that it is alive (watchdog) and that it is stopping.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

/*
 * Send one notification, e.g. "READY=1" (newline-separated assignments).
 * Returns 1 when sent, 0 when $NOTIFY_SOCKET is unset, ERR_CONFIG when it
 * is not a usable socket name, ERR_IO when sending failed (errno kept).
 */
int notify_send(const char *state);

/* READY=1: start-up done (Type=notify); also after a reload. */
int notify_ready(void);

/*
 * RELOADING=1 with MONOTONIC_USEC: a configuration reload began; send
 * notify_ready() when it is over (applied or refused).
 */
int notify_reloading(void);

/* STOPPING=1: shutting down. */
int notify_stopping(void);

/* WATCHDOG=1: still alive (WatchdogSec=). */
int notify_watchdog(void);

/*
 * STATUS=<text>, the one line `systemctl status` shows.  Newlines in the
 * text become spaces; it is cut at 400 bytes.
 */
int notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * How often to call notify_watchdog(), in milliseconds: half of
 * $WATCHDOG_USEC, or 0 when the watchdog is off (unset, invalid, or
 * $WATCHDOG_PID names another process).
 */
long notify_watchdog_interval_ms(void);

#endif
