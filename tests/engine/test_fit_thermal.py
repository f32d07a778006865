"""Effective temperatures from thermal tables.

A real run of |Psi1> (XX left half, right half Delta = cos(pi/3),
cos(pi/4) and the homogeneous XX chain), L = 40, chi_max = 32, t up to 3,
with rho3, and a
`thermal:` section (beta in [-3, 3] step 0.25, a 12-site purified chain),
whose tables `kapitza run` computes as items of the sweep; then
`kapitza fit`:
  - the archive holds one table per anisotropy (0, 1/2, cos(pi/4)) as
    points of state thermal_table after the three points, done, e
    decreasing in beta, e(beta = 0) = 0 (h is traceless), attributes;
  - beta_eff of |Psi1> at t = 0 far from the junction is large negative on
    the left (the top of the XX spectrum) and large positive on the right
    (the XXZ ground state): beyond the table, -inf and +inf, or |beta| > 2.5;
  - every finite beta_eff reproduces E-bar_n = (E_n + E_{n+1})/2 on the
    stored table (the left table for windows starting at n <= 0), checked
    by an independent piecewise-linear inversion to the grid's accuracy;
  - the trace distance d_n is in [0, 2] and matches an independent numpy
    computation ||rho3 - rho_th||_1 with rho_th interpolated linearly in
    beta on the stored table (to interpolation accuracy);
  - a second `kapitza fit` reproduces beta_eff and d_n exactly;
  - the same sweep without the section, fitted with `--tables` pointing at
    the first archive, gets the same beta_eff and d_n bitwise;
  - `kapitza fit --thermal` (the former table computation) is refused
    with a message that says where the tables come from now.
(Farming, resubmission, shards and the equality with a direct kernel
computation: test_thermal_farm.py.)
(The inversion of a purified thermal state to 1e-6 is tests/engine/
test_fit.c: test_thermal.)

usage: test_fit_thermal.py KAPITZA MPIRUN"""
import sys

import h5py
import numpy as np

from posttest import Env, check, check_close, done

SPEC = """sweep: thermal
chain:
  length: 40
  left: { delta: 0 }
  right: { gamma: [pi/2, pi/3, pi/4] }
state: ground_state
evolve: { dt: 0.05, t_max: 3, order: 4, measure_every: 0.5 }
truncate: { chi_max: 32, cutoff: 1.0e-10 }
measure: [energy, energy_current, magnetization, rho3]
thermal:
  beta: { min: -3, max: 3, step: 0.25 }
  length: 12
  chi_max: 32
  dtau: 0.1
"""


# main is 121 lines, over the ~120 of the code: left whole because it is one
# real run's archive checked step after step against independent computations.
def main():
    e = Env(sys.argv, "fit-thermal")
    a = e.run_sweep(SPEC, "th")
    p = e.kz(["status", a])
    check(p.returncode == 0 and p.stdout.count("thermal_table") == 3 and
          "6 points (3 of them thermal tables): 6 done" in p.stdout,
          "status: three tables done: %s" % p.stdout)
    p = e.kz(["fit", a, "--window", "1:3"])
    check(p.returncode == 0, "fit: %d\n%s\n%s" %
          (p.returncode, p.stdout, p.stderr))
    print(p.stdout)
    with h5py.File(a, "r") as f:
        pt = f["points_table"][()]
        st = f["status"][()]
        ids = [int(r["id"]) for r in pt if r["state"] == 2]
        check(ids == [3, 4, 5] and np.all(st["state"][ids] == 2),
              "three tables after the points, done: %s" % ids)
        check("analysis/thermal" not in f, "no /analysis/thermal")
        tabs = {}
        for k in ids:
            g = f["points/%d" % k]
            b = g["beta"][()]
            E = g["energy"][()]
            check(len(b) == 25 and b[12] == 0 and g["mu"][()][0] == 0,
                  "beta grid of table %s" % k)
            check(np.all(np.diff(E[0]) < 0), "e decreasing in beta (%s)" % k)
            check_close(E[0][12], 0, 1e-12, "e(beta = 0) = 0 (%s)" % k)
            check(g.attrs["length"] == 12 and g.attrs["chi_max"] == 32,
                  "table attributes")
            tabs[round(float(g.attrs["delta"]), 12)] = (b, E[0],
                                                        g["rho3"][()][0])
        check(sorted(tabs) == [0.0, 0.5, round(np.cos(np.pi / 4), 12)],
              "table anisotropies %s" % sorted(tabs))
        tp = f["analysis/thermal_profiles"][()]
        check(len(tp) == 3 and np.all(tp["with_distance"] == 1) and
              np.all(tp["with_mu"] == 0), "thermal_profiles table")
        table = pt[pt["state"] != 2]
        for row in table:
            pid = int(row["id"])
            L = int(row["L"])
            beta = f["analysis/points/%d/beta_eff" % pid][()]
            dist = f["analysis/points/%d/trace_distance" % pid][()]
            E = f["points/%d/energy" % pid][()]
            rho = f["points/%d/rho3" % pid][()]
            n = np.arange(L - 2) - L // 2 + 1  # first site of each window
            far_l, far_r = n <= -6, n >= 7
            check(np.all(beta[0][far_l] < -2.5),
                  "point %d, t = 0: beta_eff far left large negative: %s"
                  % (pid, beta[0][far_l]))
            check(np.all(beta[0][far_r] > 2.5),
                  "point %d, t = 0: beta_eff far right large positive: %s"
                  % (pid, beta[0][far_r]))
            # independent inversion: piecewise linear on the stored table
            eb = 0.5 * (E[:, :-1] + E[:, 1:])
            worst, dworst, nfin = 0.0, 0.0, 0
            for k in range(beta.shape[0]):
                for w in range(L - 2):
                    d = row["delta_left"] if n[w] <= 0 else \
                        row["delta_right"]
                    bg, eg, rg = tabs[round(float(d), 12)]
                    if not np.isfinite(beta[k, w]):
                        # beyond the grid on the side of its sign
                        check(eb[k, w] < eg[-1] if beta[k, w] > 0 else
                              eb[k, w] > eg[0], "infinite beta beyond "
                              "the grid")
                        continue
                    nfin += 1
                    bl = np.interp(eb[k, w], eg[::-1], bg[::-1])
                    worst = max(worst, abs(bl - beta[k, w]))
                    # rho_th by linear interpolation in beta
                    i = min(int(np.searchsorted(bg, beta[k, w])), len(bg) - 1)
                    i = max(i, 1)
                    x = (beta[k, w] - bg[i - 1]) / (bg[i] - bg[i - 1])
                    rt = (1 - x) * rg[i - 1] + x * rg[i]
                    ev = np.linalg.eigvalsh(rho[k, w] - rt)
                    dworst = max(dworst, abs(np.abs(ev).sum() - dist[k, w]))
            check(nfin >= 15, "point %d: %d finite beta_eff" % (pid, nfin))
            check(worst < 0.03, "point %d: beta_eff vs linear inversion, "
                  "max diff %.3g" % (pid, worst))
            check(dworst < 0.02, "point %d: d_n vs numpy, max diff %.3g"
                  % (pid, dworst))
            fin = np.isfinite(dist)
            check(np.all((dist[fin] >= 0) & (dist[fin] <= 2 + 1e-12)),
                  "0 <= d_n <= 2")
            check(np.all(np.isfinite(dist) == np.isfinite(beta)),
                  "d_n wherever beta_eff is finite")
        b1 = {int(r["id"]): f["analysis/points/%d/beta_eff" % r["id"]][()]
              for r in table}
        d1 = {int(r["id"]):
              f["analysis/points/%d/trace_distance" % r["id"]][()]
              for r in table}

    def same_as_first(path, what):
        """beta_eff and d_n of archive `path` equal the first fit's."""
        with h5py.File(path, "r") as f:
            for pid in b1:
                g = f["analysis/points/%d" % pid]
                check(np.array_equal(g["beta_eff"][()], b1[pid]),
                      "%s: beta_eff (%d)" % (what, pid))
                check(np.array_equal(g["trace_distance"][()], d1[pid],
                                     equal_nan=True),
                      "%s: d_n (%d)" % (what, pid))
    p = e.kz(["fit", a, "--window", "1:3", "-q"])
    check(p.returncode == 0, "second fit: %d %s" % (p.returncode, p.stderr))
    same_as_first(a, "reproduced")
    # the same sweep without its thermal: section takes the tables of the
    # first archive with --tables: the same beta_eff and d_n, bitwise
    nt = e.run_sweep(SPEC[:SPEC.index("thermal:")], "nt")
    p = e.kz(["fit", nt, "--window", "1:3", "-q", "--tables", a])
    check(p.returncode == 0, "fit --tables: %d %s" % (p.returncode, p.stderr))
    same_as_first(nt, "--tables")
    p = e.kz(["fit", a, "--window", "1:3", "-q", "--tables", nt])
    check(p.returncode == 2 and "holds no thermal tables" in p.stderr,
          "--tables without tables refused: %d %s" %
          (p.returncode, p.stderr))
    for old in (["--thermal"], ["--thermal-spec", "x.yaml"], ["-t", "2"]):
        p = e.kz(["fit", a] + old)
        check(p.returncode == 2 and "`kapitza run` farms them" in p.stderr,
              "fit %s refused: %d %s" % (old, p.returncode, p.stderr))
    e.cleanup()
    return done("test_fit_thermal")


if __name__ == "__main__":
    sys.exit(main())
