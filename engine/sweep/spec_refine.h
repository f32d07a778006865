/* spec_refine: the spec's `refine:` section -- extra chi_max rungs of
 * single points, added by `kapitza refine` (engine/cmd/refine.c;
 * engine/SPEC.md, "Extra chi_max rungs: refine:").
 *
 *   refine:
 *     - { point: 3f2a9c0d11e4b7a8, chi_max: 12, reason: "..." }
 *
 * Each entry is a copy of the point whose hash is `point` (a point of the
 * product, a reference, or an earlier entry) with chi_max replaced: it is
 * appended after the references (before the thermal tables), its id next,
 * its hash that of its own parameters -- the hash the same chain has when
 * written as a product point, so that a sweep with the final chi_max list
 * holds the same points under the same hashes.  `reason` (a string) says
 * why the rung was added and is kept only in the spec text. */
#ifndef SPEC_REFINE_H
#define SPEC_REFINE_H

#include <yaml.h>

#include "spec.h"

/* Appends the points of the `refine:` node (NULL: nothing) to s->points
 * (the product and the references, before the thermal tables are
 * appended).  Errors as "FNAME:LINE:COL: message" in err (EU_ERRLEN). */
int spec_refine_apply(spec_t *s, yaml_document_t *doc, yaml_node_t *node,
		      const char *fname, char *err);

#endif
