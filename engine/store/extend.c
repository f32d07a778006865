/* extend: rebuilding an archive for a spec with more points (extend.h). */
#include "extend.h"

#include <errno.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"

static hid_t open_file(const char *path, unsigned flags)
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

/* Point ks of src as point kd of dst: every dataset, then its rows. */
static int copy_point(hid_t src, int ks, hid_t dst, int kd)
{
	char g[64];
	H5G_info_t info;
	snprintf(g, sizeof g, "points/%d", ks);
	hid_t gid = H5Gopen2(src, g, H5P_DEFAULT);
	int rc = gid < 0 || H5Gget_info(gid, &info) < 0 ? -1 : 0;
	for (hsize_t j = 0; !rc && j < info.nlinks; j++) {
		char name[64], from[160], to[160];
		if (H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, j,
				       name, sizeof name, H5P_DEFAULT) < 0) {
			rc = -1;
			break;
		}
		snprintf(from, sizeof from, "points/%d/%s", ks, name);
		snprintf(to, sizeof to, "points/%d/%s", kd, name);
		rc = copy_dataset(src, from, dst, to);
	}
	if (gid >= 0)
		H5Gclose(gid);
	if (!rc && (copy_row(src, ks, dst, kd, "status") ||
		    copy_row(src, ks, dst, kd, "provenance")))
		rc = -1;
	if (!rc && H5Lexists(src, "history", H5P_DEFAULT) > 0 &&
	    copy_row(src, ks, dst, kd, "history"))
		rc = -1;
	return rc;
}

int archive_extend(const char *path, const spec_t *s, int *ncopied,
		   char *err)
{
	archive_summary_t *sum = NULL;
	archive_t *ar = NULL;
	archive_create_opts_t co;
	char tmp[4096];
	hid_t src = -1, dst = -1;
	int *map = NULL, rc = -1, have_tmp = 0, n = 0;

	if (archive_summary_read(&sum, path, err))
		return -1;
	if (sum->shard_count > 1) {
		eu_err(err, "'%s' is shard %d of %d: merge the shards first", path,
		     sum->shard_index, sum->shard_count);
		goto out;
	}
	map = malloc((sum->npoints ? (size_t)sum->npoints : 1) * sizeof *map);
	if (!map) {
		eu_err(err, "out of memory");
		goto out;
	}
	for (int i = 0; i < sum->npoints; i++) {
		map[i] = -1;
		for (int k = 0; k < s->npoints && map[i] < 0; k++)
			if (!strcmp(s->points[k].hash_hex,
				    sum->points[i].hash))
				map[i] = k;
		if (map[i] < 0) {
			eu_err(err,
			     "point %d (hash %s) of '%s' is not in the new "
			     "spec",
			     i, sum->points[i].hash, path);
			goto out;
		}
	}
	if (snprintf(tmp, sizeof tmp, "%s.extend-tmp.%ld", path,
		     (long)getpid()) >= (int)sizeof tmp) {
		eu_err(err, "path too long");
		goto out;
	}
	archive_create_opts_default(&co);
	co.force = 1;
	if (archive_create_ex(&ar, MPI_COMM_SELF, tmp, s, &co, err) ||
	    archive_destroy(&ar, err))
		goto out;
	have_tmp = 1;
	src = open_file(path, H5F_ACC_RDONLY);
	dst = open_file(tmp, H5F_ACC_RDWR);
	if (src < 0 || dst < 0) {
		eu_err(err, "cannot open '%s' and '%s'", path, tmp);
		goto out;
	}
	for (int i = 0; i < sum->npoints; i++, n++)
		if (copy_point(src, i, dst, map[i])) {
			eu_err(err, "copying point %d of '%s' failed", i, path);
			goto out;
		}
	if (H5Fclose(dst) < 0) {
		dst = -1;
		eu_err(err, "closing '%s' failed", tmp);
		goto out;
	}
	dst = -1;
	if (rename(tmp, path)) {
		eu_err(err, "cannot replace '%s': %s", path, strerror(errno));
		goto out;
	}
	have_tmp = 0;
	if (ncopied)
		*ncopied = n;
	rc = 0;
out:
	if (src >= 0)
		H5Fclose(src);
	if (dst >= 0)
		H5Fclose(dst);
	if (have_tmp)
		unlink(tmp);
	archive_destroy(&ar, NULL);
	archive_summary_destroy(&sum);
	free(map);
	return rc;
}
