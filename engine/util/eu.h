/* eu: what every engine module shares -- one error formatter with one buffer
 * size, the UTC time stamp of archives and checkpoints, the FNV-1a hash of
 * spec hashes and checkpoint checksums, whole-file reading, the numbers
 * of the command lines and the durations of progress lines.
 *
 * Errors: every engine function that can fail takes a caller-owned `char
 * *err` of EU_ERRLEN bytes (may be NULL), writes one line into it and returns
 * non-zero (eu_err returns -1, so `return eu_err(err, ...)` is the idiom).
 * The kernels have the same convention with their own kz_err (kernels/kz.h),
 * whose KZ_ERRLEN fits into EU_ERRLEN. */
#ifndef EU_H
#define EU_H

#include <stddef.h>
#include <stdint.h>

#define EU_ERRLEN 1024

/* printf into err (if not NULL, truncated to EU_ERRLEN); returns -1. */
int eu_err(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ" (n >= 21). */
void eu_utc_now(char *buf, size_t n);

/* FNV-1a 64 of n bytes, continuing from h (EU_FNV_INIT to start). */
#define EU_FNV_INIT 14695981039346656037ULL
uint64_t eu_fnv1a(uint64_t h, const void *buf, size_t n);

/* Reads a whole regular file into a malloc'ed buffer with a 0 byte after its
 * *n bytes.  `what` names the file in messages ("spec", "checkpoint").
 * Refuses anything but a regular file (a pipe, a directory, a device)
 * without blocking: it is opened with O_NONBLOCK and checked by fstat. */
int eu_read_file(const char *path, const char *what, unsigned char **buf,
		 size_t *n, char *err);

/* The whole of s as a finite double (strtod): 0, or -1 (*v unspecified)
 * if s is empty, has anything after the number, overflows or is not
 * finite. */
int eu_parse_double(const char *s, double *v);
/* The whole of s as a decimal integer in [-1e9, 1e9]: 0, or -1 (*v
 * unchanged). */
int eu_parse_int(const char *s, int *v);

/* A duration of s seconds as "12.3s", "4m05s" or "2h07m"; "-" if s is
 * negative or not finite (an unknown ETA). */
void eu_fmt_dur(char *buf, size_t n, double s);

#endif
