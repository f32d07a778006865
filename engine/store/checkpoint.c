/* checkpoint: writing, reading and checking point checkpoints, and the
 * archive lock (see checkpoint.h; the file format is documented in
 * engine/ARCHIVE.md, "Checkpoints").
 *
 * File layout (header fields little-endian, whatever the machine):
 *
 *   offset  size  field
 *        0     8  magic "KZCKPT\r\n"
 *        8     4  uint32 version (2; 1 is still read, below)
 *       12     4  uint32 header bytes (192: where the payload starts)
 *       16    16  spec hash, 16 hex digits (no NUL)
 *       32    16  point hash, 16 hex digits (no NUL)
 *       48     4  int32 point id
 *       52     4  int32 attempt
 *       56     4  int32 L
 *       60     4  int32 nup (number of up spins)
 *       64     4  int32 row (the state is the one of measurement row `row`)
 *       68     4  int32 steps_per_measure
 *       72     8  int64 steps (TEBD steps from t = 0)
 *       80     8  float64 t
 *       88     8  float64 dt
 *       96     8  float64 discarded_total
 *      104     8  float64 discarded_max
 *      112     4  int32 max_bond_dim
 *      116     4  int32 layer (layers of the next interval applied)
 *      120    32  written, ISO 8601 UTC, NUL-padded
 *      152     8  uint64 payload bytes P
 *      160     8  float64 layer_discarded_total
 *      168     8  float64 layer_discarded_max
 *      176    16  reserved (0)
 *      192     P  the MPS (kernels/mps_io.h layout, native byte order)
 *    192+P     8  uint64 FNV-1a 64 of bytes [0, 192+P)
 *
 * So a file of the wrong size is truncated (or has something appended),
 * and any changed byte changes the checksum.
 *
 * Version 1 is version 2 without bytes [160, 192): a header of 160 bytes
 * whose int32 at 116 was reserved (0), i.e. a checkpoint at a row (layer
 * 0, nothing discarded in the interval yet).  It is read as such, so a
 * checkpoint written before mid-interval stops existed still resumes. */
#include "checkpoint.h"

#include <dirent.h>
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

#include "eu.h"
#include "mps_io.h"
#include "trotter.h"

struct ckpt_lock_s {
	int fd;
};

int ckpt_dir_of(char *dir, size_t n, const char *archive_path)
{
	int w = snprintf(dir, n, "%s.ckpt", archive_path);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

int ckpt_file_of(char *path, size_t n, const char *dir,
		 const char *point_hash)
{
	int w = snprintf(path, n, "%s/%s.ckpt", dir, point_hash);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* ---- little-endian fields ---------------------------------------------- */

static void le_put(unsigned char *p, uint64_t v, int n)
{
	for (int k = 0; k < n; k++)
		p[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t le_get(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int k = 0; k < n; k++)
		v |= (uint64_t)p[k] << (8 * k);
	return v;
}

static void put_f64(unsigned char *p, double x)
{
	uint64_t v;
	memcpy(&v, &x, sizeof v);
	le_put(p, v, 8);
}

static double get_f64(const unsigned char *p)
{
	uint64_t v = le_get(p, 8);
	double x;
	memcpy(&x, &v, sizeof x);
	return x;
}

static void encode(unsigned char *b, const ckpt_header_t *h)
{
	memset(b, 0, CKPT_HEADER_BYTES);
	memcpy(b, CKPT_MAGIC, 8);
	le_put(b + 8, CKPT_VERSION, 4);
	le_put(b + 12, CKPT_HEADER_BYTES, 4);
	memcpy(b + 16, h->spec_hash, 16);
	memcpy(b + 32, h->point_hash, 16);
	le_put(b + 48, (uint32_t)h->point_id, 4);
	le_put(b + 52, (uint32_t)h->attempt, 4);
	le_put(b + 56, (uint32_t)h->L, 4);
	le_put(b + 60, (uint32_t)h->nup, 4);
	le_put(b + 64, (uint32_t)h->row, 4);
	le_put(b + 68, (uint32_t)h->steps_per_measure, 4);
	le_put(b + 72, (uint64_t)h->steps, 8);
	put_f64(b + 80, h->t);
	put_f64(b + 88, h->dt);
	put_f64(b + 96, h->discarded_total);
	put_f64(b + 104, h->discarded_max);
	le_put(b + 112, (uint32_t)h->max_bond_dim, 4);
	le_put(b + 116, (uint32_t)h->layer, 4);
	memcpy(b + 120, h->written, strnlen(h->written, 31));
	le_put(b + 152, h->payload_bytes, 8);
	put_f64(b + 160, h->layer_discarded_total);
	put_f64(b + 168, h->layer_discarded_max);
}

static void decode(const unsigned char *b, ckpt_header_t *h)
{
	memset(h, 0, sizeof *h);
	h->version = (int)le_get(b + 8, 4);
	memcpy(h->spec_hash, b + 16, 16);
	memcpy(h->point_hash, b + 32, 16);
	h->point_id = (int32_t)le_get(b + 48, 4);
	h->attempt = (int32_t)le_get(b + 52, 4);
	h->L = (int32_t)le_get(b + 56, 4);
	h->nup = (int32_t)le_get(b + 60, 4);
	h->row = (int32_t)le_get(b + 64, 4);
	h->steps_per_measure = (int32_t)le_get(b + 68, 4);
	h->steps = (int64_t)le_get(b + 72, 8);
	h->t = get_f64(b + 80);
	h->dt = get_f64(b + 88);
	h->discarded_total = get_f64(b + 96);
	h->discarded_max = get_f64(b + 104);
	h->max_bond_dim = (int32_t)le_get(b + 112, 4);
	h->layer = (int32_t)le_get(b + 116, 4); /* version 1: reserved, 0 */
	memcpy(h->written, b + 120, 31);
	h->payload_bytes = le_get(b + 152, 8);
	if (h->version >= 2) {
		h->layer_discarded_total = get_f64(b + 160);
		h->layer_discarded_max = get_f64(b + 168);
	}
}

/* ---- the directory ----------------------------------------------------- */

static int ensure_dir(const char *dir, char *err)
{
	struct stat sb;
	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	return eu_err(err, "cannot create the checkpoint directory '%s': %s",
		    dir, errno == EEXIST ? "a file of that name is in the way"
					 : strerror(errno));
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

int ckpt_dir_prepare(const char *dir, int fresh, char *err)
{
	DIR *d;
	struct dirent *e;
	char path[4096];
	int rc = 0;
	if (ensure_dir(dir, err))
		return -1;
	d = opendir(dir);
	if (!d)
		return eu_err(err, "cannot read the checkpoint directory '%s': %s",
			    dir, strerror(errno));
	while ((e = readdir(d))) {
		const int tmp = strstr(e->d_name, ".ckpt.tmp.") != NULL;
		if (!tmp && !(fresh && ends_with(e->d_name, ".ckpt")))
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >=
		    (int)sizeof path)
			continue;
		if (unlink(path) && errno != ENOENT) {
			rc = eu_err(err, "cannot remove '%s': %s", path,
				  strerror(errno));
			break;
		}
	}
	closedir(d);
	return rc;
}

/* fsync of a directory, so a rename in it is durable. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes n bytes to <dir>/<name> atomically. */
static int write_atomic(const char *dir, const char *name,
			const unsigned char *buf, size_t n, char *err)
{
	char tmp[4096], dst[4096];
	int fd = -1, rc = -1;
	if (snprintf(dst, sizeof dst, "%s/%s", dir, name) >= (int)sizeof dst ||
	    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dst, (long)getpid()) >=
		    (int)sizeof tmp)
		return eu_err(err, "checkpoint path too long in '%s'", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		eu_err(err, "cannot write checkpoint '%s': %s", tmp,
		     strerror(errno));
		goto out;
	}
	if (write_all(fd, buf, n) || fsync(fd)) {
		eu_err(err, "cannot write checkpoint '%s': %s", tmp,
		     strerror(errno));
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		eu_err(err, "cannot write checkpoint '%s': %s", tmp,
		     strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, dst)) {
		eu_err(err, "cannot rename checkpoint '%s' to '%s': %s", tmp, dst,
		     strerror(errno));
		goto out;
	}
	sync_dir(dir);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	return rc;
}

int ckpt_write(const char *dir, const ckpt_header_t *h0, const mps_t *m,
	       const char *sync_path, char *err)
{
	ckpt_header_t h = *h0;
	unsigned char *buf = NULL;
	char name[64], kerr[KZ_ERRLEN];
	int rc = -1;

	if (strlen(h.point_hash) != 16 || strlen(h.spec_hash) != 16)
		return eu_err(err, "checkpoint: bad hashes '%s' '%s'",
			    h.point_hash, h.spec_hash);
	h.payload_bytes = mps_serial_bytes(m);
	eu_utc_now(h.written, sizeof h.written);
	const size_t n = CKPT_HEADER_BYTES + (size_t)h.payload_bytes + 8;
	buf = malloc(n);
	if (!buf) {
		eu_err(err, "checkpoint of point %s: out of memory (%zu bytes)",
		     h.point_hash, n);
		goto out;
	}
	encode(buf, &h);
	if (mps_serialise(m, buf + CKPT_HEADER_BYTES, (size_t)h.payload_bytes,
			  kerr)) {
		eu_err(err, "checkpoint of point %s: %s", h.point_hash, kerr);
		goto out;
	}
	le_put(buf + n - 8, eu_fnv1a(EU_FNV_INIT, buf, n - 8), 8);
	/* the archive rows this checkpoint vouches for reach the disk
	 * first: after a crash, a checkpoint never points past the data */
	if (sync_path) {
		int fd = open(sync_path, O_RDONLY);
		if (fd >= 0) {
			fdatasync(fd);
			close(fd);
		}
	}
	snprintf(name, sizeof name, "%s.ckpt", h.point_hash);
	rc = write_atomic(dir, name, buf, n, err);
out:
	free(buf);
	return rc;
}

int ckpt_read(const char *path, ckpt_header_t *h, mps_t **m, char *err)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	char kerr[KZ_ERRLEN];
	int rc = -1;

	if (m)
		*m = NULL;
	memset(h, 0, sizeof *h);
	if (eu_read_file(path, "checkpoint", &buf, &n, err))
		return -1;
	if (n < 16 || memcmp(buf, CKPT_MAGIC, 8)) {
		eu_err(err, "'%s' is not a kapitza checkpoint (no magic "
			  "\"KZCKPT\")",
		     path);
		goto out;
	}
	const uint32_t version = (uint32_t)le_get(buf + 8, 4);
	if (version != CKPT_VERSION && version != 1) {
		eu_err(err, "checkpoint '%s' has format version %u; this kapitza "
			  "reads versions 1 and %d",
		     path, (unsigned)version, CKPT_VERSION);
		goto out;
	}
	const uint64_t hb = version == 1 ? CKPT_HEADER_BYTES_V1
					 : CKPT_HEADER_BYTES;
	if (n < hb + 8 || le_get(buf + 12, 4) != hb) {
		eu_err(err, "checkpoint '%s' is truncated (%zu bytes, shorter "
			  "than its header)",
		     path, n);
		goto out;
	}
	decode(buf, h);
	if (h->payload_bytes > n || (uint64_t)n != hb + h->payload_bytes + 8) {
		eu_err(err, "checkpoint '%s' is %s: %zu bytes, its header says "
			  "%llu",
		     path,
		     (uint64_t)n < hb + h->payload_bytes + 8
			     ? "truncated"
			     : "damaged (longer than written)",
		     n, (unsigned long long)(hb + h->payload_bytes + 8));
		goto out;
	}
	if (eu_fnv1a(EU_FNV_INIT, buf, n - 8) != le_get(buf + n - 8, 8)) {
		eu_err(err, "checkpoint '%s' is damaged: checksum mismatch",
		     path);
		goto out;
	}
	if (m && mps_deserialise(m, buf + hb, (size_t)h->payload_bytes,
				 kerr)) {
		eu_err(err, "checkpoint '%s': %s", path, kerr);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

int ckpt_match(const ckpt_header_t *h, const char *spec_hash,
	       const spec_point_t *p, char *err)
{
	if (strcmp(h->point_hash, p->hash_hex))
		return eu_err(err,
			    "the checkpoint belongs to point %s (id %d), not "
			    "to point %s (id %d)",
			    h->point_hash, h->point_id, p->hash_hex, p->id);
	if (strcmp(h->spec_hash, spec_hash))
		return eu_err(err,
			    "the checkpoint was written by a sweep with spec "
			    "hash %s, this archive's spec hash is %s",
			    h->spec_hash, spec_hash);
	const double t = (double)h->row * (double)p->steps_per_measure * p->dt;
	if (h->L != p->L || h->dt != p->dt ||
	    h->steps_per_measure != p->steps_per_measure || h->row < 0 ||
	    h->row >= p->n_measure - 1 || h->t != t || h->nup < 0 ||
	    h->nup > h->L)
		return eu_err(err,
			    "the checkpoint's L = %d, dt = %g, row %d, %lld "
			    "steps, t = %g do not fit the point (L = %d, "
			    "dt = %g, %d rows of %d steps)",
			    h->L, h->dt, h->row, (long long)h->steps, h->t,
			    p->L, p->dt, p->n_measure, p->steps_per_measure);
	/* the position inside the interval after the row: a layer of its
	 * merged sequence (tebd.h, tebd_run_from), and the steps it implies */
	const int lps = trotter_layers_for_order(p->order, TROTTER_REAL);
	const int64_t nl = (int64_t)lps * p->steps_per_measure + 1;
	if (lps <= 0 || h->layer < 0 || h->layer >= nl ||
	    h->steps != (int64_t)h->row * p->steps_per_measure +
				h->layer / lps ||
	    (h->layer == 0 && (h->layer_discarded_total != 0 ||
			       h->layer_discarded_max != 0)) ||
	    !(h->layer_discarded_total >= 0) || !(h->layer_discarded_max >= 0))
		return eu_err(err,
			    "the checkpoint's position after row %d (layer %d, "
			    "%lld steps, discarded %g / %g in the interval) "
			    "does not fit the point (%d layers of %d per "
			    "step in %d steps per row)",
			    h->row, h->layer, (long long)h->steps,
			    h->layer_discarded_total, h->layer_discarded_max,
			    (int)nl, lps, p->steps_per_measure);
	return 0;
}

int ckpt_load(const char *path, const char *spec_hash, const spec_point_t *p,
	      ckpt_header_t *h, mps_t **m, char *err)
{
	char kerr[KZ_ERRLEN] = "";
	double norm = NAN;
	*m = NULL;
	if (ckpt_read(path, h, m, err) || ckpt_match(h, spec_hash, p, err))
		goto bad;
	if (mps_length(*m) != h->L || mps_nup(*m) != h->nup) {
		eu_err(err, "the checkpoint's state has L = %d, %d up spins; "
		       "its header says L = %d, %d up spins",
		       mps_length(*m), mps_nup(*m), h->L, h->nup);
		goto bad;
	}
	if (mps_max_bond_dim(*m) > p->chi_max) {
		eu_err(err, "the checkpoint's state has bond dimension %d, "
		       "above the point's chi_max = %d",
		       mps_max_bond_dim(*m), p->chi_max);
		goto bad;
	}
	if (mps_norm(*m, &norm, kerr) ||
	    !(fabs(norm - 1) <= CKPT_NORM_TOL + h->discarded_total +
				     h->layer_discarded_total)) {
		eu_err(err, "the checkpoint's state has norm %.10g (off 1 by "
		       "more than %g + the discarded weight %g)%s%s",
		       norm, CKPT_NORM_TOL,
		       h->discarded_total + h->layer_discarded_total,
		       kerr[0] ? ": " : "", kerr);
		goto bad;
	}
	return 0;
bad:
	mps_destroy(m);
	return -1;
}

int ckpt_remove(const char *dir, const char *point_hash)
{
	char path[4096];
	if (ckpt_file_of(path, sizeof path, dir, point_hash))
		return -1;
	if (unlink(path) && errno != ENOENT)
		return -1;
	return 0;
}

int ckpt_copy(const char *src, const char *dst_dir, char *err)
{
	ckpt_header_t h;
	unsigned char *buf = NULL;
	size_t n = 0;
	char name[64];
	int rc = -1;
	if (ckpt_read(src, &h, NULL, err) || eu_read_file(src, "checkpoint", &buf, &n, err))
		goto out;
	if (ensure_dir(dst_dir, err))
		goto out;
	snprintf(name, sizeof name, "%s.ckpt", h.point_hash);
	rc = write_atomic(dst_dir, name, buf, n, err);
out:
	free(buf);
	return rc;
}

/* ---- the lock ---------------------------------------------------------- */

int ckpt_lock_create(ckpt_lock_t **lp, const char *dir, char *err)
{
	ckpt_lock_t *l = NULL;
	char path[4096];
	struct flock fl;
	int rc = -1;

	*lp = NULL;
	if (ensure_dir(dir, err))
		return -1;
	if (snprintf(path, sizeof path, "%s/LOCK", dir) >= (int)sizeof path)
		return eu_err(err, "lock path too long in '%s'", dir);
	l = calloc(1, sizeof *l);
	if (!l)
		return eu_err(err, "out of memory");
	l->fd = open(path, O_RDWR | O_CREAT, 0644);
	if (l->fd < 0) {
		eu_err(err, "cannot open the lock '%s': %s", path,
		     strerror(errno));
		goto out;
	}
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(l->fd, F_SETLK, &fl)) {
		const int e = errno;
		struct flock q;
		memset(&q, 0, sizeof q);
		q.l_type = F_WRLCK;
		q.l_whence = SEEK_SET;
		if ((e == EACCES || e == EAGAIN) && !fcntl(l->fd, F_GETLK, &q) &&
		    q.l_type != F_UNLCK)
			eu_err(err, "another kapitza process (pid %ld%s) is "
				  "working on this archive (lock '%s' held)",
			     (long)q.l_pid, q.l_pid ? "" : ", on another host",
			     path);
		else
			eu_err(err, "cannot lock '%s': %s", path, strerror(e));
		goto out;
	}
	rc = 0;
out:
	if (rc) {
		ckpt_lock_destroy(&l);
		return -1;
	}
	*lp = l;
	return 0;
}

void ckpt_lock_destroy(ckpt_lock_t **lp)
{
	if (!lp || !*lp)
		return;
	if ((*lp)->fd >= 0)
		close((*lp)->fd); /* releases the fcntl lock */
	free(*lp);
	*lp = NULL;
}
