/* test_archive: the archive module on one MPI rank (a singleton, no
 * mpirun): layout from a spec, rows, status and provenance round trips,
 * the NaN/-1 fill, the summary reader, and every error path the module
 * reports (existing file without force, missing directory, rows out of
 * range, files that are not archives). */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "archive.h"
#include "check.h"
#include "obs.h"
#include "spec.h"

static const char *spec_text =
	"sweep: unit\n"
	"chain:\n"
	"  length: [8, 10]\n"
	"  right: { delta: 0.5 }\n"
	"state: domain_wall\n"
	"evolve: { dt: 0.1, t_max: 0.3, order: 2, measure_every: 0.1 }\n"
	"truncate: { chi_max: 4 }\n";

static double read_double(const char *path, const char *dset, int row,
			  int col, int ncols)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
	hid_t sp = H5Dget_space(d);
	hssize_t n = H5Sget_simple_extent_npoints(sp);
	double *buf = malloc((size_t)n * sizeof *buf), v = -999;
	if (buf && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
			   buf) >= 0)
		v = buf[row * ncols + col];
	free(buf);
	H5Sclose(sp);
	H5Dclose(d);
	H5Fclose(f);
	return v;
}

/* A reader sees the status while the writer still has the file. */
static void check_summary(const char *path, const spec_t *s)
{
	char err[EU_ERRLEN];
	archive_summary_t *sum = NULL;

	CHECK(archive_summary_read(&sum, path, err) == 0, "read open: %s",
	      err);
	if (sum) {
		CHECK(sum->npoints == 2, "npoints");
		CHECK(sum->status[1].state == ARCHIVE_FAILED &&
			      sum->status[1].attempt == 3 &&
			      !strcmp(sum->status[1].message, "a message"),
		      "status round trip");
		CHECK(sum->status[0].state == ARCHIVE_PENDING &&
			      sum->status[0].attempt == 0 &&
			      sum->status[0].rank == -1 &&
			      isnan(sum->status[0].t_reached),
		      "status fill = pending");
		CHECK(sum->points[1].L == 10 &&
			      sum->points[1].n_measure == 4 &&
			      fabs(sum->points[1].delta_right - 0.5) < 1e-15 &&
			      !strcmp(sum->points[1].hash,
				      s->points[1].hash_hex),
		      "points table");
		CHECK(!strcmp(sum->format, ARCHIVE_FORMAT) &&
			      sum->format_version == 1 &&
			      !strcmp(sum->spec_hash, s->hash_hex) &&
			      !strcmp(sum->sweep, "unit"),
		      "root attributes");
	}
	archive_summary_destroy(&sum);
	archive_summary_destroy(&sum); /* NULL is fine */
}

/* Readers: not HDF5, HDF5 but not an archive, missing (bad). */
static void test_bad_readers(const char *dir, const char *bad)
{
	char err[EU_ERRLEN];
	archive_summary_t *sum = NULL;

	char junk[300], plain[300];
	snprintf(junk, sizeof junk, "%s/junk.h5", dir);
	snprintf(plain, sizeof plain, "%s/plain.h5", dir);
	FILE *fj = fopen(junk, "w");
	if (fj) {
		fputs("not hdf5\n", fj);
		fclose(fj);
	}
	hid_t fp = H5Fcreate(plain, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	H5Fclose(fp);
	CHECK(archive_summary_read(&sum, junk, err) < 0 && sum == NULL &&
		      strstr(err, "cannot open archive"),
	      "junk: %s", err);
	CHECK(archive_summary_read(&sum, plain, err) < 0 &&
		      strstr(err, "not a kapitza archive"),
	      "plain: %s", err);
	CHECK(archive_summary_read(&sum, bad, err) < 0, "missing: %s", err);
	CHECK(!strcmp(archive_state_name(ARCHIVE_INTERRUPTED), "interrupted") &&
		      !strcmp(archive_state_name(9), "?"),
	      "state names");

	unlink(junk);
	unlink(plain);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/kapitza-test-archive-XXXXXX";
	char path[256], err[EU_ERRLEN], serr[EU_ERRLEN];
	spec_t *s = NULL;
	archive_t *a = NULL;
	obs_t *o = NULL;

	MPI_Init(&argc, &argv);
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof path, "%s/a.h5", dir);
	CHECK(spec_parse(&s, "unit.yaml", spec_text, strlen(spec_text),
			 serr) == 0,
	      "spec: %s", serr);
	if (!s)
		return check_done("archive");
	CHECK(s->npoints == 2 && s->points[0].n_measure == 4, "spec shape");

	CHECK(archive_create(&a, MPI_COMM_WORLD, path, s, 0, err) == 0,
	      "create: %s", err);
	CHECK(obs_create(&o, 8, err) == 0, "obs_create");
	for (int i = 0; i < 8; i++) {
		o->sz[i] = i < 4 ? 0.5 : -0.5;
		o->energy_flow[i] = 0.01 * i;
	}
	for (int i = 0; i < 7; i++) {
		o->energy[i] = o->spin_current[i] = o->energy_current[i] = 0;
		o->entropy[i] = 0.1 * i;
		o->bond_dim[i] = i + 1;
	}
	o->norm = 1;
	CHECK(archive_write_row(a, 0, 1, 0.1, o, 1e-9, 1e-10, err) == 0,
	      "row: %s", err);
	/* errors: row, point and shape out of range */
	CHECK(archive_write_row(a, 0, 4, 0.4, o, 0, 0, err) < 0 &&
		      strstr(err, "out of range"),
	      "row 4 of 4 rejected: %s", err);
	CHECK(archive_write_row(a, 2, 0, 0, o, 0, 0, err) < 0, "point 2");
	CHECK(archive_write_row(a, 1, 0, 0, o, 0, 0, err) < 0,
	      "L = 8 observables into an L = 10 point");
	CHECK(archive_wants_rho3(a, 0) == 0, "no rho3 asked");
	CHECK(archive_write_rho3(a, 0, 0, NULL, err) < 0, "rho3 rejected");

	archive_status_t st;
	archive_status_init(&st);
	st.state = ARCHIVE_FAILED;
	st.attempt = 3;
	st.rank = 0;
	st.rows = 2;
	st.t_reached = 0.1;
	st.wall_s = 1.5;
	st.max_discarded = 1e-10;
	st.max_bond_dim = 7;
	snprintf(st.message, sizeof st.message, "a message");
	CHECK(archive_write_status(a, 1, &st, err) == 0, "status: %s", err);
	CHECK(archive_write_status(a, 5, &st, err) < 0, "status point 5");
	archive_prov_t pv;
	memset(&pv, 0, sizeof pv);
	pv.attempt = 3;
	snprintf(pv.host, sizeof pv.host, "testhost");
	CHECK(archive_write_provenance(a, 0, &pv, err) == 0, "prov: %s", err);

	check_summary(path, s);

	/* an existing file is not replaced without force */
	archive_t *b = NULL;
	CHECK(archive_create(&b, MPI_COMM_WORLD, path, s, 0, err) < 0 &&
		      b == NULL && strstr(err, "--force"),
	      "no overwrite: %s", err);
	CHECK(archive_destroy(&a, err) == 0, "close: %s", err);
	CHECK(a == NULL && archive_destroy(&a, NULL) == 0, "destroy NULL");

	CHECK_CLOSE(read_double(path, "/points/0/sz", 1, 3, 8), 0.5, 0, "sz");
	CHECK_CLOSE(read_double(path, "/points/0/entropy", 1, 6, 7), 0.6, 1e-15,
		    "entropy");
	CHECK_CLOSE(read_double(path, "/points/0/time", 1, 0, 1), 0.1, 0,
		    "time");
	CHECK(isnan(read_double(path, "/points/0/sz", 0, 0, 8)), "row 0 NaN");
	CHECK(isnan(read_double(path, "/points/1/energy", 3, 8, 9)),
	      "point 1 NaN");
	CHECK_CLOSE(read_double(path, "/points/0/bond_dim", 1, 6, 7), 7, 0,
		    "bond_dim");
	CHECK_CLOSE(read_double(path, "/points/0/bond_dim", 2, 0, 7), -1, 0,
		    "bond_dim fill -1");

	/* force replaces */
	CHECK(archive_create(&b, MPI_COMM_WORLD, path, s, 1, err) == 0,
	      "force: %s", err);
	archive_destroy(&b, NULL);
	CHECK(isnan(read_double(path, "/points/0/sz", 1, 3, 8)),
	      "replaced archive is fresh");

	/* missing directory */
	char bad[300];
	snprintf(bad, sizeof bad, "%s/no/such/a.h5", dir);
	CHECK(archive_create(&b, MPI_COMM_WORLD, bad, s, 0, err) < 0 &&
		      strstr(err, "cannot create archive"),
	      "missing dir: %s", err);

	test_bad_readers(dir, bad);
	unlink(path);
	rmdir(dir);
	obs_destroy(&o);
	spec_destroy(&s);
	MPI_Finalize();
	return check_done("archive");
}
