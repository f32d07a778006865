/* run: `kapitza run SPEC.yaml -o ARCHIVE.h5` -- the sweep, under mpirun or
 * srun with any number of ranks (1 included).
 *
 * Everything that can be wrong with the request is found before any
 * computation and before the archive exists: the command line, the spec
 * (rank 0 reads the file once and broadcasts the text, every rank parses the
 * same bytes), the output path (exists without --force, directory missing or
 * not writable, not enough disk for the estimated archive).  Rank 0 decides,
 * the ranks agree, rank 0 prints.  Then the archive is created collectively
 * (archive.c), the farm runs the points (farm.c) and the archive is closed.
 *
 * Exit status: 0 every point done; 1 some point failed, was interrupted or
 * could not run, or the run itself failed; 2 bad command line, spec or
 * output path (nothing was written). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "archive.h"
#include "cmd.h"
#include "farm.h"
#include "spec.h"

typedef struct {
	const char *spec_path;
	const char *out_path;
	int threads;
	int dry_run, force, help, quiet, dedicated;
	int fault_point; /* KAPITZA_FAULT_POINT, -1 = none */
	double progress_s;
} run_args_t;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mpirun [-n RANKS] kapitza run SPEC.yaml -o ARCHIVE.h5 "
		"[options]\n"
		"  -o, --output FILE       the archive to create (HDF5)\n"
		"  -t, --threads T         kernel threads per rank (default: "
		"SLURM_CPUS_PER_TASK,\n"
		"                          else OMP_NUM_THREADS, else 1)\n"
		"  -n, --dry-run           list the points with estimated "
		"cost, memory and\n"
		"                          archive size; write nothing\n"
		"  -f, --force             replace an existing archive\n"
		"      --progress S        progress report every S seconds "
		"(default 5)\n"
		"  -q, --quiet             no progress reports\n"
		"      --dedicated-scheduler  rank 0 only schedules (large "
		"runs); by default it\n"
		"                          also runs points between its "
		"scheduling duties\n"
		"Exit status: 0 all points done, 1 some point not done, 2 "
		"nothing was run.\n"
		"Test switch: KAPITZA_FAULT_POINT=ID makes point ID fail after "
		"its first row.\n");
}

static int parse_int(const char *s, int *v)
{
	char *end;
	errno = 0;
	long x = strtol(s, &end, 10);
	if (errno || end == s || *end || x < INT_MIN || x > INT_MAX)
		return -1;
	*v = (int)x;
	return 0;
}

/* Threads: the flag, else SLURM_CPUS_PER_TASK, else OMP_NUM_THREADS. */
static int default_threads(int *t, char *err)
{
	static const char *vars[] = {"SLURM_CPUS_PER_TASK", "OMP_NUM_THREADS"};
	*t = 1;
	for (int k = 0; k < 2; k++) {
		const char *v = getenv(vars[k]);
		if (!v || !*v)
			continue;
		/* OMP_NUM_THREADS may be a list for nested levels: the
		 * first entry is ours */
		char buf[32];
		snprintf(buf, sizeof buf, "%s", v);
		buf[strcspn(buf, ",")] = 0;
		if (parse_int(buf, t) || *t < 1) {
			snprintf(err, ARCHIVE_ERRLEN,
				 "%s='%s' is not a positive thread count",
				 vars[k], v);
			return -1;
		}
		return 0;
	}
	return 0;
}

static int parse_args(int argc, char **argv, run_args_t *a, char *err)
{
	int have_threads = 0;
	memset(a, 0, sizeof *a);
	a->progress_s = 5;
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			a->help = 1;
		} else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
			if (!val)
				goto missing;
			a->out_path = val;
			i++;
		} else if (!strcmp(s, "-t") || !strcmp(s, "--threads")) {
			if (!val)
				goto missing;
			if (parse_int(val, &a->threads) || a->threads < 1) {
				snprintf(err, ARCHIVE_ERRLEN,
					 "--threads needs a positive integer, "
					 "not '%s'",
					 val);
				return -1;
			}
			have_threads = 1;
			i++;
		} else if (!strcmp(s, "--progress")) {
			char *end;
			if (!val)
				goto missing;
			a->progress_s = strtod(val, &end);
			if (end == val || *end || !(a->progress_s >= 0)) {
				snprintf(err, ARCHIVE_ERRLEN,
					 "--progress needs seconds >= 0, not "
					 "'%s'",
					 val);
				return -1;
			}
			i++;
		} else if (!strcmp(s, "-n") || !strcmp(s, "--dry-run")) {
			a->dry_run = 1;
		} else if (!strcmp(s, "-f") || !strcmp(s, "--force")) {
			a->force = 1;
		} else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
			a->quiet = 1;
		} else if (!strcmp(s, "--dedicated-scheduler")) {
			a->dedicated = 1;
		} else if (s[0] == '-' && s[1]) {
			snprintf(err, ARCHIVE_ERRLEN, "unknown option '%s'", s);
			return -1;
		} else if (!a->spec_path) {
			a->spec_path = s;
		} else {
			snprintf(err, ARCHIVE_ERRLEN,
				 "one spec file only ('%s' and '%s')",
				 a->spec_path, s);
			return -1;
		}
		continue;
missing:
		snprintf(err, ARCHIVE_ERRLEN, "%s needs a value", s);
		return -1;
	}
	if (a->help)
		return 0;
	if (!a->spec_path) {
		snprintf(err, ARCHIVE_ERRLEN, "no spec file given");
		return -1;
	}
	if (!a->out_path && !a->dry_run) {
		snprintf(err, ARCHIVE_ERRLEN,
			 "no archive given (-o ARCHIVE.h5)");
		return -1;
	}
	if (!have_threads && default_threads(&a->threads, err))
		return -1;
	a->fault_point = -1;
	const char *fp = getenv("KAPITZA_FAULT_POINT");
	if (fp && *fp && (parse_int(fp, &a->fault_point) || a->fault_point < 0)) {
		snprintf(err, ARCHIVE_ERRLEN,
			 "KAPITZA_FAULT_POINT='%s' is not a point id", fp);
		return -1;
	}
	return 0;
}

static int read_file(const char *path, char **text, long *len, char *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n = -1;
	int rc = -1;
	*text = NULL;
	if (!f) {
		snprintf(err, ARCHIVE_ERRLEN, "cannot read spec '%s': %s", path,
			 strerror(errno));
		goto out;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		snprintf(err, ARCHIVE_ERRLEN, "cannot read spec '%s': %s", path,
			 strerror(errno));
		goto out;
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, ARCHIVE_ERRLEN, "cannot read spec '%s'", path);
		goto out;
	}
	buf[n] = 0;
	*text = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

/* Rank 0 reads, everyone parses the same text.  Collective. */
static int load_spec(MPI_Comm c, int rank, const char *path, spec_t **s,
		     char *err)
{
	char *text = NULL;
	long len = 0;
	int rc = 0;
	*s = NULL;
	if (rank == 0 && read_file(path, &text, &len, err))
		len = -1;
	MPI_Bcast(&len, 1, MPI_LONG, 0, c);
	if (len < 0) {
		rc = -1;
		goto out;
	}
	if (rank != 0) {
		text = malloc((size_t)len + 1);
		rc = text ? 0 : -1;
	}
	MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MIN, c);
	if (rc) {
		snprintf(err, ARCHIVE_ERRLEN, "out of memory reading the spec");
		goto out;
	}
	/* counts beyond INT_MAX are not a spec anyone writes by hand */
	if (len > INT_MAX - 1) {
		snprintf(err, ARCHIVE_ERRLEN, "spec '%s' is too large", path);
		rc = -1;
		goto out;
	}
	MPI_Bcast(text, (int)len + 1, MPI_CHAR, 0, c);
	{
		char serr[SPEC_ERRLEN] = "";
		rc = spec_parse(s, path, text, (size_t)len, serr) ? -1 : 0;
		if (rc) {
			snprintf(err, ARCHIVE_ERRLEN, "%s", serr);
			spec_destroy(s);
		}
	}
	MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MIN, c);
	if (rc && *s) {
		spec_destroy(s);
		snprintf(err, ARCHIVE_ERRLEN, "the spec did not parse on rank 0");
	}
	if (!rc && (*s)->npoints < 1) {
		snprintf(err, ARCHIVE_ERRLEN, "%s: the sweep has no points",
			 path);
		spec_destroy(s);
		rc = -1;
	}
out:
	free(text);
	return rc;
}

static double archive_estimate(const spec_t *s)
{
	double b = 0;
	for (int k = 0; k < s->npoints; k++)
		b += spec_point_archive_bytes(&s->points[k]);
	return b;
}

static void dir_of(const char *path, char *dir, size_t n)
{
	snprintf(dir, n, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, n, ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
}

/* Rank 0: can the archive be written?  Checks only; creates nothing that
 * outlives the call (a probe file in the directory is removed). */
static int check_output(const char *path, int force, double need, char *err)
{
	struct stat sb;
	struct statvfs vb;
	char dir[PATH_MAX];
	int fd;

	if (!*path) {
		snprintf(err, ARCHIVE_ERRLEN, "empty archive path");
		return -1;
	}
	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			snprintf(err, ARCHIVE_ERRLEN,
				 "cannot write archive '%s': it is a "
				 "directory",
				 path);
			return -1;
		}
		if (!force) {
			snprintf(err, ARCHIVE_ERRLEN,
				 "archive '%s' exists; refusing to overwrite "
				 "it (use --force to replace it)",
				 path);
			return -1;
		}
		fd = open(path, O_WRONLY);
		if (fd < 0) {
			snprintf(err, ARCHIVE_ERRLEN,
				 "cannot write archive '%s': %s", path,
				 strerror(errno));
			return -1;
		}
		close(fd);
	} else {
		if (errno != ENOENT) {
			snprintf(err, ARCHIVE_ERRLEN,
				 "cannot write archive '%s': %s", path,
				 strerror(errno));
			return -1;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			snprintf(err, ARCHIVE_ERRLEN,
				 "cannot write archive '%s': %s", path,
				 strerror(errno));
			return -1;
		}
		close(fd);
		unlink(path);
	}
	dir_of(path, dir, sizeof dir);
	if (statvfs(dir, &vb) == 0) {
		double avail = (double)vb.f_bavail * (double)vb.f_frsize;
		if (need > avail) {
			snprintf(err, ARCHIVE_ERRLEN,
				 "the archive needs about %.3g MB, but only "
				 "%.3g MB are free in '%.400s'",
				 need / 1e6, avail / 1e6, dir);
			return -1;
		}
	}
	return 0;
}

static const char *state_name(int st)
{
	return st == SPEC_STATE_GROUND ? "ground_state" : "domain_wall";
}

static void human_bytes(char *buf, size_t n, double b)
{
	const char *u[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	int k = 0;
	while (b >= 1000 && k < 5) {
		b /= 1000;
		k++;
	}
	snprintf(buf, n, k ? "%.1f %s" : "%.0f %s", b, u[k]);
}

static void print_dry_run(const spec_t *s, int size, int threads)
{
	double cost = 0, mem = 0, bytes = 0;
	char m[32], b[32];
	printf("sweep '%s' (spec hash %s): %d points, %d rank%s x %d "
	       "thread%s\n",
	       s->name ? s->name : "", s->hash_hex, s->npoints, size,
	       size == 1 ? "" : "s", threads, threads == 1 ? "" : "s");
	printf("%5s  %-16s %5s %-12s %9s %9s %5s %6s %7s %5s %11s %10s "
	       "%10s\n",
	       "id", "hash", "L", "state", "delta_l", "delta_r", "chi", "dt",
	       "t_max", "order", "cost", "memory", "archive");
	for (int k = 0; k < s->npoints; k++) {
		const spec_point_t *p = &s->points[k];
		double c = spec_point_cost(p), mm = spec_point_memory_bytes(p),
		       bb = spec_point_archive_bytes(p);
		cost += c;
		mem = fmax(mem, mm);
		bytes += bb;
		human_bytes(m, sizeof m, mm);
		human_bytes(b, sizeof b, bb);
		printf("%5d  %-16s %5d %-12s %9.5f %9.5f %5d %6g %7g %5d "
		       "%11.4g %10s %10s\n",
		       p->id, p->hash_hex, p->L, state_name(p->state),
		       p->delta_left, p->delta_right, p->chi_max, p->dt,
		       p->t_max, p->order, c, m, b);
	}
	human_bytes(m, sizeof m, mem);
	human_bytes(b, sizeof b, bytes);
	printf("total: %d points, cost %.4g (arbitrary units, ~ L chi^3 "
	       "steps), peak memory per rank ~%s, archive ~%s\n",
	       s->npoints, cost, m, b);
	fflush(stdout);
}

int cmd_run(int argc, char **argv)
{
	MPI_Comm c = MPI_COMM_WORLD;
	run_args_t args;
	spec_t *s = NULL;
	archive_t *a = NULL;
	farm_opts_t fo;
	farm_summary_t sum;
	char err[ARCHIVE_ERRLEN] = "";
	int rank = 0, size = 1, rc, status = 2, inited = 0, provided;

	MPI_Initialized(&inited);
	if (!inited)
		MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(c, &rank);
	MPI_Comm_size(c, &size);

	/* every rank sees the same argv and environment */
	rc = parse_args(argc, argv, &args, err);
	if (rc || args.help) {
		if (rank == 0) {
			if (rc)
				fprintf(stderr, "kapitza run: %s\n", err);
			usage(rc ? stderr : stdout);
		}
		status = rc ? 2 : 0;
		goto out;
	}

	if (load_spec(c, rank, args.spec_path, &s, err)) {
		if (rank == 0)
			fprintf(stderr, "kapitza run: %s\n", err);
		goto out;
	}

	rc = 0;
	if (rank == 0 && args.out_path)
		rc = check_output(args.out_path, args.force,
				  archive_estimate(s), err);
	MPI_Bcast(&rc, 1, MPI_INT, 0, c);

	if (args.dry_run) {
		if (rank == 0) {
			print_dry_run(s, size, args.threads);
			if (rc)
				fprintf(stderr, "kapitza run: %s\n", err);
			else if (args.out_path)
				printf("archive '%s' can be written\n",
				       args.out_path);
		}
		status = rc ? 2 : 0;
		goto out;
	}
	if (rc) {
		if (rank == 0)
			fprintf(stderr, "kapitza run: %s\n", err);
		goto out;
	}

	double t_create = MPI_Wtime();
	if (archive_create(&a, c, args.out_path, s, args.force, err)) {
		if (rank == 0)
			fprintf(stderr, "kapitza run: %s\n", err);
		goto out;
	}
	status = 1;

	farm_opts_default(&fo);
	fo.threads = args.threads;
	fo.progress_s = args.quiet ? -1 : args.progress_s;
	fo.dedicated = args.dedicated;
	fo.out = rank == 0 ? stdout : NULL;
	fo.fault_point = args.fault_point;
	t_create = MPI_Wtime() - t_create;
	if (rank == 0 && !args.quiet) {
		printf("kapitza run: sweep '%s', %d points on %d rank%s x %d "
		       "thread%s -> %s (created in %.2f s)\n",
		       s->name ? s->name : "", s->npoints, size,
		       size == 1 ? "" : "s", fo.threads,
		       fo.threads == 1 ? "" : "s", args.out_path, t_create);
		fflush(stdout);
	}
	rc = farm_run(c, a, s, &fo, &sum, err);
	if (rc && rank == 0)
		fprintf(stderr, "kapitza run: %s\n", err);
	if (archive_destroy(&a, err)) {
		rc = -1;
		if (rank == 0)
			fprintf(stderr, "kapitza run: %s\n", err);
	}
	if (rank == 0) {
		printf("kapitza run: %d points: %d done, %d failed, %d "
		       "interrupted, %d pending; %.2f s%s -> %s\n",
		       sum.npoints, sum.counts[ARCHIVE_DONE],
		       sum.counts[ARCHIVE_FAILED],
		       sum.counts[ARCHIVE_INTERRUPTED],
		       sum.counts[ARCHIVE_PENDING], sum.elapsed_s,
		       sum.interrupted ? " (stopped by a signal)" : "",
		       args.out_path);
		fflush(stdout);
	}
	status = !rc && sum.counts[ARCHIVE_DONE] == sum.npoints ? 0 : 1;
out:
	archive_destroy(&a, NULL);
	spec_destroy(&s);
	MPI_Finalize();
	return status;
}
