/* h5x: shared HDF5 type and attribute helpers (see h5x.h). */
#include "h5x.h"
#include "eu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

hid_t h5x_str_type(size_t n)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t < 0)
		return t;
	if (H5Tset_size(t, n ? n : 1) < 0 ||
	    H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
		H5Tclose(t);
		return -1;
	}
	return t;
}

hid_t h5x_complex_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, 2 * sizeof(double));
	if (t < 0)
		return t;
	if (H5Tinsert(t, "r", 0, H5T_NATIVE_DOUBLE) < 0 ||
	    H5Tinsert(t, "i", sizeof(double), H5T_NATIVE_DOUBLE) < 0) {
		H5Tclose(t);
		return -1;
	}
	return t;
}

int h5x_attr_num(hid_t obj, const char *name, hid_t ftype, hid_t mtype,
		 const void *val)
{
	hid_t sp = H5Screate(H5S_SCALAR), a = -1;
	int rc = -1;
	if (sp < 0)
		goto out;
	a = H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0 || H5Awrite(a, mtype, val) < 0)
		goto out;
	rc = 0;
out:
	if (a >= 0)
		H5Aclose(a);
	if (sp >= 0)
		H5Sclose(sp);
	return rc;
}

int h5x_attr_str(hid_t obj, const char *name, const char *val)
{
	hid_t t = h5x_str_type(strlen(val) + 1);
	int rc = t < 0 ? -1 : h5x_attr_num(obj, name, t, t, val);
	if (t >= 0)
		H5Tclose(t);
	return rc;
}

int h5x_attr_int(hid_t obj, const char *name, int v)
{
	int x = v;
	return h5x_attr_num(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT, &x);
}

int h5x_attr_dbl(hid_t obj, const char *name, double v)
{
	return h5x_attr_num(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

int h5x_attr_read_int(hid_t obj, const char *name, int *v)
{
	hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
	hid_t t = a >= 0 ? H5Aget_type(a) : -1;
	hid_t sp = a >= 0 ? H5Aget_space(a) : -1;
	int32_t x = 0;
	int rc = -1;
	/* the type and shape first: nothing but one integer is read */
	if (t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_INTEGER &&
	    H5Tget_size(t) <= 8 && H5Sget_simple_extent_type(sp) == H5S_SCALAR &&
	    H5Aread(a, H5T_NATIVE_INT32, &x) >= 0) {
		*v = x;
		rc = 0;
	}
	if (sp >= 0)
		H5Sclose(sp);
	if (t >= 0)
		H5Tclose(t);
	if (a >= 0)
		H5Aclose(a);
	return rc;
}

int h5x_attr_read_str(hid_t obj, const char *name, char *buf, size_t cap)
{
	hid_t a = H5Aopen(obj, name, H5P_DEFAULT), ft = -1, mt = -1;
	char *tmp = NULL;
	int rc = -1;
	buf[0] = 0;
	if (a < 0)
		goto out;
	ft = H5Aget_type(a);
	if (ft < 0 || H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft))
		goto out;
	size_t n = H5Tget_size(ft);
	mt = h5x_str_type(n + 1);
	tmp = calloc(n + 2, 1);
	if (mt < 0 || !tmp || H5Aread(a, mt, tmp) < 0)
		goto out;
	snprintf(buf, cap, "%s", tmp);
	rc = 0;
out:
	free(tmp);
	if (mt >= 0)
		H5Tclose(mt);
	if (ft >= 0)
		H5Tclose(ft);
	if (a >= 0)
		H5Aclose(a);
	return rc;
}

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
	/* innermost first (H5E_WALK_UPWARD): keep the first description */
	char *buf = data;
	if (n == 0 && e->desc)
		snprintf(buf, EU_ERRLEN, "%s", e->desc);
	return 0;
}

void h5x_why(char *why)
{
	why[0] = 0;
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, why);
}

int h5x_err(char *err, const char *what)
{
	char why[EU_ERRLEN];
	h5x_why(why);
	return eu_err(err, "%s%s%s", what, why[0] ? ": " : "", why);
}

int h5x_check_regular(const char *path, char *err)
{
	/* O_NONBLOCK: opening a FIFO without a writer must not wait */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat sb;
	if (fd < 0)
		return eu_err(err, "cannot open archive '%s': %s", path,
			      strerror(errno));
	int rc = fstat(fd, &sb);
	close(fd);
	if (rc)
		return eu_err(err, "cannot open archive '%s': %s", path,
			      strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return eu_err(err, "'%s' is not a regular file (%s): not an "
				   "archive",
			      path,
			      S_ISDIR(sb.st_mode)    ? "a directory"
			      : S_ISFIFO(sb.st_mode) ? "a named pipe"
			      : S_ISSOCK(sb.st_mode) ? "a socket"
						     : "a device");
	return 0;
}

hid_t h5x_open_ro(const char *path, char *err)
{
	if (h5x_check_regular(path, err))
		return -1;
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1;
	/* HDF5 1.10 locks files by default; the writer (mpio) does not, and a
	 * reader must not wait for or block it */
	setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	if (fapl < 0 || H5Pset_fapl_sec2(fapl) < 0) {
		h5x_err(err, "archive: setting up the file access");
		goto out;
	}
#if H5_VERSION_GE(1, 10, 7)
	H5Pset_file_locking(fapl, 0, 1);
#endif
	f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
	if (f < 0) {
		char why[EU_ERRLEN];
		h5x_why(why);
		eu_err(err, "cannot open archive '%s'%s%s", path,
		       why[0] ? ": " : "", why);
	}
out:
	if (fapl >= 0)
		H5Pclose(fapl);
	return f;
}

hid_t h5x_open_serial(const char *path, unsigned flags)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1;
	if (fapl < 0)
		return -1;
	H5Pset_fapl_sec2(fapl);
#if H5_VERSION_GE(1, 10, 7)
	H5Pset_file_locking(fapl, 0, 1);
#endif
	f = H5Fopen(path, flags, fapl);
	H5Pclose(fapl);
	return f;
}

int h5x_read_rows(hid_t loc, const char *path, hid_t type, size_t rowsize,
		  void **rows, int *n)
{
	hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
	hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
	hssize_t m = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
	int rc = -1;
	*rows = NULL;
	*n = 0;
	if (m < 0 || m > INT32_MAX - 1)
		goto out;
	*rows = calloc((size_t)m + 1, rowsize);
	if (!*rows ||
	    (m && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, *rows) < 0)) {
		free(*rows);
		*rows = NULL;
		goto out;
	}
	*n = (int)m;
	rc = 0;
out:
	if (sp >= 0)
		H5Sclose(sp);
	if (d >= 0)
		H5Dclose(d);
	return rc;
}
