#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define NOTIFY_MAX_STATE	256	/* our messages are a few words */

/* Fill *sun from $NOTIFY_SOCKET's value; the address length, or 0 when the
 * name is neither an absolute path nor "@abstract", or is too long. */
static socklen_t
notify_addr(const char *name, struct sockaddr_un *sun)
{
	size_t len = strnlen(name, sizeof(sun->sun_path));

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (len < 2 || len >= sizeof(sun->sun_path) ||
	    (name[0] != '/' && name[0] != '@'))
		return 0;
	memcpy(sun->sun_path, name, len);
	if (name[0] == '@') {
		/* Abstract: a leading NUL, and the length counts exactly
		 * the name's bytes (no terminator). */
		sun->sun_path[0] = '\0';
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len);
	}
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int
notify_send(const char *state)
{
	struct sockaddr_un sun;
	const char *name = getenv("NOTIFY_SOCKET");
	socklen_t alen;
	size_t len;
	ssize_t n;
	int fd, saved;

	if (name == NULL || *name == '\0')
		return 0;
	len = strnlen(state, NOTIFY_MAX_STATE + 1);
	if (len == 0 || len > NOTIFY_MAX_STATE ||
	    (alen = notify_addr(name, &sun)) == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	n = sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    alen);
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)len ? 0 : -1;
}

int
notify_ready(void)
{
	return notify_send("READY=1\nSTATUS=serving");
}

int
notify_reloading(void)
{
	struct timespec ts;
	char msg[96];
	uint64_t usec;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return -1;
	usec = (uint64_t)ts.tv_sec * 1000000u +
	    (uint64_t)ts.tv_nsec / 1000u;
	(void)snprintf(msg, sizeof(msg),
	    "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
	    (unsigned long long)usec);
	return notify_send(msg);
}

int
notify_stopping(void)
{
	return notify_send("STOPPING=1\nSTATUS=draining");
}
