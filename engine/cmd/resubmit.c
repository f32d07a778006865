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
 * Exit status as `kapitza run` (session.h): 0 every point done (also when
 * there was nothing to do), 1 some point not done, 2 refused or bad command
 * line (nothing written), 3 stopped by a signal.  With --slurm: sbatch's. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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
	const char **archives;
	int narchives;
	int slurm;            /* --slurm given: sbatch_argv holds the rest */
	char **sbatch_argv;
	int sbatch_argc;
	session_opts_t so;    /* threads, dry run, progress, checkpoints */
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
		"      --team-size R, --team-min-core-hours X, --team-scalapack N"
		"  as for kapitza\n"
		"                          run (any team size\n"
		"                          resumes any checkpoint)\n"
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
	session_opts_default(&a->so);
	a->archives = calloc((size_t)argc + 1, sizeof *a->archives);
	if (!a->archives)
		return eu_err(err, "out of memory");
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "--slurm")) {
			a->slurm = 1;
			a->sbatch_argv = argv + i + 1;
			a->sbatch_argc = argc - i - 1;
			break;
		}
		const int shared = session_opt(&a->so, argc, argv, &i, err);
		if (shared < 0)
			return -1;
		if (shared)
			continue;
		if (s[0] == '-' && s[1])
			return eu_err(err, "unknown option '%s'", s);
		a->archives[a->narchives++] = s;
	}
	if (a->so.help)
		return 0;
	if (a->narchives < 1)
		return eu_err(err, "no archive given");
	return session_opts_finish(&a->so, err);
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
/* The archive is a kapitza archive whose spec still reads as it did: the
 * spec text hashes to the spec hash, parses, and gives the same points. */
static int plan_check(rs_plan_t *p, const char *path, char *err)
{
	char serr[EU_ERRLEN] = "", hex[17];

	snprintf(hex, sizeof hex, "%016llx",
		 (unsigned long long)eu_fnv1a(EU_FNV_INIT,
						p->sum->spec_text,
						strlen(p->sum->spec_text)));
	if (strcmp(hex, p->sum->spec_hash)) {
		eu_err(err, "'%s': the spec text hashes to %s, but the archive "
		       "says spec hash %s: the archive is damaged",
		       path, hex, p->sum->spec_hash);
		return -1;
	}
	if (spec_parse(&p->spec, path, p->sum->spec_text,
		       strlen(p->sum->spec_text), serr)) {
		eu_err(err, "'%s': its spec does not parse with this kapitza: %s",
		       path, serr);
		return -1;
	}
	if (p->spec->npoints != p->sum->npoints) {
		/* its thermal: section was not yet farmed by that kapitza */
		const int old = p->spec->ntables &&
				p->sum->npoints ==
					p->spec->npoints - p->spec->ntables;
		eu_err(err, "'%s': %d points in the archive, %d in its spec as "
		       "this kapitza reads it%s",
		       path, p->sum->npoints, p->spec->npoints,
		       old ? " (its thermal: section now adds the thermal "
		       "tables as points: the archive was written by "
		       "a kapitza that did not farm them; resubmit it "
		       "with that version, or run the sweep into a "
		       "new archive)"
		       : "");
		return -1;
	}
	for (int k = 0; k < p->sum->npoints; k++)
		if (strcmp(p->sum->points[k].hash,
			   p->spec->points[k].hash_hex)) {
			eu_err(err, "'%s': point %d has hash %s in the archive "
			       "but %s in its spec as this kapitza reads it",
			       path, k, p->sum->points[k].hash,
			       p->spec->points[k].hash_hex);
			return -1;
		}
	return 0;
}

/* Point k: done, another shard's, or to run -- from its checkpoint if it
 * has one, which must read back whole, belong to the point and the spec,
 * and have its rows in the archive. */
static int plan_point(rs_plan_t *p, int k, char *err)
{
	const int st = p->sum->status[k].state;
	const spec_point_t *pt = &p->spec->points[k];
	char file[4096], cerrbuf[EU_ERRLEN];
	ckpt_header_t h;
	p->resume_t[k] = NAN;
	if (st == ARCHIVE_DONE) {
		p->ndone++;
		return 0;
	}
	if (st == ARCHIVE_OTHER_SHARD) {
		p->nother++;
		return 0;
	}
	p->todo[k] = 1;
	p->ntodo++;
	/* a thermal table has no checkpoint: it runs again whole */
	if (pt->state == SPEC_STATE_THERMAL ||
	    ckpt_file_of(file, sizeof file, p->ckdir, pt->hash_hex) ||
	    access(file, F_OK))
		return 0;
	mps_t *m = NULL; /* rebuilt and checked whole, then dropped */
	int bad = ckpt_load(file, p->sum->spec_hash, pt, &h, &m, cerrbuf);
	mps_destroy(&m);
	if (bad) {
		eu_err(err, "refusing checkpoint '%.300s' of point %d: %.500s; "
		       "nothing was changed (remove the file to "
		       "run the point from t = 0)",
		       file, k, cerrbuf);
		return -1;
	}
	if (p->sum->rows_present[k] < h.row + 1) {
		eu_err(err, "refusing checkpoint '%.300s' of point %d: it "
		       "continues row %d (t = %g), but the archive "
		       "holds only %d complete rows of the point; "
		       "nothing was changed (remove the file to run "
		       "the point from t = 0)",
		       file, k, h.row, h.t, p->sum->rows_present[k]);
		return -1;
	}
	p->resume_t[k] = h.t;
	p->nresume++;
	return 0;
}

/* Serial (rank 0): reads archive `path` and decides what runs and from
 * where; refuses (returns -1 with err) on anything that does not fit.
 * lock: also take the archive's lock (kept in the plan). */
static int plan_archive(rs_plan_t *p, const char *path, int lock, char *err)
{
	int rc = -1;

	memset(p, 0, sizeof *p);
	p->path = path;
	if (archive_summary_read(&p->sum, path, err))
		goto out;
	if (ckpt_dir_of(p->ckdir, sizeof p->ckdir, path)) {
		eu_err(err, "'%s': path too long", path);
		goto out;
	}
	if (plan_check(p, path, err))
		goto out;
	if (archive_summary_rows(p->sum, path, err))
		goto out;
	p->todo = calloc((size_t)p->sum->npoints + 1, 1);
	p->resume_t = malloc(((size_t)p->sum->npoints + 1) *
			     sizeof *p->resume_t);
	if (!p->todo || !p->resume_t) {
		eu_err(err, "out of memory");
		goto out;
	}
	/* the lock before the checkpoints: a live run may still write them */
	if (lock && ckpt_lock_create(&p->lock, p->ckdir, err)) {
		char tmp[EU_ERRLEN];
		snprintf(tmp, sizeof tmp, "%s", err);
		eu_err(err, "'%.300s': %.600s", path, tmp);
		goto out;
	}
	for (int k = 0; k < p->sum->npoints; k++)
		if (plan_point(p, k, err))
			goto out;
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
		       st->attempt,
		       st->attempt < INT32_MAX ? st->attempt + 1 : INT32_MAX);
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

/* The job array's script (one task per archive with unfinished points):
 * *nwork tasks. */
static void slurm_script(FILE *f, const rs_args_t *a, const rs_plan_t *plans,
			 int np, const char *exe, int *nwork)
{
	fprintf(f, "#!/bin/bash\n#SBATCH --job-name=kapitza-resubmit\n"
		   "#SBATCH --signal=B:USR1@300\n#SBATCH --array=");
	for (int i = 0, first = 1; i < np; i++)
		if (plans[i].ntodo) {
			fprintf(f, "%s%d", first ? "" : ",", i);
			first = 0;
			(*nwork)++;
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
		a->so.progress_s);
	if (a->so.have_ckpt_every)
		fprintf(f, " --checkpoint-every %g", a->so.ckpt_every_min);
	if (a->so.have_threads)
		fprintf(f, " --threads %d", a->so.threads);
	if (a->so.quiet)
		fprintf(f, " --quiet");
	if (a->so.dedicated)
		fprintf(f, " --dedicated-scheduler");
	session_team_args(f, &a->so);
	fprintf(f, "\n");
}

/* sbatch, reading the script from its standard input; its exit status. */
static int run_sbatch(const rs_args_t *a, const char *script,
		      size_t script_len, int nwork)
{
	int fd[2], status;
	pid_t pid;
	if (pipe(fd)) {
		perror("kapitza resubmit: pipe");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("kapitza resubmit: fork");
		close(fd[0]);
		close(fd[1]);
		return 2;
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
	return status;
}

static int submit_slurm(const rs_args_t *a, rs_plan_t *plans, int np)
{
	char exe[PATH_MAX], *script = NULL;
	size_t script_len = 0;
	FILE *f = open_memstream(&script, &script_len);
	int status, nwork = 0;

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
	slurm_script(f, a, plans, np, exe, &nwork);
	fclose(f);
	if (a->so.dry_run) {
		printf("would submit to sbatch");
		for (int i = 0; i < a->sbatch_argc; i++)
			printf(" %s", a->sbatch_argv[i]);
		printf(" (%d array task%s), script:\n%s", nwork,
		       nwork == 1 ? "" : "s", script);
		free(script);
		return 0;
	}
	status = run_sbatch(a, script, script_len, nwork);
	free(script);
	return status;
}

/* ---- the command -------------------------------------------------------- */

/* Rank 0 plans every archive before anything runs (one spec hash for all:
 * a shard set); *total_todo: the points to run, on every rank. */
static int plan_all(const session_t *S, const rs_args_t *args,
		    rs_plan_t *plans, int *total_todo, char *err)
{
	const int np = args->narchives;
	int rc = plans ? 0 : -1;
	if (!plans)
		eu_err(err, "out of memory");
	if (S->rank == 0)
		for (int i = 0; !rc && i < np; i++) {
			/* --slurm takes the lock only to see that no
			 * process works on the archive, and lets it go */
			rc = plan_archive(&plans[i], args->archives[i],
					  !args->so.dry_run, err);
			if (args->slurm)
				ckpt_lock_destroy(&plans[i].lock);
			if (!rc && i > 0 &&
			    strcmp(plans[i].sum->spec_hash,
				   plans[0].sum->spec_hash)) {
				rc = eu_err(err,
					    "'%s' is an archive of spec hash "
					    "%s, '%s' of spec hash %s: not one "
					    "shard set; nothing was changed",
					    args->archives[0],
					    plans[0].sum->spec_hash,
					    args->archives[i],
					    plans[i].sum->spec_hash);
			}
			if (!rc)
				*total_todo += plans[i].ntodo;
		}
	if (S->mpi)
		agree_bytes(S->comm, total_todo, sizeof *total_todo);
	return session_agree(S, rc, err);
}

static void print_archive_summary(const session_t *S, const char *path,
				  const farm_summary_t *sum)
{
	char counts[160];
	if (S->rank != 0)
		return;
	session_counts(counts, sizeof counts, sum);
	printf("kapitza resubmit: %s: %s%s; %d resumed from checkpoints; "
	       "%.2f s%s\n",
	       path, counts,
	       sum->counts[ARCHIVE_OTHER_SHARD] ? " (the rest in other shards)"
						: "",
	       sum->resumed, sum->elapsed_s,
	       sum->interrupted ? " (stopped by a signal; resubmit again to "
				  "continue)"
				: "");
	fflush(stdout);
}

/* Collective: runs archive i's plan (rank 0's) over all ranks.  Returns 2
 * if it could not start (nothing run), else 0 with *all_done cleared if a
 * point is left and *stopped set by a stop signal. */
static int run_archive(const session_t *S, const rs_args_t *args,
		       const rs_plan_t *plan, int i, int *all_done,
		       int *stopped, char *err)
{
	const char *path = args->archives[i];
	spec_t *s = NULL;
	archive_t *a = NULL;
	farm_opts_t fo;
	farm_summary_t sum;
	int ntodo = S->rank == 0 ? plan->ntodo : 0, rc;
	char ckdir[4096] = "";
	agree_bytes(S->comm, &ntodo, sizeof ntodo);
	if (S->rank == 0)
		snprintf(ckdir, sizeof ckdir, "%s", plan->ckdir);
	agree_bytes(S->comm, ckdir, sizeof ckdir);
	if (!ntodo)
		return 0;
	rc = farm_spec_share(S->comm, path,
			     S->rank == 0 ? plan->sum->spec_text : NULL, &s,
			     err);
	if (!rc)
		rc = archive_open(&a, S->comm, path, s, err);
	if (!rc && S->rank == 0)
		rc = ckpt_dir_prepare(ckdir, 0, err);
	if (session_agree(S, rc, err)) {
		archive_destroy(&a, NULL);
		spec_destroy(&s);
		*all_done = 0;
		return 2;
	}
	session_farm_opts(S, &args->so, ckdir, path, &fo);
	if (S->rank == 0) {
		char tn[96];
		session_team_note(tn, sizeof tn, &args->so);
		fo.plan.initial = plan->sum->status;
		fo.plan.todo = plan->todo;
		fo.plan.resume_t = plan->resume_t;
		printf("kapitza resubmit: %s: %d point%s to run (%d from a "
		       "checkpoint) on %d rank%s x %d thread%s%s\n",
		       path, ntodo, ntodo == 1 ? "" : "s", plan->nresume,
		       S->size, S->size == 1 ? "" : "s", fo.threads,
		       fo.threads == 1 ? "" : "s", tn);
		fflush(stdout);
	}
	rc = session_farm(S, &a, s, &fo, &sum, err);
	print_archive_summary(S, path, &sum);
	if (rc || !session_all_done(&sum))
		*all_done = 0;
	*stopped = sum.interrupted;
	spec_destroy(&s);
	return 0;
}

int cmd_resubmit(int argc, char **argv)
{
	session_t S;
	rs_args_t args;
	rs_plan_t *plans = NULL;
	char err[EU_ERRLEN] = "";
	int rc, status = 2, np = 0, total_todo = 0, stopped = 0, all_done = 1;

	rc = parse_args(argc, argv, &args, err);
	/* --slurm submits: no MPI, this runs on a login node */
	session_begin(&S, "kapitza resubmit",
		      !(rc == 0 && !args.so.help && args.slurm), &argc, &argv);
	if (rc || args.so.help) {
		if (rc)
			session_error(&S, err);
		if (S.rank == 0)
			usage(rc ? stderr : stdout);
		status = rc ? 2 : 0;
		goto out;
	}
	np = args.narchives;
	plans = calloc((size_t)np, sizeof *plans);
	if (plan_all(&S, &args, plans, &total_todo, err))
		goto out;
	if (total_todo == 0) {
		if (S.rank == 0) {
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
	if (args.so.dry_run) {
		if (S.rank == 0)
			for (int i = 0; i < np; i++)
				print_plan(&plans[i]);
		status = 0;
		goto out;
	}
	status = 1;
	for (int i = 0; i < np && !stopped && status != 2; i++)
		if (run_archive(&S, &args, &plans[i], i, &all_done, &stopped,
				err))
			status = 2;
	if (status != 2)
		status = session_status(stopped, all_done);
out:
	if (plans)
		for (int i = 0; i < np; i++)
			plan_destroy(&plans[i]);
	free(plans);
	free(args.archives);
	return session_end(&S, status);
}
