/* extend: an archive rebuilt for a larger spec (more points), keeping every
 * point it already holds (kapitza refine; engine/ARCHIVE.md, "Extending an
 * archive").
 *
 * The archive's layout is fixed when it is created (archive.h: one
 * collective pass, then only raw data), so points are added by building a
 * new archive from the new spec (archive_create_ex, MPI_COMM_SELF) and
 * copying into it, matched by point hash, every point of the old one: all
 * its /points/<id> datasets, its /status, /provenance and /history rows.
 * Points new to the spec are pending.  /analysis is not copied (kapitza fit
 * rewrites it).  The new file replaces the old one atomically (rename) only
 * once complete. */
#ifndef EXTEND_H
#define EXTEND_H

#include "spec.h"

/* Rebuilds `path` for spec s (borrowed), which must contain every point of
 * the archive (by hash).  Needs MPI initialised.  *ncopied (may be NULL)
 * receives the number of points copied.  0, or -1 with err (EU_ERRLEN);
 * on error `path` is unchanged. */
int archive_extend(const char *path, const spec_t *s, int *ncopied,
		   char *err);

#endif
