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
 * Checkpoints go to ARCHIVE.h5.ckpt/ (checkpoint.h), every
 * --checkpoint-every minutes and on a stop signal; rank 0 holds the
 * directory's lock for the whole run, so a resubmission cannot start on the
 * archive while this run still works on it.  The thermal tables of the
 * spec's `thermal:` section are points of the sweep (spec.h), farmed,
 * archived, sharded and resubmitted like the others.  --shard I/N runs one
 * of N disjoint parts of the sweep (farm_shard_assign) into a shard file of
 * the same layout; `kapitza merge` gathers the shards.
 *
 * Exit status (also of `kapitza resubmit`, resubmit.c):
 *   0  every point (of the shard) done;
 *   1  some point failed or could not run, or the run itself failed;
 *   2  bad command line, spec or output path (nothing was written);
 *   3  stopped by a signal (SIGTERM, SIGUSR1, ...): the running points were
 *      checkpointed and marked interrupted; `kapitza resubmit` continues. */
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
#include "cli.h"
#include "checkpoint.h"
#include "cmd.h"
#include "eu.h"
#include "farm.h"
#include "spec.h"

typedef struct {
	const char *spec_path;
	const char *out_path;
	int threads;
	int dry_run, force, help, quiet, dedicated;
	int fault_point; /* KAPITZA_FAULT_POINT, -1 = none */
	double progress_s;
	double ckpt_every_min; /* --checkpoint-every; 0: only on signals */
	int shard_i, shard_n;  /* --shard I/N; 0, 1: the whole sweep */
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
		"      --checkpoint-every MIN  checkpoint each running point "
		"every MIN minutes\n"
		"                          (default 30; 0: only on SIGTERM/"
		"SIGUSR1) into ARCHIVE.h5.ckpt/\n"
		"      --shard I/N         run only shard I (0 <= I < N) of N "
		"disjoint, cost-balanced\n"
		"                          parts of the sweep (job arrays; "
		"`kapitza merge` joins them)\n"
		"Exit status: 0 all points done, 1 some point not done, 2 "
		"nothing was run,\n"
		"3 stopped by SIGTERM/SIGUSR1/SIGINT (checkpointed; continue "
		"with kapitza resubmit).\n"
		"Test switch: KAPITZA_FAULT_POINT=ID makes point ID fail after "
		"its first row.\n");
}

static int parse_args(int argc, char **argv, run_args_t *a, char *err)
{
	int have_threads = 0;
	memset(a, 0, sizeof *a);
	a->progress_s = 5;
	a->ckpt_every_min = 30;
	a->shard_i = 0;
	a->shard_n = 1;
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
			if (cli_parse_int(val, &a->threads) || a->threads < 1) {
				snprintf(err, EU_ERRLEN,
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
				snprintf(err, EU_ERRLEN,
					 "--progress needs seconds >= 0, not "
					 "'%s'",
					 val);
				return -1;
			}
			i++;
		} else if (!strcmp(s, "--checkpoint-every")) {
			char *end;
			if (!val)
				goto missing;
			a->ckpt_every_min = strtod(val, &end);
			if (end == val || *end || !(a->ckpt_every_min >= 0) ||
			    !isfinite(a->ckpt_every_min)) {
				snprintf(err, EU_ERRLEN,
					 "--checkpoint-every needs minutes >= "
					 "0, not '%s'",
					 val);
				return -1;
			}
			i++;
		} else if (!strcmp(s, "--shard")) {
			int si = -1, sn = -1, used = 0;
			if (!val)
				goto missing;
			if (sscanf(val, "%d/%d%n", &si, &sn, &used) != 2 ||
			    val[used] || sn < 1 || si < 0 || si >= sn) {
				snprintf(err, EU_ERRLEN,
					 "--shard needs I/N with 0 <= I < N, "
					 "not '%s'",
					 val);
				return -1;
			}
			a->shard_i = si;
			a->shard_n = sn;
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
			snprintf(err, EU_ERRLEN, "unknown option '%s'", s);
			return -1;
		} else if (!a->spec_path) {
			a->spec_path = s;
		} else {
			snprintf(err, EU_ERRLEN,
				 "one spec file only ('%s' and '%s')",
				 a->spec_path, s);
			return -1;
		}
		continue;
missing:
		snprintf(err, EU_ERRLEN, "%s needs a value", s);
		return -1;
	}
	if (a->help)
		return 0;
	if (!a->spec_path) {
		snprintf(err, EU_ERRLEN, "no spec file given");
		return -1;
	}
	if (!a->out_path && !a->dry_run) {
		snprintf(err, EU_ERRLEN,
			 "no archive given (-o ARCHIVE.h5)");
		return -1;
	}
	if (!have_threads && cli_default_threads(&a->threads, err))
		return -1;
	a->fault_point = -1;
	const char *fp = getenv("KAPITZA_FAULT_POINT");
	if (fp && *fp && (cli_parse_int(fp, &a->fault_point) || a->fault_point < 0)) {
		snprintf(err, EU_ERRLEN,
			 "KAPITZA_FAULT_POINT='%s' is not a point id", fp);
		return -1;
	}
	return 0;
}

/* Rank 0 reads, everyone parses the same text.  Collective. */
static int load_spec(MPI_Comm c, int rank, const char *path, spec_t **s,
		     char *err)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	long len = 0;
	int rc;
	*s = NULL;
	if (rank == 0)
		len = eu_read_file(path, "spec", &buf, &n, err) ? -1 : (long)n;
	char *text = (char *)buf;
	MPI_Bcast(&len, 1, MPI_LONG, 0, c);
	if (len < 0) {
		free(text);
		return -1;
	}
	rc = farm_spec_share(c, path, text, s, err);
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
		snprintf(err, EU_ERRLEN, "empty archive path");
		return -1;
	}
	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			snprintf(err, EU_ERRLEN,
				 "cannot write archive '%s': it is a "
				 "directory",
				 path);
			return -1;
		}
		if (!force) {
			snprintf(err, EU_ERRLEN,
				 "archive '%s' exists; refusing to overwrite "
				 "it (use --force to replace it)",
				 path);
			return -1;
		}
		fd = open(path, O_WRONLY);
		if (fd < 0) {
			snprintf(err, EU_ERRLEN,
				 "cannot write archive '%s': %s", path,
				 strerror(errno));
			return -1;
		}
		close(fd);
	} else {
		if (errno != ENOENT) {
			snprintf(err, EU_ERRLEN,
				 "cannot write archive '%s': %s", path,
				 strerror(errno));
			return -1;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			snprintf(err, EU_ERRLEN,
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
			snprintf(err, EU_ERRLEN,
				 "the archive needs about %.3g MB, but only "
				 "%.3g MB are free in '%.400s'",
				 need / 1e6, avail / 1e6, dir);
			return -1;
		}
	}
	return 0;
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
	char m[32], b[32], tables[64] = "";

	if (s->ntables)
		snprintf(tables, sizeof tables, " (%d of them thermal table%s)",
			 s->ntables, s->ntables == 1 ? "" : "s");
	printf("sweep '%s' (spec hash %s): %d points%s, %d rank%s x %d "
	       "thread%s\n",
	       s->name ? s->name : "", s->hash_hex, s->npoints, tables, size,
	       size == 1 ? "" : "s", threads, threads == 1 ? "" : "s");
	printf("%5s  %-16s %5s %-13s %9s %9s %5s %6s %7s %5s %11s %10s "
	       "%10s\n",
	       "id", "hash", "L", "state", "delta_l", "delta_r", "chi", "dt",
	       "t_max", "order", "cost", "memory", "archive");
	for (int k = 0; k < s->npoints; k++) {
		const spec_point_t *p = &s->points[k];
		double c = spec_point_cost(p), mm = spec_point_memory_bytes(p),
		       bb = spec_point_archive_bytes(p);
		char tm[32];
		cost += c;
		mem = fmax(mem, mm);
		bytes += bb;
		human_bytes(m, sizeof m, mm);
		human_bytes(b, sizeof b, bb);
		/* a thermal table: L is its N, dt its dtau, no t_max */
		snprintf(tm, sizeof tm, p->state == SPEC_STATE_THERMAL ? "-"
								       : "%g",
			 p->t_max);
		printf("%5d  %-16s %5d %-13s %9.5f %9.5f %5d %6g %7s %5d "
		       "%11.4g %10s %10s\n",
		       p->id, p->hash_hex, p->L, spec_state_name(p->state),
		       p->delta_left, p->delta_right, p->chi_max, p->dt, tm,
		       p->order, c, m, b);
	}
	human_bytes(m, sizeof m, mem);
	human_bytes(b, sizeof b, bytes);
	printf("total: %d points%s, cost %.4g (arbitrary units, ~ L chi^3 "
	       "steps), peak memory per rank ~%s, archive ~%s\n",
	       s->npoints, tables, cost, m, b);
	/* post-stage (issue 6): the calibrated estimate, engine/POSTSTAGE.md */
	double ch = 0;
	for (int k = 0; k < s->npoints - s->ntables; k++)
		ch += spec_point_core_hours(&s->points[k]);
	printf("estimated core-hours: %.3g for the points (upper end: bonds "
	       "at chi_max once reached)%s",
	       ch, s->ntables ? "" : "\n");
	if (s->ntables)
		printf(", %.3g for the thermal tables\n",
		       spec_thermal_core_hours(s));
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
	archive_create_opts_t co;
	ckpt_lock_t *lock = NULL;
	int *shard_of = NULL;
	unsigned char *in_shard = NULL;
	archive_status_t *initial = NULL; /* the shard's /status at start */
	char err[EU_ERRLEN] = "", ckdir[4096] = "";
	int rank = 0, size = 1, rc, status = 2, inited = 0, provided;
	int nshard = 0;

	/* a stop signal from here on stops the run cleanly (exit 3) */
	farm_signals_catch();
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

	/* the shard's points (the same split on every rank) */
	archive_create_opts_default(&co);
	co.force = args.force;
	if (args.shard_n > 1) {
		shard_of = malloc((size_t)s->npoints * sizeof *shard_of);
		in_shard = malloc((size_t)s->npoints);
		initial = malloc((size_t)s->npoints * sizeof *initial);
		if (!shard_of || !in_shard || !initial) {
			if (rank == 0)
				fprintf(stderr, "kapitza run: out of memory\n");
			goto out;
		}
		farm_shard_assign(s, args.shard_n, shard_of);
		for (int k = 0; k < s->npoints; k++) {
			in_shard[k] = shard_of[k] == args.shard_i;
			nshard += in_shard[k];
			archive_status_init(&initial[k]);
			if (!in_shard[k])
				initial[k].state = ARCHIVE_OTHER_SHARD;
		}
		co.shard_index = args.shard_i;
		co.shard_count = args.shard_n;
		co.in_shard = in_shard;
	}

	if (args.dry_run) {
		if (rank == 0) {
			print_dry_run(s, size, args.threads);
			if (in_shard) {
				printf("shard %d/%d: %d point%s:", args.shard_i,
				       args.shard_n, nshard,
				       nshard == 1 ? "" : "s");
				for (int k = 0; k < s->npoints; k++)
					if (in_shard[k])
						printf(" %d", k);
				printf("\n");
			}
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

	/* rank 0 holds the archive's lock for the whole run */
	if (rank == 0) {
		rc = ckpt_dir_of(ckdir, sizeof ckdir, args.out_path);
		if (rc)
			snprintf(err, EU_ERRLEN, "archive path too long");
		else
			rc = ckpt_lock_create(&lock, ckdir, err);
	}
	MPI_Bcast(&rc, 1, MPI_INT, 0, c);
	MPI_Bcast(ckdir, sizeof ckdir, MPI_CHAR, 0, c);
	if (rc) {
		if (rank == 0)
			fprintf(stderr, "kapitza run: %s\n", err);
		goto out;
	}

	double t_create = MPI_Wtime();
	if (archive_create_ex(&a, c, args.out_path, s, &co, err)) {
		if (rank == 0)
			fprintf(stderr, "kapitza run: %s\n", err);
		goto out;
	}
	status = 1;
	/* a new archive: checkpoints of an archive it replaced are void */
	rc = 0;
	if (rank == 0)
		rc = ckpt_dir_prepare(ckdir, 1, err);
	MPI_Bcast(&rc, 1, MPI_INT, 0, c);
	if (rc) {
		if (rank == 0)
			fprintf(stderr, "kapitza run: %s\n", err);
		goto out;
	}

	farm_opts_default(&fo);
	fo.threads = args.threads;
	fo.progress_s = args.quiet ? -1 : args.progress_s;
	fo.dedicated = args.dedicated;
	fo.out = rank == 0 ? stdout : NULL;
	fo.fault_point = args.fault_point;
	fo.ckpt_dir = ckdir;
	fo.ckpt_every_s = args.ckpt_every_min * 60;
	fo.archive_path = args.out_path;
	fo.plan.todo = in_shard;
	fo.plan.initial = initial;
	t_create = MPI_Wtime() - t_create;
	if (rank == 0 && !args.quiet) {
		char sh[64] = "", tb[48] = "";
		if (in_shard)
			snprintf(sh, sizeof sh, " (shard %d/%d: %d of them)",
				 args.shard_i, args.shard_n, nshard);
		if (s->ntables)
			snprintf(tb, sizeof tb, " (%d thermal table%s)",
				 s->ntables, s->ntables == 1 ? "" : "s");
		printf("kapitza run: sweep '%s', %d points%s%s on %d rank%s x "
		       "%d thread%s -> %s (created in %.2f s)\n",
		       s->name ? s->name : "", s->npoints, tb, sh, size,
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
		char sh[32] = "";
		if (sum.counts[ARCHIVE_OTHER_SHARD])
			snprintf(sh, sizeof sh, ", %d other-shard",
				 sum.counts[ARCHIVE_OTHER_SHARD]);
		printf("kapitza run: %d points: %d done, %d failed, %d "
		       "interrupted, %d pending%s; %.2f s%s -> %s\n",
		       sum.npoints, sum.counts[ARCHIVE_DONE],
		       sum.counts[ARCHIVE_FAILED],
		       sum.counts[ARCHIVE_INTERRUPTED],
		       sum.counts[ARCHIVE_PENDING], sh, sum.elapsed_s,
		       sum.interrupted ? " (stopped by a signal; continue with "
					 "kapitza resubmit)"
				       : "",
		       args.out_path);
		fflush(stdout);
	}
	if (sum.interrupted && !rc)
		status = 3;
	else
		status = !rc && sum.counts[ARCHIVE_DONE] +
						sum.counts[ARCHIVE_OTHER_SHARD] ==
					sum.npoints
				 ? 0
				 : 1;
out:
	archive_destroy(&a, NULL);
	ckpt_lock_destroy(&lock);
	spec_destroy(&s);
	free(shard_of);
	free(in_shard);
	free(initial);
	MPI_Finalize();
	return status;
}
