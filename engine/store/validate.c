/* validate: the checks every reader of an archive runs before it trusts
 * anything in it (archive_impl.h: archive_check_tables,
 * archive_check_dataset, archive_validate; the regular-file check is
 * h5x_check_regular),
 * against the one declaration of the schema (schema.c).  A failed check
 * names the object and what was expected, in one line. */
#include "archive.h"
#include "eu.h"
#include "h5x.h"
#include "schema.h"

#include <hdf5.h>
#include <stdio.h>
#include <string.h>


/* The HDF5 class a schema field must have. */
static H5T_class_t field_class(const schema_field_t *f)
{
	switch (f->kind) {
	case SF_INT:
	case SF_UINT:
		return H5T_INTEGER;
	case SF_F64:
		return H5T_FLOAT;
	case SF_STR:
		return H5T_STRING;
	case SF_STATE:
	case SF_SPEC_STATE:
		return H5T_ENUM;
	}
	return H5T_NO_CLASS;
}

static const char *class_name(H5T_class_t c)
{
	switch (c) {
	case H5T_INTEGER:
		return "integer";
	case H5T_FLOAT:
		return "float";
	case H5T_STRING:
		return "string";
	case H5T_ENUM:
		return "enum";
	case H5T_COMPOUND:
		return "compound";
	default:
		return "another class";
	}
}

/* Whether compound ft holds every field of t with its class and size
 * (strings: at most the field's size, read through a fixed buffer);
 * *bad names the first that does not. */
static int fields_match(hid_t ft, const schema_table_t *t,
			const schema_field_t **bad, char *got, size_t ngot)
{
	for (int k = 0; k < t->nfields; k++) {
		const schema_field_t *f = &t->fields[k];
		int i = H5Tget_member_index(ft, f->name);
		if (i < 0 && f->late)
			continue;
		hid_t mt = i >= 0 ? H5Tget_member_type(ft, (unsigned)i) : -1;
		H5T_class_t c = mt >= 0 ? H5Tget_class(mt) : H5T_NO_CLASS;
		size_t sz = mt >= 0 ? H5Tget_size(mt) : 0;
		int ok = mt >= 0 && c == field_class(f) &&
			 (f->kind == SF_STR ? sz <= f->size
			  : f->kind == SF_STATE || f->kind == SF_SPEC_STATE
				  ? sz == 1
				  : sz == f->size);
		if (!ok) {
			*bad = f;
			if (mt < 0)
				snprintf(got, ngot, "no such member");
			else
				snprintf(got, ngot, "%s of %zu bytes",
					 class_name(c), sz);
		}
		if (mt >= 0)
			H5Tclose(mt);
		if (!ok)
			return 0;
	}
	return 1;
}

/* Table t of file f: a compound dataset of the schema's fields, of rank
 * 1 (n0 rows) or 2 (n0 x n1, n1 > 0).  0 or -1 with err. */
static int check_table(hid_t f, const char *path, const schema_table_t *t,
		       hsize_t n0, hsize_t n1, char *err)
{
	hid_t d = H5Dopen2(f, t->name, H5P_DEFAULT);
	hid_t ft = d >= 0 ? H5Dget_type(d) : -1;
	hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
	hsize_t dims[2] = {0, 0};
	int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
	const schema_field_t *bad = NULL;
	char got[64] = "";
	int rc = -1;
	if (d < 0) {
		eu_err(err, "'%s': /%s is missing (expected a table of %llu "
			    "rows)",
		       path, t->name, (unsigned long long)n0);
		goto out;
	}
	if (ft < 0 || H5Tget_class(ft) != H5T_COMPOUND) {
		eu_err(err, "'%s': /%s is not a compound table", path, t->name);
		goto out;
	}
	if (!fields_match(ft, t, &bad, got, sizeof got)) {
		eu_err(err, "'%s': /%s member '%s' is %s, expected %s of %zu "
			    "bytes",
		       path, t->name, bad->name, got,
		       class_name(field_class(bad)),
		       bad->kind == SF_STATE || bad->kind == SF_SPEC_STATE
			       ? (size_t)1
			       : bad->size);
		goto out;
	}
	if (rank == (n1 ? 2 : 1))
		H5Sget_simple_extent_dims(sp, dims, NULL);
	if (rank != (n1 ? 2 : 1) || dims[0] != n0 || (n1 && dims[1] != n1)) {
		if (n1)
			eu_err(err, "'%s': /%s has shape other than the "
				    "expected [%llu][%llu]",
			       path, t->name, (unsigned long long)n0,
			       (unsigned long long)n1);
		else
			eu_err(err, "'%s': /%s has shape other than the "
				    "expected [%llu] (npoints)",
			       path, t->name, (unsigned long long)n0);
		goto out;
	}
	rc = 0;
out:
	if (sp >= 0)
		H5Sclose(sp);
	if (ft >= 0)
		H5Tclose(ft);
	if (d >= 0)
		H5Dclose(d);
	return rc;
}

int archive_check_tables(hid_t f, const char *path, int npoints, char *err)
{
	const hsize_t np = (hsize_t)npoints;
	if (check_table(f, path, &schema_points_table, np, 0, err) ||
	    check_table(f, path, &schema_status, np, 0, err) ||
	    check_table(f, path, &schema_provenance, np, 0, err))
		return -1;
	if (H5Lexists(f, SCHEMA_HISTORY, H5P_DEFAULT) > 0 &&
	    check_table(f, path, &schema_history, np, ARCHIVE_HISTORY, err))
		return -1;
	return 0;
}

int archive_check_dataset(hid_t d, const schema_ds_t *def, int L, int n,
			  int nbeta, char *why, size_t nwhy)
{
	hsize_t want[4], dims[4] = {0, 0, 0, 0};
	const int rank = schema_dims(def, L, n, nbeta, want);
	hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
	H5T_class_t c = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
	const int cplx = def->cols == SC_WINDOWS || def->cols == SC_BETA_RHO;
	const H5T_class_t wc = cplx	       ? H5T_COMPOUND
			       : def->is_int ? H5T_INTEGER
					     : H5T_FLOAT;
	const size_t wsz = cplx ? 16 : def->is_int ? 4 : 8;
	int r = sp >= 0 ? H5Sget_simple_extent_dims(sp, dims, NULL) : -1;
	int rc = 0;
	if (c != wc || H5Tget_size(ft) != wsz) {
		snprintf(why, nwhy, "is %s of %zu bytes, expected %s of %zu",
			 class_name(c), ft >= 0 ? H5Tget_size(ft) : 0,
			 class_name(wc), wsz);
		rc = -1;
	} else if (r != rank) {
		snprintf(why, nwhy, "has rank %d, expected %d", r, rank);
		rc = -1;
	}
	for (int j = 0; !rc && j < rank; j++)
		if (dims[j] != want[j]) {
			snprintf(why, nwhy, "has %llu entries along axis %d, "
					    "expected %llu",
				 (unsigned long long)dims[j], j,
				 (unsigned long long)want[j]);
			rc = -1;
		}
	if (ft >= 0)
		H5Tclose(ft);
	if (sp >= 0)
		H5Sclose(sp);
	return rc;
}

/* The values of the points table and of /status and /history in range. */
static int check_values(const archive_summary_t *s, const char *path,
			char *err)
{
	for (int k = 0; k < s->npoints; k++) {
		const archive_point_row_t *p = &s->points[k];
		const archive_status_t *st = &s->status[k];
		if (p->id != k)
			return eu_err(err, "'%s': /%s[%d].id = %d, expected %d",
				      path, SCHEMA_POINTS_TABLE, k, p->id, k);
		if (p->state < 0 || p->state > SPEC_STATE_THERMAL)
			return eu_err(err, "'%s': /%s[%d].state = %d, expected "
					   "0..%d",
				      path, SCHEMA_POINTS_TABLE, k, p->state,
				      SPEC_STATE_THERMAL);
		if (p->L < 2 || p->n_measure < 1)
			return eu_err(err, "'%s': /%s[%d] has L = %d, n_measure "
					   "= %d, expected L >= 2 and "
					   "n_measure >= 1",
				      path, SCHEMA_POINTS_TABLE, k, p->L,
				      p->n_measure);
		if (st->state < 0 || st->state >= ARCHIVE_NSTATES)
			return eu_err(err, "'%s': /%s[%d].state = %d, expected "
					   "0..%d",
				      path, SCHEMA_STATUS, k, st->state,
				      ARCHIVE_NSTATES - 1);
		if (st->attempt < 0 || st->rows < 0 ||
		    st->rows > p->n_measure)
			return eu_err(err, "'%s': /%s[%d] has attempt %d, rows "
					   "%d, expected attempt >= 0 and rows "
					   "in 0..%d",
				      path, SCHEMA_STATUS, k, st->attempt,
				      st->rows, p->n_measure);
		for (int j = 0; s->history && j < ARCHIVE_HISTORY; j++) {
			const archive_history_t *h =
				&s->history[(size_t)k * ARCHIVE_HISTORY + j];
			if (h->attempt < 0 || h->outcome < 0 ||
			    h->outcome >= ARCHIVE_NSTATES)
				return eu_err(err, "'%s': /%s[%d][%d] has attempt "
						   "%d, outcome %d, expected "
						   "attempt >= 0, outcome "
						   "0..%d",
					      path, SCHEMA_HISTORY, k, j,
					      h->attempt, h->outcome,
					      ARCHIVE_NSTATES - 1);
		}
	}
	return 0;
}

/* Every dataset of point k present with its declared type and shape (they
 * exist from the archive's creation; a done point's hold its rows). */
static int check_point(hid_t f, const archive_summary_t *s, int k,
			    const char *path, char *err)
{
	const archive_point_row_t *p = &s->points[k];
	const int table = p->state == SPEC_STATE_THERMAL;
	int nbeta = 0;
	char g[64], name[96], why[160];
	schema_point_path(g, sizeof g, k, NULL);
	if (H5Lexists(f, SCHEMA_POINTS, H5P_DEFAULT) <= 0 ||
	    H5Lexists(f, g, H5P_DEFAULT) <= 0)
		return eu_err(err, "'%s': point %d (%s) has no group /%s", path,
			      k, archive_state_name(s->status[k].state), g);
	if (table) {
		hid_t gid = H5Gopen2(f, g, H5P_DEFAULT);
		int ok = gid >= 0 && !h5x_attr_read_int(gid, "nbeta", &nbeta) &&
			 nbeta >= 2;
		if (gid >= 0)
			H5Gclose(gid);
		if (!ok)
			return eu_err(err, "'%s': /%s: expected an integer "
					   "attribute nbeta >= 2",
				      path, g);
	}
	for (int j = 0; j < (table ? NTDS : NDS); j++) {
		const schema_ds_t *d = table ? &schema_table_ds[j]
					     : &schema_point_ds[j];
		if (d->mask && !(p->measure & d->mask))
			continue;
		schema_point_path(name, sizeof name, k, d->name);
		if (H5Lexists(f, name, H5P_DEFAULT) <= 0)
			return eu_err(err, "'%s': point %d (%s) has no dataset "
					   "/%s",
				      path, k,
				      archive_state_name(s->status[k].state),
				      name);
		hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
		int bad = ds < 0 || archive_check_dataset(ds, d, p->L,
							  p->n_measure, nbeta,
							  why, sizeof why);
		if (ds < 0)
			snprintf(why, sizeof why, "cannot be opened");
		if (ds >= 0)
			H5Dclose(ds);
		if (bad)
			return eu_err(err, "'%s': /%s %s", path, name, why);
	}
	return 0;
}

int archive_validate(hid_t f, const char *path, const archive_summary_t *s,
		     char *err)
{
	if (check_values(s, path, err))
		return -1;
	for (int k = 0; k < s->npoints; k++)
		if (check_point(f, s, k, path, err))
			return -1;
	return 0;
}
