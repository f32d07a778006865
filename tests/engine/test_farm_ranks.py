"""Acceptance 1: the same 12-point sweep run with 1, 2 and 4 ranks (4
oversubscribed on small machines), and with 3 ranks of which rank 0 only
schedules (--dedicated-scheduler), gives archives whose point data are
identical -- h5diff on /points exits 0, and numpy finds every value equal
bit for bit -- whatever ranks ran the points and in whatever order they
finished.  Timing and provenance (/status, /provenance) are left out.

usage: test_farm_ranks.py KAPITZA MPIRUN H5DIFF"""
import subprocess
import sys

import h5py
import numpy as np

from farmtest import Farm, check, done, spec


def main():
    f = Farm(sys.argv, "ranks")
    h5diff = f.extra[0]
    # 12 points: 2 lengths x 3 deltas x 2 Trotter orders, chi small enough
    # that truncation is active at L = 12 (discarded weight > 0)
    text = spec("ranks12", [8, 12], [0, 0.5, 0.9], t_max=2.0, chis=[6],
                orders=[2, 4], measure_every=0.25)
    sp = f.write("s.yaml", text)
    archives = {}
    for n in (1, 2, 4):
        a = f.path("r%d.h5" % n)
        p = f.run(n, ["run", sp, "-o", a, "-q"])
        check(p.returncode == 0, "%d ranks: exit %d, stderr %s"
              % (n, p.returncode, p.stderr[-2000:]))
        archives[n] = a
    # scheduling: every rank takes the most expensive point left (these
    # points' rows take milliseconds), so rank 0's first point is one of the
    # two at the head of the queue: cost ~ L here, ties by id
    with h5py.File(archives[2], "r") as h:
        tab = h["points_table"][:]
        ranks = h["status"]["rank"]
        head = sorted(range(len(tab)), key=lambda k: (-tab["L"][k], k))[:2]
        check(0 in [ranks[k] for k in head],
              "2 ranks: rank 0 ran neither of the two largest points %s "
              "(ranks %s)" % (head, list(ranks)))
    # rank 0 only schedules: same data, and no point ran on rank 0
    a = f.path("dedicated.h5")
    p = f.run(3, ["run", sp, "-o", a, "-q", "--dedicated-scheduler"])
    check(p.returncode == 0, "dedicated: exit %d, stderr %s"
          % (p.returncode, p.stderr[-2000:]))
    archives["dedicated"] = a
    with h5py.File(a, "r") as h:
        check(set(h["status"]["rank"]) == {1, 2},
              "dedicated: ranks %s" % set(h["status"]["rank"]))

    for n in (2, 4, "dedicated"):
        d = subprocess.run([h5diff, archives[1], archives[n], "/points",
                            "/points"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        check(d.returncode == 0, "h5diff /points 1 vs %s ranks: exit %d\n%s"
              % (n, d.returncode, d.stdout[:3000]))

    ref = h5py.File(archives[1], "r")
    ranks_used = set()
    for n in (2, 4):
        other = h5py.File(archives[n], "r")
        st = other["status"][:]
        check(np.all(st["state"] == 2), "%d ranks: all points done" % n)
        ranks_used |= set(int(r) for r in other["provenance"]["rank"])
        for pid in ref["points"]:
            for name, d in ref["points"][pid].items():
                a, b = d[()], other["points"][pid][name][()]
                check(a.shape == b.shape and a.tobytes() == b.tobytes(),
                      "point %s %s differs between 1 and %d ranks"
                      % (pid, name, n))
        other.close()
    # the 4-rank run really did spread the points
    check(len(ranks_used) >= 3,
          "points ran on ranks %s only" % sorted(ranks_used))
    # and the data are not trivially equal: truncation and dynamics happen
    disc = max(float(ref["points"][p]["discarded"][-1])
               for p in ref["points"])
    check(disc > 0, "some truncation happened (max discarded %g)" % disc)
    ref.close()
    f.cleanup()
    return done("farm_ranks")


if __name__ == "__main__":
    sys.exit(main())
