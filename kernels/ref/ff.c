/* ff: free-fermion reference for the XX chain (Delta = 0 on every bond).
 *
 * Jordan-Wigner with c_j = prod_{k<j} (-1)^{n_k} S-_j gives
 *   S+_i S-_{i+1} = c_i^dag c_{i+1},  Sz_i = n_i - 1/2,
 *   H = sum_ij T_ij c_i^dag c_j,  T_{i,i+1} = T_{i+1,i} = J_i / 2,
 * and every state here (product states, Slater determinants and their
 * evolutions) is Gaussian and number conserving, fixed by C_ij = <c_i^dag c_j>.
 *
 * Evolution.  Heisenberg: dc_j/dt = i[H, c_j] = -i sum_k T_jk c_k, so
 * c_j(t) = sum_k U_jk c_k with U = exp(-iTt), and
 *   C(t)_ij = sum_kl U*_ik C_kl U_jl = (U* C U^T)_ij = (U* C U)_ij
 * (T real symmetric, so U^T = U).  With T = V diag(e) V^T:
 *   C(t) = V [ e^{i e_k t} (V^T C V)_kl e^{-i e_l t} ] V^T.
 *
 * Observables (all checked against ed.c in tests/kernels/test_ref.c):
 *   <Sz_i>  = C_ii - 1/2
 *   <h_i>   = (J_i/2)(C_{i,i+1} + C_{i+1,i})            = J_i Re C_{i,i+1}
 *   J^M_i   = J_i <Sx_i Sy_{i+1} - Sy_i Sx_{i+1}>
 *           = (i J_i/2)(C_{i,i+1} - C_{i+1,i})          = -J_i Im C_{i,i+1}
 *   j_b     = i <[h_{b-1}, h_b]>: quadratic forms commute as
 *             [c^dag A c, c^dag B c] = c^dag [A,B] c, and for the two hopping
 *             matrices [A,B] = (J_{b-1} J_b / 4)(E_{b-1,b+1} - E_{b+1,b-1}), so
 *           = (i J_{b-1} J_b / 4)(C_{b-1,b+1} - C_{b+1,b-1})
 *           = -(J_{b-1} J_b / 2) Im C_{b-1,b+1}.
 *   Entropy of sites 0..i: from the eigenvalues nu of C restricted to them
 *   (or to the other side, the smaller one),
 *   S = -sum [nu ln nu + (1-nu) ln(1-nu)] (Peschel, J. Phys. A 36, L205);
 *   the reduced state is a product over these modes, so the Schmidt weights
 *   are the products of nu_k or 1 - nu_k (ff_schmidt_values).
 *   rho3: the reduced state of a Gaussian state is Gaussian; in the
 *   eigenmodes d_k of the 3x3 block of C it is a product of independent
 *   occupations nu_k, and each mode configuration is a Slater determinant in
 *   the site basis (see ff_rho3).  Inside a contiguous block the JW strings
 *   of an N-conserving operator cancel, so this fermion matrix is the spin
 *   one in the basis (c_i^dag)^{s_i} (c_{i+1}^dag)^{s_{i+1}}
 *   (c_{i+2}^dag)^{s_{i+2}} |0> (ascending creation order = spin basis, no
 *   signs with the string convention above).
 */
#include "ff.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ff_s {
	int L;
	double *J;      /* [L-1] */
	double *e;      /* [L] hopping-matrix eigenvalues, ascending */
	double *V;      /* [L*L] its eigenvectors, column-major */
	kz_cplx *Vc;    /* V as complex, for zgemm */
	kz_cplx *C;     /* [L*L] C_ij = C[i + L*j] */
	kz_cplx *W1, *W2; /* ff_evolve workspace */
};

int ff_create(ff_t **f, const chain_t *c, char *err)
{
	ff_t *p = NULL;
	int rc = KZ_OK;

	*f = NULL;
	if (!c)
		return kz_err(err, KZ_EINVAL, "ff: NULL chain");
	for (int i = 0; i < c->L - 1; i++)
		if (c->Delta[i] != 0.0)
			return kz_err(err, KZ_EINVAL,
				      "ff: bond %d has Delta=%g; free fermions "
				      "need Delta = 0 on every bond",
				      i, c->Delta[i]);
	int L = c->L;
	size_t LL = (size_t)L * (size_t)L;
	p = calloc(1, sizeof *p);
	if (!p) {
		rc = kz_err(err, KZ_ENOMEM, "ff: out of memory");
		goto out;
	}
	p->L = L;
	p->J = malloc((size_t)(L - 1) * sizeof *p->J);
	p->e = malloc((size_t)L * sizeof *p->e);
	p->V = calloc(LL, sizeof *p->V);
	p->Vc = malloc(LL * sizeof *p->Vc);
	p->C = calloc(LL, sizeof *p->C);
	p->W1 = malloc(LL * sizeof *p->W1);
	p->W2 = malloc(LL * sizeof *p->W2);
	if (!p->J || !p->e || !p->V || !p->Vc || !p->C || !p->W1 || !p->W2) {
		rc = kz_err(err, KZ_ENOMEM, "ff: out of memory");
		goto out;
	}
	memcpy(p->J, c->J, (size_t)(L - 1) * sizeof *p->J);
	for (int i = 0; i < L - 1; i++) {
		p->V[i + (size_t)L * (i + 1)] = 0.5 * c->J[i];
		p->V[(i + 1) + (size_t)L * i] = 0.5 * c->J[i];
	}
	lapack_int info = LAPACKE_dsyev(LAPACK_COL_MAJOR, 'V', 'U', L, p->V,
					L, p->e);
	if (info) {
		rc = kz_err(err, KZ_ELAPACK, "ff: dsyev failed, info=%d",
			    (int)info);
		goto out;
	}
	for (size_t k = 0; k < LL; k++)
		p->Vc[k] = p->V[k];
	/* C = 0 until a state is set: the all-down state */
	*f = p;
	p = NULL;
out:
	ff_destroy(&p);
	return rc;
}

void ff_destroy(ff_t **f)
{
	if (!f || !*f)
		return;
	free((*f)->J);
	free((*f)->e);
	free((*f)->V);
	free((*f)->Vc);
	free((*f)->C);
	free((*f)->W1);
	free((*f)->W2);
	free(*f);
	*f = NULL;
}

int ff_set_product(ff_t *f, const int *up, char *err)
{
	int L = f->L;
	for (int i = 0; i < L; i++)
		if (up[i] != 0 && up[i] != 1)
			return kz_err(err, KZ_EINVAL,
				      "ff: up[%d]=%d is not 0 or 1", i, up[i]);
	memset(f->C, 0, (size_t)L * L * sizeof *f->C);
	for (int i = 0; i < L; i++)
		f->C[i + (size_t)L * i] = up[i];
	return KZ_OK;
}

int ff_set_ground_state(ff_t *f, int nup, double *energy, char *err)
{
	int L = f->L;
	if (nup < 0 || nup > L)
		return kz_err(err, KZ_EINVAL, "ff: nup=%d outside [0, L=%d]",
			      nup, L);
	if (nup > 0 && nup < L && f->e[nup] - f->e[nup - 1] <= 1e-10)
		return kz_err(err, KZ_ENUM,
			      "ff: levels %d and %d degenerate (%.17g, %.17g): "
			      "no unique ground state with nup=%d",
			      nup - 1, nup, f->e[nup - 1], f->e[nup], nup);
	/* H = sum_k e_k d_k^dag d_k, d_k = sum_j V_jk c_j; filling k < nup:
	 * C_ij = sum_{k<nup} V_ik V_jk */
	double E = 0;
	for (int k = 0; k < nup; k++)
		E += f->e[k];
	for (int j = 0; j < L; j++)
		for (int i = 0; i < L; i++) {
			double s = 0;
			for (int k = 0; k < nup; k++)
				s += f->V[i + (size_t)L * k] *
				     f->V[j + (size_t)L * k];
			f->C[i + (size_t)L * j] = s;
		}
	if (energy)
		*energy = E;
	return KZ_OK;
}

int ff_set_ground_state_of(ff_t *f, const chain_t *c0, int nup,
			   double *energy, char *err)
{
	ff_t *g = NULL;
	int rc;

	if (!c0 || c0->L != f->L) {
		rc = kz_err(err, KZ_EINVAL,
			    "ff: quench chain has L=%d, expected %d",
			    c0 ? c0->L : -1, f->L);
		goto out;
	}
	rc = ff_create(&g, c0, err);
	if (rc)
		goto out;
	rc = ff_set_ground_state(g, nup, energy, err);
	if (rc)
		goto out;
	memcpy(f->C, g->C, (size_t)f->L * f->L * sizeof *f->C);
out:
	ff_destroy(&g);
	return rc;
}

int ff_evolve(ff_t *f, double t, char *err)
{
	(void)err; /* nothing can fail: all buffers exist since ff_create */
	int L = f->L;
	const kz_cplx one = 1, zero = 0;
	/* W2 = V^T C V (purpose block) */
	cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, L, L, L, &one,
		    f->C, L, f->Vc, L, &zero, f->W1, L);
	cblas_zgemm(CblasColMajor, CblasTrans, CblasNoTrans, L, L, L, &one,
		    f->Vc, L, f->W1, L, &zero, f->W2, L);
	for (int l = 0; l < L; l++)
		for (int k = 0; k < L; k++)
			f->W2[k + (size_t)L * l] *=
				cexp(I * (f->e[k] - f->e[l]) * t);
	/* C = V W2 V^T */
	cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, L, L, L, &one,
		    f->Vc, L, f->W2, L, &zero, f->W1, L);
	cblas_zgemm(CblasColMajor, CblasNoTrans, CblasTrans, L, L, L, &one,
		    f->W1, L, f->Vc, L, &zero, f->C, L);
	return KZ_OK;
}

static kz_cplx Cij(const ff_t *f, int i, int j)
{
	return f->C[i + (size_t)f->L * j];
}

double ff_sz(const ff_t *f, int i)
{
	if (i < 0 || i >= f->L)
		return NAN;
	return creal(Cij(f, i, i)) - 0.5;
}

double ff_bond_energy(const ff_t *f, int i)
{
	if (i < 0 || i >= f->L - 1)
		return NAN;
	return 0.5 * f->J[i] * creal(Cij(f, i, i + 1) + Cij(f, i + 1, i));
}

double ff_spin_current(const ff_t *f, int i)
{
	if (i < 0 || i >= f->L - 1)
		return NAN;
	/* (i J/2)(C_{i,i+1} - C_{i+1,i}) */
	return creal(0.5 * I * f->J[i] * (Cij(f, i, i + 1) - Cij(f, i + 1, i)));
}

double ff_energy_flow(const ff_t *f, int b)
{
	if (b < 1 || b >= f->L - 1)
		return NAN;
	/* (i J_{b-1} J_b / 4)(C_{b-1,b+1} - C_{b+1,b-1}) */
	return creal(0.25 * I * f->J[b - 1] * f->J[b] *
		     (Cij(f, b - 1, b + 1) - Cij(f, b + 1, b - 1)));
}

/* -x ln x, 0 at x <= 0 (round-off can push an occupation just outside
 * [0, 1]; the limit x ln x -> 0 is the right value there) */
static double xlogx(double x) { return x > 0 ? -x * log(x) : 0.0; }

/* The occupations nu of the entanglement modes of the cut after site i:
 * the eigenvalues of C restricted to the smaller side (the state is pure, so
 * both sides have the same non-trivial ones).  Returns their number, or -1. */
static int cut_modes(const ff_t *f, int i, double *nu)
{
	int m = i + 1, first = 0;
	if (m > f->L - m) {
		first = m;
		m = f->L - m;
	}
	kz_cplx *A = kz_blas_alloc((size_t)m * m * sizeof *A); /* zheev */
	if (!A)
		return -1;
	for (int b = 0; b < m; b++)
		for (int a = 0; a < m; a++)
			A[a + (size_t)m * b] = Cij(f, first + a, first + b);
	if (kz_zheev('N', m, A, m, nu))
		m = -1;
	free(A);
	return m;
}

double ff_entropy(const ff_t *f, int i)
{
	if (i < 0 || i >= f->L - 1)
		return NAN;
	double S = NAN;
	double *nu = malloc((size_t)f->L * sizeof *nu);
	int m = nu ? cut_modes(f, i, nu) : -1;
	if (m >= 0) {
		S = 0;
		for (int k = 0; k < m; k++)
			S += xlogx(nu[k]) + xlogx(1 - nu[k]);
	}
	free(nu);
	return S;
}

static int cmp_desc(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a < b) - (a > b);
}

/* The Schmidt weights are the products over the modes of nu_k or 1 - nu_k.
 * Mode by mode, each of the n largest partial products is extended both
 * ways and only the n largest are kept: exact, because a partial product
 * outside the n largest has n larger ones that the same factor keeps
 * larger. */
int ff_schmidt_values(const ff_t *f, int i, int n, double *lam, char *err)
{
	if (i < 0 || i >= f->L - 1)
		return kz_err(err, KZ_EINVAL,
			      "ff_schmidt_values: bond %d out of range [0, %d]",
			      i, f->L - 2);
	if (n < 1)
		return kz_err(err, KZ_EINVAL,
			      "ff_schmidt_values: n=%d: expected >= 1", n);
	int have = 1;
	double *nu = malloc((size_t)f->L * sizeof *nu);
	double *w = malloc(2 * (size_t)n * sizeof *w);
	if (!nu || !w) {
		free(nu);
		free(w);
		return kz_err(err, KZ_ENOMEM, "ff_schmidt_values: out of memory");
	}
	int m = cut_modes(f, i, nu), rc = m < 0;
	w[0] = 1;
	for (int k = 0; k < m && !rc; k++) {
		double p = fmin(fmax(nu[k], 0), 1);
		for (int a = 0; a < have; a++) {
			w[have + a] = w[a] * p;
			w[a] *= 1 - p;
		}
		have *= 2;
		qsort(w, (size_t)have, sizeof *w, cmp_desc);
		if (have > n)
			have = n;
	}
	for (int a = 0; a < have && !rc; a++)
		lam[a] = sqrt(w[a]);
	free(nu);
	free(w);
	if (rc)
		return kz_err(err, KZ_ENUM, "ff_schmidt_values: zheev failed");
	/* count, as a non-negative return */
	return have;
}

/* determinant of the n x n (n <= 3) matrix M[p][q], row-major 3x3 storage */
static kz_cplx det3(int n, kz_cplx M[3][3])
{
	switch (n) {
	case 0:
		return 1;
	case 1:
		return M[0][0];
	case 2:
		return M[0][0] * M[1][1] - M[0][1] * M[1][0];
	default:
		return M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) -
		       M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
		       M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
	}
}

int ff_rho3(const ff_t *f, int i, kz_cplx rho[64], char *err)
{
	if (i < 0 || i > f->L - 3)
		return kz_err(err, KZ_EINVAL,
			      "ff_rho3: site %d outside [0, L-3=%d]", i,
			      f->L - 3);
	/* C_A = W diag(nu) W^dag.  Modes d_k^dag = sum_p A_pk c_{i+p}^dag with
	 * A = conj(W) diagonalise it: <d_k^dag d_l> = (A^T C_A conj(A))_kl
	 * = (W^dag C_A W)_kl = nu_k delta_kl. */
	kz_cplx W[9];
	double nu[3];
	for (int q = 0; q < 3; q++)
		for (int p = 0; p < 3; p++)
			W[p + 3 * q] = Cij(f, i + p, i + q);
	int info = kz_zheev('V', 3, W, 3, nu);
	if (info)
		return kz_err(err, KZ_ELAPACK, "ff_rho3: zheev failed, info=%d",
			      (int)info);
	/* amp[o][a] = <a| prod_{k in o, ascending} d_k^dag |0>
	 *           = det[A_{p_r, k_s}] over occupied sites p_r of a and modes
	 *             k_s of o (both ascending), when the counts agree. */
	kz_cplx amp[8][8];
	double prob[8];
	for (int o = 0; o < 8; o++) {
		int ks[3], no = 0;
		prob[o] = 1;
		for (int k = 0; k < 3; k++) {
			if ((o >> k) & 1) {
				ks[no++] = k;
				prob[o] *= nu[k];
			} else {
				prob[o] *= 1 - nu[k];
			}
		}
		for (int a = 0; a < 8; a++) {
			/* a = 4 s_i + 2 s_{i+1} + s_{i+2}: site p is bit 2-p */
			int ps[3], na = 0;
			for (int p = 0; p < 3; p++)
				if ((a >> (2 - p)) & 1)
					ps[na++] = p;
			amp[o][a] = 0;
			if (na != no)
				continue;
			kz_cplx M[3][3];
			for (int r = 0; r < na; r++)
				for (int s = 0; s < na; s++)
					M[r][s] = conj(W[ps[r] + 3 * ks[s]]);
			amp[o][a] = det3(na, M);
		}
	}
	/* rho = sum_o prob_o |o><o|:  <a|rho|b> = sum_o prob_o amp_a conj(amp_b) */
	for (int b = 0; b < 8; b++)
		for (int a = 0; a < 8; a++) {
			kz_cplx s = 0;
			for (int o = 0; o < 8; o++)
				s += prob[o] * amp[o][a] * conj(amp[o][b]);
			rho[a + 8 * b] = s;
		}
	return KZ_OK;
}
