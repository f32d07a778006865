/* plot: the figures of `kapitza plot` (engine/POSTSTAGE.md), drawn by
 * kapitza_plot.py. */
#ifndef PLOT_H
#define PLOT_H

/* Runs the plotting script on archive (figures into directory out; only,
 * dpi: the script's --only and --dpi, NULL for its defaults) with the
 * archive schema in its environment; 0, or 2 with a message on stderr. */
int plot_run(const char *archive, const char *out, const char *only,
	     const char *dpi);

#endif
