/* h5x: the few HDF5 type and attribute helpers that the archive writer
 * (archive.c) and the post-stage (analysis.c) both need.  Attribute
 * creation is collective when the file is open with the MPI-IO driver. */
#ifndef H5X_H
#define H5X_H

#include <hdf5.h>

/* Fixed-length NUL-terminated string type of n bytes (n >= 1); caller
 * closes it.  Negative on failure. */
hid_t h5x_str_type(size_t n);

/* The complex type h5py and numpy read as complex128: {r, i}. */
hid_t h5x_complex_type(void);

/* Scalar attributes; 0 or -1. */
int h5x_attr_str(hid_t obj, const char *name, const char *val);
int h5x_attr_num(hid_t obj, const char *name, hid_t ftype, hid_t mtype,
		 const void *val);
int h5x_attr_int(hid_t obj, const char *name, int v);     /* int32 LE */
int h5x_attr_dbl(hid_t obj, const char *name, double v);  /* float64 LE */
/* Reads integer attribute `name` into *v; 0, or -1 (absent or unreadable,
 * *v unchanged). */
int h5x_attr_read_int(hid_t obj, const char *name, int *v);

/* Insert member f of struct S into compound t; a failure clears ok. */
#define H5X_INS(t, ok, S, f, mt) \
	ok = ok && H5Tinsert(t, #f, HOFFSET(S, f), mt) >= 0

#endif
