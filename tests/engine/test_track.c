/* test_track: the tracker of the light-cone maxima (engine/post/track.c).
 *   1. on clean synthetic profiles (two parabolic caps, a flat dip) the
 *      tracker gives fit_peaks' positions exactly, every row linked;
 *   2. a left maximum with a ripple of the profile 7 bonds further out whose
 *      height alternates just above and below it: fit_peaks hops to the
 *      ripple every other row, the tracker stays on the maximum;
 *   3. short lattice-scale ripples (period 4 bonds) survive the 3-bond
 *      smoothing as local maxima but are not candidates at the default
 *      prominence (they are at prominence 0);
 *   4. a maximum that vanishes ends the track: the row is read afresh and
 *      the restart counted; a row with one maximum gives 0, 0;
 *   5. errors: NaN in a written row, a profile without the junction, bad
 *      options; unwritten rows (NaN time) are skipped;
 *   6. real data (tests/engine/data/psi1_pi3_L120_chi64_je.txt: the |Psi1>
 *      junction at gamma = pi/3, L = 120, chi_max 64, t = 28 .. 40): the
 *      left maximum is a flat plateau whose ripples trade places; fit_peaks
 *      jumps back by more than 2 bonds between two rows of the window
 *      30:40, the tracker's n'_L moves back by less than 0.75 bonds from
 *      row to row and its line has a standard deviation less than half of
 *      fit_peaks'. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synth_profile.h"
#include "fit.h"
#include "track.h"

static char err[EU_ERRLEN];

enum { L = 160, NB = L - 1, N0 = -L / 2 + 1 };

/* parabolic caps at pl < 0 < pr (synth_profile.h): exact under the
 * 3-bond average and the parabolic refinement */
static void caps(double *f, double pl, double pr, double hl, double hr)
{
	synth_profile(f, NB, N0, pl, pr, hl, hr);
}

static double gauss(double n, double c, double h, double w)
{
	return h * exp(-(n - c) * (n - c) / (2 * w * w));
}

static void test_clean(void)
{
	enum { NT = 21 };
	double f[NT][NB], t[NT], pl[NT], pr[NT];
	track_row_t r[NT];
	int res = -1;
	for (int k = 0; k < NT; k++) {
		t[k] = 30 + 0.5 * k;
		pr[k] = 0.9 * t[k] + 2.5 + 0.23 * ((k % 3) - 1);
		pl[k] = -0.7 * t[k] - 1.5 + 0.1 * (k % 2);
		caps(f[k], pl[k], pr[k], 0.11, 0.13);
	}
	CHECK(!track_profiles(&f[0][0], NT, NB, N0, t, NULL, r, &res, err),
	      "%s", err);
	CHECK(res == 0, "no restart on clean profiles (%d)", res);
	for (int k = 0; k < NT; k++) {
		fit_peaks_t p;
		CHECK(!fit_peaks(f[k], NB, N0, NULL, &p, err), "%s", err);
		CHECK(r[k].found == 1 && p.found == 1, "row %d: a pair", k);
		CHECK_CLOSE(r[k].n_left, p.n_left, 1e-12, "n'_L = fit_peaks");
		CHECK_CLOSE(r[k].n_right, p.n_right, 1e-12,
			    "n'_R = fit_peaks");
		CHECK_CLOSE(r[k].n_left, pl[k], 1e-9, "n'_L exact");
		CHECK_CLOSE(r[k].n_right, pr[k], 1e-9, "n'_R exact");
		CHECK(r[k].linked == (k > 0), "row %d linked %d", k,
		      r[k].linked);
	}
}

/* the left maximum at pl(t), a ripple at pl(t) - 7 alternating around
 * its height, the right maximum at pr(t), the slow region between */
static void rippled(double *f, double t, int k, double *pl, double *pr)
{
	*pl = -0.6 * t - 2;
	*pr = 0.9 * t + 3;
	double hrip = k == 0 ? 0.09 : 0.11 + 0.004 * (k % 2 ? 1 : -1);
	for (int i = 0; i < NB; i++) {
		double n = N0 + i;
		f[i] = gauss(n, *pl, 0.11, 2.5) + gauss(n, *pl - 7, hrip, 2.5) +
		       gauss(n, *pr, 0.13, 3);
	}
}

static void test_ripple(void)
{
	enum { NT = 21 };
	double f[NT][NB], t[NT], pl[NT], pr[NT];
	track_row_t r[NT];
	int res = -1, hops = 0;
	for (int k = 0; k < NT; k++) {
		t[k] = 30 + 0.5 * k;
		rippled(f[k], t[k], k, &pl[k], &pr[k]);
		fit_peaks_t p;
		CHECK(!fit_peaks(f[k], NB, N0, NULL, &p, err), "%s", err);
		CHECK(p.found == 1, "fit_peaks: a pair at row %d", k);
		hops += fabs(p.n_left - pl[k]) > 4;
	}
	CHECK(hops >= NT / 2 - 1,
	      "today's rule hops to the ripple (%d of %d rows)", hops, NT);
	CHECK(!track_profiles(&f[0][0], NT, NB, N0, t, NULL, r, &res, err),
	      "%s", err);
	CHECK(res == 0, "no restart (%d)", res);
	for (int k = 0; k < NT; k++) {
		CHECK(r[k].found == 1, "tracked pair at row %d", k);
		CHECK(fabs(r[k].n_left - pl[k]) < 0.5,
		      "row %d: n'_L %g stays at the maximum %g", k,
		      r[k].n_left, pl[k]);
		CHECK(fabs(r[k].n_right - pr[k]) < 0.5, "row %d: n'_R %g vs %g",
		      k, r[k].n_right, pr[k]);
	}
	/* a gate of zero width cannot follow a moving maximum: every row
	 * after the first is read afresh (restarts) */
	track_opts_t o;
	track_opts_default(&o);
	o.gate_bonds = 0.01;
	o.gate_speed = 0;
	CHECK(!track_profiles(&f[0][0], NT, NB, N0, t, &o, r, &res, err),
	      "%s", err);
	CHECK(res >= NT / 2 - 1, "zero gate: restarts (%d)", res);
}

static void test_prominence(void)
{
	double f[NB], pos[64], h[64];
	int n0 = 0, n3 = 0;
	/* a dome with a period-4 ripple 4% of its height */
	for (int i = 0; i < NB; i++) {
		double n = N0 + i - 0.5;
		f[i] = fmax(0, 0.15 * (1 - n * n / 1600)) +
		       0.006 * cos(2 * M_PI * n / 4);
	}
	track_opts_t o;
	track_opts_default(&o);
	CHECK(!track_candidates(f, NB, N0, &o, pos, h, 64, &n3, NULL, err),
	      "%s", err);
	o.prominence = 0;
	CHECK(!track_candidates(f, NB, N0, &o, pos, h, 64, &n0, NULL, err),
	      "%s", err);
	CHECK(n0 > 4, "the smoothed ripple has local maxima (%d)", n0);
	CHECK(n3 <= 1, "none of them is prominent (%d candidates)", n3);
	/* a real pair (caps) is kept */
	caps(f, -20.3, 25.2, 0.11, 0.13);
	track_opts_default(&o);
	CHECK(!track_candidates(f, NB, N0, &o, pos, h, 64, &n3, NULL, err),
	      "%s", err);
	CHECK(n3 == 2, "caps: two candidates (%d)", n3);
	if (n3 == 2) {
		CHECK_CLOSE(pos[0], -20.3, 1e-9, "left cap");
		CHECK_CLOSE(pos[1], 25.2, 1e-9, "right cap");
		fit_peaks_t p;
		CHECK(!fit_peaks(f, NB, N0, NULL, &p, err), "%s", err);
		CHECK_CLOSE(h[1], p.height_right, 1e-15,
			    "right height = fit_peaks'");
	}
}

static void test_lost(void)
{
	enum { NT = 6 };
	double f[NT][NB], t[NT] = {0, 0.5, NAN, 1.5, 2, 2.5};
	track_row_t r[NT];
	int res = -1;
	caps(f[0], -10, 12, 0.11, 0.13);
	caps(f[1], -10.4, 12.5, 0.11, 0.13);
	caps(f[2], -10.4, 12.5, 0.11, 0.13);
	f[2][5] = NAN; /* an unwritten row: skipped, not an error */
	caps(f[3], -30, 13.4, 0.11, 0.13); /* left maximum far away */
	for (int i = 0; i < NB; i++) /* one dome: one maximum */
		f[4][i] = fmax(0, 0.15 * (1 - pow(N0 + i - 0.5, 2) / 400));
	caps(f[5], -12, 14, 0.11, 0.13);
	CHECK(!track_profiles(&f[0][0], NT, NB, N0, t, NULL, r, &res, err),
	      "%s", err);
	CHECK(r[1].found == 1 && r[1].linked, "row 1 linked");
	CHECK(r[2].found == -1 && isnan(r[2].n_left), "row 2 skipped");
	CHECK(r[3].found == 1 && !r[3].linked, "row 3 read afresh");
	CHECK_CLOSE(r[3].n_left, -30, 1e-9, "the new left maximum");
	CHECK(r[4].found == 0 && r[4].n_left == 0 && r[4].n_right == 0,
	      "one maximum: 0, 0");
	CHECK(r[5].found == 1 && !r[5].linked, "row 5 starts a new track");
	CHECK(res == 1, "one restart (%d)", res);
	/* errors */
	t[2] = 1;
	CHECK(track_profiles(&f[0][0], NT, NB, N0, t, NULL, r, &res, err) &&
		      strstr(err, "finite") && strstr(err, "t = 1"),
	      "NaN in a written row: %s", err);
	CHECK(track_profiles(&f[0][0], 1, NB, 3, t, NULL, r, &res, err) &&
		      strstr(err, "junction"),
	      "no junction: %s", err);
	track_opts_t o;
	track_opts_default(&o);
	o.prominence = -1;
	CHECK(track_profiles(&f[0][0], 1, NB, N0, t, &o, r, &res, err) &&
		      strstr(err, "bad options"),
	      "bad options: %s", err);
}

/* A maximum the noise estimate hides: lattice-scale noise over the left
 * cap raises its prominence threshold above the cap's height, so the
 * prominent candidates hold the right cap alone.  The row must be read
 * by fit_peaks' rule on every maximum (a pair), not taken for one maximum
 * (n' = 0, which the paper's rule keeps for a profile without a slow
 * region). */
static void test_hidden(void)
{
	const double pl = -20.3, pr = 25.2;
	double f[NB], pos[64], h[64], t = 12;
	int n3 = 0;
	track_row_t r;
	caps(f, pl, pr, 0.11, 0.13);
	for (int i = 0; i < NB; i++)
		if (fabs(N0 + i - pl) <= 10)
			f[i] += 0.06 * ((i % 2) ? 1 : -1);
	track_opts_t o;
	track_opts_default(&o);
	CHECK(!track_candidates(f, NB, N0, &o, pos, h, 64, &n3, NULL, err),
	      "%s", err);
	CHECK(n3 == 1 && pos[0] > 0, "prominent: the right cap alone (%d)",
	      n3);
	fit_peaks_t p;
	CHECK(!fit_peaks(f, NB, N0, NULL, &p, err) && p.found == 1,
	      "fit_peaks sees the pair");
	CHECK(!track_profiles(f, 1, NB, N0, &t, NULL, &r, NULL, err), "%s",
	      err);
	CHECK(r.found == 1 && !r.linked, "the hidden maximum's row: a pair "
	      "(found %d)", r.found);
	CHECK(fabs(r.n_left - p.n_left) < 1e-12 &&
		      fabs(r.n_right - p.n_right) < 1e-12,
	      "fit_peaks' positions: %g %g against %g %g", r.n_left,
	      r.n_right, p.n_left, p.n_right);
	CHECK(fabs(r.n_left - pl) < 1 && fabs(r.n_right - pr) < 1e-9,
	      "near the caps: %g %g", r.n_left, r.n_right);
}

enum { RL = 120, RNB = RL - 1, RMAX = 64 };

/* the rows of the real-data file; returns their number (0: unreadable) */
static int read_real(const char *dir, double *t, double *je)
{
	char path[4096], line[8192];
	int n = 0;
	snprintf(path, sizeof path, "%s/engine/data/psi1_pi3_L120_chi64_je.txt",
		 dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (n < RMAX && fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		char *p = line, *e;
		t[n] = strtod(p, &e);
		int i = 0;
		for (p = e; i < RNB; i++, p = e) {
			je[(size_t)n * RNB + i] = strtod(p, &e);
			if (e == p)
				break;
		}
		if (i != RNB) {
			fclose(f);
			return 0;
		}
		n++;
	}
	fclose(f);
	return n;
}

static void test_real(const char *dir)
{
	static double je[RMAX * RNB];
	double t[RMAX], tw[RMAX], yl[RMAX], ys[RMAX];
	track_row_t r[RMAX];
	int n = read_real(dir, t, je), m = 0, res;
	CHECK(n == 25, "25 rows of real data (%d)", n);
	if (n != 25)
		return;
	CHECK(!track_profiles(je, n, RNB, -RL / 2 + 1, t, NULL, r, &res, err),
	      "%s", err);
	double hop = -INFINITY, back = -INFINITY;
	for (int k = 0; k < n; k++) {
		fit_peaks_t p;
		CHECK(!fit_peaks(je + (size_t)k * RNB, RNB, -RL / 2 + 1, NULL, &p,
				 err),
		      "%s", err);
		if (t[k] < 30 - 1e-9)
			continue;
		CHECK(r[k].found == 1 && p.found == 1, "t = %g: a pair", t[k]);
		tw[m] = t[k];
		yl[m] = r[k].n_left;
		ys[m] = p.n_left;
		if (m) {
			hop = fmax(hop, ys[m] - ys[m - 1]);
			back = fmax(back, yl[m] - yl[m - 1]);
		}
		m++;
	}
	CHECK(m == 21, "21 rows in 30:40 (%d)", m);
	CHECK(hop > 2, "fit_peaks jumps back by %g bonds", hop);
	CHECK(back < 0.75, "the track moves back by at most %g bonds", back);
	fit_line_t ft, fs;
	CHECK(!fit_line(tw, yl, NULL, m, &ft, err) &&
		      !fit_line(tw, ys, NULL, m, &fs, err),
	      "%s", err);
	CHECK(ft.slope_sd < 0.5 * fs.slope_sd,
	      "sd(v'_L): track %g, row by row %g", ft.slope_sd, fs.slope_sd);
	CHECK(ft.slope < -0.4 && ft.slope > -0.8, "v'_L = %g", ft.slope);
	printf("real data, window 30:40: v'_L = %.4f +- %.4f tracked, "
	       "%.4f +- %.4f row by row\n",
	       ft.slope, ft.slope_sd, fs.slope, fs.slope_sd);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_track TESTS_DIR\n");
		return 2;
	}
	test_real(argv[1]);
	test_clean();
	test_ripple();
	test_prominence();
	test_lost();
	test_hidden();
	return check_done("test_track");
}
