/*
 * replay: run a fuzz target over files without libFuzzer, so that any
 * compiler (and ASan/UBSan or valgrind) can check the seed corpora.
 *
 *	replay_<name> DIR_OR_FILE...
 *
 * Every regular file of each directory (sorted by name, not recursive)
 * is one input, copied into a buffer of exactly its size so that an
 * over-read is caught.  One TAP line per input; a crash aborts the run
 * and fails the test.  No input at all is a failure too.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX_INPUT	(16 * 1024 * 1024)

static int n_run, n_failed;

static void
tap(bool ok, const char *path, const char *why)
{
	n_run++;
	if (!ok)
		n_failed++;
	printf("%sok %d - %s%s%s\n", ok ? "" : "not ", n_run, path,
	    why ? ": " : "", why ? why : "");
	fflush(stdout);
}

/* Read path whole into a malloc'd buffer of exactly its size. */
static bool
read_input(const char *path, uint8_t **out, size_t *out_len)
{
	FILE *fp;
	struct stat sb;
	uint8_t *buf = NULL;
	size_t len;
	bool ok = false;

	*out = NULL;
	*out_len = 0;
	if ((fp = fopen(path, "rb")) == NULL)
		return false;
	if (fstat(fileno(fp), &sb) == -1 || sb.st_size < 0 ||
	    sb.st_size > REPLAY_MAX_INPUT)
		goto out;
	len = (size_t)sb.st_size;
	/* malloc(0) may return NULL; ask for one byte, pass len 0. */
	if ((buf = malloc(len > 0 ? len : 1)) == NULL ||
	    fread(buf, 1, len, fp) != len)
		goto out;
	*out = buf;
	*out_len = len;
	buf = NULL;
	ok = true;
out:
	free(buf);
	fclose(fp);
	return ok;
}

static void
replay_file(const char *path)
{
	uint8_t *data;
	size_t len;

	errno = 0;
	if (!read_input(path, &data, &len)) {
		tap(false, path, strerror(errno ? errno : EIO));
		return;
	}
	(void)LLVMFuzzerTestOneInput(data, len);
	free(data);
	tap(true, path, NULL);
}

static int
no_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void
replay_dir(const char *dir)
{
	struct dirent **names;
	struct stat sb;
	char path[4096];
	int n, i, w;

	if ((n = scandir(dir, &names, no_dot, alphasort)) == -1) {
		tap(false, dir, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		w = snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]->d_name);
		if (w < 0 || (size_t)w >= sizeof(path))
			tap(false, names[i]->d_name, "path too long");
		else if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			replay_file(path);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	struct stat sb;
	int i;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			replay_dir(argv[i]);
		else
			replay_file(argv[i]);
	}
	if (n_run == 0)
		tap(false, "corpus", "no input files");
	printf("1..%d\n", n_run);
	return n_failed == 0 ? 0 : 1;
}
