"""Acceptance 5: failing points are recorded and the sweep goes on.
- KAPITZA_FAULT_POINT=k: point k is failed with "injected fault" after its
  first measurement (row 0 written, the other rows still the NaN fill), all
  other points are done, the exit status is non-zero -- with 1 and 3 ranks,
  the faulty point on a remote worker and on rank 0;
- a ground_state point whose DMRG cannot converge at its chi_max fails
  with the DMRG message, nothing written, while a ground_state point with
  enough chi and the domain-wall point are done.

usage: test_farm_fault.py KAPITZA MPIRUN"""
import sys

import h5py
import numpy as np

from farmtest import Farm, check, done, spec, totals


def main():
    f = Farm(sys.argv, "fault")
    sp = f.write("s.yaml", spec("fault", [8, 10], [0, 0.3, 0.6], t_max=1.0,
                                chis=[8], measure_every=0.25))
    for ranks, k in ((1, 4), (3, 0), (3, 5)):
        a = f.path("f%d_%d.h5" % (ranks, k))
        p = f.run(ranks, ["run", sp, "-o", a, "-q"],
                  env={"KAPITZA_FAULT_POINT": str(k)})
        check(p.returncode != 0, "fault %d on %d ranks: exit %d"
              % (k, ranks, p.returncode))
        check("5 done, 1 failed" in p.stdout, "summary %r" % p.stdout)
        with h5py.File(a, "r") as h:
            st = h["status"][:]
            states = list(st["state"])
            check(states == [2 if i != k else 3 for i in range(6)],
                  "states %s" % states)
            check(st["message"][k] == b"injected fault",
                  "message %r" % st["message"][k])
            check(st["rows"][k] == 1 and st["t_reached"][k] == 0,
                  "failed after the first row")
            check(all(m == b"" for i, m in enumerate(st["message"])
                      if i != k), "no other messages")
            g = h["points/%d" % k]
            t, sz = g["time"][:], g["sz"][:]
            check(t[0] == 0 and np.all(np.isnan(t[1:])),
                  "time: row 0 written, the rest NaN: %s" % t)
            check(np.all(np.isfinite(sz[0])) and np.all(np.isnan(sz[1:])),
                  "sz rows after the fault are NaN")
            check(np.all(g["bond_dim"][1:] == -1), "bond_dim fill -1")
            check(h["provenance"]["attempt"][k] == 1,
                  "provenance written for the failed point")
            ok = h["points/%d" % ((k + 1) % 6)]
            check(np.all(np.isfinite(ok["sz"][:])), "neighbour complete")
        s = f.status(a)
        check(totals(s.stdout) == {"done": 5, "failed": 1, "running": 0,
                                   "pending": 0, "interrupted": 0},
              "status totals %s" % totals(s.stdout))
        check("injected fault" in s.stdout, "status shows the message")

    # a ground state that DMRG cannot converge at chi 2 fails the point
    sp = f.write("g.yaml", spec("gs", [8], [0.5], t_max=0.5, chis=[2, 16],
                                states=["ground_state", "domain_wall"]))
    a = f.path("g.h5")
    p = f.run(2, ["run", sp, "-o", a, "-q"])
    check(p.returncode != 0, "ground_state: exit %d" % p.returncode)
    with h5py.File(a, "r") as h:
        st = h["status"][:]
        pts = h["points_table"][:]
        for k in range(len(st)):
            gs = pts["state"][k] == 0
            chi = pts["chi_max"][k]
            want = 3 if (gs and chi == 2) else 2
            check(st["state"][k] == want,
                  "point %d (gs=%d chi=%d): state %d" % (k, gs, chi,
                                                         st["state"][k]))
            if want == 3:
                check(st["message"][k].startswith(b"ground state: dmrg: not converged"),
                      "message %r" % st["message"][k])
                check(st["rows"][k] == 0 and np.isnan(st["t_reached"][k]),
                      "nothing measured")
                check(np.all(np.isnan(h["points/%d/sz" % k][:])), "all rows NaN")
    f.cleanup()
    return done("farm_fault")


if __name__ == "__main__":
    sys.exit(main())
