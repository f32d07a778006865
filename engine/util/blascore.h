/* blascore: OpenBLAS's choice of compute kernels on CPUs it does not know.
 *
 * A DYNAMIC_ARCH OpenBLAS picks its kernels by the CPU model at load time;
 * for a model newer than the library (e.g. OpenBLAS 0.3.21 on Xeon model
 * 207) it falls back to its oldest x86-64 kernels, "Prescott" (SSE3): zgemm
 * at 15 GFLOP/s where the same core's AVX-512 kernels (SkylakeX) do 65-70.
 * The only switch is the environment variable OPENBLAS_CORETYPE, read
 * before main() runs, so the fix is to set it and execute the program
 * again. */
#ifndef BLASCORE_H
#define BLASCORE_H

/* If OPENBLAS_CORETYPE is unset, OpenBLAS runs its Prescott fallback and
 * the CPU (and the OS) support AVX-512 (F, DQ, BW, VL: SkylakeX kernels)
 * or AVX2 + FMA (Haswell kernels): sets OPENBLAS_CORETYPE and re-executes
 * /proc/self/exe with argv (same pid, same environment otherwise).  Returns
 * if nothing is to be done, under valgrind, or if the exec fails.  Call it
 * first thing in main, before MPI_Init.  OPENBLAS_CORETYPE=Prescott keeps
 * the fallback. */
void blascore_fix(char **argv);

/* The kernel set OpenBLAS runs ("SkylakeX", "Prescott", ...). */
const char *blascore_name(void);

#endif
