/* mps_io: serialisation of the U(1) MPS of mps_impl.h to a memory buffer
 * and back (layout in mps_io.h).  The rebuilt state has the same sector
 * dimensions, Schmidt values and block entries as the original, bit for
 * bit, which is all that tebd_run() and the observables read: an evolution
 * continued from a rebuilt state gives the same numbers as one that never
 * stopped. */
#include "mps_io.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mps_impl.h"

#define MPS_IO_MAGIC 0x3153504dU /* "MPS1" */
#define MPS_IO_SWAPPED 0x4d505331U

static unsigned char *put(unsigned char *p, const void *x, size_t n)
{
	memcpy(p, x, n);
	return p + n;
}

static unsigned char *put_i32(unsigned char *p, int v)
{
	int32_t x = (int32_t)v;
	return put(p, &x, sizeof x);
}

static size_t bond_bytes(const mps_bond_t *bd)
{
	return (2 + (size_t)bd->nq) * sizeof(int32_t) +
	       (size_t)bd->total * sizeof(double);
}

static unsigned char *put_bond(unsigned char *p, const mps_bond_t *bd)
{
	p = put_i32(p, bd->qlo);
	p = put_i32(p, bd->nq);
	for (int k = 0; k < bd->nq; k++)
		p = put_i32(p, bd->dim[k]);
	return put(p, bd->lam, (size_t)bd->total * sizeof(double));
}

size_t mps_serial_bytes(const mps_t *m)
{
	size_t n = 3 * sizeof(int32_t);
	for (int b = 0; b <= m->L; b++)
		n += bond_bytes(&m->bond[b]);
	for (int i = 0; i < m->L; i++)
		n += sizeof(uint64_t) + m->site[i].size * sizeof(kz_cplx);
	return n;
}

int mps_serialise(const mps_t *m, void *buf, size_t cap, char *err)
{
	if (!m || !buf)
		return kz_err(err, KZ_EINVAL, "mps_serialise: NULL argument");
	const size_t need = mps_serial_bytes(m);
	if (cap < need)
		return kz_err(err, KZ_EINVAL,
			      "mps_serialise: buffer of %zu bytes, %zu needed",
			      cap, need);
	unsigned char *p = buf;
	uint32_t magic = MPS_IO_MAGIC;
	p = put(p, &magic, sizeof magic);
	p = put_i32(p, m->L);
	p = put_i32(p, m->nup);
	for (int b = 0; b <= m->L; b++)
		p = put_bond(p, &m->bond[b]);
	for (int i = 0; i < m->L; i++) {
		uint64_t n = (uint64_t)m->site[i].size;
		p = put(p, &n, sizeof n);
		p = put(p, m->site[i].data, m->site[i].size * sizeof(kz_cplx));
	}
	return KZ_OK;
}

/* A bounds-checked reader over the input buffer. */
typedef struct {
	const unsigned char *p, *end;
} rd_t;

static int get(rd_t *r, void *x, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return -1;
	memcpy(x, r->p, n);
	r->p += n;
	return 0;
}

static int get_i32(rd_t *r, int *v)
{
	int32_t x;
	if (get(r, &x, sizeof x))
		return -1;
	*v = x;
	return 0;
}

static int short_buf(char *err, size_t n)
{
	return kz_err(err, KZ_EINVAL,
		      "mps_deserialise: the buffer ends inside the state (%zu "
		      "bytes)",
		      n);
}

/* Bond b of m from r (its charges must be those of m's L and nup); dims:
 * scratch of bond b's nq ints; n: the whole buffer's size, for messages
 * and as a bound on dimensions. */
static int get_bond(rd_t *r, mps_t *m, int b, int *dims, size_t n, char *err)
{
	mps_bond_t *bd = &m->bond[b];
	int qlo, nq;
	size_t tot = 0;
	if (get_i32(r, &qlo) || get_i32(r, &nq))
		return short_buf(err, n);
	if (qlo != bd->qlo || nq != bd->nq)
		return kz_err(err, KZ_EINVAL,
			      "mps_deserialise: bond %d has charges %d..%d, "
			      "expected %d..%d for L = %d, nup = %d",
			      b, qlo, qlo + nq - 1, bd->qlo,
			      bd->qlo + bd->nq - 1, m->L, m->nup);
	for (int k = 0; k < nq; k++) {
		if (get_i32(r, &dims[k]))
			return short_buf(err, n);
		if (dims[k] < 0 || (size_t)dims[k] > n)
			return kz_err(err, KZ_EINVAL,
				      "mps_deserialise: bond %d sector %d: "
				      "dimension %d",
				      b, qlo + k, dims[k]);
		tot += (size_t)dims[k];
	}
	if (tot * sizeof(double) > (size_t)(r->end - r->p))
		return short_buf(err, n);
	if (mps_bond_resize(m, b, dims))
		return kz_err(err, KZ_ENOMEM, "mps_deserialise: out of memory");
	if (get(r, bd->lam, tot * sizeof(double)))
		return short_buf(err, n);
	return KZ_OK;
}

/* Site i's blocks from r, laid out by the current dims of its bonds. */
static int get_site(rd_t *r, mps_t *m, int i, size_t n, char *err)
{
	uint64_t len;
	if (get(r, &len, sizeof len))
		return short_buf(err, n);
	if (mps_site_layout(m, i))
		return kz_err(err, KZ_ENOMEM, "mps_deserialise: out of memory");
	if (len != (uint64_t)m->site[i].size)
		return kz_err(err, KZ_EINVAL,
			      "mps_deserialise: site %d holds %llu numbers, "
			      "its bonds need %zu",
			      i, (unsigned long long)len, m->site[i].size);
	if (get(r, m->site[i].data, m->site[i].size * sizeof(kz_cplx)))
		return short_buf(err, n);
	return KZ_OK;
}

int mps_deserialise(mps_t **out, const void *buf, size_t n, char *err)
{
	rd_t r = {buf, (const unsigned char *)buf + n};
	mps_t *m = NULL;
	int *up = NULL, *dims = NULL;
	uint32_t magic = 0;
	int L, nup, rc = KZ_OK;

	*out = NULL;
	if (!buf)
		return kz_err(err, KZ_EINVAL, "mps_deserialise: NULL buffer");
	if (get(&r, &magic, sizeof magic) || get_i32(&r, &L) ||
	    get_i32(&r, &nup))
		return kz_err(err, KZ_EINVAL,
			      "mps_deserialise: %zu bytes: too short for a "
			      "state",
			      n);
	if (magic == MPS_IO_SWAPPED)
		return kz_err(err, KZ_EINVAL,
			      "mps_deserialise: the state was written on a "
			      "machine of the other byte order");
	if (magic != MPS_IO_MAGIC)
		return kz_err(err, KZ_EINVAL,
			      "mps_deserialise: not a serialised MPS (magic "
			      "0x%08x)",
			      (unsigned)magic);
	if (L < 4 || L % 2 || L > 1000000 || nup < 0 || nup > L)
		return kz_err(err, KZ_EINVAL,
			      "mps_deserialise: L = %d, nup = %d out of range",
			      L, nup);
	/* any state with nup up spins has the same charge ranges */
	up = calloc((size_t)L, sizeof *up);
	dims = calloc((size_t)L + 2, sizeof *dims);
	if (!up || !dims) {
		rc = kz_err(err, KZ_ENOMEM, "mps_deserialise: out of memory");
		goto out;
	}
	for (int i = 0; i < nup; i++)
		up[i] = 1;
	if ((rc = mps_create_product(&m, L, up, err)))
		goto out;
	for (int b = 0; b <= L; b++)
		if ((rc = get_bond(&r, m, b, dims, n, err)))
			goto out;
	for (int i = 0; i < L; i++)
		if ((rc = get_site(&r, m, i, n, err)))
			goto out;
	if (r.p != r.end) {
		rc = kz_err(err, KZ_EINVAL,
			    "mps_deserialise: %zu bytes left over after the "
			    "state",
			    (size_t)(r.end - r.p));
		goto out;
	}
out:
	free(up);
	free(dims);
	if (rc)
		mps_destroy(&m);
	*out = m;
	return rc;
}

/* ---- one site at a time ------------------------------------------------ */

int mps_create_blank(mps_t **m, int L, int nup, char *err)
{
	*m = NULL;
	if (L < 4 || L % 2 || nup < 0 || nup > L)
		return kz_err(err, KZ_EINVAL,
			      "mps_create_blank: L = %d, nup = %d out of range",
			      L, nup);
	return mps_alloc(m, L, nup, err);
}

size_t mps_site_bytes(const mps_t *m, int i)
{
	return sizeof(int32_t) + bond_bytes(&m->bond[i]) +
	       bond_bytes(&m->bond[i + 1]) + sizeof(uint64_t) +
	       m->site[i].size * sizeof(kz_cplx);
}

int mps_site_pack(const mps_t *m, int i, void *buf, size_t cap, char *err)
{
	if (!m || !buf || i < 0 || i >= m->L)
		return kz_err(err, KZ_EINVAL, "mps_site_pack: bad argument");
	if (cap < mps_site_bytes(m, i))
		return kz_err(err, KZ_EINVAL,
			      "mps_site_pack: buffer of %zu bytes, %zu needed",
			      cap, mps_site_bytes(m, i));
	unsigned char *p = put_i32(buf, i);
	p = put_bond(p, &m->bond[i]);
	p = put_bond(p, &m->bond[i + 1]);
	uint64_t n = (uint64_t)m->site[i].size;
	p = put(p, &n, sizeof n);
	put(p, m->site[i].data, m->site[i].size * sizeof(kz_cplx));
	return KZ_OK;
}

int mps_site_unpack(mps_t *m, const void *buf, size_t n, size_t *used,
		    char *err)
{
	rd_t r = {buf, (const unsigned char *)buf + n};
	int i, rc;
	if (!m || !buf)
		return kz_err(err, KZ_EINVAL, "mps_site_unpack: NULL argument");
	if (get_i32(&r, &i))
		return short_buf(err, n);
	if (i < 0 || i >= m->L)
		return kz_err(err, KZ_EINVAL,
			      "mps_site_unpack: site %d outside [0, %d)", i,
			      m->L);
	int nq = m->bond[i].nq > m->bond[i + 1].nq ? m->bond[i].nq
						   : m->bond[i + 1].nq;
	int *dims = malloc((size_t)nq * sizeof *dims);
	if (!dims)
		return kz_err(err, KZ_ENOMEM, "mps_site_unpack: out of memory");
	rc = get_bond(&r, m, i, dims, n, err);
	if (!rc)
		rc = get_bond(&r, m, i + 1, dims, n, err);
	if (!rc)
		rc = get_site(&r, m, i, n, err);
	free(dims);
	if (!rc && used)
		*used = (size_t)(r.p - (const unsigned char *)buf);
	return rc;
}
