/* test_checkpoint: checkpoints below the command line, on one MPI rank (a
 * singleton, no mpirun):
 * - mps_io: an evolved MPS serialises and comes back bit for bit (every
 *   amplitude, Schmidt value, bond dimension), and a TEBD step from the
 *   copy equals one from the original; truncated, over-long, byte-swapped
 *   and corrupted buffers are errors, not crashes;
 * - checkpoint files: write/read round trip of every header field; a
 *   truncated file, one changed byte (checksum), a file that is no
 *   checkpoint, and ckpt_match against another point, another spec hash and
 *   inconsistent steps are refused with their messages; a position inside
 *   an interval (format version 2: layer, steps, the interval's discard
 *   sums) is checked against the point's layer sequence; a version-1 file
 *   is still read (as a checkpoint at its row), version 3 is refused; the
 *   lock refuses a second holder;
 * - the worker: a point stopped after row 3 by its report callback writes a
 *   checkpoint and is interrupted; resumed, it gives rows bit-identical to
 *   an uninterrupted run of the same point (all datasets, discarded weights
 *   included); resuming without a checkpoint fails the point with "cannot
 *   resume" instead of starting again from t = 0;
 * - stops inside an interval: the stop flag stops the kernel between
 *   layers; the checkpoint holds that layer, and nine stops at successive
 *   layers, each resumed, then a last resumption give bit-identical rows. */
#include <complex.h>
#include <fcntl.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hdf5.h>

#include "archive.h"
#include "chain.h"
#include "check.h"
#include "checkpoint.h"
#include "mps.h"
#include "mps_io.h"
#include "spec.h"
#include "tebd.h"
#include "worker.h"

static const char *spec_text =
	"sweep: ckpt\n"
	"chain:\n"
	"  length: 12\n"
	"  right: { delta: 0.5 }\n"
	"state: domain_wall\n"
	"evolve: { dt: 0.05, t_max: 2, order: 4, measure_every: 0.25 }\n"
	"truncate: { chi_max: 6 }\n";

/* An evolved, truncated state of L = 12. */
static mps_t *evolved(chain_t **cp, char *err)
{
	int up[12];
	mps_t *m = NULL;
	tebd_t *t = NULL;
	tebd_params_t tp;
	for (int i = 0; i < 12; i++)
		up[i] = i < 6;
	if (chain_create_junction(cp, 12, 1.0, 0.0, 0.5, err) ||
	    mps_create_product(&m, 12, up, err))
		return NULL;
	tebd_params_default(&tp);
	tp.chi_max = 6;
	tp.dt = 0.05;
	if (tebd_create(&t, *cp, &tp, err) || tebd_run(t, m, 30, err))
		mps_destroy(&m);
	tebd_destroy(&t);
	return m;
}

static int same_state(const mps_t *a, const mps_t *b)
{
	if (mps_length(a) != mps_length(b) || mps_nup(a) != mps_nup(b))
		return 0;
	for (int k = 0; k <= mps_length(a); k++) {
		double la[64], lb[64];
		int na = mps_schmidt_values(a, k, la);
		int nb = mps_schmidt_values(b, k, lb);
		if (na != nb || memcmp(la, lb, (size_t)na * sizeof *la))
			return 0;
	}
	for (unsigned long bits = 0; bits < (1ul << 12); bits++) {
		kz_cplx x = mps_amplitude(a, bits), y = mps_amplitude(b, bits);
		if (memcmp(&x, &y, sizeof x))
			return 0;
	}
	return 1;
}

static void test_mps_io(void)
{
	char err[KZ_ERRLEN] = "";
	chain_t *c = NULL;
	mps_t *m = evolved(&c, err), *r = NULL;
	CHECK(m != NULL, "evolved state: %s", err);
	if (!m)
		return;
	CHECK(mps_max_bond_dim(m) == 6, "truncation active: chi %d",
	      mps_max_bond_dim(m));
	size_t n = mps_serial_bytes(m);
	unsigned char *buf = malloc(n + 16);
	CHECK(mps_serialise(m, buf, n - 1, err) == KZ_EINVAL,
	      "short buffer refused");
	CHECK(mps_serialise(m, buf, n, err) == KZ_OK, "serialise: %s", err);
	CHECK(mps_deserialise(&r, buf, n, err) == KZ_OK, "deserialise: %s",
	      err);
	CHECK(r && same_state(m, r), "round trip bit for bit");
	if (r) {
		/* continuing from the copy = continuing from the original */
		tebd_t *t = NULL;
		tebd_params_t tp;
		tebd_params_default(&tp);
		tp.chi_max = 6;
		tp.dt = 0.05;
		CHECK(tebd_create(&t, c, &tp, err) == 0 &&
			      tebd_run(t, m, 5, err) == 0,
		      "step original");
		tebd_destroy(&t);
		CHECK(tebd_create(&t, c, &tp, err) == 0 &&
			      tebd_run(t, r, 5, err) == 0,
		      "step copy");
		tebd_destroy(&t);
		CHECK(same_state(m, r), "evolved copy = evolved original");
	}
	mps_destroy(&r);
	mps_serialise(m, buf, n, err);
	CHECK(mps_deserialise(&r, buf, n - 8, err) != 0 && r == NULL &&
		      strstr(err, "ends inside"),
	      "truncated buffer: %s", err);
	memset(buf + n, 0, 8);
	CHECK(mps_deserialise(&r, buf, n + 8, err) != 0 &&
		      strstr(err, "left over"),
	      "buffer too long: %s", err);
	unsigned char sw[4] = {buf[3], buf[2], buf[1], buf[0]};
	memcpy(buf, sw, 4);
	CHECK(mps_deserialise(&r, buf, n, err) != 0 &&
		      strstr(err, "byte order"),
	      "byte-swapped: %s", err);
	mps_serialise(m, buf, n, err);
	int32_t badL = 7;
	memcpy(buf + 4, &badL, 4);
	CHECK(mps_deserialise(&r, buf, n, err) != 0 && strstr(err, "L = 7"),
	      "odd L: %s", err);
	mps_serialise(m, buf, n, err);
	int32_t huge = 1 << 30; /* first sector dimension of bond 0 */
	memcpy(buf + 20, &huge, 4);
	CHECK(mps_deserialise(&r, buf, n, err) != 0, "absurd dimension: %s",
	      err);
	CHECK(mps_deserialise(&r, buf, 5, err) != 0, "5 bytes: %s", err);
	free(buf);
	mps_destroy(&m);
	chain_destroy(&c);
}

static void write_bytes(const char *path, const unsigned char *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(b, 1, n, f);
		fclose(f);
	}
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc(*n + 1);
	if (b && fread(b, 1, *n, f) != *n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

/* The position inside an interval (format version 2): a layer of the
 * interval's merged sequence (Forest-Ruth: 6 per step, 5 steps per row
 * here, so 31 layers), steps = row * 5 + layer / 6, and the kernel's
 * discard sums of the interval, zero at layer 0. */
static void mid_interval_match(ckpt_header_t *g, const char *hash,
			       const spec_point_t *p)
{
	char err[EU_ERRLEN] = "";
	const ckpt_header_t keep = *g;
	CHECK(p->steps_per_measure == 5 && p->order == 4, "spec as assumed");
	g->layer = 13;
	g->steps = (int64_t)g->row * 5 + 2;
	g->layer_discarded_total = 1e-12;
	g->layer_discarded_max = 1e-13;
	CHECK(ckpt_match(g, hash, p, err) == 0, "layer 13: %s", err);
	g->steps++;
	CHECK(ckpt_match(g, hash, p, err) != 0 && strstr(err, "layer 13"),
	      "layer 13 but 3 steps into the row: %s", err);
	g->layer = 30;
	g->steps = (int64_t)g->row * 5 + 5;
	CHECK(ckpt_match(g, hash, p, err) == 0,
	      "the last layer boundary of the interval: %s", err);
	g->layer = 31;
	CHECK(ckpt_match(g, hash, p, err) != 0 && strstr(err, "31 layers"),
	      "layer 31 of 31: %s", err);
	g->layer = -1;
	g->steps = (int64_t)g->row * 5;
	CHECK(ckpt_match(g, hash, p, err) != 0, "layer -1: %s", err);
	g->layer = 0;
	CHECK(ckpt_match(g, hash, p, err) != 0,
	      "layer 0 with discarded weight in the interval: %s", err);
	g->layer = 1;
	g->layer_discarded_total = NAN;
	CHECK(ckpt_match(g, hash, p, err) != 0,
	      "NaN discarded weight in the interval: %s", err);
	*g = keep;
}

/* A version-1 file (160-byte header, the int32 at 116 reserved, no
 * interval sums) built from the version-2 bytes b: still read, as a
 * checkpoint at its row. */
static void version1(const char *path, const unsigned char *b, size_t n,
		     const mps_t *m)
{
	char err[EU_ERRLEN] = "";
	const size_t pay = n - CKPT_HEADER_BYTES - 8;
	unsigned char *v = malloc(CKPT_HEADER_BYTES_V1 + pay + 8);
	ckpt_header_t g;
	mps_t *r = NULL;
	if (!v)
		return;
	memcpy(v, b, CKPT_HEADER_BYTES_V1);
	memcpy(v + CKPT_HEADER_BYTES_V1, b + CKPT_HEADER_BYTES, pay);
	v[8] = 1;
	v[12] = CKPT_HEADER_BYTES_V1;
	memset(v + 116, 0, 4);
	const size_t nv = CKPT_HEADER_BYTES_V1 + pay;
	const uint64_t sum = eu_fnv1a(EU_FNV_INIT, v, nv);
	for (int k = 0; k < 8; k++)
		v[nv + k] = (unsigned char)(sum >> (8 * k));
	write_bytes(path, v, nv + 8);
	CHECK(ckpt_read(path, &g, &r, err) == 0 && g.version == 1 &&
		      g.layer == 0 && g.layer_discarded_total == 0 &&
		      g.row == 3 && r && same_state(m, r),
	      "a version-1 checkpoint is read as one at its row: %s", err);
	mps_destroy(&r);
	free(v);
}

/* One checkpoint's life, in order: written, read back, matched, damaged,
 * removed, swept by prepare, locked.  (121 lines: left whole because the
 * steps share one file and one header.) */
static void test_files(const char *dir, const spec_t *s)
{
	char err[EU_ERRLEN] = "", kerr[KZ_ERRLEN], path[512];
	chain_t *c = NULL;
	mps_t *m = evolved(&c, kerr), *r = NULL;
	ckpt_header_t h, g;
	const spec_point_t *p = &s->points[0];
	if (!m)
		return;
	memset(&h, 0, sizeof h);
	snprintf(h.spec_hash, sizeof h.spec_hash, "%s", s->hash_hex);
	snprintf(h.point_hash, sizeof h.point_hash, "%s", p->hash_hex);
	h.point_id = 0;
	h.attempt = 2;
	h.L = 12;
	h.nup = mps_nup(m);
	h.row = 3;
	h.steps_per_measure = p->steps_per_measure;
	h.steps = 3 * p->steps_per_measure;
	h.t = 3.0 * p->steps_per_measure * p->dt;
	h.dt = p->dt;
	h.discarded_total = 1.25e-9;
	h.discarded_max = 3.5e-11;
	h.max_bond_dim = 6;
	CHECK(ckpt_dir_prepare(dir, 1, err) == 0, "prepare: %s", err);
	CHECK(ckpt_write(dir, &h, m, NULL, err) == 0, "write: %s", err);
	ckpt_file_of(path, sizeof path, dir, p->hash_hex);
	CHECK(ckpt_read(path, &g, &r, err) == 0, "read: %s", err);
	CHECK(r && same_state(m, r), "state round trip");
	CHECK(g.version == 2 && g.layer == 0 && !strcmp(g.spec_hash, h.spec_hash) &&
		      !strcmp(g.point_hash, h.point_hash) && g.attempt == 2 &&
		      g.L == 12 && g.nup == h.nup && g.row == 3 &&
		      g.steps == h.steps && g.t == h.t && g.dt == h.dt &&
		      g.discarded_total == h.discarded_total &&
		      g.discarded_max == h.discarded_max &&
		      g.max_bond_dim == 6 && strlen(g.written) == 20,
	      "header round trip");
	CHECK(ckpt_match(&g, s->hash_hex, p, err) == 0, "matches: %s", err);
	CHECK(ckpt_match(&g, s->hash_hex, &s->points[1], err) != 0 &&
		      strstr(err, "belongs to point"),
	      "other point: %s", err);
	CHECK(ckpt_match(&g, "0123456789abcdef", p, err) != 0 &&
		      strstr(err, "spec hash"),
	      "other spec: %s", err);
	g.steps++;
	CHECK(ckpt_match(&g, s->hash_hex, p, err) != 0 &&
		      strstr(err, "not fit"),
	      "steps inconsistent: %s", err);
	g.steps--;
	mid_interval_match(&g, s->hash_hex, p);
	g.row = p->n_measure - 1;
	g.steps = (int64_t)g.row * p->steps_per_measure;
	g.t = g.row * (double)p->steps_per_measure * p->dt;
	CHECK(ckpt_match(&g, s->hash_hex, p, err) != 0,
	      "a checkpoint at the last row is useless: %s", err);
	mps_destroy(&r);

	size_t n = 0;
	unsigned char *b = read_bytes(path, &n);
	CHECK(b && n == CKPT_HEADER_BYTES + mps_serial_bytes(m) + 8,
	      "file size %zu", n);
	if (b) {
		write_bytes(path, b, n - 100);
		CHECK(ckpt_read(path, &g, NULL, err) != 0 &&
			      strstr(err, "truncated"),
		      "truncated: %s", err);
		write_bytes(path, b, 100);
		CHECK(ckpt_read(path, &g, NULL, err) != 0 &&
			      strstr(err, "truncated"),
		      "truncated in the header: %s", err);
		b[n / 2] ^= 1;
		write_bytes(path, b, n);
		CHECK(ckpt_read(path, &g, NULL, err) != 0 &&
			      strstr(err, "checksum"),
		      "one bit flipped: %s", err);
		b[n / 2] ^= 1;
		version1(path, b, n, m);
		b[8] = 3;
		write_bytes(path, b, n);
		CHECK(ckpt_read(path, &g, NULL, err) != 0 &&
			      strstr(err, "version 3") &&
			      strstr(err, "reads versions 1 and 2"),
		      "version 3: %s", err);
		write_bytes(path, (const unsigned char *)"hello", 5);
		CHECK(ckpt_read(path, &g, NULL, err) != 0 &&
			      strstr(err, "not a kapitza checkpoint"),
		      "junk: %s", err);
		free(b);
	}
	CHECK(ckpt_remove(dir, p->hash_hex) == 0 && access(path, F_OK) != 0,
	      "removed");
	CHECK(ckpt_remove(dir, p->hash_hex) == 0, "removing twice is fine");
	CHECK(ckpt_read(path, &g, NULL, err) != 0, "missing: %s", err);

	/* leftovers of a killed writer go, checkpoints stay unless fresh */
	char tmp[600];
	snprintf(tmp, sizeof tmp, "%s.tmp.999", path);
	write_bytes(tmp, (const unsigned char *)"x", 1);
	ckpt_write(dir, &h, m, NULL, err);
	CHECK(ckpt_dir_prepare(dir, 0, err) == 0 && access(tmp, F_OK) != 0 &&
		      access(path, F_OK) == 0,
	      "prepare removes temporary files only");
	CHECK(ckpt_dir_prepare(dir, 1, err) == 0 && access(path, F_OK) != 0,
	      "fresh removes checkpoints");

	/* the lock: held by this process; a child process is refused */
	ckpt_lock_t *l = NULL;
	CHECK(ckpt_lock_create(&l, dir, err) == 0, "lock: %s", err);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		ckpt_lock_t *l2 = NULL;
		char e2[EU_ERRLEN] = "";
		int rc = ckpt_lock_create(&l2, dir, e2);
		_exit(rc != 0 && strstr(e2, "another kapitza process") ? 0 : 1);
	}
	int ws = -1;
	waitpid(pid, &ws, 0);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
	      "a second process cannot take the lock");
	ckpt_lock_destroy(&l);
	ckpt_lock_destroy(&l);
	mps_destroy(&m);
	chain_destroy(&c);
}

/* The worker's report callback: stop after row `stop_row`. */
static int stop_after(void *arg, const worker_progress_t *p)
{
	return p->row >= *(int *)arg;
}

static int same_dataset(const char *a, const char *b, const char *name)
{
	hid_t fa = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT);
	hid_t fb = H5Fopen(b, H5F_ACC_RDONLY, H5P_DEFAULT);
	hid_t da = H5Dopen2(fa, name, H5P_DEFAULT);
	hid_t db = H5Dopen2(fb, name, H5P_DEFAULT);
	hid_t t = H5Dget_type(da);
	hid_t sp = H5Dget_space(da);
	size_t n = (size_t)H5Sget_simple_extent_npoints(sp) * H5Tget_size(t);
	unsigned char *x = calloc(n + 1, 1), *y = calloc(n + 1, 1);
	int same = x && y && H5Dread(da, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0 &&
		   H5Dread(db, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0 &&
		   !memcmp(x, y, n);
	free(x);
	free(y);
	H5Sclose(sp);
	H5Tclose(t);
	H5Dclose(da);
	H5Dclose(db);
	H5Fclose(fa);
	H5Fclose(fb);
	return same;
}

/* Point 0's datasets of archives a and b are bitwise equal (all of them,
 * discarded weights included). */
static void same_point(const char *a, const char *b, const char *after)
{
	static const char *names[] = {
		"time",	  "sz",	      "energy",	   "energy_current",
		"energy_flow", "spin_current", "entropy", "bond_dim",
		"norm",	  "discarded", "discarded_max"};
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		char d[64];
		snprintf(d, sizeof d, "/points/0/%s", names[k]);
		CHECK(same_dataset(a, b, d), "%s differs after %s", d, after);
	}
}

/* A worker with no checkpoint options, bar spec_hash. */
static void worker_opts(worker_opts_t *wo, const spec_t *s)
{
	memset(wo, 0, sizeof *wo);
	wo->threads = 1;
	wo->fault_point = -1;
	wo->mpi_size = 1;
	wo->spec_hash = s->hash_hex;
}

static void test_worker(const char *dir, const spec_t *s)
{
	char err[EU_ERRLEN] = "", a1[512], a2[512], ck[600];
	archive_t *a = NULL;
	worker_opts_t wo;
	worker_result_t r;
	const spec_point_t *p = &s->points[0];
	int stop = 3;

	snprintf(a1, sizeof a1, "%s/full.h5", dir);
	snprintf(a2, sizeof a2, "%s/resumed.h5", dir);
	snprintf(ck, sizeof ck, "%s/resumed.h5.ckpt", dir);
	worker_opts(&wo, s);

	/* uninterrupted */
	CHECK(archive_create(&a, MPI_COMM_SELF, a1, s, 0, err) == 0,
	      "create: %s", err);
	if (!a)
		return;
	worker_run_point(a, p, 1, 0, &wo, NULL, NULL, &r);
	CHECK(r.state == ARCHIVE_DONE && isnan(r.t_resumed), "full run done");
	archive_destroy(&a, NULL);

	/* stopped after row 3, checkpointed, resumed */
	CHECK(archive_create(&a, MPI_COMM_SELF, a2, s, 0, err) == 0,
	      "create: %s", err);
	if (!a)
		return;
	wo.ckpt_dir = ck;
	wo.ckpt_every_s = 0;
	ckpt_dir_prepare(ck, 1, err);
	worker_run_point(a, p, 1, 0, &wo, stop_after, &stop, &r);
	CHECK(r.state == ARCHIVE_INTERRUPTED && r.rows == 4 &&
		      r.t_ckpt == r.t_reached &&
		      strstr(r.message, "(checkpoint written)"),
	      "stopped: state %d, rows %d, '%s'", r.state, r.rows, r.message);
	worker_run_point(a, p, 2, 1, &wo, NULL, NULL, &r);
	CHECK(r.state == ARCHIVE_DONE && r.t_resumed == 0.75,
	      "resumed: state %d, from %g, '%s'", r.state, r.t_resumed,
	      r.message);
	/* no checkpoint: the attempt fails, it does not restart */
	ckpt_remove(ck, p->hash_hex);
	worker_run_point(a, &s->points[1], 2, 1, &wo, NULL, NULL, &r);
	CHECK(r.state == ARCHIVE_FAILED && strstr(r.message, "cannot resume"),
	      "resume without a checkpoint: '%s'", r.message);
	archive_destroy(&a, NULL);

	same_point(a1, a2, "a resumption");
}

/* The worker's report callback: raise the stop flag after row `row`
 * without asking to stop there, so that the kernel stops inside the next
 * interval, after its first layer. */
typedef struct {
	int row;
	volatile sig_atomic_t flag;
} raise_at_t;

static int raise_after(void *arg, const worker_progress_t *p)
{
	raise_at_t *ra = arg;
	if (p->row == ra->row)
		ra->flag = 1;
	return 0;
}

/* Stops inside an interval: the stop flag raised after row 2 stops the
 * kernel after layer 1 of the interval to row 3; each resumption with the
 * flag still up stops one layer further (the hook is asked between
 * layers, never before the first), across a step boundary (6 layers per
 * step); then one resumption runs to the end.  Every stop writes a
 * version-2 checkpoint at (row 2, layer k), and the data equal the
 * uninterrupted run's bit for bit (full.h5 of test_worker). */
static void test_worker_mid(const char *dir, const spec_t *s)
{
	char err[EU_ERRLEN] = "", a1[512], a3[512], ck[600], path[700];
	archive_t *a = NULL;
	worker_opts_t wo;
	worker_result_t r;
	const spec_point_t *p = &s->points[0];
	raise_at_t ra = {2, 0};

	snprintf(a1, sizeof a1, "%s/full.h5", dir);
	snprintf(a3, sizeof a3, "%s/mid.h5", dir);
	snprintf(ck, sizeof ck, "%s/mid.h5.ckpt", dir);
	worker_opts(&wo, s);
	wo.ckpt_dir = ck;
	wo.stop_flag = &ra.flag;
	CHECK(archive_create(&a, MPI_COMM_SELF, a3, s, 0, err) == 0,
	      "create: %s", err);
	if (!a)
		return;
	ckpt_dir_prepare(ck, 1, err);
	ckpt_file_of(path, sizeof path, ck, p->hash_hex);
	worker_run_point(a, p, 1, 0, &wo, raise_after, &ra, &r);
	int attempt = 1;
	for (int layer = 1; layer <= 8; layer++) {
		ckpt_header_t h;
		char want[64];
		snprintf(want, sizeof want, "+ %d of 31 layers", layer);
		CHECK(r.state == ARCHIVE_INTERRUPTED && r.rows == 3 &&
			      r.t_reached == 0.5 && r.t_ckpt == 0.5 &&
			      strstr(r.message, want) &&
			      strstr(r.message, "(checkpoint written)"),
		      "attempt %d: state %d, rows %d, t %g, '%s'", attempt,
		      r.state, r.rows, r.t_reached, r.message);
		CHECK(ckpt_read(path, &h, NULL, err) == 0 && h.version == 2 &&
			      h.row == 2 && h.layer == layer &&
			      h.steps == 10 + layer / 6 && h.t == 0.5 &&
			      h.layer_discarded_total >= 0 &&
			      ckpt_match(&h, s->hash_hex, p, err) == 0,
		      "checkpoint at row 2, layer %d: row %d, layer %d, "
		      "steps %lld: %s",
		      layer, h.row, h.layer, (long long)h.steps, err);
		worker_run_point(a, p, ++attempt, 1, &wo, NULL, NULL, &r);
	}
	CHECK(r.state == ARCHIVE_INTERRUPTED, "still stopping: '%s'",
	      r.message);
	ra.flag = 0;
	worker_run_point(a, p, ++attempt, 1, &wo, NULL, NULL, &r);
	CHECK(r.state == ARCHIVE_DONE && r.t_resumed == 0.5,
	      "resumed to the end: state %d, from %g, '%s'", r.state,
	      r.t_resumed, r.message);
	archive_destroy(&a, NULL);
	same_point(a1, a3, "9 stops inside an interval");
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/kapitza-ckpt-XXXXXX", sub[256], serr[EU_ERRLEN];
	spec_t *s = NULL;
	MPI_Init(&argc, &argv);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	CHECK(spec_parse(&s, "ckpt.yaml", spec_text, strlen(spec_text),
			 serr) == 0,
	      "spec: %s", serr);
	if (!s) {
		MPI_Finalize();
		return check_done("checkpoint");
	}
	/* a second point for the "other point" cases */
	spec_t *s2 = NULL;
	char text2[1024];
	snprintf(text2, sizeof text2, "%s",
		 "sweep: ckpt\nchain:\n  length: 12\n  right: { delta: [0.5, "
		 "0.7] }\nstate: domain_wall\nevolve: { dt: 0.05, t_max: 2, "
		 "order: 4, measure_every: 0.25 }\ntruncate: { chi_max: 6 }\n");
	CHECK(spec_parse(&s2, "ckpt2.yaml", text2, strlen(text2), serr) == 0 &&
		      s2->npoints == 2,
	      "spec 2: %s", serr);

	test_mps_io();
	snprintf(sub, sizeof sub, "%s/c", dir);
	if (s2)
		test_files(sub, s2);
	if (s2)
		test_worker(dir, s2);
	if (s2)
		test_worker_mid(dir, s2);
	spec_destroy(&s);
	spec_destroy(&s2);
	if (!getenv("KAPITZA_KEEP_TEST_DIR")) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	MPI_Finalize();
	return check_done("checkpoint");
}
