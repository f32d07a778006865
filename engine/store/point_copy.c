/* point_copy: one point of an archive into another (point_copy.h). */
#include "point_copy.h"

#include <stdio.h>
#include <stdlib.h>

#include "schema.h"

/* Dataset `from` of src into dataset `to` of dst, whole, through the
 * destination's type (the shapes are equal: same point hash). */
static int copy_dataset(hid_t src, const char *from, hid_t dst,
			const char *to)
{
	hid_t ds = H5Dopen2(src, from, H5P_DEFAULT);
	hid_t dd = H5Dopen2(dst, to, H5P_DEFAULT);
	hid_t mt = -1, ss = -1, sd = -1;
	void *buf = NULL;
	int rc = -1;
	if (ds < 0 || dd < 0)
		goto out;
	mt = H5Dget_type(dd);
	ss = H5Dget_space(ds);
	sd = H5Dget_space(dd);
	hssize_t n = ss >= 0 ? H5Sget_simple_extent_npoints(ss) : -1;
	if (mt < 0 || sd < 0 || n < 0 ||
	    n != H5Sget_simple_extent_npoints(sd))
		goto out;
	buf = calloc((size_t)n + 1, H5Tget_size(mt));
	if (buf && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 &&
	    H5Dwrite(dd, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)
		rc = 0;
out:
	free(buf);
	if (ss >= 0)
		H5Sclose(ss);
	if (sd >= 0)
		H5Sclose(sd);
	if (mt >= 0)
		H5Tclose(mt);
	if (ds >= 0)
		H5Dclose(ds);
	if (dd >= 0)
		H5Dclose(dd);
	return rc;
}

/* Row ks of table `name` of src into row kd of dst (a 2-D table: the
 * whole row), converting by member names through the destination's type;
 * members the source lacks keep the destination's fill. */
static int copy_row(hid_t src, int ks, hid_t dst, int kd, const char *name)
{
	hid_t ds = H5Dopen2(src, name, H5P_DEFAULT);
	hid_t dd = H5Dopen2(dst, name, H5P_DEFAULT);
	hid_t mt = -1, fs = -1, fd = -1, ms = -1;
	hsize_t dims[2] = {0, 1}, sdims[2] = {0, 1}, cnt[2] = {1, 1};
	void *buf = NULL;
	int rc = -1, rank;
	if (ds < 0 || dd < 0)
		goto out;
	mt = H5Dget_type(dd);
	fs = H5Dget_space(ds);
	fd = H5Dget_space(dd);
	if (mt < 0 || fs < 0 || fd < 0)
		goto out;
	rank = H5Sget_simple_extent_dims(fd, dims, NULL);
	if (rank < 1 || rank > 2 ||
	    H5Sget_simple_extent_dims(fs, sdims, NULL) != rank ||
	    (rank == 2 && sdims[1] != dims[1]))
		goto out;
	cnt[1] = rank == 2 ? dims[1] : 1;
	hsize_t m = cnt[1], s0[2] = {(hsize_t)ks, 0}, d0[2] = {(hsize_t)kd, 0};
	ms = H5Screate_simple(1, &m, NULL);
	buf = calloc((size_t)m, H5Tget_size(mt) + 1);
	if (ms < 0 || !buf ||
	    H5Sselect_hyperslab(fs, H5S_SELECT_SET, s0, NULL, cnt, NULL) < 0 ||
	    H5Sselect_hyperslab(fd, H5S_SELECT_SET, d0, NULL, cnt, NULL) < 0 ||
	    H5Dread(dd, mt, ms, fd, H5P_DEFAULT, buf) < 0 ||
	    H5Dread(ds, mt, ms, fs, H5P_DEFAULT, buf) < 0 ||
	    H5Dwrite(dd, mt, ms, fd, H5P_DEFAULT, buf) < 0)
		goto out;
	rc = 0;
out:
	free(buf);
	if (ms >= 0)
		H5Sclose(ms);
	if (fs >= 0)
		H5Sclose(fs);
	if (fd >= 0)
		H5Sclose(fd);
	if (mt >= 0)
		H5Tclose(mt);
	if (ds >= 0)
		H5Dclose(ds);
	if (dd >= 0)
		H5Dclose(dd);
	return rc;
}

int archive_copy_point(hid_t src, int ks, hid_t dst, int kd)
{
	char g[64];
	H5G_info_t info;
	if (schema_point_path(g, sizeof g, ks, NULL))
		return -1;
	hid_t gid = H5Gopen2(src, g, H5P_DEFAULT);
	int rc = gid < 0 || H5Gget_info(gid, &info) < 0 ? -1 : 0;
	for (hsize_t j = 0; !rc && j < info.nlinks; j++) {
		char name[64], from[160], to[160];
		if (H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, j,
				       name, sizeof name, H5P_DEFAULT) < 0 ||
		    schema_point_path(from, sizeof from, ks, name) ||
		    schema_point_path(to, sizeof to, kd, name)) {
			rc = -1;
			break;
		}
		rc = copy_dataset(src, from, dst, to);
	}
	if (gid >= 0)
		H5Gclose(gid);
	if (!rc && (copy_row(src, ks, dst, kd, SCHEMA_STATUS) ||
		    copy_row(src, ks, dst, kd, SCHEMA_PROVENANCE)))
		rc = -1;
	if (!rc && H5Lexists(src, SCHEMA_HISTORY, H5P_DEFAULT) > 0 &&
	    copy_row(src, ks, dst, kd, SCHEMA_HISTORY))
		rc = -1;
	return rc;
}
