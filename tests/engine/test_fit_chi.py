"""`kapitza fit` with the same points at two chi_max: per-chi velocities,
verdicts, the A, B fit over converged velocities only; and the tracker
through a profile with a ripple that fit_peaks hops to.

A small real sweep (domain wall, L = 60, four Delta values, chi_max 4 and
8) gives a genuine archive; its energy_current datasets are replaced by
synthetic profiles (tests/engine/test_fit_lightcone.py's parabolic caps)
whose right maximum moves at a known velocity:
  - Delta 0.3, 0.7, 0.9: the same velocity 1.33 Delta - 0.03 at both
    chi_max, with a zig-zag that differs between the rungs (so sd > 0 and
    the change between rungs is within the combined sd): converged, used;
  - Delta 0.5: chi_max 8 moves 0.3 faster than chi_max 4 (far beyond the
    sds): not converged, left out of A, B, with the reason printed and
    stored.
A and B must equal numpy's closed-form least squares over the converged
top rungs (posttest.lsq); --use-largest-chi uses all four; --v-tol 0 makes
every ladder with a non-zero change unconverged.

`kapitza plot`: Fig. 3d reads the verdicts; the convergence figure draws
v'_R of every rung (b) and every rung's n'_R track (c).

Tracker: a second archive (one point) whose left maximum has a ripple 7
bonds further out, alternating just above and below it: `--no-track`
(fit_peaks row by row) jumps to the ripple in every other row, the default
tracker follows the maximum (n'_L within 0.5 bonds of the truth in every
row), and v'_L equals the closed form of the true positions.

usage: test_fit_chi.py KAPITZA MPIRUN"""
import sys

import h5py
import numpy as np

from posttest import Env, check, check_close, done, lsq
from test_fit_lightcone import SPEC as LC_SPEC
from test_fit_lightcone import synth as caps

A_TRUE, B_TRUE = 1.33, -0.03
# test_fit_lightcone's sweep (4 Delta x chi_max 4, 8), under its own name
SPEC = LC_SPEC.replace("sweep: lightcone", "sweep: chi")
ONE = SPEC.replace("[0.3, 0.5, 0.7, 0.9]", "0.5").replace("[4, 8]", "8")


def gauss(n, c, h, w):
    return h * np.exp(-(n - c) ** 2 / (2 * w * w))


def ladders(e):
    a = e.run_sweep(SPEC, "chi")
    truth = {}
    with h5py.File(a, "r+") as f:
        for row in f["points_table"][()]:
            pid, L = int(row["id"]), int(row["L"])
            d, chi = float(row["delta_right"]), int(row["chi_max"])
            g = f["points/%d" % pid]
            t = g["time"][()]
            v = A_TRUE * d + B_TRUE + (0.3 if d == 0.5 and chi == 8 else 0)
            je = np.zeros((len(t), L - 1))
            pr = np.zeros(len(t))
            for k, tt in enumerate(t):
                if tt < 2:
                    continue
                eta = 0.05 * (((k + chi + int(10 * d)) % 3) - 1)
                pr[k] = v * tt + 2.5 + eta
                je[k] = caps(L - 1, -L // 2 + 1, -0.7 * tt - 1.5, pr[k])
            g["energy_current"][...] = je
            truth[pid] = (t, pr, d, chi)
    return a, truth


def check_ladders(e):
    a, truth = ladders(e)
    p = e.kz(["fit", a, "--window", "4:10"])
    print(p.stdout)
    check(p.returncode == 0, "fit: %d %s" % (p.returncode, p.stderr))
    check("not converged: chi_max 4 -> 8: v'_R moved by " in p.stdout,
          "the verdict and its reason printed")
    check("left out: 3 (chi_max 4 -> 8: v'_R moved by " in p.stdout,
          "the left-out point named with its reason")
    # every rung's row shows v'_R +- sd and its change over the window's
    # halves, as stored in /analysis/lightcone
    with h5py.File(a, "r") as f:
        for r in f["analysis/lightcone"][()]:
            cell = "%8.4f +- %-6.4f %7.4f" % (r["v_right"], r["v_right_sd"],
                                               r["v_right_win"])
            check(" %5d %s" % (r["chi_max"], cell) in p.stdout,
                  "per-chi row of point %d shows '%s'" % (r["point_id"],
                                                          cell))
    vel = {}
    for pid, (t, pr, d, chi) in truth.items():
        w = (t >= 4 - 1e-9) & (t <= 10 + 1e-9)
        vel[pid] = lsq(t[w], pr[w])
    with h5py.File(a, "r") as f:
        cv = f["analysis/chi_verdict"][()]
        vf = f["analysis/velocity_fit_chi"][()]
        check(f["analysis"].attrs["chi_tol"] == 0.05, "chi_tol attribute")
    check(len(cv) == 4 and len(vf) == 1, "4 ladders, 1 group")
    for r in cv:
        d = float(r["delta_right"])
        top = int(r["point_id"])
        prev = int(r["prev_point_id"])
        check(r["chi_list"] == b"4,8" and int(r["chi_max"]) == 8 and
              truth[top][3] == 8 and truth[prev][3] == 4,
              "ladder %g: rungs 4, 8" % d)
        check_close(r["v_right"], vel[top][0], 1e-9, "v'_R of the top rung")
        check_close(r["dv_right"], vel[top][0] - vel[prev][0], 1e-9,
                    "change of v'_R")
        check_close(r["sd_right"], np.hypot(vel[top][2], vel[prev][2]),
                    1e-9, "combined sd")
        conv = d != 0.5
        check(int(r["verdict"]) == (1 if conv else 0) and
              int(r["used"]) == int(conv),
              "Delta %g: verdict %d used %d" % (d, r["verdict"], r["used"]))
        if conv:
            check(abs(r["dv_right"]) <= r["sd_right"] and
                  abs(r["dv_right"]) > 1e-3,
                  "Delta %g: a real change, within the sds" % d)
    used = [r for r in cv if r["used"]]
    a_, b_, sa, sb = lsq([r["delta_right"] for r in used],
                         [vel[int(r["point_id"])][0] for r in used])
    g = vf[0]
    check(g["ok"] == 1 and g["nused"] == 3 and g["nladders"] == 4,
          "A, B over 3 of 4")
    check_close([g["A"], g["B"], g["A_sd"], g["B_sd"]], [a_, b_, sa, sb],
                1e-9, "A, B and sds over the converged (closed form)")
    check(b"3 (chi_max 4 -> 8" in g["left_out"], "stored left_out")

    p = e.kz(["fit", a, "--window", "4:10", "--use-largest-chi"])
    with h5py.File(a, "r") as f:
        g = f["analysis/velocity_fit_chi"][0]
        cv = f["analysis/chi_verdict"][()]
    tops = [int(r["point_id"]) for r in cv]
    a_, b_, sa, sb = lsq([truth[i][2] for i in tops],
                         [vel[i][0] for i in tops])
    check(g["ok"] == 1 and g["nused"] == 4 and g["forced"] == 1,
          "--use-largest-chi: all four")
    check_close([g["A"], g["B"]], [a_, b_], 1e-9, "forced A, B")
    p = e.kz(["fit", a, "--window", "4:10", "--v-tol", "0"])
    with h5py.File(a, "r") as f:
        cv = f["analysis/chi_verdict"][()]
        g = f["analysis/velocity_fit_chi"][0]
    check(not cv["used"].any() and g["ok"] == 0 and p.returncode == 0,
          "--v-tol 0: nothing converged, no fit, exit %d" % p.returncode)
    p = e.kz(["status", a])
    check(p.returncode == 0 and "not converged" in p.stdout,
          "status shows the verdicts:\n" + p.stdout)
    check_plot(e, a)


def check_plot(e, a):
    """Fig. 3d draws the verdicts (open markers for the unconverged) and
    the fit over converged velocities: its sidecar lists both tables."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("no matplotlib: the Fig. 3d check is skipped")
        return
    p = e.kz(["fit", a, "--window", "4:10", "-q"])
    p = e.kz(["plot", a, "-o", e.path("figs")])
    check(p.returncode == 0, "plot: %d %s" % (p.returncode, p.stderr))
    import json
    with open(e.path("figs/fig3.json")) as fh:
        j = json.load(fh)
    used = [x["dataset"] for x in j["panels"].get("d", [])]
    check("/analysis/chi_verdict" in used and
          "/analysis/velocity_fit_chi" in used,
          "Fig. 3d reads the verdicts and the converged fit: %s" % used)
    # the convergence figure: (b) v'_R of every rung of every ladder,
    # (c) every rung's n'_R track
    with h5py.File(a, "r") as f:
        lc = f["analysis/lightcone"][()]
        ids = sorted(int(x) for r in f["analysis/chi_verdict"][()]
                     for x in r["point_ids"].decode().split(","))
    check(len(ids) == 8, "8 rungs in the ladders: %s" % ids)
    with open(e.path("figs/convergence.json")) as fh:
        j = json.load(fh)
    rows = sorted(r for x in j["panels"].get("b", [])
                  if x.get("field") == "v_right" for r in x["rows"])
    check([int(lc["point_id"][r]) for r in rows] == ids,
          "convergence (b) draws v'_R of every rung: rows %s" % rows)
    tracks = sorted(int(x["dataset"].split("/")[3])
                    for x in j["panels"].get("c", [])
                    if x["dataset"].endswith("/n_right"))
    check(tracks == ids, "convergence (c) draws every rung's n'_R: %s"
          % tracks)


def check_tracker(e):
    a = e.run_sweep(ONE, "one")
    with h5py.File(a, "r+") as f:
        g = f["points/0"]
        t = g["time"][()]
        L = int(f["points_table"][0]["L"])
        n = -L // 2 + 1 + np.arange(L - 1, dtype=float)
        je = np.zeros((len(t), L - 1))
        pl = -0.6 * t - 4
        for k, tt in enumerate(t):
            hrip = 0.09 if k <= 8 else 0.11 + 0.004 * (1 if k % 2 else -1)
            je[k] = (gauss(n, pl[k], 0.11, 2.5) +
                     gauss(n, pl[k] - 7, hrip, 2.5) +
                     gauss(n, 0.9 * tt + 5, 0.13, 3))
        g["energy_current"][...] = je
    w = (t >= 4 - 1e-9) & (t <= 10 + 1e-9)
    p = e.kz(["fit", a, "--window", "4:10", "--no-track"])
    with h5py.File(a, "r") as f:
        nl = f["analysis/points/0/n_left"][()]
    hops = int(np.sum(np.abs(nl[w] - pl[w]) > 4))
    check(hops >= 5, "--no-track hops to the ripple (%d rows)" % hops)
    p = e.kz(["fit", a, "--window", "4:10"])
    with h5py.File(a, "r") as f:
        nl = f["analysis/points/0/n_left"][()]
        lc = f["analysis/lightcone"][0]
        check(f["analysis"].attrs["track"] == 1, "track attribute")
    check(bool(np.all(np.abs(nl[w] - pl[w]) < 0.5)),
          "the tracker stays on the maximum: %s" % (nl[w] - pl[w]))
    check_close(lc["v_left"], lsq(t[w], nl[w])[0], 1e-9, "v'_L of the track")
    check_close(lc["v_left"], -0.6, 0.02, "v'_L near the built -0.6")


def main():
    e = Env(sys.argv, "fit-chi")
    check_ladders(e)
    check_tracker(e)
    rc = done("test_fit_chi")
    if not rc:
        e.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
