/* eu: the engine's shared small helpers (see eu.h). */
#include "eu.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int eu_err(char *err, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, EU_ERRLEN, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void eu_utc_now(char *buf, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

uint64_t eu_fnv1a(uint64_t h, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	for (size_t k = 0; k < n; k++) {
		h ^= p[k];
		h *= 1099511628211ULL;
	}
	return h;
}

int eu_read_file(const char *path, const char *what, unsigned char **buf,
		 size_t *n, char *err)
{
	struct stat sb;
	*buf = NULL;
	*n = 0;
	/* O_NONBLOCK: opening a named pipe must not wait for a writer */
	int fd = open(path, O_RDONLY | O_NONBLOCK), rc = -1;
	if (fd < 0)
		return eu_err(err, "cannot read %s '%s': %s", what, path,
			      strerror(errno));
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		eu_err(err, "cannot read %s '%s': not a regular file", what,
		       path);
		goto out;
	}
	size_t size = (size_t)sb.st_size;
	unsigned char *b = malloc(size + 1);
	if (!b) {
		eu_err(err, "%s '%s': out of memory (%zu bytes)", what, path,
		       size);
		goto out;
	}
	for (size_t got = 0; got < size;) {
		ssize_t r = read(fd, b + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			eu_err(err, "cannot read %s '%s': %s", what, path,
			       r < 0 ? strerror(errno) : "file shrank");
			free(b);
			goto out;
		}
		got += (size_t)r;
	}
	b[size] = 0;
	*buf = b;
	*n = size;
	rc = 0;
out:
	close(fd);
	return rc;
}

int eu_parse_double(const char *s, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || !isfinite(*v) ? -1 : 0;
}

int eu_parse_int(const char *s, int *v)
{
	char *end;
	errno = 0;
	long x = strtol(s, &end, 10);
	if (errno || end == s || *end || x < -1000000000 || x > 1000000000)
		return -1;
	*v = (int)x;
	return 0;
}

void eu_fmt_dur(char *buf, size_t n, double s)
{
	if (!isfinite(s) || s < 0)
		snprintf(buf, n, "-");
	else if (s < 60)
		snprintf(buf, n, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
	else
		snprintf(buf, n, "%dh%02dm", (int)(s / 3600),
			 (int)fmod(s / 60, 60));
}
