/* purify: the purifier behind thermal.h, shared by purify.c (thermal_purify)
 * and tables.c (one run per mu row and sign of beta).  Not part of the
 * public API. */
#ifndef PURIFY_H
#define PURIFY_H

#include "chain.h"
#include "tebd.h"
#include "thermal.h"
#include "trotter.h"

typedef struct {
	thermal_params_t p;
	trotter_scheme_t scheme; /* imaginary-time scheme of p.order */
	trotter_seq_t seq;
	chain_t *chain;   /* 2N sites; its couplings are not used */
	tebd_t *tebd;
	mps_t *m;
	double disc;      /* discarded weight so far */
} purify_t;

/* Checks thermal parameters (the message names the bad field). */
int purify_check_params(const thermal_params_t *p, char *err);

/* u at beta = 0 for p (checked); purify_free releases it, also on error. */
int purify_init(purify_t *u, const thermal_params_t *p, char *err);
/* From beta to beta + db (signed) at field mu. */
int purify_evolve(purify_t *u, double db, double mu, char *err);
void purify_free(purify_t *u);

#endif
