"""bench_farm: throughput and per-point overhead of the farm on tiny points,
with 1, 2 and 4 ranks (4 oversubscribed on small machines).  Prints
figures; never fails on the clock (only if a run itself fails).

  points/s     = points / farm time (scheduling + kernel + archive writes,
                 from the run's own summary line)
  overhead/pt  = (farm time x ranks - sum of the points' own wall times) /
                 points: what the farm adds per point (messages, status
                 writes, idle waits), in CPU-seconds
  create       = collective archive creation (all groups and datasets)
  total        = mpirun start to exit

usage: bench_farm.py KAPITZA MPIRUN [NPOINTS]"""
import re
import sys

import h5py

from farmtest import Farm, spec


def main():
    f = Farm(sys.argv, "bench")
    n = int(f.extra[0]) if f.extra else 200
    deltas = [round(0.9 * k / max(1, n // 4 - 1), 6) for k in range(n // 4)]
    text = spec("bench", [8, 10, 12, 14], deltas, t_max=0.5, chis=[8],
                orders=[2], measure_every=0.1)
    sp = f.write("bench.yaml", text)
    print("farm benchmark: %d tiny points (L = 8..14, chi 8, 10 steps, "
          "6 rows)" % (4 * len(deltas)))
    print("%5s %9s %12s %10s %9s %9s" % ("ranks", "points/s", "overhead/pt",
                                         "create", "farm", "total"))
    rc = 0
    for ranks in (1, 2, 4):
        a = f.path("b%d.h5" % ranks)
        p = f.run(ranks, ["run", sp, "-o", a, "--progress", "1000"])
        if p.returncode != 0:
            print("run on %d ranks failed (%d): %s"
                  % (ranks, p.returncode, p.stderr[-1000:]))
            rc = 1
            continue
        create = float(re.search(r"created in ([0-9.]+) s", p.stdout)[1])
        m = re.search(r"(\d+) points: .*; ([0-9.]+) s ->", p.stdout)
        npts, farm = int(m[1]), float(m[2])
        with h5py.File(a, "r") as h:
            work = float(h["status"]["wall_s"].sum())
        over = (farm * ranks - work) / npts
        print("%5d %9.1f %10.2f ms %8.2f s %7.2f s %7.2f s"
              % (ranks, npts / farm if farm > 0 else float("inf"),
                 1e3 * over, create, farm, p.elapsed))
    f.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
