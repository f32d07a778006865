"""On the homogeneous XX chain the slow region is
absent -- n'_L = n'_R = 0 throughout the window.

A real run: |Psi1> of the XX chain (both halves Delta = 0), L = 48,
chi_max = 32, t up to 10 (the light cone stays 14 sites from the ends),
then `kapitza fit --window 6:10`.  Every row in the window must have one
maximum (peaks_found = 0, n'_L = n'_R = 0) and v'_R = v'_L = 0 +- 0.

The rule is tested, not assumed: the raw profile of the XX chain has
lattice ripples (two local maxima a few bonds apart, a few percent deep,
at t ~ 6-8 at L = 140 -- engine/POSTSTAGE.md); with --smooth 1 (no moving
average) they must show up as spurious pairs somewhere in the window, so
this test would fail if the profile had none to reject.

usage: test_fit_xx.py KAPITZA MPIRUN"""
import sys

import h5py
import numpy as np

from posttest import Env, check, check_close, done

SPEC = """sweep: xx
chain:
  length: 48
  left: { delta: 0 }
  right: { delta: 0 }
state: ground_state
evolve: { dt: 0.05, t_max: 10, order: 4, measure_every: 0.5 }
truncate: { chi_max: 32, cutoff: 1.0e-10 }
measure: [energy, energy_current]
"""


def main():
    e = Env(sys.argv, "fit-xx")
    a = e.run_sweep(SPEC, "xx", ranks=1)
    p = e.kz(["fit", a, "--window", "6:10"])
    check(p.returncode == 0, "fit: %d\n%s\n%s" % (p.returncode, p.stdout,
                                                  p.stderr))
    print(p.stdout)
    with h5py.File(a, "r") as f:
        t = f["points/0/time"][()]
        w = (t >= 6 - 1e-9) & (t <= 10 + 1e-9)
        check(w.sum() == 9 and np.all(np.isfinite(t)), "9 rows in 6:10")
        nl = f["analysis/points/0/n_left"][()]
        nr = f["analysis/points/0/n_right"][()]
        found = f["analysis/points/0/peaks_found"][()]
        check(np.all(found[w] == 0), "one maximum at every t in 6:10: %s"
              % found[w])
        check(np.all(nl[w] == 0) and np.all(nr[w] == 0),
              "n'_L = n'_R = 0 in the window: %s %s" % (nl[w], nr[w]))
        lc = f["analysis/lightcone"][()]
        check(lc["ok"][0] == 1 and lc["rows_found"][0] == 0, "fitted")
        check(b"one maximum in every row of the window" in lc["message"][0]
              and "one maximum in every row" in p.stdout,
              "the fit says v' = 0 comes from one maximum: %r"
              % lc["message"][0])
        for k in ("v_right", "v_right_sd", "v_left", "v_left_sd"):
            check_close(lc[k][0], 0, 0, k + " = 0")
        # the profile really has one broad maximum near the junction
        je = f["points/0/energy_current"][()]
        n = np.arange(47) - 23
        for k in np.flatnonzero(w):
            i = int(np.argmax(je[k]))
            check(abs(n[i] - 0.5) <= 3, "t = %g: global maximum at bond %d"
                  % (t[k], n[i]))
    # without the moving average the lattice ripples look like two maxima
    p = e.kz(["fit", a, "--window", "6:10", "--smooth", "1", "-q"])
    check(p.returncode == 0, "fit --smooth 1: %d %s" % (p.returncode,
                                                       p.stderr))
    with h5py.File(a, "r") as f:
        found = f["analysis/points/0/peaks_found"][()]
        t = f["points/0/time"][()]
        w = (t >= 6 - 1e-9) & (t <= 10 + 1e-9)
        print("unsmoothed: two maxima at t =", t[w][found[w] == 1])
        check(found[w].sum() >= 1, "unsmoothed ripples give spurious pairs "
              "(the smoothing is what removes them)")
        check(f["analysis"].attrs["smooth"] == 1, "smooth attribute")
    e.cleanup()
    return done("test_fit_xx")


if __name__ == "__main__":
    sys.exit(main())
