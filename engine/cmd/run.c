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
 * The exit status is the session's (session.h): 0 every point (of the
 * shard) done, 1 some point not done, 2 bad command line, spec or output
 * path (nothing was written), 3 stopped by a signal. */
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

#include "agree.h"
#include "archive.h"
#include "checkpoint.h"
#include "cmd.h"
#include "eu.h"
#include "farm.h"
#include "session.h"
#include "spec.h"

typedef struct {
	const char *spec_path;
	const char *out_path;
	int force;
	int shard_i, shard_n;  /* --shard I/N; 0, 1: the whole sweep */
	session_opts_t so;     /* threads, dry run, progress, checkpoints */
} run_args_t;

/* The shard's points (the same split on every rank); all NULL without
 * --shard. */
typedef struct {
	int *shard_of;
	unsigned char *in_shard;
	archive_status_t *initial; /* the shard's /status at start */
	int n;                     /* points in the shard */
} shard_t;

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
		"      --team-size R       points of >= --team-min-core-hours "
		"run on teams of R\n"
		"                          ranks (bond-parallel TEBD; default 1: "
		"every point alone)\n"
		"      --team-min-core-hours X  the points' modelled core-hours "
		"(--dry-run) from\n"
		"                          which they run on teams (default 0: "
		"every time evolution)\n"
		"      --team-scalapack N  on a team, charge sectors of min(rows, "
		"cols) >= N are\n"
		"                          decomposed by ScaLAPACK over the team "
		"(equal to rounding,\n"
		"                          not bitwise; default 256, the measured "
		"crossover of\n"
		"                          bench --scalapack; 0: never)\n"
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
	memset(a, 0, sizeof *a);
	session_opts_default(&a->so);
	a->so.progress_unit = "seconds";
	a->so.ckpt_unit = "minutes";
	a->so.progress_finite = 0;
	a->shard_i = 0;
	a->shard_n = 1;
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		const int shared = session_opt(&a->so, argc, argv, &i, err);
		if (shared < 0)
			return -1;
		if (shared)
			continue;
		if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
			if (!val)
				return eu_err(err, "%s needs a value", s);
			a->out_path = val;
			i++;
		} else if (!strcmp(s, "--shard")) {
			int si = -1, sn = -1, used = 0;
			if (!val)
				return eu_err(err, "%s needs a value", s);
			if (sscanf(val, "%d/%d%n", &si, &sn, &used) != 2 ||
			    val[used] || sn < 1 || si < 0 || si >= sn)
				return eu_err(err,
					      "--shard needs I/N with 0 <= I < "
					      "N, not '%s'",
					      val);
			a->shard_i = si;
			a->shard_n = sn;
			i++;
		} else if (!strcmp(s, "-f") || !strcmp(s, "--force")) {
			a->force = 1;
		} else if (s[0] == '-' && s[1]) {
			return eu_err(err, "unknown option '%s'", s);
		} else if (!a->spec_path) {
			a->spec_path = s;
		} else {
			return eu_err(err, "one spec file only ('%s' and '%s')",
				      a->spec_path, s);
		}
	}
	if (a->so.help)
		return 0;
	if (!a->spec_path)
		return eu_err(err, "no spec file given");
	if (!a->out_path && !a->so.dry_run)
		return eu_err(err, "no archive given (-o ARCHIVE.h5)");
	return session_opts_finish(&a->so, err);
}

/* Rank 0 reads, everyone parses the same text.  Collective. */
static int load_spec(MPI_Comm c, int rank, const char *path, spec_t **s,
		     char *err)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	int rc = 0;
	*s = NULL;
	if (rank == 0)
		rc = eu_read_file(path, "spec", &buf, &n, err) ? -1 : 0;
	if (agree_rank0(c, rc, NULL, NULL)) {
		free(buf);
		return -1;
	}
	rc = farm_spec_share(c, path, (const char *)buf, s, err);
	free(buf);
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

/* "cannot write archive PATH: strerror(errno)" */
static int cannot_write(const char *path, char *err)
{
	return eu_err(err, "cannot write archive '%s': %s", path,
		      strerror(errno));
}

/* Rank 0: can the archive be written?  Checks only; creates nothing that
 * outlives the call (a probe file in the directory is removed). */
static int check_output(const char *path, int force, double need, char *err)
{
	struct stat sb;
	struct statvfs vb;
	char dir[PATH_MAX];
	int fd;

	if (!*path)
		return eu_err(err, "empty archive path");
	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode))
			return eu_err(err,
				      "cannot write archive '%s': it is a "
				      "directory",
				      path);
		if (!force)
			return eu_err(err,
				      "archive '%s' exists; refusing to "
				      "overwrite it (use --force to replace "
				      "it)",
				      path);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			return cannot_write(path, err);
		close(fd);
	} else {
		if (errno != ENOENT)
			return cannot_write(path, err);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return cannot_write(path, err);
		close(fd);
		unlink(path);
	}
	dir_of(path, dir, sizeof dir);
	if (statvfs(dir, &vb) == 0) {
		double avail = (double)vb.f_bavail * (double)vb.f_frsize;
		if (need > avail)
			return eu_err(err,
				      "the archive needs about %.3g MB, but "
				      "only %.3g MB are free in '%.400s'",
				      need / 1e6, avail / 1e6, dir);
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
	/* the calibrated estimate, engine/POSTSTAGE.md */
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

/* --dry-run with --team-size R > 1: which points run on teams here. */
static void print_dry_teams(const spec_t *s, int size,
			    const session_opts_t *so)
{
	farm_opts_t fo;
	int n = 0;
	if (so->team_size < 2)
		return;
	farm_opts_default(&fo);
	fo.team_size = so->team_size;
	fo.team_min_core_hours = so->team_min_core_hours;
	fo.dedicated = so->dedicated;
	printf("teams (%d ranks, points of >= %g core-hours):", so->team_size,
	       so->team_min_core_hours);
	for (int k = 0; k < s->npoints; k++) {
		int t = farm_point_team(&fo, &s->points[k], size);
		if (t > 1) {
			printf(" %d (%d ranks)", k, t);
			n++;
		}
	}
	if (n)
		printf("\n");
	else
		printf(" none on %d rank%s\n", size, size == 1 ? "" : "s");
}

/* The shard's points and its archive options (the same split on every
 * rank, from the spec alone). */
static int shard_plan(const spec_t *s, const run_args_t *args, shard_t *sh,
		      archive_create_opts_t *co)
{
	sh->shard_of = malloc((size_t)s->npoints * sizeof *sh->shard_of);
	sh->in_shard = malloc((size_t)s->npoints);
	sh->initial = malloc((size_t)s->npoints * sizeof *sh->initial);
	if (!sh->shard_of || !sh->in_shard || !sh->initial)
		return -1;
	farm_shard_assign(s, args->shard_n, sh->shard_of);
	for (int k = 0; k < s->npoints; k++) {
		sh->in_shard[k] = sh->shard_of[k] == args->shard_i;
		sh->n += sh->in_shard[k];
		archive_status_init(&sh->initial[k]);
		if (!sh->in_shard[k])
			sh->initial[k].state = ARCHIVE_OTHER_SHARD;
	}
	co->shard_index = args->shard_i;
	co->shard_count = args->shard_n;
	co->in_shard = sh->in_shard;
	return 0;
}

/* --dry-run (rank 0): the table, the shard's points, whether the archive
 * can be written (rc, err: check_output's verdict). */
static void dry_run(const session_t *S, const spec_t *s,
		    const run_args_t *args, const shard_t *sh, int rc,
		    const char *err)
{
	if (S->rank != 0)
		return;
	print_dry_run(s, S->size, args->so.threads);
	print_dry_teams(s, S->size, &args->so);
	if (sh->in_shard) {
		printf("shard %d/%d: %d point%s:", args->shard_i, args->shard_n,
		       sh->n, sh->n == 1 ? "" : "s");
		for (int k = 0; k < s->npoints; k++)
			if (sh->in_shard[k])
				printf(" %d", k);
		printf("\n");
	}
	if (rc)
		fprintf(stderr, "kapitza run: %s\n", err);
	else if (args->out_path)
		printf("archive '%s' can be written\n", args->out_path);
}

/* Rank 0 takes the archive's lock (held for the whole run, so that a
 * resubmission cannot start on the archive while this run works on it),
 * the archive is created collectively, and its checkpoint directory is
 * emptied (checkpoints of an archive it replaced are void).  *created: the
 * archive exists; *t_create: when its creation started. */
static int open_archive(const session_t *S, const run_args_t *args,
			const spec_t *s, const archive_create_opts_t *co,
			archive_t **a, ckpt_lock_t **lock, char *ckdir,
			size_t n, int *created, double *t_create, char *err)
{
	int rc = 0;
	if (S->rank == 0) {
		rc = ckpt_dir_of(ckdir, n, args->out_path);
		if (rc)
			eu_err(err, "archive path too long");
		else
			rc = ckpt_lock_create(lock, ckdir, err);
	}
	agree_bytes(S->comm, ckdir, (int)n);
	if (session_agree(S, rc, err))
		return -1;
	*t_create = MPI_Wtime();
	if (archive_create_ex(a, S->comm, args->out_path, s, co, err)) {
		session_error(S, err);
		return -1;
	}
	*created = 1;
	rc = S->rank == 0 ? ckpt_dir_prepare(ckdir, 1, err) : 0;
	return session_agree(S, rc, err);
}

static void print_banner(const session_t *S, const run_args_t *args,
			 const spec_t *s, const shard_t *sh, double t_create)
{
	char shs[64] = "", tb[48] = "";
	const int th = args->so.threads;
	if (S->rank != 0 || args->so.quiet)
		return;
	if (sh->in_shard)
		snprintf(shs, sizeof shs, " (shard %d/%d: %d of them)",
			 args->shard_i, args->shard_n, sh->n);
	if (s->ntables)
		snprintf(tb, sizeof tb, " (%d thermal table%s)", s->ntables,
			 s->ntables == 1 ? "" : "s");
	char tn[96];
	session_team_note(tn, sizeof tn, &args->so);
	printf("kapitza run: sweep '%s', %d points%s%s on %d rank%s x %d "
	       "thread%s%s -> %s (created in %.2f s)\n",
	       s->name ? s->name : "", s->npoints, tb, shs, S->size,
	       S->size == 1 ? "" : "s", th, th == 1 ? "" : "s", tn,
	       args->out_path, t_create);
	fflush(stdout);
}

static void print_summary(const session_t *S, const farm_summary_t *sum,
			  const char *out_path)
{
	char sh[32] = "", counts[160];
	if (S->rank != 0)
		return;
	if (sum->counts[ARCHIVE_OTHER_SHARD])
		snprintf(sh, sizeof sh, ", %d other-shard",
			 sum->counts[ARCHIVE_OTHER_SHARD]);
	session_counts(counts, sizeof counts, sum);
	printf("kapitza run: %s%s; %.2f s%s -> %s\n", counts, sh,
	       sum->elapsed_s,
	       sum->interrupted ? " (stopped by a signal; continue with "
				  "kapitza resubmit)"
				: "",
	       out_path);
	fflush(stdout);
}

int cmd_run(int argc, char **argv)
{
	session_t S;
	run_args_t args;
	spec_t *s = NULL;
	archive_t *a = NULL;
	farm_opts_t fo;
	farm_summary_t sum;
	archive_create_opts_t co;
	ckpt_lock_t *lock = NULL;
	shard_t sh = {0};
	char err[EU_ERRLEN] = "", ckdir[4096] = "";
	int rc, status = 2, created = 0;

	session_begin(&S, "kapitza run", 1, &argc, &argv);
	/* every rank sees the same argv and environment */
	rc = parse_args(argc, argv, &args, err);
	if (rc || args.so.help) {
		if (rc)
			session_error(&S, err);
		if (S.rank == 0)
			usage(rc ? stderr : stdout);
		status = rc ? 2 : 0;
		goto out;
	}
	if (load_spec(S.comm, S.rank, args.spec_path, &s, err)) {
		session_error(&S, err);
		goto out;
	}
	rc = 0;
	if (S.rank == 0 && args.out_path)
		rc = check_output(args.out_path, args.force,
				  archive_estimate(s), err);
	rc = agree_rank0(S.comm, rc, NULL, err);
	archive_create_opts_default(&co);
	co.force = args.force;
	if (args.shard_n > 1 && shard_plan(s, &args, &sh, &co)) {
		session_error(&S, "out of memory");
		goto out;
	}
	if (args.so.dry_run) {
		dry_run(&S, s, &args, &sh, rc, err);
		status = rc ? 2 : 0;
		goto out;
	}
	if (rc) {
		session_error(&S, err);
		goto out;
	}
	double t_create = 0;
	rc = open_archive(&S, &args, s, &co, &a, &lock, ckdir, sizeof ckdir,
			  &created, &t_create, err);
	if (created)
		status = 1;
	if (rc)
		goto out;
	session_farm_opts(&S, &args.so, ckdir, args.out_path, &fo);
	fo.plan.todo = sh.in_shard;
	fo.plan.initial = sh.initial;
	print_banner(&S, &args, s, &sh, MPI_Wtime() - t_create);
	rc = session_farm(&S, &a, s, &fo, &sum, err);
	print_summary(&S, &sum, args.out_path);
	status = session_status(sum.interrupted && !rc,
				!rc && session_all_done(&sum));
out:
	archive_destroy(&a, NULL);
	ckpt_lock_destroy(&lock);
	spec_destroy(&s);
	free(sh.shard_of);
	free(sh.in_shard);
	free(sh.initial);
	return session_end(&S, status);
}
