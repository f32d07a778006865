/* merge: `kapitza merge SHARD.h5... -o ARCHIVE.h5 [--force]` -- gathers the
 * shard files of a job array (kapitza run --shard I/N) into one archive of
 * the same layout, as if one job had run the whole sweep.
 *
 * Per point, the source is the shard where it is done; a point done in
 * several inputs must have identical data in each (every dataset of
 * /points/<id>, bit for bit), otherwise the merge is refused.  A point done
 * nowhere comes from the input that owns it (not other-shard) with the
 * highest attempt (then the most rows), with its rows, status, provenance
 * and history, and its checkpoint is copied into ARCHIVE.h5.ckpt/, so
 * `kapitza resubmit ARCHIVE.h5` continues it; a point in no input's shard
 * (a missing shard file) is pending.
 *
 * Refused, with nothing written: inputs of different spec hashes (or whose
 * spec text does not hash to their spec hash), unreadable inputs, differing
 * done points, an output that exists (without --force) or that is one of
 * the inputs.  The output is built under a temporary name and appears only
 * when complete.  Serial: under mpirun only rank 0 works.
 *
 * Exit status: 0 merged, 2 refused or bad command line. */
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agree.h"
#include "archive.h"
#include "checkpoint.h"
#include "cmd.h"
#include "eu.h"
#include "h5x.h"
#include "point_copy.h"
#include "schema.h"
#include "spec.h"

typedef struct {
	const char **in;
	int nin;
	const char *out;
	int force, help;
} mg_args_t;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kapitza merge SHARD.h5 [SHARD.h5 ...] -o ARCHIVE.h5 "
		"[--force]\n"
		"Gathers the shards of a job array (kapitza run --shard I/N) "
		"into one archive.\n"
		"  -o, --output FILE  the merged archive (and FILE.ckpt/ for "
		"the checkpoints of\n"
		"                     unfinished points)\n"
		"  -f, --force        replace an existing output\n"
		"Refuses shards of different specs and points done in two "
		"shards with\ndifferent data. Exit status: 0 merged, 2 "
		"refused (nothing written).\n");
}

static int parse_args(int argc, char **argv, mg_args_t *a, char *err)
{
	memset(a, 0, sizeof *a);
	a->in = calloc((size_t)argc + 1, sizeof *a->in);
	if (!a->in) {
		eu_err(err, "out of memory");
		return -1;
	}
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			a->help = 1;
		} else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
			if (i + 1 >= argc) {
				eu_err(err, "%s needs a value",
					 s);
				return -1;
			}
			a->out = argv[++i];
		} else if (!strcmp(s, "-f") || !strcmp(s, "--force")) {
			a->force = 1;
		} else if (s[0] == '-' && s[1]) {
			eu_err(err, "unknown option '%s'", s);
			return -1;
		} else {
			a->in[a->nin++] = s;
		}
	}
	if (a->help)
		return 0;
	if (a->nin < 1) {
		eu_err(err, "no shard given");
		return -1;
	}
	if (!a->out) {
		eu_err(err, "no output given (-o ARCHIVE.h5)");
		return -1;
	}
	return 0;
}

/* Whole dataset `name` of file f into a new buffer (native type). */
static int read_whole(hid_t f, const char *name, void **buf, size_t *bytes,
		      hid_t *mtype)
{
	hid_t d = H5Dopen2(f, name, H5P_DEFAULT), ft = -1, sp = -1;
	int rc = -1;
	*buf = NULL;
	*mtype = -1;
	if (d < 0)
		goto out;
	ft = H5Dget_type(d);
	sp = H5Dget_space(d);
	if (ft < 0 || sp < 0)
		goto out;
	*mtype = H5Tget_native_type(ft, H5T_DIR_ASCEND);
	hssize_t n = H5Sget_simple_extent_npoints(sp);
	size_t es = *mtype >= 0 ? H5Tget_size(*mtype) : 0;
	if (*mtype < 0 || n < 0 || !es)
		goto out;
	*bytes = (size_t)n * es;
	*buf = calloc(*bytes + 1, 1);
	if (!*buf || H5Dread(d, *mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *buf) < 0)
		goto out;
	rc = 0;
out:
	if (rc) {
		free(*buf);
		*buf = NULL;
		if (*mtype >= 0)
			H5Tclose(*mtype);
		*mtype = -1;
	}
	if (sp >= 0)
		H5Sclose(sp);
	if (ft >= 0)
		H5Tclose(ft);
	if (d >= 0)
		H5Dclose(d);
	return rc;
}

typedef struct {
	char names[16][32];
	int n;
} names_t;

/* The dataset names of /points/<k> in f (by index: the same calls in
 * HDF5 1.10 and 1.12+). */
static int point_names(hid_t f, int k, names_t *nm)
{
	char g[64];
	hid_t gid;
	H5G_info_t info;
	int rc = -1;
	memset(nm, 0, sizeof *nm);
	schema_point_path(g, sizeof g, k, NULL);
	gid = H5Gopen2(f, g, H5P_DEFAULT);
	if (gid < 0)
		return -1;
	if (H5Gget_info(gid, &info) < 0 || info.nlinks > 16)
		goto out;
	for (hsize_t j = 0; j < info.nlinks; j++) {
		if (H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, j,
				       nm->names[nm->n],
				       sizeof nm->names[0], H5P_DEFAULT) < 0)
			goto out;
		nm->n++;
	}
	rc = 0;
out:
	H5Gclose(gid);
	return rc;
}

/* 1 if point k has identical datasets in a and b, 0 if not, -1 on error. */
static int same_point(hid_t a, hid_t b, int k)
{
	names_t na, nb;
	if (point_names(a, k, &na) || point_names(b, k, &nb))
		return -1;
	if (na.n != nb.n)
		return 0;
	for (int j = 0; j < na.n; j++) {
		char name[96];
		void *x = NULL, *y = NULL;
		size_t nx = 0, ny = 0;
		hid_t tx = -1, ty = -1;
		int same;
		if (strcmp(na.names[j], nb.names[j]))
			return 0;
		schema_point_path(name, sizeof name, k, na.names[j]);
		if (read_whole(a, name, &x, &nx, &tx) ||
		    read_whole(b, name, &y, &ny, &ty)) {
			free(x);
			free(y);
			if (tx >= 0)
				H5Tclose(tx);
			return -1;
		}
		same = nx == ny && H5Tequal(tx, ty) > 0 && !memcmp(x, y, nx);
		free(x);
		free(y);
		H5Tclose(tx);
		H5Tclose(ty);
		if (!same)
			return 0;
	}
	return 1;
}

static int same_file(const char *a, const char *b)
{
	struct stat x, y;
	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino;
}

/* One merge: the inputs, the source chosen per point, the output. */
typedef struct {
	const mg_args_t *a;
	archive_summary_t **sum;   /* [nin] */
	hid_t *f;                  /* [nin] open read-only */
	int *src;                  /* [np] input of point k, -1 none */
	int np, ndone, nother, nckpt, nunfinished;
	char tmp[PATH_MAX], ckdir[PATH_MAX];
	int have_tmp;
	spec_t *s;
	ckpt_lock_t *lock;
} mg_t;

#define MG_FAIL(...)                                                     \
	do {                                                             \
		fprintf(stderr, "kapitza merge: " __VA_ARGS__);          \
		return -1;                                               \
	} while (0)

/* Input i: its summary, its spec text against its spec hash, the same
 * sweep as input 0, opened read-only. */
static int mg_input(mg_t *m, int i)
{
	const mg_args_t *a = m->a;
	char err[EU_ERRLEN] = "", hex[17];
	if (same_file(a->in[i], a->out))
		MG_FAIL("the output '%s' is also an input\n", a->out);
	if (archive_summary_read(&m->sum[i], a->in[i], err))
		MG_FAIL("%s\n", err);
	snprintf(hex, sizeof hex, "%016llx",
		 (unsigned long long)eu_fnv1a(EU_FNV_INIT,
					      m->sum[i]->spec_text,
					      strlen(m->sum[i]->spec_text)));
	if (strcmp(hex, m->sum[i]->spec_hash))
		MG_FAIL("'%s': the spec text hashes to %s, not to its spec "
			"hash %s: damaged\n",
			a->in[i], hex, m->sum[i]->spec_hash);
	if (strcmp(m->sum[i]->spec_hash, m->sum[0]->spec_hash) ||
	    m->sum[i]->npoints != m->sum[0]->npoints)
		MG_FAIL("'%s' (spec hash %s) and '%s' (spec hash %s) are not "
			"shards of one sweep; nothing was written\n",
			a->in[0], m->sum[0]->spec_hash, a->in[i],
			m->sum[i]->spec_hash);
	m->f[i] = h5x_open_serial(a->in[i], H5F_ACC_RDONLY);
	if (m->f[i] < 0)
		MG_FAIL("cannot open '%s'\n", a->in[i]);
	return 0;
}

/* The source of point k: the input where it is done (done points agree
 * across inputs), else the owner with the highest attempt, then the most
 * rows; -1 none (and counted if no input owns it). */
static int mg_source(mg_t *m, int k)
{
	const mg_args_t *a = m->a;
	int best = -1;
	for (int i = 0; i < a->nin; i++) {
		if (m->sum[i]->status[k].state != ARCHIVE_DONE)
			continue;
		if (best < 0) {
			best = i;
			continue;
		}
		int same = same_point(m->f[best], m->f[i], k);
		if (same != 1)
			MG_FAIL("point %d (hash %s) is done in '%s' and in '%s' "
				"%s; nothing was written\n",
				k, m->sum[0]->points[k].hash, a->in[best],
				a->in[i],
				same < 0 ? "but could not be compared"
					 : "with different data");
	}
	if (best < 0)
		for (int i = 0; i < a->nin; i++) {
			const archive_status_t *st = &m->sum[i]->status[k];
			if (st->state == ARCHIVE_OTHER_SHARD ||
			    (st->state == ARCHIVE_PENDING && st->attempt == 0))
				continue;
			if (best < 0 ||
			    st->attempt > m->sum[best]->status[k].attempt ||
			    (st->attempt == m->sum[best]->status[k].attempt &&
			     st->rows > m->sum[best]->status[k].rows))
				best = i;
		}
	if (best < 0) {
		int owned = 0;
		for (int i = 0; i < a->nin; i++)
			owned |= m->sum[i]->status[k].state !=
				 ARCHIVE_OTHER_SHARD;
		m->nother += !owned;
	}
	m->src[k] = best;
	if (best >= 0 && m->sum[best]->status[k].state == ARCHIVE_DONE)
		m->ndone++;
	return 0;
}

/* The root attribute merged_from: the inputs' base names; NULL if out of
 * memory. */
static char *mg_merged_from(const mg_args_t *a)
{
	char *mf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mf, &len);
	if (!f)
		return NULL;
	for (int i = 0; i < a->nin; i++) {
		const char *b = strrchr(a->in[i], '/');
		fprintf(f, "%s%s", i ? ", " : "", b ? b + 1 : a->in[i]);
	}
	fclose(f);
	return mf;
}

/* The output under its temporary name: an empty archive of the spec
 * (archive_create_ex on one process), then every sourced point copied. */
static int mg_output(mg_t *m)
{
	const mg_args_t *a = m->a;
	char err[EU_ERRLEN] = "";
	char *merged_from = mg_merged_from(a);
	archive_t *ar = NULL;
	archive_create_opts_t co;
	int rc = -1;
	hid_t out = -1;

	if (!merged_from)
		MG_FAIL("out of memory\n");
	if (spec_parse(&m->s, a->in[0], m->sum[0]->spec_text,
		       strlen(m->sum[0]->spec_text), err) ||
	    ckpt_lock_create(&m->lock, m->ckdir, err)) {
		fprintf(stderr, "kapitza merge: %s\n", err);
		goto out;
	}
	archive_create_opts_default(&co);
	co.force = 1;
	co.merged_from = merged_from;
	if (archive_create_ex(&ar, MPI_COMM_SELF, m->tmp, m->s, &co, err) ||
	    archive_destroy(&ar, err)) {
		fprintf(stderr, "kapitza merge: %s\n", err);
		goto out;
	}
	m->have_tmp = 1;
	out = h5x_open_serial(m->tmp, H5F_ACC_RDWR);
	if (out < 0) {
		fprintf(stderr, "kapitza merge: cannot reopen '%s'\n", m->tmp);
		goto out;
	}
	for (int k = 0; k < m->np; k++)
		if (m->src[k] >= 0 &&
		    archive_copy_point(m->f[m->src[k]], k, out, k)) {
			fprintf(stderr,
				"kapitza merge: copying point %d from '%s' "
				"failed\n",
				k, a->in[m->src[k]]);
			goto out;
		}
	rc = 0;
out:
	if (out >= 0 && H5Fclose(out) < 0 && !rc) {
		fprintf(stderr, "kapitza merge: closing '%s' failed\n", m->tmp);
		rc = -1;
	}
	archive_destroy(&ar, NULL);
	free(merged_from);
	return rc;
}

/* The checkpoints of the unfinished points into the output's directory. */
static int mg_checkpoints(mg_t *m)
{
	char err[EU_ERRLEN] = "";
	if (ckpt_dir_prepare(m->ckdir, 1, err))
		MG_FAIL("%s\n", err);
	for (int k = 0; k < m->np; k++) {
		char sdir[PATH_MAX], file[PATH_MAX];
		const int i = m->src[k];
		if (i < 0 || m->sum[i]->status[k].state == ARCHIVE_DONE)
			continue;
		m->nunfinished++;
		if (ckpt_dir_of(sdir, sizeof sdir, m->a->in[i]) ||
		    ckpt_file_of(file, sizeof file, sdir,
				 m->sum[0]->points[k].hash) ||
		    access(file, F_OK))
			continue;
		if (ckpt_copy(file, m->ckdir, err))
			MG_FAIL("%s\n", err);
		m->nckpt++;
	}
	return 0;
}

/* The complete output under its name (replacing only with --force). */
static int mg_publish(mg_t *m)
{
	const mg_args_t *a = m->a;
	if (a->force) {
		if (rename(m->tmp, a->out))
			MG_FAIL("cannot create '%s': %s\n", a->out,
				strerror(errno));
	} else if (link(m->tmp, a->out) == 0) {
		unlink(m->tmp);
	} else {
		MG_FAIL("cannot create '%s': %s\n", a->out,
			errno == EEXIST ? "it exists (use --force to replace "
					  "it)"
					: strerror(errno));
	}
	m->have_tmp = 0;
	return 0;
}

static void mg_report(const mg_t *m)
{
	const mg_args_t *a = m->a;
	printf("kapitza merge: %d shard%s of sweep '%s' (spec hash %s) -> "
	       "%s: %d points, %d done, %d unfinished (%d with a "
	       "checkpoint), %d in no shard given\n",
	       a->nin, a->nin == 1 ? "" : "s", m->sum[0]->sweep,
	       m->sum[0]->spec_hash, a->out, m->np, m->ndone, m->nunfinished,
	       m->nckpt, m->nother);
	if (m->nother)
		printf("kapitza merge: %d point%s belong to shards not given "
		       "(missing shard files?); they are pending in %s\n",
		       m->nother, m->nother == 1 ? "" : "s", a->out);
}

/* Rank 0's whole merge; 0 or 2. */
static int merge(const mg_args_t *a)
{
	mg_t m;
	struct stat sb;
	int status = 2;

	memset(&m, 0, sizeof m);
	m.a = a;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	m.sum = calloc((size_t)a->nin, sizeof *m.sum);
	m.f = malloc((size_t)a->nin * sizeof *m.f);
	if (!m.sum || !m.f) {
		fprintf(stderr, "kapitza merge: out of memory\n");
		goto out;
	}
	for (int i = 0; i < a->nin; i++)
		m.f[i] = -1;
	if (!a->force && stat(a->out, &sb) == 0) {
		fprintf(stderr,
			"kapitza merge: '%s' exists; refusing to overwrite it "
			"(use --force to replace it)\n",
			a->out);
		goto out;
	}
	for (int i = 0; i < a->nin; i++)
		if (mg_input(&m, i))
			goto out;
	m.np = m.sum[0]->npoints;
	m.src = malloc(((size_t)m.np + 1) * sizeof *m.src);
	if (!m.src) {
		fprintf(stderr, "kapitza merge: out of memory\n");
		goto out;
	}
	for (int k = 0; k < m.np; k++)
		if (mg_source(&m, k))
			goto out;
	if (snprintf(m.tmp, sizeof m.tmp, "%s.merge-tmp.%ld", a->out,
		     (long)getpid()) >= (int)sizeof m.tmp ||
	    ckpt_dir_of(m.ckdir, sizeof m.ckdir, a->out)) {
		fprintf(stderr, "kapitza merge: output path too long\n");
		goto out;
	}
	if (mg_output(&m) || mg_checkpoints(&m) || mg_publish(&m))
		goto out;
	mg_report(&m);
	status = 0;
out:
	if (m.have_tmp)
		unlink(m.tmp);
	for (int i = 0; m.f && i < a->nin; i++)
		if (m.f[i] >= 0)
			H5Fclose(m.f[i]);
	for (int i = 0; m.sum && i < a->nin; i++)
		archive_summary_destroy(&m.sum[i]);
	free(m.sum);
	free(m.f);
	free(m.src);
	spec_destroy(&m.s);
	ckpt_lock_destroy(&m.lock);
	return status;
}

int cmd_merge(int argc, char **argv)
{
	mg_args_t args;
	char err[EU_ERRLEN] = "";
	int rank = 0, inited = 0, provided, status;
	int rc = parse_args(argc, argv, &args, err);

	if (rc || args.help) {
		if (rc)
			fprintf(stderr, "kapitza merge: %s\n", err);
		usage(rc ? stderr : stdout);
		free(args.in);
		return rc ? 2 : 0;
	}
	/* archive_create needs MPI (one process is enough) */
	MPI_Initialized(&inited);
	if (!inited)
		MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	status = rank == 0 ? merge(&args) : 0;
	status = agree_rank0(MPI_COMM_WORLD, status, NULL, NULL);
	free(args.in);
	MPI_Finalize();
	return status;
}
