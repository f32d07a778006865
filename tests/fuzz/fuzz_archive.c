/* fuzz_archive: libFuzzer harness for the archive reader that `status`,
 * `fit`, `plot` and `resubmit` go through.  Bytes in (written to a scratch
 * file, since the reader takes a path); a summary or an error message out.
 * A crash or a sanitizer report is a finding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0]) {
		snprintf(path, sizeof path, "/tmp/kapitza-fuzz-%ld.h5",
			 (long)getpid());
		H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* quiet HDF5 */
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	char err[EU_ERRLEN] = "";
	archive_summary_t *s = NULL;
	if (archive_summary_read(&s, path, err)) {
		if (s || !err[0])
			abort(); /* a refusal must leave nothing and say why */
		return 0;
	}
	err[0] = 0;
	if (archive_summary_rows(s, path, err) && !err[0])
		abort();
	err[0] = 0;
	if (archive_summary_convergence(s, path, err) && !err[0])
		abort();
	archive_summary_destroy(&s);
	return 0;
}
