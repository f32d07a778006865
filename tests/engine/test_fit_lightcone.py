"""`kapitza fit` recovers known light-cone slopes,
A and B, and their standard errors, end to end through an archive.

A small real sweep (domain wall, L = 60, four Delta values, chi_max 4 and 8)
gives a genuine archive; its energy_current datasets are then replaced by
synthetic profiles whose two maxima sit at known sub-bond positions
    n'_R(t) = v t + 2.5 + eta(t) + b (t - 2)^2,
    n'_L(t) = -0.7 t - 1.5 - eta(t)/2,
v = 1.33 Delta - 0.03, eta a zig-zag that differs between points (so that
every standard error is non-zero), b = 0.0005 to 0.0015 a bend that makes the
window's halves differ (so that the change of v'_R over them is not
trivial).  Near each maximum the profile is an exact parabola, so the
3-bond smoothing and the parabolic vertex of engine/post/fit.c recover the
positions exactly; v'_R, sd(v'_R), A, B, sd(A), sd(B) (and the weighted A,
B), and the change of v' over the window's halves must equal a closed-form
least-squares computation on the true positions (tests/engine/posttest.py:
lsq); the truncated weight is the point's own at the window's end.
Also: convergence times against a direct numpy computation; a window
outside the data and a window with too few times are errors that say so;
running points, bad arguments, the former --thermal (tables are farmed by
kapitza run now); a spec without a thermal: section says it has no
tables; /points is never modified; --no-write leaves the file as it was.

usage: test_fit_lightcone.py KAPITZA MPIRUN"""
import hashlib
import shutil
import sys

import h5py
import numpy as np

from posttest import Env, check, check_close, done, lsq, digest_datasets

A_TRUE, B_TRUE = 1.33, -0.03
DELTAS = [0.3, 0.5, 0.7, 0.9]
SPEC = """sweep: lightcone
chain:
  length: 60
  left: { delta: 0 }
  right: { delta: [0.3, 0.5, 0.7, 0.9] }
state: domain_wall
evolve: { dt: 0.1, t_max: 10, order: 2, measure_every: 0.5 }
truncate: { chi_max: [4, 8], cutoff: 1.0e-10 }
"""


def synth(nb, n0, pl, pr, hl=0.11, hr=0.13):
    """engine/post/fit.c's test profile (tests/engine/test_fit.c: synth)."""
    a, w = 0.004, 3.5
    n = n0 + np.arange(nb, dtype=float)
    f = np.empty(nb)
    for i, x in enumerate(n):
        if abs(x - pl) <= w:
            v = hl - a * (x - pl) ** 2
        elif abs(x - pr) <= w:
            v = hr - a * (x - pr) ** 2
        elif pl < x < pr:
            v = 0.3 * min(hl, hr)
        elif x < pl:
            v = max(0.0, hl - a * w * w - 0.01 * (pl - w - x))
        else:
            v = max(0.0, hr - a * w * w - 0.01 * (x - pr - w))
        f[i] = v
    return f


def eta(k, pid):
    return 0.23 * (((k + pid) % 3) - 1) + 0.05 * ((k * (pid + 1)) % 2)


def bend(t, pid):
    """A slowly accelerating right maximum (different per point), so that
    the window's halves give different slopes."""
    return 0.0005 * (pid % 3 + 1) * (t - 2) ** 2


def inject(a):
    """Synthetic energy-current profiles with known maxima into every point
    of archive a; {point id: (time, n'_L, n'_R, delta_right, chi_max)}."""
    truth = {}
    with h5py.File(a, "r+") as f:
        tab = f["points_table"][()]
        for row in tab:
            pid = int(row["id"])
            L = int(row["L"])
            g = f["points/%d" % pid]
            t = g["time"][()]
            v = A_TRUE * float(row["delta_right"]) + B_TRUE
            je = np.zeros((len(t), L - 1))
            pr = np.zeros(len(t))
            pl = np.zeros(len(t))
            for k, tt in enumerate(t):
                if tt < 2:  # no current yet: one (no) maximum
                    continue
                pr[k] = v * tt + 2.5 + eta(k, pid) + bend(tt, pid)
                pl[k] = -0.7 * tt - 1.5 - 0.5 * eta(k, pid)
                je[k] = synth(L - 1, -L // 2 + 1, pl[k], pr[k])
            g["energy_current"][...] = je
            truth[pid] = (t, pl, pr, float(row["delta_right"]),
                          int(row["chi_max"]))
    return truth


def win_change(t, y, v):
    """The largest change of the slope when the window 4:10 is cut to
    4:7 or 7:10 (both hold t = 7)."""
    a = (t >= 4 - 1e-9) & (t <= 7 + 1e-9)
    b = (t >= 7 - 1e-9) & (t <= 10 + 1e-9)
    return max(abs(lsq(t[a], y[a])[0] - v), abs(lsq(t[b], y[b])[0] - v))


def check_points(f, truth):
    """/analysis/lightcone and /analysis/points against the lines through
    the injected maxima."""
    lc = f["analysis/lightcone"][()]
    check(len(lc) == len(truth), "one light-cone row per point")
    for r in lc:
        pid = int(r["point_id"])
        t, pl, pr, d, chi = truth[pid]
        w = (t >= 4 - 1e-9) & (t <= 10 + 1e-9)
        va, vb, sa, sb = lsq(t[w], pr[w])
        check(r["ok"] == 1 and r["rows"] == w.sum() and
              r["rows_found"] == w.sum(), "point %d fitted" % pid)
        check_close(r["v_right"], va, 1e-9, "v'_R of point %d" % pid)
        check_close(r["v_right_sd"], sa, 1e-9, "sd(v'_R) of %d" % pid)
        check_close(r["c_right"], vb, 1e-8, "c_R of %d" % pid)
        check(sa > 1e-3, "sd(v'_R) not trivial (%g)" % sa)
        check_close(r["v_right_win"], win_change(t, pr, va), 1e-9,
                    "window change of v'_R of %d" % pid)
        check(r["v_right_win"] > 1e-3, "window change of v'_R not trivial")
        va, vb, sa, sb = lsq(t[w], pl[w])
        check_close(r["v_left"], va, 1e-9, "v'_L of point %d" % pid)
        check_close(r["v_left_sd"], sa, 1e-9, "sd(v'_L) of %d" % pid)
        check_close(r["v_left_win"], win_change(t, pl, va), 1e-9,
                    "window change of v'_L of %d" % pid)
        disc = f["points/%d/discarded" % pid][()]
        last = np.nonzero(w)[0][-1]
        check(disc[last] > 0 or chi == 8,
              "chi_max 4 truncates (%g at t = %g)" % (disc[last], t[last]))
        check_close(r["discarded"], disc[last], 0,
                    "truncated weight at t = %g of %d" % (t[last], pid))
        nl = f["analysis/points/%d/n_left" % pid][()]
        nr = f["analysis/points/%d/n_right" % pid][()]
        check_close(nr, pr, 1e-9, "n'_R(t) of point %d" % pid)
        check_close(nl, pl, 1e-9, "n'_L(t) of point %d" % pid)
        found = f["analysis/points/%d/peaks_found" % pid][()]
        check(np.all(found == (t >= 2)), "peaks_found of %d" % pid)


def check_groups(f, truth, stdout):
    """/analysis/velocity_fit: A and B per chi_max group, plain and
    weighted, against numpy's least squares of the injected velocities."""
    vf = f["analysis/velocity_fit"][()]
    # A and B per chi_max group
    check(len(vf) == 2, "two v'_R(Delta) groups (chi 4, 8): %d"
          % len(vf))
    for g in vf:
        ids = [int(s) for s in g["point_ids"].decode().split(",")]
        check(len(ids) == 4 and g["ok"] == 1, "group of 4 fitted")
        x, y, s = [], [], []
        for pid in ids:
            t, pl, pr, d, chi = truth[pid]
            w = (t >= 4 - 1e-9) & (t <= 10 + 1e-9)
            va, vb, sa, sb = lsq(t[w], pr[w])
            x.append(d)
            y.append(va)
            s.append(sa)
            check(chi == g["chi_max"], "group chi_max")
        A, B, sA, sB = lsq(x, y)
        check_close(g["A"], A, 1e-9, "A")
        check_close(g["B"], B, 1e-9, "B")
        check_close(g["A_sd"], sA, 1e-9, "sd(A)")
        check_close(g["B_sd"], sB, 1e-9, "sd(B)")
        check(sA > 1e-3 and sB > 1e-3, "sd(A), sd(B) not trivial")
        check_close(g["A"], A_TRUE, 0.05, "A near 1.33")
        check_close(g["B"], B_TRUE, 0.05, "B near -0.03")
        A, B, sA, sB = lsq(x, y, s)
        check_close(g["A_w"], A, 1e-8, "weighted A")
        check_close(g["B_w"], B, 1e-8, "weighted B")
        check_close(g["A_w_sd"], sA, 1e-8, "weighted sd(A)")
        check("%.4f" % g["A"] in stdout, "A printed")


def check_convergence(f):
    """/analysis/convergence: chi 4 against chi 8, every observable, from
    the archive's own data."""
    cv = f["analysis/convergence"][()]
    # convergence: chi 4 against chi 8, every observable
    check(len(cv) == 4, "four convergence pairs: %d" % len(cv))
    for r in cv:
        i, j = int(r["point_id"]), int(r["ref_point_id"])
        check(r["chi_max"] == 4 and r["ref_chi_max"] == 8, "chi pair")
        t = f["points/%d/time" % i][()]
        tall = np.inf
        for ds in ("energy", "energy_current", "sz", "spin_current",
                   "entropy"):
            x = f["points/%d/%s" % (i, ds)][()]
            y = f["points/%d/%s" % (j, ds)][()]
            d = np.max(np.abs(x - y), axis=1)
            bad = np.flatnonzero(d > 1e-3)
            want = np.nan if len(bad) and bad[0] == 0 else \
                (t[bad[0] - 1] if len(bad) else t[-1])
            got = r["t_" + ds]
            check((np.isnan(want) and np.isnan(got)) or want == got,
                  "t_%s of %d: %r vs %r" % (ds, i, got, want))
            tall = min(tall, want)
        check(r["t_all"] == tall or (np.isnan(tall) and
                                      np.isnan(r["t_all"])),
              "t_all of %d" % i)
    check(any(r["t_all"] < 10 for r in cv),
          "chi 4 and 8 part before t = 10 somewhere")
    return cv


def check_errors(e, a):
    """What fit refuses or reports: windows outside the data, bad options,
    a missing archive, --thermal, a point marked running, a failed point."""
    # errors that say so
    p = e.kz(["fit", a, "--window", "20:30"])
    check(p.returncode == 1 and "outside the data" in p.stdout and
          "reaches t = 10" in p.stdout, "window outside the data: %d\n%s"
          % (p.returncode, p.stdout))
    with h5py.File(a, "r") as f:
        lc = f["analysis/lightcone"][()]
        check(not lc["ok"].any() and b"outside the data" in lc["message"][0],
              "stored message for the window outside the data")
    # a window that ends before the data: the truncated weight is the
    # one summed up to the window's end, not to the point's
    p = e.kz(["fit", a, "--window", "4:8"])
    with h5py.File(a, "r") as f:
        for r in f["analysis/lightcone"][()]:
            g = f["points/%d" % r["point_id"]]
            t, disc = g["time"][()], g["discarded"][()]
            last = np.nonzero(t <= 8 + 1e-9)[0][-1]
            check(p.returncode == 0 and r["discarded"] == disc[last] and
                  (disc[last] < disc[-1] or r["chi_max"] == 8),
                  "window 4:8: truncated weight %g at t = 8 (%g at 10)"
                  % (r["discarded"], disc[-1]))
    p = e.kz(["fit", a, "--window", "9.6:10"])
    check(p.returncode == 1 and "needs at least 3" in p.stdout and
          "(1 time)" in p.stdout, "too few times in the window: %d\n%s"
          % (p.returncode, p.stdout))
    for bad in (["--window", "5"], ["--window", "4:3"], ["--smooth", "2"],
                ["--bogus"]):
        p = e.kz(["fit", a] + bad)
        check(p.returncode == 2 and p.stderr, "bad option %s: %d" %
              (bad, p.returncode))
    p = e.kz(["fit", e.path("missing.h5")])
    check(p.returncode == 2 and "missing.h5" in p.stderr,
          "missing archive: %s" % p.stderr)
    # the tables are computed by kapitza run (test_thermal_farm.py); the
    # former --thermal is refused with the reason, and a spec without a
    # thermal: section says so in the output
    p = e.kz(["fit", a, "--thermal"])
    check(p.returncode == 2 and "`kapitza run` farms them" in p.stderr and
          "thermal: section" in p.stderr,
          "--thermal refused: %s" % p.stderr)
    p = e.kz(["fit", a, "--window", "4:10", "--no-write"])
    check(p.returncode == 0 and "no thermal tables (the archive's spec has "
          "no thermal: section" in p.stdout,
          "no thermal section: %d %s" % (p.returncode, p.stdout[-400:]))
    # a point marked running: refused without --force
    r = e.path("running.h5")
    shutil.copy(a, r)
    with h5py.File(r, "r+") as f:
        st = f["status"][()]
        st["state"][0] = 1
        f["status"][...] = st
    p = e.kz(["fit", r, "--window", "4:10"])
    check(p.returncode == 2 and "marked running" in p.stderr,
          "running point: %d %s" % (p.returncode, p.stderr))
    p = e.kz(["fit", r, "--window", "4:10", "--force", "-q"])
    check(p.returncode == 0, "--force: %d %s" % (p.returncode, p.stderr))
    # a failed point without rows: reported, not fitted, the rest goes on
    x = e.path("failed.h5")
    shutil.copy(a, x)
    with h5py.File(x, "r+") as f:
        g = f["points/7"]
        g["time"][...] = np.nan
        st = f["status"][()]
        st["state"][7] = 3
        st["message"][7] = b"injected: no rows"
        f["status"][...] = st
    p = e.kz(["fit", x, "--window", "4:10"])
    check(p.returncode == 0, "fit with a failed point: %d %s" %
          (p.returncode, p.stderr))
    with h5py.File(x, "r") as f:
        lc = f["analysis/lightcone"][()]
        r = lc[lc["point_id"] == 7][0]
        check(r["ok"] == 0 and r["message"].startswith(
            b"no rows measured (the point is failed: injected"),
            "failed point's message: %r" % r["message"])
        check("n_left" not in f["analysis/points"].get("7", {}),
              "no maxima stored for the failed point")
        vf = f["analysis/velocity_fit"][()]
        g = vf[vf["chi_max"] == 8][0]
        check(g["ok"] == 1 and b"1 point without v'_R" in g["message"],
              "group fitted on 3 points: %r" % g["message"])


def main():
    e = Env(sys.argv, "fit-lightcone")
    a = e.run_sweep(SPEC, "lc")
    truth = inject(a)
    before = digest_datasets(a)

    # --no-write: nothing changes
    with open(a, "rb") as fh:
        raw = hashlib.sha256(fh.read()).hexdigest()
    p = e.kz(["fit", a, "--window", "4:10", "--no-write"])
    check(p.returncode == 0, "fit --no-write: %d %s" % (p.returncode,
                                                        p.stderr))
    with open(a, "rb") as fh:
        check(hashlib.sha256(fh.read()).hexdigest() == raw,
              "--no-write leaves the archive byte for byte")

    p = e.kz(["fit", a, "--window", "4:10"])
    check(p.returncode == 0, "fit: exit %d\n%s\n%s" % (p.returncode,
                                                       p.stdout, p.stderr))
    print(p.stdout)
    with h5py.File(a, "r") as f:
        check(f["analysis"].attrs["window_t0"] == 4 and
              f["analysis"].attrs["window_t1"] == 10, "window attributes")
        check_points(f, truth)
        check_groups(f, truth, p.stdout)
        cv = check_convergence(f)
    # kapitza status reports the stored convergence times, one line a pair
    ps = e.kz(["status", a])
    check(ps.returncode == 0 and "convergence in chi_max" in ps.stdout,
          "status shows convergence: %s" % ps.stdout)
    for r in cv:
        tall = r["t_all"]
        want = "point %d (chi 4) vs point %d (chi 8): up to t = %s" % (
            r["point_id"], r["ref_point_id"],
            "-" if np.isnan(tall) else "%.3f" % tall)
        check(want in ps.stdout, "status line %r in %s" % (want, ps.stdout))
    check(digest_datasets(a) == before, "/points unchanged by kapitza fit")

    # a second fit replaces /analysis
    p = e.kz(["fit", a, "--window", "4:10", "-q"])
    check(p.returncode == 0 and p.stdout == "", "second fit, quiet: %d %r"
          % (p.returncode, p.stdout))

    check_errors(e, a)
    e.cleanup()
    return done("test_fit_lightcone")


if __name__ == "__main__":
    sys.exit(main())
