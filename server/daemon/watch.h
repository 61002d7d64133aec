/*
 * watch: notice when the TLS files change on disk.
 *
 * The files' directories are watched with inotify, so that a file
 * replaced by rename (as certificate tools and Kubernetes do) is seen
 * too; an event makes the caller compare the files' identity (device,
 * inode, size, mtime) with what was last loaded.
 */
#ifndef TSR_DAEMON_WATCH_H
#define TSR_DAEMON_WATCH_H

#include <stdbool.h>
#include <sys/stat.h>

#include "tls.h"

#define WATCH_FILES	4	/* certificate, key, CA bundle, CRL */

struct watch {
	int		 fd;		/* inotify, or -1 */
	struct stat	 seen[WATCH_FILES];
};

/* Start watching f's files (logs when it cannot: SIGHUP still works). */
void watch_open(struct watch *w, const struct tls_files *f);
void watch_close(struct watch *w);

/* Drain pending events; true when there were any. */
bool watch_events(struct watch *w);

/* Has any of f's files changed since the last call (or watch_open)? */
bool watch_changed(struct watch *w, const struct tls_files *f);

#endif
