"""`kapitza ghd` on a real small archive (a gamma = pi/4 |Psi1> junction
point, L = 16, t = 2), read back with h5py:

- the command line: --help (0), a bad option and a bad R (2), -n writes
  nothing;
- /analysis/ghd: shapes, parameters as attributes, the light-cone edge
  v_R = (pi/2) sin(g)/g;
- outside the light cones the reservoirs: E = +1/pi (top of the XX band) for
  zeta < -1, E = e0 of the XXZ ground state for zeta > v_R (Takahashi's
  integral, by an independent quadrature here), J^E = 0 on both;
- the junction: J(0-) = J(0+) = current (the rays next to zeta = 0),
  Fourier's law beta_plus - beta_minus = R J, beta_minus = beta_plus at
  R = 0, J decreasing in R;
- the names: /analysis/ghd holds exactly the datasets that the archive's
  schema (`kapitza plot --schema`, the plotting script's names) lists;
- `kapitza fit` afterwards leaves /analysis/ghd alone (every dataset and
  attribute bit for bit) while writing its own tables, and `kapitza ghd`
  run again after it leaves fit's tables alone; `kapitza plot --only
  fig6` draws it (when matplotlib is there).

usage: test_ghd.py KAPITZA MPIRUN"""
import json
import math
import os
import sys

import h5py
import numpy as np

from posttest import Env, check, check_close, done

SPEC = """sweep: ghd
chain:
  length: 16
  left: { delta: 0 }
  right: { gamma: pi/4 }
state: ground_state
evolve: { dt: 0.05, t_max: 2, order: 4, measure_every: 0.5 }
truncate: { chi_max: 16, cutoff: 1.0e-10 }
measure: [energy, energy_current]
"""


def takahashi_e0(g):
    """Delta/4 - sin(g) int_0^inf sinh((pi-g)x)/(sinh(pi x) cosh(g x)) dx,
    Gauss-Legendre panels (numpy)."""
    x, w = np.polynomial.legendre.leggauss(20)
    s = 0.0
    for a in np.arange(0, 60, 0.25):
        t = a + 0.125 * (x + 1)
        s += 0.125 * np.sum(w * np.sinh((math.pi - g) * t) /
                            (np.sinh(math.pi * t) * np.cosh(g * t)))
    return math.cos(g) / 4 - math.sin(g) * s


def snapshot(path, group):
    """({attribute: bytes}, {dataset: bytes and type}) of group `group`."""
    with h5py.File(path, "r") as f:
        g = f[group]
        at = {k: np.asarray(v).tobytes() for k, v in g.attrs.items()}
        ds = {k: np.asarray(g[k][()]).tobytes() + str(g[k].dtype).encode()
              for k in g}
    return at, ds


def main():
    e = Env(sys.argv, "ghd")
    check(abs(takahashi_e0(math.pi / 3) + 0.375) < 1e-12,
          "Takahashi e0(pi/3) = -3/8 (the reference itself)")
    p = e.kz(["ghd", "--help"])
    check(p.returncode == 0 and "usage: kapitza ghd" in p.stdout,
          "--help: %d" % p.returncode)
    a = e.run_sweep(SPEC, "ghd", ranks=1)
    for bad in (["--nope"], ["-R", "1,-2"], ["-P", "1"], ["--rays", "1"]):
        p = e.kz(["ghd", a] + bad)
        check(p.returncode == 2, "ghd %s: exit %d" % (bad, p.returncode))
    p = e.kz(["ghd", a, "-n", "-R", "0", "--rays", "8"])
    check(p.returncode == 0, "ghd -n: %d %s" % (p.returncode, p.stderr))
    with h5py.File(a, "r") as f:
        check("analysis/ghd" not in f, "-n writes nothing")
    Rs = [0.0, 30.0, 1000.0]
    p = e.kz(["ghd", a, "-R", ",".join("%g" % r for r in Rs), "--rays", "60",
              "--zeta", "-1.5:1.8"])
    print(p.stdout)
    check(p.returncode == 0, "ghd: exit %d\n%s" % (p.returncode, p.stderr))
    g = math.pi / 4
    vr = math.pi * math.sin(g) / (2 * g)
    with h5py.File(a, "r") as f:
        G = f["analysis/ghd"]
        at = G.attrs
        check(at["format"] in (b"kapitza-ghd", "kapitza-ghd") and
              int(at["P"]) == 4, "format and P")
        check_close(at["v_right"], vr, 1e-12, "v_R attribute")
        check_close(at["delta_right"], math.cos(g), 1e-15, "Delta_R")
        z = G["zeta"][()]
        E = G["energy"][()]
        J = G["energy_current"][()]
        R = G["R"][()]
        cur = G["current"][()]
        bm, bp = G["beta_minus"][()], G["beta_plus"][()]
        check(E.shape == (3, 60) and J.shape == (3, 60) and len(z) == 60,
              "shapes %s %s" % (E.shape, z.shape))
        check_close(z, -1.5 + 3.3 * (np.arange(60) + 0.5) / 60, 1e-12,
                    "rays")
        check_close(R, Rs, 0, "R")
        check(np.all(G["ok"][()] == 1), "every R solved")
        left, right = z < -1.0, z > vr + 1e-9
        EL, ER, JO = E[:, left], E[:, right], J[:, left | right]
        check(EL.size > 0 and ER.size > 0, "rays outside both cones")
        check_close(EL, np.full(EL.shape, 1 / math.pi), 1e-10,
                    "E = 1/pi left of the light cone")
        check_close(ER, np.full(ER.shape, takahashi_e0(g)), 1e-8,
                    "E = e0 right of the light cone")
        check_close(JO, np.zeros(JO.shape), 1e-12, "no current outside")
        # the rays nearest to zeta = 0 on either side: the profile is
        # continuous within each half, so they approach the edge current
        il, ir = np.flatnonzero(z < 0)[-1], np.flatnonzero(z > 0)[0]
        check_close(J[:, il], cur, 2e-3, "J(0-) = current")
        check_close(J[:, ir], cur, 2e-3, "J(0+) = current")
        check_close(bp - bm, R * cur, 1e-8, "Fourier's law")
        check_close(bm[0], bp[0], 1e-12, "R = 0: one temperature")
        check(np.all(np.diff(cur) < 0), "J decreasing in R: %s" % cur)
    p = e.kz(["plot", "--schema"])
    check(p.returncode == 0, "plot --schema: %d %s" % (p.returncode, p.stderr))
    names = json.loads(p.stdout)
    check(names["paths"]["ghd"] == "analysis/ghd", "schema: the ghd path")
    before = snapshot(a, names["paths"]["ghd"])
    check(sorted(before[1]) == sorted(names["ghd"].values()),
          "/analysis/ghd holds the schema's datasets: %s against %s"
          % (sorted(before[1]), sorted(names["ghd"].values())))
    ghd_cmd = ["ghd", a, "-R", ",".join("%g" % r for r in Rs), "--rays", "60",
               "--zeta", "-1.5:1.8", "-q"]
    p = e.kz(["fit", a, "--window", "1:2", "-q"])
    with h5py.File(a, "r") as f:
        check("analysis/ghd/energy" in f, "fit leaves /analysis/ghd alone")
    check(p.returncode == 0, "fit: exit %d %s" % (p.returncode, p.stderr))
    lc = names["paths"]["lightcone"]
    with h5py.File(a, "r") as f:
        check(lc in f, "fit wrote /%s" % lc)
        fit_lc = f[lc][()]
    check(snapshot(a, names["paths"]["ghd"]) == before,
          "fit leaves every dataset and attribute of /analysis/ghd as it was")
    p = e.kz(ghd_cmd)
    check(p.returncode == 0, "ghd again: %d %s" % (p.returncode, p.stderr))
    with h5py.File(a, "r") as f:
        check(lc in f and f[lc][()].tobytes() == fit_lc.tobytes(),
              "ghd after fit leaves fit's /%s as it was" % lc)
    try:
        import matplotlib  # noqa: F401
        have_mpl = True
    except ImportError:
        have_mpl = False
    if have_mpl:
        out = e.path("figs")
        p = e.kz(["plot", a, "-o", out, "--only", "fig6,fig2"])
        check(p.returncode == 0, "plot: %d %s" % (p.returncode, p.stderr))
        check(os.path.exists(os.path.join(out, "fig6.png")), "fig6.png")
        with open(os.path.join(out, "fig6.json")) as fh:
            side = json.load(fh)
        drawn = [d["dataset"] for d in side["panels"]["a"]]
        check("/analysis/ghd/energy" in drawn and
              "/points/0/energy" in drawn,
              "fig6a draws the GHD profiles and the point: %s" % drawn)
    e.cleanup()
    return done("test_ghd")


if __name__ == "__main__":
    sys.exit(main())
