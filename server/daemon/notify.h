/*
 * notify: tell the service manager how the server is doing, with the
 * datagram protocol of sd_notify(3): one "KEY=VALUE\n..." message on the
 * AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for an
 * abstract socket).  Without $NOTIFY_SOCKET every call does nothing, so
 * the server runs the same by hand, under a supervisor or in a test.
 */
#ifndef TSR_SERVER_NOTIFY_H
#define TSR_SERVER_NOTIFY_H

/* Send state (e.g. "READY=1") as one datagram.  0 when sent or when there
 * is no $NOTIFY_SOCKET; -1 (errno set) when the socket name is unusable or
 * the send failed. */
int notify_send(const char *state);

/* The listener answers and the signing keys are loaded. */
int notify_ready(void);
/* A reload begins: RELOADING=1 with the CLOCK_MONOTONIC time, which the
 * manager matches against its own reload request.  notify_ready() ends it. */
int notify_reloading(void);
/* SIGTERM: draining has begun. */
int notify_stopping(void);

#endif
