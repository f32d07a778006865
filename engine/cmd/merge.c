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

#include "archive.h"
#include "checkpoint.h"
#include "cmd.h"
#include "eu.h"
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
		snprintf(err, EU_ERRLEN, "out of memory");
		return -1;
	}
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			a->help = 1;
		} else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
			if (i + 1 >= argc) {
				snprintf(err, EU_ERRLEN, "%s needs a value",
					 s);
				return -1;
			}
			a->out = argv[++i];
		} else if (!strcmp(s, "-f") || !strcmp(s, "--force")) {
			a->force = 1;
		} else if (s[0] == '-' && s[1]) {
			snprintf(err, EU_ERRLEN, "unknown option '%s'", s);
			return -1;
		} else {
			a->in[a->nin++] = s;
		}
	}
	if (a->help)
		return 0;
	if (a->nin < 1) {
		snprintf(err, EU_ERRLEN, "no shard given");
		return -1;
	}
	if (!a->out) {
		snprintf(err, EU_ERRLEN, "no output given (-o ARCHIVE.h5)");
		return -1;
	}
	return 0;
}

static hid_t open_file(const char *path, unsigned flags)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1;
	if (fapl < 0)
		return -1;
	H5Pset_fapl_sec2(fapl);
#if H5_VERSION_GE(1, 10, 7)
	H5Pset_file_locking(fapl, 0, 1);
#endif
	f = H5Fopen(path, flags, fapl);
	H5Pclose(fapl);
	return f;
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
	snprintf(g, sizeof g, "points/%d", k);
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
		snprintf(name, sizeof name, "points/%d/%s", k, na.names[j]);
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

/* Copies row `k` (and for 2-D tables, all columns) of table `name` from
 * src to dst, converting by member names through the destination's type. */
static int copy_table_row(hid_t src, hid_t dst, const char *name, int k)
{
	hid_t ds = H5Dopen2(src, name, H5P_DEFAULT);
	hid_t dd = H5Dopen2(dst, name, H5P_DEFAULT);
	hid_t mt = -1, fs = -1, fd = -1, ms = -1;
	hsize_t dims[2] = {0, 1}, start[2] = {(hsize_t)k, 0}, cnt[2];
	void *buf = NULL;
	int rc = -1, rank;
	if (ds < 0 || dd < 0)
		goto out;
	mt = H5Dget_type(dd);
	fs = H5Dget_space(ds);
	fd = H5Dget_space(dd);
	if (mt < 0 || fs < 0 || fd < 0)
		goto out;
	rank = H5Sget_simple_extent_dims(fd, dims, NULL);
	if (rank < 1 || rank > 2)
		goto out;
	cnt[0] = 1;
	cnt[1] = rank == 2 ? dims[1] : 1;
	{
		hsize_t sdims[2] = {0, 1};
		if (H5Sget_simple_extent_dims(fs, sdims, NULL) != rank ||
		    (rank == 2 && sdims[1] != dims[1]))
			goto out;
	}
	hsize_t m = cnt[1];
	ms = H5Screate_simple(1, &m, NULL);
	buf = calloc((size_t)m, H5Tget_size(mt) + 1);
	/* a background buffer: members the source lacks keep the fill */
	if (ms < 0 || !buf ||
	    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL) <
		    0 ||
	    H5Sselect_hyperslab(fd, H5S_SELECT_SET, start, NULL, cnt, NULL) <
		    0 ||
	    H5Dread(dd, mt, ms, fd, H5P_DEFAULT, buf) < 0 ||
	    H5Dread(ds, mt, ms, fs, H5P_DEFAULT, buf) < 0 ||
	    H5Dwrite(dd, mt, ms, fd, H5P_DEFAULT, buf) < 0)
		goto out;
	rc = 0;
out:
	free(buf);
	if (ms >= 0)
		H5Sclose(ms);
	if (fs >= 0)
		H5Sclose(fs);
	if (fd >= 0)
		H5Sclose(fd);
	if (mt >= 0)
		H5Tclose(mt);
	if (ds >= 0)
		H5Dclose(ds);
	if (dd >= 0)
		H5Dclose(dd);
	return rc;
}

/* Copies point k's datasets, status, provenance and history rows. */
static int copy_point(hid_t src, hid_t dst, int k)
{
	names_t nm;
	if (point_names(src, k, &nm))
		return -1;
	for (int j = 0; j < nm.n; j++) {
		char name[96];
		void *x = NULL;
		size_t nx = 0;
		hid_t tx = -1, d;
		int rc;
		snprintf(name, sizeof name, "points/%d/%s", k, nm.names[j]);
		if (read_whole(src, name, &x, &nx, &tx))
			return -1;
		d = H5Dopen2(dst, name, H5P_DEFAULT);
		rc = d >= 0 && H5Dwrite(d, tx, H5S_ALL, H5S_ALL, H5P_DEFAULT,
					x) >= 0
			     ? 0
			     : -1;
		if (d >= 0)
			H5Dclose(d);
		H5Tclose(tx);
		free(x);
		if (rc)
			return -1;
	}
	if (copy_table_row(src, dst, "status", k) ||
	    copy_table_row(src, dst, "provenance", k))
		return -1;
	if (H5Lexists(src, "history", H5P_DEFAULT) > 0 &&
	    copy_table_row(src, dst, "history", k))
		return -1;
	return 0;
}

static int same_file(const char *a, const char *b)
{
	struct stat x, y;
	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino;
}

/* Rank 0's whole merge; 0 or 2. */
static int merge(const mg_args_t *a)
{
	archive_summary_t **sum = NULL;
	hid_t *f = NULL, out = -1;
	int *src = NULL, np = 0, status = 2, ndone = 0, nother = 0;
	int nckpt = 0, nunfinished = 0;
	spec_t *s = NULL;
	archive_t *ar = NULL;
	ckpt_lock_t *lock = NULL;
	char err[EU_ERRLEN] = "", tmp[PATH_MAX], ckdir[PATH_MAX];
	char *merged_from = NULL;
	size_t mf_len = 0;
	int have_tmp = 0;
	struct stat sb;

	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	sum = calloc((size_t)a->nin, sizeof *sum);
	f = malloc((size_t)a->nin * sizeof *f);
	if (!sum || !f) {
		fprintf(stderr, "kapitza merge: out of memory\n");
		goto out;
	}
	for (int i = 0; i < a->nin; i++)
		f[i] = -1;
	if (!a->force && stat(a->out, &sb) == 0) {
		fprintf(stderr,
			"kapitza merge: '%s' exists; refusing to overwrite it "
			"(use --force to replace it)\n",
			a->out);
		goto out;
	}
	for (int i = 0; i < a->nin; i++) {
		char hex[17];
		if (same_file(a->in[i], a->out)) {
			fprintf(stderr,
				"kapitza merge: the output '%s' is also an "
				"input\n",
				a->out);
			goto out;
		}
		if (archive_summary_read(&sum[i], a->in[i], err)) {
			fprintf(stderr, "kapitza merge: %s\n", err);
			goto out;
		}
		snprintf(hex, sizeof hex, "%016llx",
			 (unsigned long long)eu_fnv1a(
				 EU_FNV_INIT, sum[i]->spec_text,
				 strlen(sum[i]->spec_text)));
		if (strcmp(hex, sum[i]->spec_hash)) {
			fprintf(stderr,
				"kapitza merge: '%s': the spec text hashes to "
				"%s, not to its spec hash %s: damaged\n",
				a->in[i], hex, sum[i]->spec_hash);
			goto out;
		}
		if (strcmp(sum[i]->spec_hash, sum[0]->spec_hash) ||
		    sum[i]->npoints != sum[0]->npoints) {
			fprintf(stderr,
				"kapitza merge: '%s' (spec hash %s) and '%s' "
				"(spec hash %s) are not shards of one sweep; "
				"nothing was written\n",
				a->in[0], sum[0]->spec_hash, a->in[i],
				sum[i]->spec_hash);
			goto out;
		}
		f[i] = open_file(a->in[i], H5F_ACC_RDONLY);
		if (f[i] < 0) {
			fprintf(stderr, "kapitza merge: cannot open '%s'\n",
				a->in[i]);
			goto out;
		}
	}
	np = sum[0]->npoints;
	src = malloc(((size_t)np + 1) * sizeof *src);
	if (!src) {
		fprintf(stderr, "kapitza merge: out of memory\n");
		goto out;
	}
	/* choose a source per point; done points agree across inputs */
	for (int k = 0; k < np; k++) {
		int best = -1;
		for (int i = 0; i < a->nin; i++) {
			const archive_status_t *st = &sum[i]->status[k];
			if (st->state != ARCHIVE_DONE)
				continue;
			if (best < 0) {
				best = i;
				continue;
			}
			int same = same_point(f[best], f[i], k);
			if (same != 1) {
				fprintf(stderr,
					"kapitza merge: point %d (hash %s) is "
					"done in '%s' and in '%s' %s; nothing "
					"was written\n",
					k, sum[0]->points[k].hash,
					a->in[best], a->in[i],
					same < 0 ? "but could not be compared"
						 : "with different data");
				goto out;
			}
		}
		if (best < 0)
			for (int i = 0; i < a->nin; i++) {
				const archive_status_t *st = &sum[i]->status[k];
				if (st->state == ARCHIVE_OTHER_SHARD ||
				    (st->state == ARCHIVE_PENDING &&
				     st->attempt == 0))
					continue;
				if (best < 0 ||
				    st->attempt > sum[best]->status[k].attempt ||
				    (st->attempt ==
					     sum[best]->status[k].attempt &&
				     st->rows > sum[best]->status[k].rows))
					best = i;
			}
		if (best < 0) {
			int owned = 0;
			for (int i = 0; i < a->nin; i++)
				owned |= sum[i]->status[k].state !=
					 ARCHIVE_OTHER_SHARD;
			nother += !owned;
		}
		src[k] = best;
		if (best >= 0 && sum[best]->status[k].state == ARCHIVE_DONE)
			ndone++;
	}

	/* the output, under a temporary name until complete */
	if (snprintf(tmp, sizeof tmp, "%s.merge-tmp.%ld", a->out,
		     (long)getpid()) >= (int)sizeof tmp ||
	    ckpt_dir_of(ckdir, sizeof ckdir, a->out)) {
		fprintf(stderr, "kapitza merge: output path too long\n");
		goto out;
	}
	{
		FILE *m = open_memstream(&merged_from, &mf_len);
		if (!m) {
			fprintf(stderr, "kapitza merge: out of memory\n");
			goto out;
		}
		for (int i = 0; i < a->nin; i++) {
			const char *b = strrchr(a->in[i], '/');
			fprintf(m, "%s%s", i ? ", " : "", b ? b + 1 : a->in[i]);
		}
		fclose(m);
	}
	{
		char serr[EU_ERRLEN];
		archive_create_opts_t co;
		if (spec_parse(&s, a->in[0], sum[0]->spec_text,
			       strlen(sum[0]->spec_text), serr)) {
			fprintf(stderr, "kapitza merge: %s\n", serr);
			goto out;
		}
		if (ckpt_lock_create(&lock, ckdir, err)) {
			fprintf(stderr, "kapitza merge: %s\n", err);
			goto out;
		}
		archive_create_opts_default(&co);
		co.force = 1;
		co.merged_from = merged_from;
		if (archive_create_ex(&ar, MPI_COMM_SELF, tmp, s, &co, err) ||
		    archive_destroy(&ar, err)) {
			fprintf(stderr, "kapitza merge: %s\n", err);
			goto out;
		}
		have_tmp = 1;
	}
	out = open_file(tmp, H5F_ACC_RDWR);
	if (out < 0) {
		fprintf(stderr, "kapitza merge: cannot reopen '%s'\n", tmp);
		goto out;
	}
	for (int k = 0; k < np; k++) {
		if (src[k] < 0)
			continue;
		if (copy_point(f[src[k]], out, k)) {
			fprintf(stderr,
				"kapitza merge: copying point %d from '%s' "
				"failed\n",
				k, a->in[src[k]]);
			goto out;
		}
	}
	if (H5Fclose(out) < 0) {
		out = -1;
		fprintf(stderr, "kapitza merge: closing '%s' failed\n", tmp);
		goto out;
	}
	out = -1;

	/* checkpoints of the unfinished points, then the archive itself */
	if (ckpt_dir_prepare(ckdir, 1, err)) {
		fprintf(stderr, "kapitza merge: %s\n", err);
		goto out;
	}
	for (int k = 0; k < np; k++) {
		char sdir[PATH_MAX], file[PATH_MAX];
		if (src[k] < 0 ||
		    sum[src[k]]->status[k].state == ARCHIVE_DONE)
			continue;
		nunfinished++;
		if (ckpt_dir_of(sdir, sizeof sdir, a->in[src[k]]) ||
		    ckpt_file_of(file, sizeof file, sdir,
				 sum[0]->points[k].hash) ||
		    access(file, F_OK))
			continue;
		if (ckpt_copy(file, ckdir, err)) {
			fprintf(stderr, "kapitza merge: %s\n", err);
			goto out;
		}
		nckpt++;
	}
	if (a->force) {
		if (rename(tmp, a->out)) {
			fprintf(stderr, "kapitza merge: cannot create '%s': %s\n",
				a->out, strerror(errno));
			goto out;
		}
	} else if (link(tmp, a->out) == 0) {
		unlink(tmp);
	} else {
		fprintf(stderr, "kapitza merge: cannot create '%s': %s\n",
			a->out,
			errno == EEXIST ? "it exists (use --force to replace "
					  "it)"
					: strerror(errno));
		goto out;
	}
	have_tmp = 0;
	printf("kapitza merge: %d shard%s of sweep '%s' (spec hash %s) -> "
	       "%s: %d points, %d done, %d unfinished (%d with a "
	       "checkpoint), %d in no shard given\n",
	       a->nin, a->nin == 1 ? "" : "s", sum[0]->sweep,
	       sum[0]->spec_hash, a->out, np, ndone, nunfinished, nckpt,
	       nother);
	if (nother)
		printf("kapitza merge: %d point%s belong to shards not given "
		       "(missing shard files?); they are pending in %s\n",
		       nother, nother == 1 ? "" : "s", a->out);
	status = 0;
out:
	if (out >= 0)
		H5Fclose(out);
	if (have_tmp)
		unlink(tmp);
	archive_destroy(&ar, NULL);
	if (f)
		for (int i = 0; i < a->nin; i++)
			if (f[i] >= 0)
				H5Fclose(f[i]);
	if (sum)
		for (int i = 0; i < a->nin; i++)
			archive_summary_destroy(&sum[i]);
	free(sum);
	free(f);
	free(src);
	free(merged_from);
	spec_destroy(&s);
	ckpt_lock_destroy(&lock);
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
	MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
	free(args.in);
	MPI_Finalize();
	return status;
}
