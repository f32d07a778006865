/* cmd: entry points of the subcommands, each `int cmd_X(argc, argv)` with
 * argv[0] the subcommand name; returns the process exit status. */
#ifndef CMD_H
#define CMD_H

int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_resubmit(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_bench(int argc, char **argv);
/* the post-stage: engine/cmd/fit.c, engine/cmd/plot.c (engine/post/) */
int cmd_fit(int argc, char **argv);
int cmd_plot(int argc, char **argv);
/* the TBA/GHD side: engine/post/ghd.c */
int cmd_ghd(int argc, char **argv);
/* the chi_max ladder that extends itself: engine/cmd/refine.c */
int cmd_refine(int argc, char **argv);
/* kapitza bench --dmrg (engine/bench_dmrg.c) */
int dmrg_bench_main(int argc, char **argv);
/* `kapitza bench --scalapack` (bench_scalapack.c) */
int scalapack_bench_main(int argc, char **argv);

#endif
