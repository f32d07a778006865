/* synth_profile: the synthetic energy-current profile of the light-cone
 * tests (test_fit.c, test_track.c).
 *
 * A profile over bonds n0 .. n0+nb-1 that is exactly a downward parabola
 * within 3.5 bonds of each of its two maxima (pl < 0 < pr, sub-bond
 * positions, heights hl, hr), so that the 3-bond moving average keeps each
 * vertex where it is and the parabolic refinement is exact; between them a
 * flat dip (the slow region) at 0.3 times the lower maximum; outside,
 * linear decay to 0 (the light cone). */
#ifndef SYNTH_PROFILE_H
#define SYNTH_PROFILE_H

#include <math.h>

static inline void synth_profile(double *f, int nb, int n0, double pl,
				 double pr, double hl, double hr)
{
	const double a = 0.004, w = 3.5; /* curvature, parabola half-width */
	for (int i = 0; i < nb; i++) {
		double n = n0 + i, v;
		if (fabs(n - pl) <= w)
			v = hl - a * (n - pl) * (n - pl);
		else if (fabs(n - pr) <= w)
			v = hr - a * (n - pr) * (n - pr);
		else if (n > pl && n < pr)
			v = 0.3 * fmin(hl, hr);
		else if (n < pl)
			v = fmax(0, hl - a * w * w - 0.01 * (pl - w - n));
		else
			v = fmax(0, hr - a * w * w - 0.01 * (n - pr - w));
		f[i] = v;
	}
}

#endif
