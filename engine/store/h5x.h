/* h5x: the few HDF5 type, attribute, error and file helpers that the
 * archive writer, its readers and the post-stage share.  Attribute
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
/* Reads scalar integer attribute `name` into *v; 0, or -1 (absent, not a
 * scalar integer, or unreadable; *v unchanged). */
int h5x_attr_read_int(hid_t obj, const char *name, int *v);

/* Reads fixed-length string attribute `name` into buf (cap bytes,
 * truncated, NUL-terminated; "" on failure); 0 or -1. */
int h5x_attr_read_str(hid_t obj, const char *name, char *buf, size_t cap);

/* eu_err(err, "<what>: <innermost message of the HDF5 error stack>"), or
 * just what if the stack is empty; returns -1. */
int h5x_err(char *err, const char *what);
/* The innermost message of the current HDF5 error stack into why
 * (EU_ERRLEN bytes; "" if none). */
void h5x_why(char *why);

/* 0 if path is a regular file, else -1 with err ("... is a named pipe");
 * never blocks (a FIFO is opened with O_NONBLOCK and only fstat'ed). */
int h5x_check_regular(const char *path, char *err);

/* Opens path read-only with the sec2 driver and without file locking (so
 * it can be read while a run writes it, and never waits for a lock);
 * negative with err on failure. */
hid_t h5x_open_ro(const char *path, char *err);

/* `path` opened with the sec2 driver and HDF5's file locking off, flags as
 * for H5Fopen, nothing checked or reported: for the serial commands that
 * hold the archive's own lock or only read (merge, extend, refine, status).
 * Negative on failure. */
hid_t h5x_open_serial(const char *path, unsigned flags);

/* Every row of the 1-D dataset `path` of loc, read as `type` (rows of
 * rowsize bytes, converted by member names), into a new zeroed array of
 * *n rows (plus one, so never NULL on success).  0, or -1 (dataset
 * missing or unreadable, out of memory; *rows NULL). */
int h5x_read_rows(hid_t loc, const char *path, hid_t type, size_t rowsize,
		  void **rows, int *n);

#endif
