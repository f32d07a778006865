/* plot: `kapitza plot ARCHIVE.h5 -o DIR` -- the paper's figures as PNG
 * (engine/POSTSTAGE.md).  The figures are drawn by the Python/matplotlib
 * script shipped beside this file (engine/kapitza_plot.py): plotting is what
 * matplotlib does well, and nothing here would be better in C.  This command
 * finds the interpreter and the script, runs it, and turns its exit status
 * into a clear message.
 *
 * Interpreter: $KAPITZA_PYTHON, else /usr/bin/python3 (Debian's, where
 * python3-h5py and python3-matplotlib install), else python3 on PATH.
 * Script: $KAPITZA_PLOT_SCRIPT, else the source tree's copy, else the
 * installed one (meson: datadir/kapitza).
 *
 * Exit status: 0 figures written (figures without data are skipped with a
 * message); 2 bad command line, missing Python modules, unreadable archive
 * or a failing script. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"

#ifndef KAPITZA_PLOT_SCRIPT_SRC
#define KAPITZA_PLOT_SCRIPT_SRC ""
#endif
#ifndef KAPITZA_PLOT_SCRIPT_INSTALLED
#define KAPITZA_PLOT_SCRIPT_INSTALLED ""
#endif

/* the script's exit status when h5py, numpy or matplotlib is missing */
#define PLOT_EXIT_MODULES 3

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kapitza plot ARCHIVE.h5 -o DIR [--only LIST] [--dpi N]\n"
		"  -o, --output DIR   directory for the PNGs (created if "
		"missing)\n"
		"      --only LIST    comma-separated figures: fig1, fig2, "
		"fig3, fig4, fig5,\n"
		"                     fig7, fig8, convergence (default: all "
		"with data)\n"
		"      --dpi N        resolution (default 150)\n"
		"Each fig*.png comes with fig*.json: the archive datasets "
		"drawn and a SHA-256\n"
		"of each plotted array.  Figures whose data the archive lacks "
		"are skipped\n"
		"with a message (run `kapitza fit` first for the light-cone, "
		"temperature and\n"
		"convergence figures).  Needs Python 3 with h5py, numpy and "
		"matplotlib\n"
		"(KAPITZA_PYTHON overrides the interpreter, "
		"KAPITZA_PLOT_SCRIPT the script).\n");
}

static int readable(const char *p)
{
	return p && *p && access(p, R_OK) == 0;
}

int cmd_plot(int argc, char **argv)
{
	const char *archive = NULL, *out = NULL, *only = NULL, *dpi = NULL;
	const char *py, *script;
	const char *args[16];
	int n = 0, st;
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(s, "-o") || !strcmp(s, "--output") ||
			   !strcmp(s, "--only") || !strcmp(s, "--dpi")) {
			if (!v) {
				fprintf(stderr, "kapitza plot: %s needs a "
						"value\n",
					s);
				return 2;
			}
			if (s[1] == 'o' || !strcmp(s, "--output"))
				out = v;
			else if (!strcmp(s, "--only"))
				only = v;
			else
				dpi = v;
			i++;
		} else if (s[0] == '-' && s[1]) {
			fprintf(stderr, "kapitza plot: unknown option '%s'\n",
				s);
			usage(stderr);
			return 2;
		} else if (!archive) {
			archive = s;
		} else {
			fprintf(stderr,
				"kapitza plot: one archive only ('%s' and "
				"'%s')\n",
				archive, s);
			return 2;
		}
	}
	if (!archive || !out) {
		fprintf(stderr, "kapitza plot: %s\n",
			!archive ? "no archive given" : "no output directory "
							"(-o DIR)");
		usage(stderr);
		return 2;
	}
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
