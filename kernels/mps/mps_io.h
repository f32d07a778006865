/* mps_io: an MPS to and from a flat memory buffer, bit for bit, so that a
 * state can be checkpointed and an evolution continued exactly where it
 * stopped.  No file I/O here (kernels/ never touches files): the engine
 * writes the buffer (engine/store/checkpoint.c).
 *
 * Buffer layout (native byte order, doubles as IEEE 754 binary64; the
 * leading magic word shows the byte order, and a buffer of the other order
 * is refused):
 *
 *   uint32  magic 0x3153504d ("MPS1" in little-endian memory)
 *   int32   L, nup
 *   for each bond b = 0..L:   int32 qlo, int32 nq, int32 dim[nq],
 *                             double lam[sum dim]   (sector by sector)
 *   for each site i = 0..L-1: uint64 n, double complex data[n]
 *                             (the blocks in mps_impl.h's order)
 *
 * Everything is checked on reading (ranges, sizes, the charge structure
 * implied by L and nup), so a corrupt buffer is an error, never a crash. */
#ifndef MPS_IO_H
#define MPS_IO_H

#include <stddef.h>

#include "mps.h"

/* Bytes mps_serialise() needs for m (borrowed). */
size_t mps_serial_bytes(const mps_t *m);

/* Writes m (borrowed) into buf (caller-owned, cap bytes, at least
 * mps_serial_bytes(m)).  KZ_EINVAL if cap is too small. */
int mps_serialise(const mps_t *m, void *buf, size_t cap, char *err);

/* Rebuilds a new state *m (owned by the caller: mps_destroy) from the n
 * bytes at buf (borrowed); on error *m = NULL and err says what is wrong. */
int mps_deserialise(mps_t **m, const void *buf, size_t n, char *err);

/* One site at a time, for a state split over several owners of
 * contiguous site ranges (engine/team).  A site's piece holds int32 i,
 * bonds i and i+1 (as above) and the site's blocks; unpacking it into a
 * state of the same L and nup sets those two bonds and the site, leaving
 * everything else alone.  Neighbouring pieces carry the same shared bond,
 * so the order in which they are unpacked does not matter. */

/* A state of L sites and nup ups whose bonds have their charge ranges and
 * every sector empty: to be filled by mps_site_unpack(). */
int mps_create_blank(mps_t **m, int L, int nup, char *err);

/* Bytes of site i's piece. */
size_t mps_site_bytes(const mps_t *m, int i);

/* Site i's piece into buf (cap >= mps_site_bytes(m, i)). */
int mps_site_pack(const mps_t *m, int i, void *buf, size_t cap, char *err);

/* One piece from the n bytes at buf into m; *used (may be NULL) = its
 * bytes, so that pieces can be read back to back.  Checked like
 * mps_deserialise(). */
int mps_site_unpack(mps_t *m, const void *buf, size_t n, size_t *used,
		    char *err);

#endif
