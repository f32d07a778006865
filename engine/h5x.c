/* h5x: shared HDF5 type and attribute helpers (see h5x.h). */
#include "h5x.h"

#include <stdint.h>
#include <string.h>

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
	int32_t x = 0;
	int rc = -1;
	if (a >= 0 && H5Aread(a, H5T_NATIVE_INT32, &x) >= 0) {
		*v = x;
		rc = 0;
	}
	if (a >= 0)
		H5Aclose(a);
	return rc;
}
