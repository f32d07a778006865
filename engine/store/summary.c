/* summary: the serial reader of an archive (archive.h, "reading"): root
 * attributes, /points_table, /status, /history, the rows written so far and
 * kapitza fit's /analysis/convergence.  No MPI: it opens the file read-only
 * with the sec2 driver and without file locking, so it can read while a run
 * writes. */
#include "archive.h"
#include "archive_impl.h"
#include "eu.h"
#include "h5x.h"
#include "schema.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the whole of table t (n rows of its compound) from f into buf. */
static int read_table(hid_t f, const schema_table_t *t, hssize_t n, void *buf)
{
	hid_t d = H5Dopen2(f, t->name, H5P_DEFAULT), sp = -1, ty = -1;
	int rc = -1;
	if (d < 0)
		goto out;
	sp = H5Dget_space(d);
	ty = schema_type(t);
	if (sp < 0 || ty < 0 || H5Sget_simple_extent_npoints(sp) != n)
		goto out;
	if (n && H5Dread(d, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
		goto out;
	rc = 0;
out:
	if (ty >= 0)
		H5Tclose(ty);
	if (sp >= 0)
		H5Sclose(sp);
	if (d >= 0)
		H5Dclose(d);
	return rc;
}

/* The root attributes into s; 0 or -1 with err. */
static int read_root(hid_t f, const char *path, archive_summary_t *s,
		     char *err)
{
	if (h5x_attr_read_str(f, "format", s->format, sizeof s->format) ||
	    strcmp(s->format, ARCHIVE_FORMAT))
		return eu_err(err, "'%s' is not a kapitza archive (no root "
				   "attribute format = \"%s\")",
			      path, ARCHIVE_FORMAT);
	if (h5x_attr_read_int(f, "format_version", &s->format_version) ||
	    s->format_version != ARCHIVE_FORMAT_VERSION)
		return eu_err(err, "'%s': archive format version %d, this "
				   "kapitza reads version %d",
			      path, s->format_version, ARCHIVE_FORMAT_VERSION);
	h5x_attr_read_str(f, "kapitza_version", s->kapitza_version,
			  sizeof s->kapitza_version);
	h5x_attr_read_str(f, "sweep", s->sweep, sizeof s->sweep);
	h5x_attr_read_str(f, "spec_hash", s->spec_hash, sizeof s->spec_hash);
	h5x_attr_read_str(f, "created", s->created, sizeof s->created);
	if (h5x_attr_read_int(f, "npoints", &s->npoints) || s->npoints < 0)
		return eu_err(err, "'%s': no valid npoints attribute "
				   "(expected a scalar integer >= 0)",
			      path);
	s->shard_index = 0;
	s->shard_count = 1;
	h5x_attr_read_int(f, "shard_index", &s->shard_index);
	h5x_attr_read_int(f, "shard_count", &s->shard_count);
	size_t n = 0;
	hid_t at = H5Aopen(f, "spec_text", H5P_DEFAULT), ft = -1;
	if (at >= 0 && (ft = H5Aget_type(at)) >= 0)
		n = H5Tget_size(ft);
	if (ft >= 0)
		H5Tclose(ft);
	if (at >= 0)
		H5Aclose(at);
	s->spec_text = calloc(n + 2, 1);
	if (!s->spec_text ||
	    h5x_attr_read_str(f, "spec_text", s->spec_text, n + 2))
		return eu_err(err, "'%s': no spec_text attribute", path);
	return 0;
}

/* /points_table, /status and (if present) /history into s. */
static int read_tables(hid_t f, archive_summary_t *s, char *err)
{
	s->points = calloc((size_t)s->npoints + 1, sizeof *s->points);
	s->status = calloc((size_t)s->npoints + 1, sizeof *s->status);
	if (!s->points || !s->status)
		return eu_err(err, "out of memory");
	if (read_table(f, &schema_points_table, s->npoints, s->points) ||
	    read_table(f, &schema_status, s->npoints, s->status))
		return h5x_err(err, "archive: reading /" SCHEMA_POINTS_TABLE
				    " and /" SCHEMA_STATUS);
	if (H5Lexists(f, SCHEMA_HISTORY, H5P_DEFAULT) <= 0)
		return 0;
	s->history = calloc((size_t)s->npoints * ARCHIVE_HISTORY + 1,
			    sizeof *s->history);
	if (!s->history ||
	    read_table(f, &schema_history,
		       (hssize_t)s->npoints * ARCHIVE_HISTORY, s->history))
		return h5x_err(err, "archive: reading /" SCHEMA_HISTORY);
	return 0;
}

int archive_summary_read(archive_summary_t **sp, const char *path, char *err)
{
	archive_summary_t *s = NULL;
	hid_t f = h5x_open_ro(path, err);
	int rc = -1;

	*sp = NULL;
	if (f < 0)
		return -1;
	s = calloc(1, sizeof *s);
	if (!s)
		eu_err(err, "out of memory");
	else
		rc = read_root(f, path, s, err) ||
				     archive_check_tables(f, path, s->npoints,
							  err) ||
				     read_tables(f, s, err) ||
				     archive_validate(f, path, s, err)
			     ? -1
			     : 0;
	H5Fclose(f);
	if (rc)
		archive_summary_destroy(&s);
	*sp = s;
	return rc;
}

void archive_summary_destroy(archive_summary_t **sp)
{
	if (!sp || !*sp)
		return;
	free((*sp)->points);
	free((*sp)->status);
	free((*sp)->spec_text);
	free((*sp)->history);
	free((*sp)->rows_present);
	free((*sp)->conv);
	free(*sp);
	*sp = NULL;
}

/* /analysis/convergence (the fields of schema_convergence, converted by
 * name from the file's compound); absent is not an error. */
static int read_convergence(hid_t f, archive_summary_t *s)
{
	char path[64];
	free(s->conv);
	s->conv = NULL;
	s->nconv = 0;
	schema_analysis_path(path, sizeof path, -1, SCHEMA_AN_CONVERGENCE);
	if (H5Lexists(f, SCHEMA_ANALYSIS, H5P_DEFAULT) <= 0 ||
	    H5Lexists(f, path, H5P_DEFAULT) <= 0)
		return 0;
	hid_t t = schema_type(&schema_convergence);
	int rc = t < 0 || h5x_read_rows(f, path, t, sizeof *s->conv,
					 (void **)&s->conv, &s->nconv)
			 ? -1
			 : 0;
	if (t >= 0)
		H5Tclose(t);
	return rc;
}

int archive_summary_convergence(archive_summary_t *s, const char *path,
				char *err)
{
	hid_t f = h5x_open_ro(path, err);
	if (f < 0)
		return -1;
	int rc = read_convergence(f, s);
	if (rc)
		h5x_err(err, "archive: reading /" SCHEMA_ANALYSIS
			     "/" SCHEMA_AN_CONVERGENCE);
	H5Fclose(f);
	return rc;
}

/* The number of leading finite entries of point k's row marker (time, or
 * mu of a thermal table; n of them) read into t; -1 if unreadable. */
static int marker_rows(hid_t f, const archive_summary_t *s, int k, double *t)
{
	char name[64];
	const int n = s->points[k].n_measure;
	const schema_ds_t *m = s->points[k].state == SPEC_STATE_THERMAL
				       ? &schema_table_ds[TDS_MU]
				       : &schema_point_ds[DS_TIME];
	schema_point_path(name, sizeof name, k, m->name);
	hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
	hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
	hssize_t got = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
	int r = -1;
	if (got == n && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
				H5P_DEFAULT, t) >= 0)
		for (r = 0; r < n && isfinite(t[r]);)
			r++;
	if (sp >= 0)
		H5Sclose(sp);
	if (d >= 0)
		H5Dclose(d);
	return r;
}

int archive_summary_rows(archive_summary_t *s, const char *path, char *err)
{
	hid_t f = -1;
	double *t = NULL;
	int rc = -1, cap = 0;

	free(s->rows_present);
	s->rows_present = calloc((size_t)s->npoints + 1,
				 sizeof *s->rows_present);
	if (!s->rows_present)
		return eu_err(err, "out of memory");
	for (int k = 0; k < s->npoints; k++)
		cap = s->points[k].n_measure > cap ? s->points[k].n_measure
						   : cap;
	t = malloc(((size_t)cap + 1) * sizeof *t);
	if (!t) {
		eu_err(err, "out of memory");
		goto out;
	}
	f = h5x_open_ro(path, err);
	if (f < 0)
		goto out;
	for (int k = 0; k < s->npoints; k++) {
		if (s->status[k].state == ARCHIVE_DONE) {
			s->rows_present[k] = s->points[k].n_measure;
			continue;
		}
		s->rows_present[k] = marker_rows(f, s, k, t);
		if (s->rows_present[k] < 0) {
			h5x_err(err, "archive: reading a point's times");
			goto out;
		}
	}
	rc = 0;
out:
	if (f >= 0)
		H5Fclose(f);
	free(t);
	return rc;
}
