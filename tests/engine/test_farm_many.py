"""Acceptance 2: a 200-point sweep of tiny chains on 4 ranks: every point is
done exactly once -- status done, attempt 1, all rows written, a provenance
row from the rank the status names -- and none is lost.

usage: test_farm_many.py KAPITZA MPIRUN"""
import sys

import h5py
import numpy as np

from farmtest import Farm, check, done, spec, totals


def main():
    f = Farm(sys.argv, "many")
    # 4 lengths x 10 deltas x 5 chi = 200 points, 6 rows each
    text = spec("many200", [8, 10, 12, 14],
                [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], t_max=0.5,
                chis=[4, 6, 8, 12, 16], orders=[2], measure_every=0.1)
    sp = f.write("s.yaml", text)
    a = f.path("many.h5")
    p = f.run(4, ["run", sp, "-o", a, "--progress", "1"])
    check(p.returncode == 0, "exit %d, stderr %s"
          % (p.returncode, p.stderr[-2000:]))
    check("200 points: 200 done, 0 failed" in p.stdout,
          "summary line: %s" % p.stdout[-500:])

    with h5py.File(a, "r") as h:
        st = h["status"][:]
        pv = h["provenance"][:]
        tab = h["points_table"][:]
        check(len(st) == 200 and len(tab) == 200, "200 rows")
        check(list(tab["id"]) == list(range(200)), "ids 0..199 in order")
        check(np.all(st["state"] == 2), "all done: %s"
              % np.bincount(st["state"], minlength=5))
        check(np.all(st["attempt"] == 1), "attempts %s"
              % np.unique(st["attempt"]))
        check(np.all(pv["attempt"] == 1), "provenance attempts")
        check(np.all(st["rows"] == tab["n_measure"]), "all rows reported")
        check(np.all(st["rank"] == pv["rank"]),
              "status and provenance agree on the rank")
        check(np.all((st["rank"] >= 0) & (st["rank"] < 4)), "ranks 0..3")
        check(np.all(pv["mpi_size"] == 4), "mpi_size 4 recorded")
        check(len(set(st["rank"])) == 4, "all four ranks worked: %s"
              % np.bincount(st["rank"]))
        check(np.all(st["message"] == b""), "no messages")
        check_t = True
        for pid in range(200):
            g = h["points/%d" % pid]
            t = g["time"][:]
            n = int(tab["n_measure"][pid])
            check_t &= t.shape == (n,) and bool(np.all(np.isfinite(t)))
            check_t &= bool(abs(t[-1] - 0.5) < 1e-12)
            check_t &= bool(np.all(np.isfinite(g["sz"][:])))
            check_t &= bool(np.all(g["bond_dim"][:] >= 1))
        check(check_t, "every point has all its rows, t reaches 0.5")
        # each point's parameters are where its id says
        L = tab["L"]
        check(list(L[:50]) == [8] * 50 and list(L[150:]) == [14] * 50,
              "length is the slowest axis")

    s = f.status(a)
    check(s.returncode == 0, "status exit %d" % s.returncode)
    check(totals(s.stdout) == {"done": 200, "failed": 0, "running": 0,
                               "pending": 0, "interrupted": 0},
          "status totals %s" % totals(s.stdout))
    f.cleanup()
    return done("farm_many")


if __name__ == "__main__":
    sys.exit(main())
