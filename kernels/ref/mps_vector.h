/* mps_vector: exact MPS of a state vector, for handing states from the
 * exact references (ed.h) to the MPS code in tests.  Part of the test-only
 * reference library. */
#ifndef MPS_VECTOR_H
#define MPS_VECTOR_H

#include <stddef.h>

#include "kz.h"
#include "mps.h"

/* Exact MPS of a state vector given in a fixed-nup basis: amp[k] is the
 * amplitude of the bit pattern bits[k] (bit i set = site i up), n entries.
 * Successive SVDs; singular values below 1e-14 (relative) are dropped.
 * L even, 4 <= L <= 24. */
int mps_create_from_vector(mps_t **m, int L, int nup, size_t n,
			   const unsigned long *bits, const kz_cplx *amp,
			   char *err);

#endif
