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
#include "h5x.h"
#include "point_copy.h"

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
	src = h5x_open_serial(path, H5F_ACC_RDONLY);
	dst = h5x_open_serial(tmp, H5F_ACC_RDWR);
	if (src < 0 || dst < 0) {
		eu_err(err, "cannot open '%s' and '%s'", path, tmp);
		goto out;
	}
	for (int i = 0; i < sum->npoints; i++, n++)
		if (archive_copy_point(src, i, dst, map[i])) {
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
