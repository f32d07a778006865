/* blascore: see blascore.h. */
#include "blascore.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

char *openblas_get_corename(void);

const char *blascore_name(void) { return openblas_get_corename(); }

/* The kernel set this CPU can run, or NULL.  __builtin_cpu_supports also
 * checks that the OS saves the AVX / AVX-512 registers (XGETBV). */
static const char *better_core(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl"))
		return "SkylakeX";
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return "Haswell";
	return NULL;
}

void blascore_fix(char **argv)
{
	if (getenv("OPENBLAS_CORETYPE"))
		return; /* the user's choice, or this is the re-executed run */
	const char *pre = getenv("LD_PRELOAD");
	if (pre && (strstr(pre, "vgpreload") || strstr(pre, "valgrind")))
		return; /* exec would leave valgrind */
	const char *core = openblas_get_corename();
	if (!core || strcasecmp(core, "Prescott"))
		return;
	const char *want = better_core();
	if (!want || setenv("OPENBLAS_CORETYPE", want, 1))
		return;
	execv("/proc/self/exe", argv);
	unsetenv("OPENBLAS_CORETYPE"); /* exec failed: run as we are */
}
