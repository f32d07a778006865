/* point_copy: one point of an archive copied into another archive of a
 * spec that holds the same point (same hash, so the same datasets and
 * shapes) -- what `kapitza merge` (shards into one archive) and
 * archive_extend (an archive rebuilt for a larger spec) both do.  Serial:
 * plain HDF5 handles of files opened by one process (h5x_open_serial). */
#ifndef POINT_COPY_H
#define POINT_COPY_H

#include <hdf5.h>

/* Point ks of src as point kd of dst: every dataset of /points/<ks> into
 * the dataset of the same name of /points/<kd> (whole, through dst's
 * type), then its /status, /provenance and (where src has one) /history
 * rows, converted by member names (members src lacks keep dst's fill).
 * 0, or -1 if anything could not be read or written. */
int archive_copy_point(hid_t src, int ks, hid_t dst, int kd);

#endif
