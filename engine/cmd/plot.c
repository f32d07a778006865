/* plot: `kapitza plot ARCHIVE.h5 -o DIR` -- the command line; the figures
 * are drawn by engine/post (plot.h, kapitza_plot.py).
 *
 * Exit status: 0 figures written (figures without data are skipped with a
 * message); 2 bad command line, missing Python modules, unreadable archive
 * or a failing script. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "cmd.h"
#include "eu.h"
#include "plot.h"
#include "schema.h"

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
		"      --schema       print the archive names the script reads "
		"(JSON) and exit\n"
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

int cmd_plot(int argc, char **argv)
{
	const char *archive = NULL, *out = NULL, *only = NULL, *dpi = NULL;

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(s, "--schema")) {
			/* the names the script reads, for running it
			 * directly */
			char *j = schema_json();
			if (!j) {
				fprintf(stderr, "kapitza plot: out of memory\n");
				return 2;
			}
			fputs(j, stdout);
			free(j);
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
	/* the checks of every reader, before Python sees the file */
	archive_summary_t *sum = NULL;
	char err[EU_ERRLEN];
	if (archive_summary_read(&sum, archive, err)) {
		fprintf(stderr, "kapitza plot: %s\n", err);
		return 2;
	}
	archive_summary_destroy(&sum);
	return plot_run(archive, out, only, dpi);
}
