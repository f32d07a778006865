/* test_trunc: the shared primitives under TEBD, DMRG and the purification,
 * against hand-worked answers:
 *   - the truncation rule: chi_max largest values over all sectors, the
 *     cutoff (absolute, never below the noise floor), at least one value
 *     kept, equal values taken from the lower sector first, the discarded
 *     weight, and the failure on a zero or non-finite spectrum; a
 *     sector's weight outside its values (rest) counts as discarded and
 *     leaves the choice alone;
 *   - the Trotter scheme table: order -> scheme for real and imaginary time,
 *     layers per step, and the merged layer sequence (parities alternate,
 *     coefficients of each parity sum to one per step, the boundary
 *     half-layers of consecutive steps merged). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "kz.h"
#include "trotter.h"
#include "trunc.h"

static char err[KZ_ERRLEN];

/* sectors {0.6, 0.5, 0.1}, {0.5, 0.3}, {}, {0.2} */
static const double sv[] = {0.6, 0.5, 0.1, 0.5, 0.3, 0.2};
static const size_t soff[] = {0, 3, 5, 5};
static const int kfull[] = {3, 2, 0, 1};

static double total(void)
{
	double t = 0;
	for (int a = 0; a < 6; a++)
		t += sv[a] * sv[a];
	return t;
}

static void test_rule(void)
{
	trunc_ws_t w = {0};
	int keep[4];
	double kept, disc, tot = total();

	/* chi 2: 0.6 and one of the two 0.5s -- sector 0's, the lower */
	int n = trunc_select(&w, sv, soff, kfull, NULL, 4, 2, 0, keep, &kept, &disc);
	CHECK(n == 2 && keep[0] == 2 && keep[1] == 0 && keep[2] == 0 &&
		      keep[3] == 0,
	      "chi 2: n %d keep %d %d %d %d", n, keep[0], keep[1], keep[2],
	      keep[3]);
	CHECK_CLOSE(kept, 0.36 + 0.25, 1e-15, "chi 2: kept weight");
	CHECK_CLOSE(disc, (tot - 0.61) / tot, 1e-15, "chi 2: discarded");

	/* chi 4: 0.6, 0.5, 0.5, 0.3 */
	n = trunc_select(&w, sv, soff, kfull, NULL, 4, 4, 0, keep, &kept, &disc);
	CHECK(n == 4 && keep[0] == 2 && keep[1] == 2 && keep[3] == 0,
	      "chi 4: n %d keep %d %d %d", n, keep[0], keep[1], keep[3]);

	/* cutoff 0.25 with room for all: drops 0.2 and 0.1 */
	n = trunc_select(&w, sv, soff, kfull, NULL, 4, 100, 0.25, keep, &kept,
			 &disc);
	CHECK(n == 4 && keep[0] == 2 && keep[1] == 2 && keep[3] == 0,
	      "cutoff 0.25: n %d keep %d %d %d", n, keep[0], keep[1],
	      keep[3]);
	CHECK_CLOSE(disc, 0.05 / tot, 1e-15, "cutoff 0.25: discarded");

	/* a value equal to the cutoff is kept */
	n = trunc_select(&w, sv, soff, kfull, NULL, 4, 100, 0.2, keep, &kept, &disc);
	CHECK(n == 5 && keep[3] == 1 && keep[0] == 2, "cutoff 0.2: n %d", n);

	/* nothing above the cutoff: the largest value stays */
	n = trunc_select(&w, sv, soff, kfull, NULL, 4, 100, 0.9, keep, &kept, &disc);
	CHECK(n == 1 && keep[0] == 1 && keep[1] == 0, "cutoff 0.9: n %d", n);
	CHECK_CLOSE(kept, 0.36, 1e-15, "cutoff 0.9: kept");

	/* no cutoff: the noise floor still drops 1e-15 */
	const double tiny[] = {1, 1e-15};
	const size_t toff[] = {0, 1};
	const int tfull[] = {1, 1};
	n = trunc_select(&w, tiny, toff, tfull, NULL, 2, 10, 0, keep, &kept, &disc);
	CHECK(n == 1 && keep[0] == 1 && keep[1] == 0,
	      "noise floor %g: n %d", TRUNC_SV_FLOOR, n);

	/* ties in the other order of sectors: still the lower sector */
	const double tie[] = {0.3, 0.7, 0.7};
	const size_t tioff[] = {0, 1, 2};
	const int tifull[] = {1, 1, 1};
	n = trunc_select(&w, tie, tioff, tifull, NULL, 3, 1, 0, keep, &kept, &disc);
	CHECK(n == 1 && keep[1] == 1 && keep[2] == 0, "tie: keep %d %d",
	      keep[1], keep[2]);

	/* rest: 0.1 outside sector 1's values, 0.05 outside sector 3's; the
	 * same values kept, the rest discarded with the dropped ones */
	const double rest[] = {0, 0.1, 0, 0.05};
	n = trunc_select(&w, sv, soff, kfull, rest, 4, 2, 0, keep, &kept,
			 &disc);
	CHECK(n == 2 && keep[0] == 2 && keep[1] == 0 && keep[3] == 0,
	      "rest: n %d keep %d %d %d", n, keep[0], keep[1], keep[3]);
	CHECK_CLOSE(kept, 0.61, 1e-15, "rest: kept weight");
	CHECK_CLOSE(disc, (tot + 0.15 - 0.61) / (tot + 0.15), 1e-15,
		    "rest: discarded");
	/* zero rest: bitwise the result without */
	const double norest[] = {0, 0, 0, 0};
	double kept0, disc0;
	trunc_select(&w, sv, soff, kfull, NULL, 4, 3, 0, keep, &kept0, &disc0);
	n = trunc_select(&w, sv, soff, kfull, norest, 4, 3, 0, keep, &kept,
			 &disc);
	CHECK(n == 3 && kept == kept0 && disc == disc0,
	      "zero rest: %.17g %.17g vs %.17g %.17g", kept, disc, kept0, disc0);

	/* zero and non-finite spectra are errors, *disc = the total */
	const double zero[] = {0, 0};
	n = trunc_select(&w, zero, toff, tfull, NULL, 2, 10, 0, keep, &kept, &disc);
	CHECK(n == KZ_ENUM && disc == 0, "zero spectrum: %d", n);
	const double bad[] = {NAN, 1};
	n = trunc_select(&w, bad, toff, tfull, NULL, 2, 10, 0, keep, &kept, &disc);
	CHECK(n == KZ_ENUM, "NaN spectrum: %d", n);
	trunc_ws_free(&w);
}

static void test_schemes(void)
{
	trotter_scheme_t s;
	OK(trotter_scheme_for_order(4, TROTTER_REAL, &s, "t", err));
	CHECK(s == TROTTER_FOREST_RUTH4 && trotter_layers(s) == 6 &&
		      !strcmp(trotter_name(s), "forest-ruth4"),
	      "real order 4: %s", trotter_name(s));
	OK(trotter_scheme_for_order(4, TROTTER_IMAGINARY, &s, "t", err));
	CHECK(s == TROTTER_OMELYAN4 && trotter_layers(s) == 8,
	      "imaginary order 4: %s", trotter_name(s));
	OK(trotter_scheme_for_order(2, TROTTER_IMAGINARY, &s, "t", err));
	CHECK(s == TROTTER_STRANG2 && trotter_layers(s) == 2, "order 2: %s",
	      trotter_name(s));
	CHECK(trotter_scheme_for_order(3, TROTTER_REAL, &s, "t", err) ==
		      KZ_EINVAL,
	      "order 3 refused");
	CHECK(trotter_layers_for_order(4, TROTTER_REAL) == 6 &&
		      trotter_layers_for_order(4, TROTTER_IMAGINARY) == 8 &&
		      trotter_layers_for_order(2, TROTTER_REAL) == 2 &&
		      trotter_layers_for_order(6, TROTTER_REAL) == 0,
	      "layers for order");
	CHECK(trotter_layers(TROTTER_SUZUKI4) == 10 &&
		      !strcmp(trotter_name((trotter_scheme_t)99), "?"),
	      "suzuki layers, unknown name");

	trotter_seq_t q = {0};
	for (int sc = 0; sc <= TROTTER_LAST; sc++)
		for (int nsteps = 1; nsteps <= 3; nsteps++) {
			OK(trotter_seq_build(&q, sc, nsteps));
			double sum[2] = {0, 0};
			int alt = 1;
			for (size_t l = 0; l < q.n; l++) {
				sum[q.par[l]] += q.coef[l];
				if (l && q.par[l] == q.par[l - 1])
					alt = 0;
			}
			size_t want = (size_t)trotter_layers(sc) * nsteps + 1;
			CHECK(q.n == want && alt && q.par[0] == 0,
			      "%s x %d: %zu layers (want %zu), alternating %d",
			      trotter_name(sc), nsteps, q.n, want, alt);
			CHECK_CLOSE(sum[0], nsteps, 1e-13, "even coefficients");
			CHECK_CLOSE(sum[1], nsteps, 1e-13, "odd coefficients");
		}
	/* Strang, 2 steps: A/2 B A B A/2 */
	OK(trotter_seq_build(&q, TROTTER_STRANG2, 2));
	CHECK(q.n == 5 && q.coef[0] == 0.5 && q.coef[1] == 1 &&
		      q.coef[2] == 1 && q.coef[3] == 1 && q.coef[4] == 0.5,
	      "strang x 2");
	trotter_seq_free(&q);
}

int main(void)
{
	test_rule();
	test_schemes();
	return check_done("test_trunc");
}
