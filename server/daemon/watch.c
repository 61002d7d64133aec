#include "watch.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "log.h"

static void
tls_file_list(const struct tls_files *f, const char *out[WATCH_FILES])
{
	out[0] = f->cert;
	out[1] = f->key;
	out[2] = f->ca;
	out[3] = f->crl;
}

/* Has any file changed identity or content since last seen? */
bool
watch_changed(struct watch *w, const struct tls_files *f)
{
	const char *paths[WATCH_FILES];
	struct stat sb;
	bool changed = false;
	int i;

	tls_file_list(f, paths);
	for (i = 0; i < WATCH_FILES; i++) {
		memset(&sb, 0, sizeof(sb));
		if (paths[i] != NULL && stat(paths[i], &sb) == -1)
			memset(&sb, 0, sizeof(sb));
		if (sb.st_ino != w->seen[i].st_ino ||
		    sb.st_dev != w->seen[i].st_dev ||
		    sb.st_size != w->seen[i].st_size ||
		    sb.st_mtim.tv_sec != w->seen[i].st_mtim.tv_sec ||
		    sb.st_mtim.tv_nsec != w->seen[i].st_mtim.tv_nsec)
			changed = true;
		w->seen[i] = sb;
	}
	return changed;
}

void
watch_open(struct watch *w, const struct tls_files *f)
{
	const char *paths[WATCH_FILES];
	char dir[PATH_MAX];
	int i;

	memset(w, 0, sizeof(*w));
	(void)watch_changed(w, f);
	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("inotify: TLS files are reloaded on SIGHUP only");
		return;
	}
	tls_file_list(f, paths);
	for (i = 0; i < WATCH_FILES; i++) {
		if (paths[i] == NULL)
			continue;
		(void)snprintf(dir, sizeof(dir), "%s", paths[i]);
		if (inotify_add_watch(w->fd, dirname(dir), IN_CLOSE_WRITE |
		    IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB) == -1)
			log_warn("inotify: cannot watch %s", paths[i]);
	}
}

/* Drain pending events; true when there were any. */
bool
watch_events(struct watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	bool any = false;

	while (w->fd != -1 && read(w->fd, buf, sizeof(buf)) > 0)
		any = true;
	return any;
}

void
watch_close(struct watch *w)
{
	if (w->fd > 0)
		(void)close(w->fd);
	w->fd = -1;
}
