/* test_qrdec: the QR-based truncated decomposition (kernels/mps/qrdec.c) against
 * LAPACK's SVD (zgesvd) of the same matrix Psi = diag(d) A.
 *
 * Checked, with the tolerances stated at each call:
 *  - full trial dimension (k = min(m, n)) on random matrices of several
 *    shapes: singular values equal the SVD's to 1e-12 (relative to s_0),
 *    V^dag has orthonormal rows and A V V^dag = A to 1e-12;
 *  - exact low rank r with a random start subspace of dimension >= r: the
 *    r values to 1e-12, the rest 0 (rest < 1e-14: the rounding of
 *    ||Psi||_F^2 - sum s^2);
 *  - a graded spectrum (s_a = 0.6^a) with the exact right basis rotated by
 *    1e-3 as start: leading values to 1e-10 relative, and every value an
 *    interlacing lower bound of the SVD's;
 *  - the identity the kernels rely on, for any start subspace: truncating
 *    to j values, Psi V_j = (left factor) ... so ||Psi - Psi V_j V_j^dag||^2
 *    equals rest + sum_{a >= j} s_a^2 to 1e-13, and the left factor is A V;
 *  - row weights d: the same as decomposing the scaled matrix (values to
 *    1e-12, left factors of the values >= 1e-3 to 1e-12);
 *  - determinism: bitwise equal outputs from 4 OpenMP threads at once and a
 *    serial call. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "check.h"
#include "qrdec.h"

static char err[KZ_ERRLEN];
static unsigned long long rng = 88172645463325252ULL;

static double urand(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static kz_cplx crand(void) { return (urand() - 0.5) + I * (urand() - 0.5); }

static kz_cplx *rand_mat(int m, int n)
{
	kz_cplx *a = malloc((size_t)m * n * sizeof *a);
	for (size_t i = 0; i < (size_t)m * n; i++)
		a[i] = crand();
	return a;
}

/* Unitary-column matrix m x k (QR of a random one). */
static kz_cplx *rand_orth(int m, int k)
{
	kz_cplx *q = rand_mat(m, k), *tau = malloc((size_t)k * sizeof *tau);
	LAPACKE_zgeqrf(LAPACK_COL_MAJOR, m, k, q, m, tau);
	LAPACKE_zungqr(LAPACK_COL_MAJOR, m, k, k, q, m, tau);
	free(tau);
	return q;
}

/* Psi = U diag(s) V^dag, m x n, with r values; *vt gets V^dag (r x n). */
static kz_cplx *with_spectrum(int m, int n, int r, const double *s,
			      kz_cplx **vt)
{
	kz_cplx *u = rand_orth(m, r), *v = rand_orth(n, r);
	kz_cplx *a = calloc((size_t)m * n, sizeof *a);
	for (int c = 0; c < r; c++)
		for (int i = 0; i < m; i++)
			u[i + (size_t)m * c] *= s[c];
	kz_cplx one = 1, zero = 0;
	cblas_zgemm(CblasColMajor, CblasNoTrans, CblasConjTrans, m, n, r, &one,
		    u, m, v, n, &zero, a, m);
	*vt = malloc((size_t)r * n * sizeof **vt);
	for (int c = 0; c < n; c++)
		for (int i = 0; i < r; i++)
			(*vt)[i + (size_t)r * c] = conj(v[c + (size_t)n * i]);
	free(u), free(v);
	return a;
}

/* Singular values of diag(d) A by zgesvd. */
static double *svd_ref(int m, int n, const kz_cplx *a, const double *d)
{
	int mn = m < n ? m : n;
	kz_cplx *x = kz_blas_alloc((size_t)m * n * sizeof *x); /* zgesvd */
	for (int c = 0; c < n; c++)
		for (int r = 0; r < m; r++)
			x[r + (size_t)m * c] =
				a[r + (size_t)m * c] * (d ? d[r] : 1);
	double *s = malloc((size_t)mn * sizeof *s), *sup = malloc(
		(size_t)mn * sizeof *sup);
	LAPACKE_zgesvd(LAPACK_COL_MAJOR, 'N', 'N', m, n, x, m, s, NULL, 1,
		       NULL, 1, sup);
	free(x), free(sup);
	return s;
}

typedef struct {
	qrd_out_t o;
	double *s;
	kz_cplx *vt, *lf;
} res_t;

static void run(qrd_ws_t *w, const qrd_in_t *in, res_t *r)
{
	int mn = in->m < in->n ? in->m : in->n;
	r->s = calloc((size_t)mn, sizeof *r->s);
	r->vt = calloc((size_t)mn * in->n, sizeof *r->vt);
	r->lf = calloc((size_t)mn * in->m, sizeof *r->lf);
	r->o = (qrd_out_t){.s = r->s, .vt = r->vt, .ldvt = mn, .lf = r->lf,
			   .ldlf = in->m};
	OK(qrd_decompose(w, in, &r->o, err));
}

static void res_free(res_t *r) { free(r->s), free(r->vt), free(r->lf); }

/* ||Psi - (D lf_j) vt_j||_F^2 for the first j vectors, and max |lf - A V|,
 * max |V V^dag - 1| over the k rows. */
static void identities(const qrd_in_t *in, const res_t *r, int j,
		       double *err2, double *lfdev, double *orth)
{
	int m = in->m, n = in->n, k = r->o.k, ld = r->o.ldvt;
	double e = 0, dl = 0, dor = 0;
	for (int c = 0; c < n; c++)
		for (int i = 0; i < m; i++) {
			kz_cplx acc = 0;
			for (int a = 0; a < j; a++)
				acc += r->lf[i + (size_t)m * a] *
				       r->vt[a + (size_t)ld * c];
			double di = in->d ? in->d[i] : 1;
			kz_cplx x = di * (in->a[i + (size_t)in->lda * c] - acc);
			e += creal(x * conj(x));
		}
	for (int a = 0; a < k; a++)
		for (int i = 0; i < m; i++) {
			kz_cplx acc = 0;
			for (int c = 0; c < n; c++)
				acc += in->a[i + (size_t)in->lda * c] *
				       conj(r->vt[a + (size_t)ld * c]);
			dl = fmax(dl, cabs(acc - r->lf[i + (size_t)m * a]));
		}
	for (int a = 0; a < k; a++)
		for (int b = 0; b < k; b++) {
			kz_cplx acc = 0;
			for (int c = 0; c < n; c++)
				acc += r->vt[a + (size_t)ld * c] *
				       conj(r->vt[b + (size_t)ld * c]);
			dor = fmax(dor, cabs(acc - (a == b)));
		}
	*err2 = e, *lfdev = dl, *orth = dor;
}

static void test_full(qrd_ws_t *w)
{
	const int shapes[][2] = {{40, 40}, {60, 25}, {25, 60}, {7, 3}, {1, 9}};
	for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++) {
		int m = shapes[t][0], n = shapes[t][1], mn = m < n ? m : n;
		kz_cplx *a = rand_mat(m, n);
		qrd_in_t in = {.m = m, .n = n, .a = a, .lda = m, .kext = mn};
		res_t r;
		run(w, &in, &r);
		double *s = svd_ref(m, n, a, NULL), d2, dl, dor;
		CHECK(r.o.k == mn, "%dx%d: k=%d", m, n, r.o.k);
		double ds = 0;
		for (int i = 0; i < mn; i++)
			ds = fmax(ds, fabs(r.s[i] - s[i]));
		CHECK(ds <= 1e-12 * s[0], "%dx%d full: |s - s_svd| = %.3g", m,
		      n, ds);
		identities(&in, &r, mn, &d2, &dl, &dor);
		CHECK(sqrt(d2) <= 1e-12 * s[0], "%dx%d: ||A - A V V^dag|| %.3g",
		      m, n, sqrt(d2));
		CHECK(dor <= 1e-12, "%dx%d: V V^dag - 1: %.3g", m, n, dor);
		CHECK(dl <= 1e-12, "%dx%d: lf - A V: %.3g", m, n, dl);
		CHECK(r.o.rest <= 1e-24 + 1e-13 * s[0] * s[0], "rest %.3g",
		      r.o.rest);
		free(a), free(s), res_free(&r);
	}
}

static void test_low_rank(qrd_ws_t *w)
{
	enum { M = 50, N = 70, R = 10 };
	double sv[R];
	for (int a = 0; a < R; a++)
		sv[a] = 1.0 / (1 + a * a);
	kz_cplx *vt, *a = with_spectrum(M, N, R, sv, &vt);
	kz_cplx *y0 = rand_mat(12, N); /* random start, dimension 12 >= R */
	qrd_in_t in = {.m = M, .n = N, .a = a, .lda = M, .y0 = y0, .k0 = 12,
		       .ldy0 = 12, .kext = 2};
	res_t r;
	run(w, &in, &r);
	CHECK(r.o.k == 14, "k = %d", r.o.k);
	double ds = 0;
	for (int i = 0; i < r.o.k; i++)
		ds = fmax(ds, fabs(r.s[i] - (i < R ? sv[i] : 0)));
	CHECK(ds <= 1e-12, "rank %d: |s - exact| = %.3g", R, ds);
	CHECK(r.o.rest <= 1e-14, "rank %d: rest %.3g (rounding of ||Psi||^2 "
	      "- sum s^2 only)", R, r.o.rest);
	free(a), free(vt), free(y0), res_free(&r);
}

/* Graded spectrum, start = exact basis rotated by eps; also the exact
 * discarded-weight identity, here and with a random start. */
static void test_graded(qrd_ws_t *w)
{
	enum { M = 64, N = 72, R = 60, K0 = 20 };
	double sv[R];
	for (int a = 0; a < R; a++)
		sv[a] = pow(0.6, a);
	kz_cplx *vt, *a = with_spectrum(M, N, R, sv, &vt);
	kz_cplx *y0 = malloc((size_t)K0 * N * sizeof *y0);
	for (int c = 0; c < N; c++)
		for (int i = 0; i < K0; i++)
			y0[i + (size_t)K0 * c] =
				vt[i + (size_t)R * c] + 1e-3 * crand();
	double *d = malloc(M * sizeof *d);
	for (int i = 0; i < M; i++)
		d[i] = 1;
	for (int pass = 0; pass < 2; pass++) {
		qrd_in_t in = {.m = M, .n = N, .a = a, .lda = M, .y0 = y0,
			       .k0 = K0, .ldy0 = K0, .kext = 4};
		if (pass) { /* random start */
			for (size_t i = 0; i < (size_t)K0 * N; i++)
				y0[i] = crand();
		}
		res_t r;
		run(w, &in, &r);
		double *s = svd_ref(M, N, a, NULL), tot = 0;
		for (int i = 0; i < M; i++)
			tot += s[i] * s[i];
		int bound = 1;
		for (int i = 0; i < r.o.k; i++)
			bound &= r.s[i] <= s[i] * (1 + 1e-13) + 1e-15;
		CHECK(bound, "pass %d: values are not lower bounds", pass);
		if (!pass)
			for (int i = 0; i < 10; i++)
				CHECK(fabs(r.s[i] - s[i]) <= 1e-10 * s[i],
				      "value %d: %.15g vs %.15g", i, r.s[i],
				      s[i]);
		const int js[] = {1, 8, 15, r.o.k};
		for (int t = 0; t < 4; t++) {
			int j = js[t];
			double e2, dl, dor, disc = r.o.rest;
			for (int i = j; i < r.o.k; i++)
				disc += r.s[i] * r.s[i];
			identities(&in, &r, j, &e2, &dl, &dor);
			CHECK(fabs(e2 - disc) <= 1e-13 * tot,
			      "pass %d j=%d: ||Psi - trunc||^2 %.6g vs reported "
			      "%.6g",
			      pass, j, e2, disc);
			double opt = 0; /* the SVD's discarded weight */
			for (int i = j; i < M; i++)
				opt += s[i] * s[i];
			CHECK(disc >= opt - 1e-13 * tot,
			      "pass %d j=%d: discarded %.6g below optimum %.6g",
			      pass, j, disc, opt);
			if (!pass && j <= 15)
				CHECK(disc <= opt * (1 + 1e-6) + 1e-15,
				      "pass %d j=%d: discarded %.6g vs optimum "
				      "%.6g",
				      pass, j, disc, opt);
			if (!t)
				CHECK(dl <= 1e-12 && dor <= 1e-12,
				      "lf dev %.3g, orth %.3g", dl, dor);
		}
		free(s), res_free(&r);
	}
	/* row weights: same as the explicitly scaled matrix */
	for (int i = 0; i < M; i++)
		d[i] = 0.1 + urand();
	kz_cplx *as = malloc((size_t)M * N * sizeof *as);
	for (int c = 0; c < N; c++)
		for (int i = 0; i < M; i++)
			as[i + (size_t)M * c] = d[i] * a[i + (size_t)M * c];
	qrd_in_t in1 = {.m = M, .n = N, .a = a, .lda = M, .d = d, .y0 = y0,
			.k0 = K0, .ldy0 = K0, .kext = 4};
	qrd_in_t in2 = in1;
	in2.a = as, in2.d = NULL;
	res_t r1, r2;
	run(w, &in1, &r1);
	run(w, &in2, &r2);
	double ds = 0, dlf = 0;
	for (int i = 0; i < r1.o.k; i++)
		ds = fmax(ds, fabs(r1.s[i] - r2.s[i]));
	/* vectors of values >= 1e-3 only: below, rounding alone turns them
	 * by eps s_0 / gap, as in any SVD */
	for (int c = 0; c < r1.o.k && r1.s[c] >= 1e-3; c++)
		for (int i = 0; i < M; i++)
			dlf = fmax(dlf, cabs(d[i] * r1.lf[i + (size_t)M * c] -
					     r2.lf[i + (size_t)M * c]));
	CHECK(ds <= 1e-12 && dlf <= 1e-12,
	      "weights: |s1 - s2| %.3g, |D lf1 - lf2| %.3g", ds, dlf);
	double e2, dl, dor, disc = r1.o.rest;
	for (int i = 8; i < r1.o.k; i++)
		disc += r1.s[i] * r1.s[i];
	identities(&in1, &r1, 8, &e2, &dl, &dor);
	CHECK(fabs(e2 - disc) <= 1e-13, "weights: %.6g vs %.6g", e2, disc);
	CHECK(dl <= 1e-12, "weights: lf - A V %.3g", dl);
	res_free(&r1), res_free(&r2);
	free(a), free(vt), free(y0), free(d), free(as);
}

static void test_determinism(void)
{
	enum { M = 90, N = 80, K0 = 30, NT = 4 };
	kz_cplx *a = rand_mat(M, N), *y0 = rand_mat(K0, N);
	double d[M];
	for (int i = 0; i < M; i++)
		d[i] = urand();
	qrd_in_t in = {.m = M, .n = N, .a = a, .lda = M, .d = d, .y0 = y0,
		       .k0 = K0, .ldy0 = K0, .kext = 5};
	res_t ref, r[NT];
	qrd_ws_t *w0;
	OK(qrd_ws_create(&w0));
	run(w0, &in, &ref);
	int ok[NT];
#pragma omp parallel for num_threads(NT)
	for (int t = 0; t < NT; t++) {
		qrd_ws_t *w;
		char e[KZ_ERRLEN];
		qrd_ws_create(&w);
		int mn = M < N ? M : N;
		r[t].s = calloc(mn, sizeof(double));
		r[t].vt = calloc((size_t)mn * N, sizeof(kz_cplx));
		r[t].lf = calloc((size_t)mn * M, sizeof(kz_cplx));
		r[t].o = (qrd_out_t){.s = r[t].s, .vt = r[t].vt, .ldvt = mn,
				     .lf = r[t].lf, .ldlf = M};
		ok[t] = qrd_decompose(w, &in, &r[t].o, e) == KZ_OK;
		qrd_ws_destroy(&w);
	}
	for (int t = 0; t < NT; t++) {
		int k = ref.o.k;
		CHECK(ok[t] && r[t].o.k == k, "thread %d failed", t);
		CHECK(!memcmp(r[t].s, ref.s, k * sizeof(double)) &&
			      !memcmp(r[t].vt, ref.vt,
				      (size_t)k * N * sizeof(kz_cplx)) &&
			      !memcmp(r[t].lf, ref.lf,
				      (size_t)k * M * sizeof(kz_cplx)) &&
			      r[t].o.rest == ref.o.rest,
		      "thread %d: output differs bitwise from the serial call",
		      t);
		res_free(&r[t]);
	}
	res_free(&ref);
	qrd_ws_destroy(&w0);
	free(a), free(y0);
}

int main(void)
{
	openblas_set_num_threads(1);
	qrd_ws_t *w;
	OK(qrd_ws_create(&w));
	test_full(w);
	test_low_rank(w);
	test_graded(w);
	test_determinism();
	/* bad arguments */
	kz_cplx a[4] = {1, 2, 3, 4};
	double s[2];
	kz_cplx vt[4];
	qrd_in_t in = {.m = 2, .n = 2, .a = a, .lda = 1};
	qrd_out_t o = {.s = s, .vt = vt, .ldvt = 2};
	CHECK(qrd_decompose(w, &in, &o, err) == KZ_EINVAL, "lda < m accepted");
	qrd_ws_destroy(&w);
	return check_done("test_qrdec");
}
