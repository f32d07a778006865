/* resubmit: `kapitza resubmit ARCHIVE.h5 [SHARD.h5 ...]` -- run exactly the
 * points of an archive (or of each archive of a shard set) that are not
 * done: failed, interrupted, pending, or running in a job that died (the
 * thermal tables of a `thermal:` section included: they are points too, and
 * run again whole).  Each resumes from its checkpoint
 * (ARCHIVE.h5.ckpt/<hash>.ckpt) when there is one, writing into the same
 * archive: rows up to the checkpoint stay, the
 * later ones are rewritten; the attempt number goes up and the attempt gets
 * its /history slot.  `--slurm [SBATCH OPTIONS]` instead submits a job
 * array, one task per archive that has unfinished points, each running this
 * command under mpirun.
 *
 * Everything is checked before anything is written (rank 0 decides, the
 * ranks agree): the archives open and are kapitza archives of one spec
 * (same spec hash, and the spec text still hashes to it), no other process
 * holds an archive's lock (a "running" point is only taken over when its
 * job is gone), and every checkpoint to be used reads back whole
 * (checksum), belongs to its point and spec, and has its rows in the
 * archive.  Any problem refuses the whole resubmission with a message,
 * leaving archives and checkpoints as they were.
 *
 * Exit status as `kapitza run` (run.c): 0 every point done (also when there
 * was nothing to do), 1 some point not done, 2 refused or bad command line
 * (nothing written), 3 stopped by a signal.  With --slurm: sbatch's. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive.h"
#include "cli.h"
#include "checkpoint.h"
#include "cmd.h"
#include "eu.h"
#include "farm.h"
#include "spec.h"

typedef struct {
	const char **archives;
	int narchives;
	int threads, have_threads;
	int dry_run, help, quiet, dedicated;
	double progress_s;
	double ckpt_every_min;
	int have_ckpt_every;
	int slurm;            /* --slurm given: sbatch_argv holds the rest */
	char **sbatch_argv;
	int sbatch_argc;
	int fault_point;
} rs_args_t;

/* Rank 0's plan for one archive. */
typedef struct {
	const char *path;
	char ckdir[4096];
	archive_summary_t *sum;
	spec_t *spec;             /* parsed from the archive's spec_text */
	unsigned char *todo;      /* [npoints] */
	double *resume_t;         /* [npoints] NaN: from t = 0 */
	int ntodo, nresume, ndone, nother;
	ckpt_lock_t *lock;
} rs_plan_t;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mpirun [-n RANKS] kapitza resubmit ARCHIVE.h5 "
		"[SHARD.h5 ...] [options]\n"
		"       kapitza resubmit ARCHIVE.h5 [SHARD.h5 ...] [options] "
		"--slurm [SBATCH OPTIONS]\n"
		"Runs the points that are not done (failed, interrupted, "
		"pending, or running in\n"
		"a job that died), each from its checkpoint when it has one, "
		"into the same archive.\n"
		"Several archives: a shard set (kapitza run --shard), "
		"resubmitted one after another.\n"
		"  -n, --dry-run           list what would run and from where; "
		"change nothing\n"
		"  -t, --threads T         kernel threads per rank (default: "
		"SLURM_CPUS_PER_TASK,\n"
		"                          else OMP_NUM_THREADS, else 1)\n"
		"      --checkpoint-every MIN  as for kapitza run (default 30)\n"
		"      --progress S        progress report every S seconds "
		"(default 5)\n"
		"  -q, --quiet             no progress reports\n"
		"      --dedicated-scheduler  rank 0 only schedules\n"
		"      --slurm [OPTS]      submit a SLURM job array instead (one "
		"task per archive with\n"
		"                          unfinished points); every argument "
		"after --slurm goes to\n"
		"                          sbatch (e.g. --time=2:00:00 "
		"--ntasks=4 --cpus-per-task=2)\n"
		"Exit status: 0 all points done (or nothing to do), 1 some "
		"point not done,\n"
		"2 refused (nothing written), 3 stopped by a signal; with "
		"--slurm, sbatch's.\n");
}

static int parse_args(int argc, char **argv, rs_args_t *a, char *err)
{
	memset(a, 0, sizeof *a);
	a->progress_s = 5;
	a->ckpt_every_min = 30;
	a->fault_point = -1;
	a->archives = calloc((size_t)argc + 1, sizeof *a->archives);
	if (!a->archives) {
		snprintf(err, EU_ERRLEN, "out of memory");
		return -1;
	}
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			a->help = 1;
		} else if (!strcmp(s, "--slurm")) {
			a->slurm = 1;
			a->sbatch_argv = argv + i + 1;
			a->sbatch_argc = argc - i - 1;
			break;
		} else if (!strcmp(s, "-n") || !strcmp(s, "--dry-run")) {
			a->dry_run = 1;
		} else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
			a->quiet = 1;
		} else if (!strcmp(s, "--dedicated-scheduler")) {
			a->dedicated = 1;
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
			a->have_threads = 1;
			i++;
		} else if (!strcmp(s, "--progress") ||
			   !strcmp(s, "--checkpoint-every")) {
			char *end;
			double x;
			if (!val)
				goto missing;
			x = strtod(val, &end);
			if (end == val || *end || !(x >= 0) || !isfinite(x)) {
				snprintf(err, EU_ERRLEN,
					 "%s needs a number >= 0, not '%s'", s,
					 val);
				return -1;
			}
			if (s[2] == 'p') {
				a->progress_s = x;
			} else {
				a->ckpt_every_min = x;
				a->have_ckpt_every = 1;
			}
			i++;
		} else if (s[0] == '-' && s[1]) {
			snprintf(err, EU_ERRLEN, "unknown option '%s'", s);
			return -1;
		} else {
			a->archives[a->narchives++] = s;
		}
		continue;
missing:
		snprintf(err, EU_ERRLEN, "%s needs a value", s);
		return -1;
	}
	if (a->help)
		return 0;
	if (a->narchives < 1) {
		snprintf(err, EU_ERRLEN, "no archive given");
		return -1;
	}
	if (!a->have_threads && cli_default_threads(&a->threads, err))
		return -1;
	const char *fp = getenv("KAPITZA_FAULT_POINT");
	if (fp && *fp && (cli_parse_int(fp, &a->fault_point) || a->fault_point < 0)) {
		snprintf(err, EU_ERRLEN,
			 "KAPITZA_FAULT_POINT='%s' is not a point id", fp);
		return -1;
	}
	return 0;
}

static void plan_destroy(rs_plan_t *p)
{
	archive_summary_destroy(&p->sum);
	spec_destroy(&p->spec);
	free(p->todo);
	free(p->resume_t);
	ckpt_lock_destroy(&p->lock);
	memset(p, 0, sizeof *p);
}

/* Serial (rank 0): reads archive `path` and decides what runs and from
 * where; refuses (returns -1 with err) on anything that does not fit.
 * lock: also take the archive's lock (kept in the plan). */
static int plan_archive(rs_plan_t *p, const char *path, int lock, char *err)
{
	char serr[EU_ERRLEN] = "", hex[17];
	int rc = -1;

	memset(p, 0, sizeof *p);
	p->path = path;
	if (archive_summary_read(&p->sum, path, err))
		goto out;
	if (ckpt_dir_of(p->ckdir, sizeof p->ckdir, path)) {
		snprintf(err, EU_ERRLEN, "'%s': path too long", path);
		goto out;
	}
	snprintf(hex, sizeof hex, "%016llx",
		 (unsigned long long)eu_fnv1a(EU_FNV_INIT,
						p->sum->spec_text,
						strlen(p->sum->spec_text)));
	if (strcmp(hex, p->sum->spec_hash)) {
		snprintf(err, EU_ERRLEN,
			 "'%s': the spec text hashes to %s, but the archive "
			 "says spec hash %s: the archive is damaged",
			 path, hex, p->sum->spec_hash);
		goto out;
	}
	if (spec_parse(&p->spec, path, p->sum->spec_text,
		       strlen(p->sum->spec_text), serr)) {
		snprintf(err, EU_ERRLEN,
			 "'%s': its spec does not parse with this kapitza: %s",
			 path, serr);
		goto out;
	}
	if (p->spec->npoints != p->sum->npoints) {
		/* its thermal: section was not yet farmed by that kapitza */
		const int old = p->spec->ntables &&
				p->sum->npoints ==
					p->spec->npoints - p->spec->ntables;
		snprintf(err, EU_ERRLEN,
			 "'%s': %d points in the archive, %d in its spec as "
			 "this kapitza reads it%s",
			 path, p->sum->npoints, p->spec->npoints,
			 old ? " (its thermal: section now adds the thermal "
			       "tables as points: the archive was written by "
			       "a kapitza that did not farm them; resubmit it "
			       "with that version, or run the sweep into a "
			       "new archive)"
			     : "");
		goto out;
	}
	for (int k = 0; k < p->sum->npoints; k++)
		if (strcmp(p->sum->points[k].hash,
			   p->spec->points[k].hash_hex)) {
			snprintf(err, EU_ERRLEN,
				 "'%s': point %d has hash %s in the archive "
				 "but %s in its spec as this kapitza reads it",
				 path, k, p->sum->points[k].hash,
				 p->spec->points[k].hash_hex);
			goto out;
		}
	if (archive_summary_rows(p->sum, path, err))
		goto out;
	p->todo = calloc((size_t)p->sum->npoints + 1, 1);
	p->resume_t = malloc(((size_t)p->sum->npoints + 1) *
			     sizeof *p->resume_t);
	if (!p->todo || !p->resume_t) {
		snprintf(err, EU_ERRLEN, "out of memory");
		goto out;
	}
	/* the lock before the checkpoints: a live run may still write them */
	if (lock && ckpt_lock_create(&p->lock, p->ckdir, err)) {
		char tmp[EU_ERRLEN];
		snprintf(tmp, sizeof tmp, "%s", err);
		snprintf(err, EU_ERRLEN, "'%.300s': %.600s", path, tmp);
		goto out;
	}
	for (int k = 0; k < p->sum->npoints; k++) {
		const int st = p->sum->status[k].state;
		const spec_point_t *pt = &p->spec->points[k];
		char file[4096], cerrbuf[EU_ERRLEN];
		ckpt_header_t h;
		p->resume_t[k] = NAN;
		if (st == ARCHIVE_DONE) {
			p->ndone++;
			continue;
		}
		if (st == ARCHIVE_OTHER_SHARD) {
			p->nother++;
			continue;
		}
		p->todo[k] = 1;
		p->ntodo++;
		/* a thermal table has no checkpoint: it runs again whole */
		if (pt->state == SPEC_STATE_THERMAL ||
		    ckpt_file_of(file, sizeof file, p->ckdir, pt->hash_hex) ||
		    access(file, F_OK))
			continue;
		if (ckpt_read(file, &h, NULL, cerrbuf) ||
		    ckpt_match(&h, p->sum->spec_hash, pt, cerrbuf)) {
			snprintf(err, EU_ERRLEN,
				 "refusing checkpoint '%.300s' of point %d: %.500s; "
				 "nothing was changed (remove the file to "
				 "run the point from t = 0)",
				 file, k, cerrbuf);
			goto out;
		}
		if (p->sum->rows_present[k] < h.row + 1) {
			snprintf(err, EU_ERRLEN,
				 "refusing checkpoint '%.300s' of point %d: it "
				 "continues row %d (t = %g), but the archive "
				 "holds only %d complete rows of the point; "
				 "nothing was changed (remove the file to run "
				 "the point from t = 0)",
				 file, k, h.row, h.t, p->sum->rows_present[k]);
			goto out;
		}
		p->resume_t[k] = h.t;
		p->nresume++;
	}
	rc = 0;
out:
	if (rc)
		plan_destroy(p);
	return rc;
}

static void print_plan(const rs_plan_t *p)
{
	printf("archive %s: sweep '%s', spec hash %s, %d points: %d done, "
	       "%d to run (%d from a checkpoint)%s\n",
	       p->path, p->sum->sweep, p->sum->spec_hash, p->sum->npoints,
	       p->ndone, p->ntodo, p->nresume,
	       p->nother ? ", the rest in other shards" : "");
	for (int k = 0; k < p->sum->npoints; k++) {
		const archive_status_t *st = &p->sum->status[k];
		if (!p->todo[k])
			continue;
		printf("  point %4d %s  %-11s attempt %d -> %d  ", k,
		       p->sum->points[k].hash, archive_state_name(st->state),
		       st->attempt, st->attempt + 1);
		if (isfinite(p->resume_t[k]))
			printf("resume from the checkpoint at t = %g\n",
			       p->resume_t[k]);
		else if (p->spec->points[k].state == SPEC_STATE_THERMAL)
			printf("thermal table, computed whole\n");
		else
			printf("from t = 0\n");
	}
}

/* ---- --slurm ------------------------------------------------------------ */

/* Single-quoted for bash. */
static void shq(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

/* The launcher shared with slurm/kapitza.sbatch and
 * slurm/kapitza-array.sbatch (keep them in step). */
static const char *launcher =
	"# kz_launch CMD ARGS...: CMD under mpirun over every task of the\n"
	"# allocation (KAPITZA_LAUNCHER=srun: under srun), OpenMP/BLAS "
	"threads from\n"
	"# SLURM_CPUS_PER_TASK.  --signal=B:USR1@... signals this shell "
	"only; the trap\n"
	"# passes SIGUSR1 to mpirun, which forwards it to every rank: they "
	"finish the\n"
	"# current measurement interval, checkpoint and exit with status "
	"3.\n"
	"kz_launch() {\n"
	"\tlocal threads=${SLURM_CPUS_PER_TASK:-1} pid rc\n"
	"\texport OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads\n"
	"\t[ -n \"${KAPITZA_SIGKILL_TIMEOUT:-}\" ] &&\n"
	"\t\texport OMPI_MCA_odls_base_sigkill_timeout="
	"$KAPITZA_SIGKILL_TIMEOUT\n"
	"\tif [ \"${KAPITZA_LAUNCHER:-mpirun}\" = srun ]; then\n"
	"\t\tsrun ${KAPITZA_SRUN_ARGS:-} \"$@\" &\n"
	"\telse\n"
	"\t\t${KAPITZA_MPIRUN:-mpirun} -n \"${SLURM_NTASKS:-1}\" "
	"${KAPITZA_MPIRUN_ARGS:---bind-to none} \"$@\" &\n"
	"\tfi\n"
	"\tpid=$!\n"
	"\ttrap 'echo \"$(date -u +%FT%TZ) batch: SIGUSR1 (time limit "
	"near), passed on\" >&2; kill -USR1 $pid 2>/dev/null' USR1\n"
	"\ttrap 'echo \"$(date -u +%FT%TZ) batch: SIGTERM, passed on as "
	"SIGUSR1\" >&2; kill -USR1 $pid 2>/dev/null' TERM\n"
	"\twait $pid; rc=$?\n"
	"\t# wait returns early (> 128) when a trap ran\n"
	"\twhile [ $rc -gt 128 ] && kill -0 $pid 2>/dev/null; do wait $pid; "
	"rc=$?; done\n"
	"\ttrap - USR1 TERM\n"
	"\treturn $rc\n"
	"}\n";

static int self_path(char *buf, size_t n)
{
	ssize_t r = readlink("/proc/self/exe", buf, n - 1);
	if (r <= 0)
		return -1;
	buf[r] = 0;
	return 0;
}

static int submit_slurm(const rs_args_t *a, rs_plan_t *plans, int np)
{
	char exe[PATH_MAX], *script = NULL;
	size_t script_len = 0;
	FILE *f = open_memstream(&script, &script_len);
	int status = 2, nwork = 0;

	if (!f) {
		fprintf(stderr, "kapitza resubmit: out of memory\n");
		return 2;
	}
	if (self_path(exe, sizeof exe)) {
		fprintf(stderr, "kapitza resubmit: cannot find the kapitza "
				"executable (/proc/self/exe)\n");
		fclose(f);
		free(script);
		return 2;
	}
	fprintf(f, "#!/bin/bash\n#SBATCH --job-name=kapitza-resubmit\n"
		   "#SBATCH --signal=B:USR1@300\n#SBATCH --array=");
	for (int i = 0, first = 1; i < np; i++)
		if (plans[i].ntodo) {
			fprintf(f, "%s%d", first ? "" : ",", i);
			first = 0;
			nwork++;
		}
	fprintf(f, "\n# generated by `kapitza resubmit --slurm`: one array "
		   "task per archive with\n# unfinished points; task i "
		   "resubmits ARCHIVES[i].\n");
	for (int i = 0; i < np; i++)
		if (plans[i].ntodo)
			fprintf(f, "#   %d: %s: %d point%s (%d from a "
				   "checkpoint)\n",
				i, plans[i].path, plans[i].ntodo,
				plans[i].ntodo == 1 ? "" : "s",
				plans[i].nresume);
	fprintf(f, "set -u\nKAPITZA=");
	shq(f, exe);
	fprintf(f, "\nARCHIVES=(");
	for (int i = 0; i < np; i++) {
		char abs[PATH_MAX];
		fputc(' ', f);
		shq(f, realpath(plans[i].path, abs) ? abs : plans[i].path);
	}
	fprintf(f, " )\n%s", launcher);
	fprintf(f, "echo \"$(date -u +%%FT%%TZ) kapitza resubmit "
		   "${ARCHIVES[$SLURM_ARRAY_TASK_ID]} (job "
		   "${SLURM_JOB_ID:-?}, task ${SLURM_ARRAY_TASK_ID:-?})\"\n");
	fprintf(f, "kz_launch \"$KAPITZA\" resubmit "
		   "\"${ARCHIVES[$SLURM_ARRAY_TASK_ID]}\" --progress %g",
		a->progress_s);
	if (a->have_ckpt_every)
		fprintf(f, " --checkpoint-every %g", a->ckpt_every_min);
	if (a->have_threads)
		fprintf(f, " --threads %d", a->threads);
	if (a->quiet)
		fprintf(f, " --quiet");
	if (a->dedicated)
		fprintf(f, " --dedicated-scheduler");
	fprintf(f, "\n");
	fclose(f);

	if (a->dry_run) {
		printf("would submit to sbatch");
		for (int i = 0; i < a->sbatch_argc; i++)
			printf(" %s", a->sbatch_argv[i]);
		printf(" (%d array task%s), script:\n%s", nwork,
		       nwork == 1 ? "" : "s", script);
		free(script);
		return 0;
	}
	/* sbatch reads the script from its standard input */
	{
		int fd[2];
		pid_t pid;
		if (pipe(fd)) {
			perror("kapitza resubmit: pipe");
			goto done;
		}
		pid = fork();
		if (pid < 0) {
			perror("kapitza resubmit: fork");
			close(fd[0]);
			close(fd[1]);
			goto done;
		}
		if (pid == 0) {
			char **argv = calloc((size_t)a->sbatch_argc + 2,
					     sizeof *argv);
			dup2(fd[0], 0);
			close(fd[0]);
			close(fd[1]);
			if (argv) {
				argv[0] = "sbatch";
				for (int i = 0; i < a->sbatch_argc; i++)
					argv[i + 1] = a->sbatch_argv[i];
				execvp("sbatch", argv);
			}
			fprintf(stderr,
				"kapitza resubmit: cannot run sbatch: %s\n",
				strerror(errno));
			_exit(127);
		}
		close(fd[0]);
		size_t off = 0;
		while (off < script_len) {
			ssize_t w = write(fd[1], script + off, script_len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		close(fd[1]);
		int ws = 0;
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
		status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 2;
		if (status == 0)
			printf("kapitza resubmit: submitted %d array task%s "
			       "(sbatch output above)\n",
			       nwork, nwork == 1 ? "" : "s");
		else
			fprintf(stderr, "kapitza resubmit: sbatch failed "
					"(exit %d)\n",
				status);
	}
done:
	free(script);
	return status;
}

/* ---- the command -------------------------------------------------------- */

int cmd_resubmit(int argc, char **argv)
{
	MPI_Comm c = MPI_COMM_WORLD;
	rs_args_t args;
	rs_plan_t *plans = NULL;
	char err[EU_ERRLEN] = "";
	int rank = 0, size = 1, rc, status = 2, inited = 0, provided;
	int mpi = 0, np = 0, total_todo = 0, stopped = 0, all_done = 1;

	farm_signals_catch();
	rc = parse_args(argc, argv, &args, err);
	/* --slurm submits: no MPI, this runs on a login node */
	mpi = !(rc == 0 && !args.help && args.slurm);
	if (mpi) {
		MPI_Initialized(&inited);
		if (!inited)
			MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED,
					&provided);
		MPI_Comm_rank(c, &rank);
		MPI_Comm_size(c, &size);
	}
	if (rc || args.help) {
		if (rank == 0) {
			if (rc)
				fprintf(stderr, "kapitza resubmit: %s\n", err);
			usage(rc ? stderr : stdout);
		}
		status = rc ? 2 : 0;
		goto out;
	}
	np = args.narchives;
	plans = calloc((size_t)np, sizeof *plans);

	/* rank 0 plans every archive before anything runs */
	rc = plans ? 0 : -1;
	if (!plans)
		snprintf(err, sizeof err, "out of memory");
	if (rank == 0)
		for (int i = 0; !rc && i < np; i++) {
			/* --slurm takes the lock only to see that no
			 * process works on the archive, and lets it go */
			rc = plan_archive(&plans[i], args.archives[i],
					  !args.dry_run, err);
			if (args.slurm)
				ckpt_lock_destroy(&plans[i].lock);
			if (!rc && i > 0 &&
			    strcmp(plans[i].sum->spec_hash,
				   plans[0].sum->spec_hash)) {
				snprintf(err, sizeof err,
					 "'%s' is an archive of spec hash %s, "
					 "'%s' of spec hash %s: not one shard "
					 "set; nothing was changed",
					 args.archives[0],
					 plans[0].sum->spec_hash,
					 args.archives[i],
					 plans[i].sum->spec_hash);
				rc = -1;
			}
			if (!rc)
				total_todo += plans[i].ntodo;
		}
	if (mpi) {
		MPI_Bcast(&rc, 1, MPI_INT, 0, c);
		MPI_Bcast(&total_todo, 1, MPI_INT, 0, c);
	}
	if (rc) {
		if (rank == 0)
			fprintf(stderr, "kapitza resubmit: %s\n", err);
		goto out;
	}
	if (total_todo == 0) {
		if (rank == 0) {
			int n = 0;
			for (int i = 0; i < np; i++)
				n += plans[i].ndone;
			printf("kapitza resubmit: nothing to do: all %d points "
			       "done in %d archive%s\n",
			       n, np, np == 1 ? "" : "s");
		}
		status = 0;
		goto out;
	}
	if (args.slurm) {
		for (int i = 0; i < np; i++)
			print_plan(&plans[i]);
		status = submit_slurm(&args, plans, np);
		goto out;
	}
	if (args.dry_run) {
		if (rank == 0)
			for (int i = 0; i < np; i++)
				print_plan(&plans[i]);
		status = 0;
		goto out;
	}

	status = 1;
	for (int i = 0; i < np && !stopped; i++) {
		spec_t *s = NULL;
		archive_t *a = NULL;
		farm_opts_t fo;
		farm_summary_t sum;
		int ntodo = rank == 0 ? plans[i].ntodo : 0;
		char ckdir[4096] = "";
		MPI_Bcast(&ntodo, 1, MPI_INT, 0, c);
		if (rank == 0)
			snprintf(ckdir, sizeof ckdir, "%s", plans[i].ckdir);
		MPI_Bcast(ckdir, sizeof ckdir, MPI_CHAR, 0, c);
		if (!ntodo)
			continue;
		rc = farm_spec_share(c, args.archives[i],
				     rank == 0 ? plans[i].sum->spec_text : NULL,
				     &s, err);
		if (!rc)
			rc = archive_open(&a, c, args.archives[i], s, err);
		if (!rc && rank == 0)
			rc = ckpt_dir_prepare(ckdir, 0, err);
		MPI_Bcast(&rc, 1, MPI_INT, 0, c);
		if (rc) {
			if (rank == 0)
				fprintf(stderr, "kapitza resubmit: %s\n", err);
			archive_destroy(&a, NULL);
			spec_destroy(&s);
			all_done = 0;
			status = 2;
			break;
		}
		farm_opts_default(&fo);
		fo.threads = args.threads;
		fo.progress_s = args.quiet ? -1 : args.progress_s;
		fo.dedicated = args.dedicated;
		fo.out = rank == 0 ? stdout : NULL;
		fo.fault_point = args.fault_point;
		fo.ckpt_dir = ckdir;
		fo.ckpt_every_s = args.ckpt_every_min * 60;
		fo.archive_path = args.archives[i];
		if (rank == 0) {
			fo.plan.initial = plans[i].sum->status;
			fo.plan.todo = plans[i].todo;
			fo.plan.resume_t = plans[i].resume_t;
			printf("kapitza resubmit: %s: %d point%s to run (%d "
			       "from a checkpoint) on %d rank%s x %d "
			       "thread%s\n",
			       args.archives[i], ntodo, ntodo == 1 ? "" : "s",
			       plans[i].nresume, size, size == 1 ? "" : "s",
			       fo.threads, fo.threads == 1 ? "" : "s");
			fflush(stdout);
		}
		rc = farm_run(c, a, s, &fo, &sum, err);
		if (rc && rank == 0)
			fprintf(stderr, "kapitza resubmit: %s\n", err);
		if (archive_destroy(&a, err)) {
			rc = -1;
			if (rank == 0)
				fprintf(stderr, "kapitza resubmit: %s\n", err);
		}
		if (rank == 0) {
			printf("kapitza resubmit: %s: %d points: %d done, %d "
			       "failed, %d interrupted, %d pending%s; %d "
			       "resumed from checkpoints; %.2f s%s\n",
			       args.archives[i], sum.npoints,
			       sum.counts[ARCHIVE_DONE],
			       sum.counts[ARCHIVE_FAILED],
			       sum.counts[ARCHIVE_INTERRUPTED],
			       sum.counts[ARCHIVE_PENDING],
			       sum.counts[ARCHIVE_OTHER_SHARD]
				       ? " (the rest in other shards)"
				       : "",
			       sum.resumed, sum.elapsed_s,
			       sum.interrupted
				       ? " (stopped by a signal; resubmit "
					 "again to continue)"
				       : "");
			fflush(stdout);
		}
		if (rc || sum.counts[ARCHIVE_DONE] +
					  sum.counts[ARCHIVE_OTHER_SHARD] !=
				  sum.npoints)
			all_done = 0;
		stopped = sum.interrupted;
		spec_destroy(&s);
	}
	if (status != 2)
		status = stopped ? 3 : all_done ? 0 : 1;
out:
	if (plans)
		for (int i = 0; i < np; i++)
			plan_destroy(&plans[i]);
	free(plans);
	free(args.archives);
	if (mpi)
		MPI_Finalize();
	return status;
}
