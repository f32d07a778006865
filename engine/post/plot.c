/* plot: running the figures script of `kapitza plot` (plot.h; the command
 * line is engine/cmd/plot.c) -- the paper's figures as PNG
 * (engine/POSTSTAGE.md).  The figures are drawn by the Python/matplotlib
 * script shipped beside this file (kapitza_plot.py): plotting is what
 * matplotlib does well, and nothing here would be better in C.  plot_run
 * finds the interpreter and the script, runs it with the archive's names
 * (schema_json) in $KAPITZA_SCHEMA, and turns its exit status into a clear
 * message.
 *
 * Interpreter: $KAPITZA_PYTHON, else /usr/bin/python3 (Debian's, where
 * python3-h5py and python3-matplotlib install), else python3 on PATH.
 * Script: $KAPITZA_PLOT_SCRIPT, else the source tree's copy, else the
 * installed one (meson: datadir/kapitza).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plot.h"
#include "schema.h"

#ifndef KAPITZA_PLOT_SCRIPT_SRC
#define KAPITZA_PLOT_SCRIPT_SRC ""
#endif
#ifndef KAPITZA_PLOT_SCRIPT_INSTALLED
#define KAPITZA_PLOT_SCRIPT_INSTALLED ""
#endif

/* the script's exit status when h5py, numpy or matplotlib is missing */
#define PLOT_EXIT_MODULES 3

static int readable(const char *p)
{
	return p && *p && access(p, R_OK) == 0;
}

int plot_run(const char *archive, const char *out, const char *only,
	     const char *dpi)
{
	const char *py, *script;
	const char *args[16];
	int n = 0, st;
	pid_t pid;

	if (!readable(archive)) {
		fprintf(stderr, "kapitza plot: cannot read '%s': %s\n",
			archive, strerror(errno));
		return 2;
	}
	script = getenv("KAPITZA_PLOT_SCRIPT");
	if (!readable(script))
		script = readable(KAPITZA_PLOT_SCRIPT_SRC)
				 ? KAPITZA_PLOT_SCRIPT_SRC
				 : KAPITZA_PLOT_SCRIPT_INSTALLED;
	if (!readable(script)) {
		fprintf(stderr,
			"kapitza plot: the plotting script kapitza_plot.py was "
			"not found (looked at $KAPITZA_PLOT_SCRIPT, '%s', "
			"'%s')\n",
			KAPITZA_PLOT_SCRIPT_SRC, KAPITZA_PLOT_SCRIPT_INSTALLED);
		return 2;
	}
	py = getenv("KAPITZA_PYTHON");
	if (!py || !*py)
		py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3"
							   : "python3";
	args[n++] = py;
	args[n++] = script;
	args[n++] = archive;
	args[n++] = "-o";
	args[n++] = out;
	if (only) {
		args[n++] = "--only";
		args[n++] = only;
	}
	if (dpi) {
		args[n++] = "--dpi";
		args[n++] = dpi;
	}
	args[n] = NULL;
	/* the script's one source of names: the schema of this kapitza */
	char *schema = schema_json();
	if (!schema || setenv("KAPITZA_SCHEMA", schema, 1)) {
		fprintf(stderr, "kapitza plot: cannot pass the archive schema "
				"to the script\n");
		free(schema);
		return 2;
	}
	free(schema);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "kapitza plot: fork: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		execvp(py, (char *const *)args);
		fprintf(stderr, "kapitza plot: cannot run '%s': %s\n", py,
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "kapitza plot: waitpid: %s\n",
				strerror(errno));
			return 2;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == PLOT_EXIT_MODULES) {
		fprintf(stderr,
			"kapitza plot: '%s' lacks h5py, numpy or matplotlib "
			"(Debian: apt-get install python3-h5py "
			"python3-matplotlib; or set KAPITZA_PYTHON to a Python "
			"that has them)\n",
			py);
		return 2;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return 2; /* the child said why */
	if (WIFSIGNALED(st))
		fprintf(stderr, "kapitza plot: %s was killed by signal %d\n",
			script, WTERMSIG(st));
	else
		fprintf(stderr, "kapitza plot: %s failed (exit status %d)\n",
			script, WEXITSTATUS(st));
	return 2;
}
