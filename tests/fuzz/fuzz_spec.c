/* fuzz_spec: libFuzzer harness for the sweep-spec parser.  YAML text in; a
 * validated spec (whose points are then hashed, costed and printed) or an
 * error message out.  Anything else -- a crash, a sanitizer report, an error
 * return without a message -- is a finding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[EU_ERRLEN] = "";
	spec_t *s = NULL;
	if (spec_parse(&s, "fuzz.yaml", (const char *)data, size, err)) {
		if (s || !err[0])
			abort(); /* a refusal must leave nothing and say why */
		return 0;
	}
	char buf[4096];
	for (int k = 0; k < s->npoints; k++) {
		const spec_point_t *p = &s->points[k];
		if (spec_point_canonical(p, buf, sizeof buf) < 0)
			abort();
		volatile double c = spec_point_cost(p) +
				    spec_point_memory_bytes(p) +
				    spec_point_archive_bytes(p) +
				    spec_point_core_hours(p);
		(void)c;
		(void)spec_state_name(p->state);
	}
	volatile double th = spec_thermal_core_hours(s);
	(void)th;
	spec_destroy(&s);
	return 0;
}
