"""The demo sweep gives every figure it has data
for, and each PNG's data came from the archive.

    test_plot.py KAPITZA MPIRUN SWEEPS_DEMO_YAML [--full]

Default (the 'engine' suite): sweeps/demo.yaml with its chain shortened to
L = 40 and t_max to 4 (everything else as written: both states, three
gammas, chi_max 32) so that it runs in seconds; --full (the 'long' suite):
sweeps/demo.yaml unchanged (a few minutes on 2 cores), where the fit must
find the internal light cone of |Psi1> at Delta > 0 (two maxima in every
row, 0.5 < v'_R < 1.2) and none on the XX chain.  Then
`kapitza fit` (window: the last 40% of the run) and `kapitza plot`:
  - the figures the demo has data for exist: fig1, fig2, fig3 (with the
    light cone and v'_R(Delta) panels), fig5; each PNG is a real picture
    (decodes, > 20 kB, not blank: a sizeable share of non-white pixels with
    varied colours);
  - the figures it lacks data for (fig4, fig7, fig8: no thermal tables or
    rho3; convergence: one chi_max) are skipped with a message and no PNG;
  - every sidecar fig*.json names the archive, and every dataset (or table
    field) it lists exists in the archive and hashes to the recorded SHA-256
    (float64, rows and columns as recorded); the panels drawn are the ones
    expected; tampering with a plotted dataset breaks the match (the check
    can fail);
  - per anisotropy the panels take the point that reaches furthest in
    time, of those the largest chi_max (a running top rung does not hide
    a finished one);
  - a Python without h5py/matplotlib gives a clear message and exit 2;
    bad arguments exit 2."""
import hashlib
import json
import os
import re
import shutil
import stat
import sys

import h5py
import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402

from posttest import Env, check, done  # noqa: E402


def digest(a):
    a = np.ascontiguousarray(np.asarray(a, dtype="<f8"))
    return hashlib.sha256(a.tobytes()).hexdigest()


def reread(f, ent):
    if "field" in ent:
        a = np.asarray(f[ent["dataset"]][ent["field"]], dtype=np.float64)
    else:
        a = np.asarray(f[ent["dataset"]][()], dtype=np.float64)
    if ent["rows"] is not None:
        a = a[ent["rows"]]
    if ent["cols"] is not None:
        a = a[..., ent["cols"][0]:ent["cols"][1]]
    return a


def verify_sidecar(arch, side):
    bad = []
    with h5py.File(arch, "r") as f:
        for panel, ents in side["panels"].items():
            for ent in ents:
                if ent["dataset"].lstrip("/") not in f:
                    bad.append("%s: missing %s" % (panel, ent["dataset"]))
                    continue
                a = reread(f, ent)
                if digest(a) != ent["sha256"] or \
                        list(a.shape) != ent["shape"]:
                    bad.append("%s: %s differs" % (panel, ent["dataset"]))
    return bad


def check_rung_choice():
    """Per anisotropy the panels show the point that reaches furthest in
    time, of those the largest chi_max: a rung `kapitza refine` added and
    that is still running must not hide the finished one below it."""
    import importlib.util
    from types import SimpleNamespace as NS
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "..", "engine", "post", "kapitza_plot.py")
    spec = importlib.util.spec_from_file_location("kapitza_plot", src)
    kp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kp)

    def pt(pid, dr, chi, tlast):
        return NS(id=pid, state=kp.GROUND, dl=0.0, dr=dr, chi=chi,
                  rows=np.arange(3), tlast=tlast, ds={"energy_current"},
                  an=set())
    arch = object.__new__(kp.Archive)
    arch.points = [pt(0, 0.5, 128, 40.0), pt(1, 0.5, 192, 40.0),
                   pt(2, 0.5, 288, 1.8),  # running
                   pt(3, 0.7, 128, 40.0), pt(4, 0.7, 192, 12.0)]
    got = [p.id for p in arch.usable(kp.GROUND, ["energy_current"])]
    check(got == [1, 3], "furthest in time, then largest chi_max: %s" % got)
    arch.points[2].tlast = 40.0  # the rung finished
    got = [p.id for p in arch.usable(kp.GROUND, ["energy_current"])]
    check(got == [2, 3], "the finished top rung: %s" % got)


def main():
    check_rung_choice()
    full = "--full" in sys.argv
    argv = [x for x in sys.argv if x != "--full"]
    e = Env(argv, "plot")
    with open(e.extra[0]) as fh:
        text = fh.read()
    if not full:
        text, n1 = re.subn(r"length: 140", "length: 40", text)
        text, n2 = re.subn(r"t_max: 20", "t_max: 4", text)
        check(n1 == 1 and n2 == 1, "demo.yaml has length: 140, t_max: 20")
    tmax = 20.0 if full else 4.0
    a = e.run_sweep(text, "demo")
    win = "%g:%g" % (0.6 * tmax, tmax)
    p = e.kz(["fit", a, "--window", win])
    check(p.returncode == 0, "fit: %d\n%s\n%s" % (p.returncode, p.stdout,
                                                  p.stderr))
    if full:
        # the physics the demo is there to show: by t = 12 |Psi1>'s energy
        # current has the internal light cone's two maxima when Delta > 0
        # (v'_R 0.75 and 0.85 at chi 32), and one maximum on the XX chain
        with h5py.File(a, "r") as f:
            lc = f["analysis/lightcone"][()]
        for r in lc[lc["state"] == 0]:
            if r["delta_right"] > 1e-9:  # cos(pi/2) is 6e-17
                check(r["ok"] == 1 and r["rows_found"] == r["rows"]
                      and 0.5 < r["v_right"] < 1.2 and r["v_left"] < 0,
                      "ground_state, Delta %.3f: two maxima in all %d rows, "
                      "v'_R %.3f, v'_L %.3f" % (r["delta_right"], r["rows"],
                                                r["v_right"], r["v_left"]))
            else:
                check(r["ok"] == 1 and r["rows_found"] == 0
                      and r["v_right"] == 0, "XX: one maximum, v'_R %g"
                      % r["v_right"])
    out = e.path("figs")
    p = e.kz(["plot", a, "-o", out])
    print(p.stdout, p.stderr)
    check(p.returncode == 0, "plot: %d %s" % (p.returncode, p.stderr))
    have = {"fig1": ["b"], "fig2": ["a", "b", "c", "d"],
            "fig3": ["a", "b", "c", "d"], "fig5": ["a", "b", "c", "d"]}
    lack = ["fig4", "fig6", "fig7", "fig8", "convergence"]
    for name, panels in have.items():
        png = os.path.join(out, name + ".png")
        js = os.path.join(out, name + ".json")
        if not check(os.path.exists(png) and os.path.exists(js),
                     "%s.png and .json written" % name):
            continue
        check(os.path.getsize(png) > 20000, "%s.png is %d bytes" %
              (name, os.path.getsize(png)))
        img = mpimg.imread(png)[..., :3]
        nonwhite = np.mean(np.any(img < 0.9, axis=-1))
        ncol = len(np.unique((img * 15).astype(int).reshape(-1, 3), axis=0))
        check(nonwhite > 0.03 and ncol > 20, "%s.png not blank: %.3f "
              "non-white, %d colours" % (name, nonwhite, ncol))
        with open(js) as fh:
            side = json.load(fh)
        check(side["archive"] == os.path.abspath(a) and
              side["png"] == name + ".png", "%s.json names the archive"
              % name)
        check(sorted(side["panels"]) == panels, "%s panels %s, expected %s"
              % (name, sorted(side["panels"]), panels))
        nds = sum(len(v) for v in side["panels"].values())
        check(nds >= len(panels), "%s.json lists %d datasets" % (name, nds))
        bad = verify_sidecar(a, side)
        check(not bad, "%s data from the archive: %s" % (name, bad[:3]))
        with h5py.File(a, "r") as f:
            check(side["spec_hash"] == f.attrs["spec_hash"].decode(),
                  "%s.json spec hash" % name)
    for name in lack:
        check(not os.path.exists(os.path.join(out, name + ".png")),
              "%s not drawn" % name)
        check(re.search(r"^%s\s+skipped: " % name, p.stdout, re.M),
              "%s skipped with a message" % name)
    # fig3: the light-cone panels come from /analysis
    with open(os.path.join(out, "fig3.json")) as fh:
        side = json.load(fh)
    srcs = [d["dataset"] for d in side["panels"]["c"] + side["panels"]["d"]]
    check(any(s.startswith("/analysis/points/") for s in srcs) and
          "/analysis/velocity_fit" in srcs, "fig3 c, d from /analysis")
    # tampering with a plotted dataset is detected
    t = e.path("tampered.h5")
    shutil.copy(a, t)
    with open(os.path.join(out, "fig1.json")) as fh:
        side = json.load(fh)
    ds = [d["dataset"] for d in side["panels"]["b"]
          if d["dataset"].endswith("energy_current")][0]
    with h5py.File(t, "r+") as f:
        x = f[ds][()]
        x[-1, len(x[-1]) // 2] += 1e-9
        f[ds][...] = x
    check(verify_sidecar(t, side), "a changed dataset no longer matches")
    # no h5py/matplotlib: a Python that cannot see dist-packages
    fake = e.write("nomods.sh", "#!/bin/sh\nexec /usr/bin/python3 -S "
                   "\"$@\"\n")
    os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
    p = e.kz(["plot", a, "-o", e.path("none")],
             env={"KAPITZA_PYTHON": fake})
    check(p.returncode == 2 and "lacks h5py" in p.stderr and
          "python3-matplotlib" in p.stderr,
          "missing modules: %d %s" % (p.returncode, p.stderr))
    for bad in ([a], [a, "-o"], [a, "-o", out, "--only", "fig9"],
                [e.path("missing.h5"), "-o", out]):
        p = e.kz(["plot"] + bad)
        check(p.returncode == 2 and p.stderr, "bad arguments %s: %d" %
              (bad, p.returncode))
    p = e.kz(["plot", a, "-o", e.path("only"), "--only", "fig5"])
    check(p.returncode == 0 and sorted(os.listdir(e.path("only"))) ==
          ["fig5.json", "fig5.png"], "--only fig5")
    e.cleanup()
    return done("test_plot")


if __name__ == "__main__":
    sys.exit(main())
