#include "auditq.h"

#include <stdlib.h>

#include "log.h"

static void *
auditq_main(void *arg)
{
	struct auditq *w = arg;
	struct tsr_audit_event *batch;
	struct tsr_why why;
	size_t n;

	if ((batch = calloc(AUDITQ_BATCH, sizeof(*batch))) == NULL)
		return NULL;
	for (;;) {
		n = tsr_audit_pop(w->s->audit, batch, AUDITQ_BATCH, 200);
		tsr_err_clear(&why);
		if (n > 0 &&
		    tsr_store_audit_add(w->st, batch, n, &why) != TSR_OK)
			log_warnx("audit: %zu event(s) lost: %s", n, why.msg);
		/* On stop, leave only once the queue is empty. */
		if (n == 0 && atomic_load(&w->stop))
			break;
	}
	free(batch);
	return NULL;
}

int
auditq_start(struct auditq *w, struct server *s)
{
	struct tsr_why why = { "" };

	w->s = s;
	if ((s->audit = tsr_audit_queue_create(AUDITQ_QUEUE)) == NULL ||
	    tsr_store_open(server_config(s)->db_path, &w->st, &why) != TSR_OK) {
		log_warnx("audit: %s", why.msg[0] ? why.msg : "out of memory");
		return -1;
	}
	if (pthread_create(&w->thread, NULL, auditq_main, w) != 0) {
		log_warnx("audit: cannot start the writer thread");
		return -1;
	}
	w->running = true;
	return 0;
}

void
auditq_stop(struct auditq *w)
{
	if (w->running) {
		atomic_store(&w->stop, true);
		pthread_join(w->thread, NULL);
	}
	tsr_store_close(w->st);
	if (w->s != NULL) {
		if (w->s->audit != NULL &&
		    tsr_audit_dropped(w->s->audit) > 0)
			log_warnx("audit: %llu event(s) dropped, queue full",
			    (unsigned long long)tsr_audit_dropped(
			    w->s->audit));
		tsr_audit_queue_destroy(w->s->audit);
		w->s->audit = NULL;
	}
}
