#!/usr/bin/env python3
"""kapitza_plot.py: the paper's figures from a kapitza archive, as PNG.

Run by `kapitza plot ARCHIVE.h5 -o DIR` (engine/post/plot.c), which passes
the archive's names (engine/store/schema.c) in $KAPITZA_SCHEMA; directly:
    kapitza plot --schema > schema.json
    /usr/bin/python3 engine/post/kapitza_plot.py ARCHIVE.h5 -o DIR \
        --schema schema.json [--only fig3]

Figures (the paper's numbering; engine/POSTSTAGE.md):
  fig1  space-time map of the energy current J^E_n(t) (Fig. 1b)
  fig2  energy and magnetization profiles against n/t (Fig. 2a-d)
  fig3  energy- and spin-current profiles with the homogeneous references
        dashed, the maxima n'_L,R(t), v'_R against Delta with the fitted line
        (Fig. 3a-d; c and d need `kapitza fit`)
  fig4  beta_eff and the trace distance d_n (Fig. 4a-d; `kapitza fit`
        on an archive with thermal tables -- a `thermal:` spec section,
        computed by `kapitza run` --, d_n needs `measure: [..., rho3]`)
  fig5  junction currents and entanglement entropy against time (Fig. 5a-d)
  fig7  mu_eff of the domain wall (Supplementary Fig. 7)
  fig6  GHD of the extended chaotic junction for several R (Fig. 6a,b;
        `kapitza ghd`), with the archive's |Psi1> profile at the longest
        time of its gamma as the black line
  fig8  d_n of the homogeneous XX chain (Supplementary Fig. 8)
  convergence  junction current for every chi_max of the focal point, with
        the agreement times of `kapitza fit`; v'_R against chi_max for
        every ladder, and every rung's right maximum n'_R(t)
A panel without data is left out; a figure without any is skipped with a
message.  Every DIR/figX.png has a DIR/figX.json sidecar listing, per panel,
each archive dataset drawn (path, rows, columns) with the SHA-256 of the
array as read (float64, little-endian, C order), so that tests and readers
can check that the picture is the archive's data.

Exit status: 0 done (some figures may be skipped), 2 unreadable archive or
bad arguments, 3 h5py, numpy or matplotlib missing.
"""
import argparse
import hashlib
import json
import math
import os
import sys

try:
    import numpy as np
    import h5py
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:  # the C side turns exit 3 into install advice
    print("kapitza plot: missing Python module: %s" % (e.name or e),
          file=sys.stderr)
    sys.exit(3)

FIGURES = ["fig1", "fig2", "fig3", "fig4", "fig5", "fig6", "fig7", "fig8",
           "convergence"]
# The archive's names and state values: from the C side's one declaration
# of the schema (engine/store/schema.c), which `kapitza plot` passes in the
# environment (KAPITZA_SCHEMA) and `kapitza plot --schema` prints.
N = None
DONE = GROUND = DOMAIN_WALL = THERMAL_TABLE = None


def init_schema(path):
    """Reads the schema (JSON) from path or $KAPITZA_SCHEMA."""
    global N, DONE, GROUND, DOMAIN_WALL, THERMAL_TABLE
    if path:
        with open(path) as fh:
            text = fh.read()
    else:
        text = os.environ.get("KAPITZA_SCHEMA")
    if not text:
        raise ValueError("no archive schema: run through `kapitza plot`, "
                         "or pass --schema FILE written by `kapitza plot "
                         "--schema`")
    N = json.loads(text)
    DONE = N["state"]["done"]
    GROUND = N["spec_state"]["ground_state"]
    DOMAIN_WALL = N["spec_state"]["domain_wall"]
    THERMAL_TABLE = N["spec_state"]["thermal_table"]


def P(pid, ds=None, kind="point"):
    """/points/<id>[/<dataset>] (kind: "point" or "table" datasets)."""
    g = "/%s/%d" % (N["paths"]["points"], pid)
    return g if ds is None else "%s/%s" % (g, N[kind][ds])


def G(ds=None):
    """/analysis/ghd[/<dataset>] (kapitza ghd's group)."""
    g = "/" + N["paths"]["ghd"]
    return g if ds is None else "%s/%s" % (g, N["ghd"][ds])


def A(pid, ds=None):
    """/analysis/points/<id>[/<dataset>]."""
    g = "/%s/%d" % (N["paths"]["analysis_points"], pid)
    return g if ds is None else "%s/%s" % (g, N["analysis_point"][ds])
HOMOG_TOL = 1e-12

plt.rcParams.update({
    "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10,
    "legend.fontsize": 8, "legend.framealpha": 0.85, "lines.linewidth": 1.3,
    "axes.grid": True, "grid.alpha": 0.25, "figure.constrained_layout.use":
    True})


# ---- provenance --------------------------------------------------------

def digest(a):
    a = np.ascontiguousarray(np.asarray(a, dtype="<f8"))
    return hashlib.sha256(a.tobytes()).hexdigest()


class Sidecar:
    """Records every dataset slice a figure draws."""

    def __init__(self, f, fig):
        self.f = f
        self.fig = fig
        self.panels = {}
        self.skipped = {}
        self.panel = None

    def take(self, path, rows=None, cols=None):
        """f[path][rows][:, cols] as float64, recorded for this panel.
        rows: None (all) or a list of row indices; cols: None or
        [start, stop)."""
        ds = self.f[path]
        a = np.asarray(ds[()], dtype=np.float64)
        if rows is not None:
            a = a[list(rows)]
        if cols is not None:
            a = a[..., cols[0]:cols[1]]
        self.panels.setdefault(self.panel, []).append({
            "dataset": path,
            "rows": None if rows is None else [int(r) for r in rows],
            "cols": None if cols is None else [int(c) for c in cols],
            "shape": list(a.shape), "sha256": digest(a)})
        return a

    def take_field(self, path, field, rows=None):
        """One field of a compound table (e.g. /analysis/lightcone)."""
        a = np.asarray(self.f[path][field], dtype=np.float64)
        if rows is not None:
            a = a[list(rows)]
        self.panels.setdefault(self.panel, []).append({
            "dataset": path, "field": field,
            "rows": None if rows is None else [int(r) for r in rows],
            "cols": None, "shape": list(a.shape), "sha256": digest(a)})
        return a

    def skip(self, panel, why):
        self.skipped[panel] = why


# ---- the archive -------------------------------------------------------

class Point:
    def __init__(self, f, row, st):
        self.id = int(row["id"])
        self.L = int(row["L"])
        self.J = float(row["J"])
        self.dl = float(row["delta_left"])
        self.dr = float(row["delta_right"])
        self.gamma = float(row["gamma_right"])
        self.state = int(row["state"])
        self.chi = int(row["chi_max"])
        self.key = (self.L, self.J, self.dl, self.dr, self.state,
                    float(row["dt"]), int(row["order"]),
                    float(row["cutoff"]))
        self.status = int(st["state"])
        g = f[P(self.id)]
        t = np.asarray(g[N["point"]["time"]][()], dtype=float)
        self.rows = np.flatnonzero(np.isfinite(t))
        self.t = t
        self.ds = set(g.keys())
        self.an = set()
        if A(self.id) in f:
            self.an = set(f[A(self.id)].keys())

    @property
    def homogeneous(self):
        return abs(self.dl - self.dr) <= HOMOG_TOL

    @property
    def tlast(self):
        return self.t[self.rows[-1]] if len(self.rows) else float("nan")

    def gamma_label(self):
        g = self.gamma
        for q in (2, 3, 4, 5, 6, 8, 10, 12):
            for p in range(1, q):
                if math.gcd(p, q) == 1 and abs(g - p * math.pi / q) < 1e-9:
                    return (r"$\gamma=\pi/%d$" % q if p == 1 else
                            r"$\gamma=%d\pi/%d$" % (p, q))
        return r"$\Delta=%.3g$" % self.dr

    def rows_at(self, times):
        """Written rows nearest to the given times (distinct, ascending)."""
        out = []
        for tt in times:
            if not len(self.rows):
                break
            r = self.rows[np.argmin(np.abs(self.t[self.rows] - tt))]
            if r not in out:
                out.append(int(r))
        return sorted(out)

    def profile_times(self, k=4):
        tl = self.tlast
        return self.rows_at([tl * (j + 1) / k for j in range(k)])


class Archive:
    def __init__(self, path):
        self.path = path
        self.f = h5py.File(path, "r")
        f = self.f
        if f.attrs.get("format", b"") not in (N["format"].encode(),
                                              N["format"]):
            raise ValueError("%s is not a kapitza archive" % path)
        table = f[N["paths"]["points_table"]][()]
        status = f[N["paths"]["status"]][()]
        # the thermal tables of a thermal: section are points too, with
        # their own datasets (ARCHIVE.md): kept apart
        self.points = [Point(f, table[i], status[i])
                       for i in range(len(table))
                       if table[i]["state"] != THERMAL_TABLE]
        self.tables = [int(table[i]["id"]) for i in range(len(table))
                       if table[i]["state"] == THERMAL_TABLE and
                       status[i]["state"] == DONE]
        self.spec_hash = f.attrs.get("spec_hash", b"")
        if isinstance(self.spec_hash, bytes):
            self.spec_hash = self.spec_hash.decode()

    def usable(self, state, need, junction=True):
        """Points of a state with dataset(s) `need` and >= 2 written rows,
        one per (delta_left, delta_right): the one that reaches furthest in
        time, of those the largest chi_max (so that a rung still running,
        as `kapitza refine` adds them, does not hide a finished one that
        reaches further).  junction:
        XX left half and not a homogeneous reference, plus the XX chain
        (delta_right = 0) itself."""
        best = {}
        for p in self.points:
            if p.state != state or len(p.rows) < 2:
                continue
            if any(n not in p.ds and n not in p.an for n in need):
                continue
            if junction and abs(p.dl) > HOMOG_TOL:
                continue
            k = (p.dl, p.dr) if not junction else p.dr
            if k not in best or (p.tlast, p.chi) > (best[k].tlast,
                                                     best[k].chi):
                best[k] = p
        return [best[k] for k in sorted(best)]

    def focal(self, state, need):
        """The junction point nearest to gamma = pi/4 (the paper's example),
        among the non-homogeneous ones if there are any."""
        c = [p for p in self.usable(state, need) if not p.homogeneous]
        if not c:
            return None
        return min(c, key=lambda p: (abs(p.dr - math.cos(math.pi / 4)),
                                     -p.chi))

    def reference(self, delta, like):
        """Homogeneous point with both halves at `delta`, same state, L and
        dt as `like`, largest chi."""
        c = [p for p in self.points
             if p.homogeneous and abs(p.dr - delta) <= HOMOG_TOL
             and p.state == like.state and p.L == like.L
             and len(p.rows) >= 2]
        return max(c, key=lambda p: (p.chi, p.tlast)) if c else None

    def beta_range(self):
        """The largest |beta| every thermal table covers (None: none)."""
        m = None
        for k in self.tables:
            b = self.f[P(k, N["table"]["beta"], "table")][()]
            v = float(np.max(np.abs(b)))
            m = v if m is None else min(m, v)
        return m


# ---- helpers -----------------------------------------------------------

def xlabels(L, kind):
    """Paper labels: sites n = i - L/2 + 1, bonds likewise, windows by first
    site."""
    n = {"site": L, "bond": L - 1, "window": L - 2}[kind]
    return np.arange(n) - L // 2 + 1


def tcolors(k):
    return plt.cm.viridis(np.linspace(0.1, 0.85, max(k, 1)))


def gcolors(k):
    return [plt.cm.tab10(i % 10) for i in range(k)]


def profiles_vs_time(sc, ax, p, ds, kind, ylabel, title, rows=None,
                     clip=None):
    rows = p.profile_times() if rows is None else rows
    rows = [r for r in rows if p.t[r] > 0]
    if not rows:
        return False
    t = sc.take(P(p.id, "time"), rows=rows)
    y = sc.take(ds, rows=rows)
    n = xlabels(p.L, kind)
    for j, (tt, yy) in enumerate(zip(t, y)):
        if clip is not None:
            yy = np.clip(yy, -clip, clip)
        ax.plot(n / tt, yy, color=tcolors(len(rows))[j], label="t = %g" % tt)
    ax.set_xlabel("n / t")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="best")
    return True


def profiles_vs_gamma(sc, ax, pts, dsname, kind, ylabel, title, clip=None,
                      an=False):
    drawn = 0
    cols = gcolors(len(pts))
    for j, p in enumerate(pts):
        r = int(p.rows[-1])
        if p.t[r] <= 0:
            continue
        t = sc.take(P(p.id, "time"), rows=[r])[0]
        y = sc.take(A(p.id, dsname) if an else P(p.id, dsname), rows=[r])[0]
        if clip is not None:
            y = np.clip(y, -clip, clip)
        ax.plot(xlabels(p.L, kind) / t, y, color=cols[j],
                label="%s, t = %g" % (p.gamma_label(), t))
        drawn += 1
    if drawn:
        ax.set_xlabel("n / t")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(loc="best")
    return drawn > 0


# ---- the figures -------------------------------------------------------
#
# A figure is a list of panels (label, check, draw): check() returns None
# when the panel has data, else why not; only panels with data get axes, so
# a sweep without domain_wall points gives a compact energy-only figure.

XLIM = 2.0  # |n/t| shown: the fastest quasiparticles move at v <= pi/2


def make_figure(sc, panels, ncols=2, size=(5.0, 3.8)):
    avail = []
    for lab, check, draw in panels:
        why = check()
        if why:
            sc.skip(lab, why)
        else:
            avail.append((lab, draw))
    if not avail:
        return None
    n = len(avail)
    nc = min(ncols, n)
    nr = (n + nc - 1) // nc
    fig, axs = plt.subplots(nr, nc, figsize=(size[0] * nc, size[1] * nr),
                            squeeze=False)
    for (lab, draw), ax in zip(avail, axs.flat):
        sc.panel = lab
        draw(ax)
        if len(panels) > 1:  # the label in the title: legends stay clear
            ax.set_title("(%s) %s" % (lab, ax.get_title()),
                         fontsize=ax.title.get_fontsize())
    for ax in list(axs.flat)[n:]:
        ax.set_visible(False)
    return fig


def state_name(st):
    return "ground_state" if st == GROUND else "domain_wall"


HINT = {"beta_eff": " (kapitza fit, with a thermal: spec section whose "
                    "tables kapitza run computed)",
        "mu_eff": " (kapitza fit, with thermal.mu in the spec)",
        "trace_distance": " (measure rho3, then kapitza fit with thermal "
                          "tables)",
        "n_left": " (kapitza fit)"}


def need_focal(a, st, need, what):
    return lambda: None if a.focal(st, need) is not None else \
        "no %s point with %s%s" % (state_name(st), what, HINT.get(what, ""))


def need_usable(a, st, need, what):
    return lambda: None if a.usable(st, need) else \
        "no %s point with %s%s" % (state_name(st), what, HINT.get(what, ""))


def fig1(a, sc, dpi):
    p = a.focal(GROUND, ["energy_current"]) or a.focal(DOMAIN_WALL,
                                                       ["energy_current"])

    def draw(ax):
        rows = [int(r) for r in p.rows]
        t = sc.take(P(p.id, "time"), rows=rows)
        je = sc.take(P(p.id, "energy_current"), rows=rows)
        n = xlabels(p.L, "bond")
        ax.grid(False)
        v = np.nanmax(np.abs(je))
        m = ax.pcolormesh(n, t, je, shading="nearest", cmap="inferno",
                          vmin=0 if np.nanmin(je) >= -1e-3 * v else -v,
                          vmax=v)
        ax.figure.colorbar(m, ax=ax, label=r"$J^{E}_n(t)$")
        ax.set_xlabel("n")
        ax.set_ylabel("t")
        ax.set_title("energy current, %s, %s, L = %d, $\\chi_{max}$ = %d" %
                     (p.gamma_label(), state_name(p.state), p.L, p.chi))

    return make_figure(sc, [("b", lambda: None if p else
                             "no point with energy_current", draw)],
                       size=(6.6, 4.8))


def profile_panel(a, sc, st, ds, kind, ylabel, what, an=False, clip=None):
    """(check, draw) of a profile at several times of the focal point."""
    def draw(ax):
        p = a.focal(st, [ds])
        profiles_vs_time(sc, ax, p, A(p.id, ds) if an else P(p.id, ds),
                         kind, ylabel,
                         "%s, %s" % (what, p.gamma_label()), clip=clip)
        ax.set_xlim(-XLIM, XLIM)
    return need_focal(a, st, [ds], ds), draw


def gamma_panel(a, sc, st, ds, kind, ylabel, what, an=False, clip=None):
    """(check, draw) of a profile at the longest time for every gamma."""
    def draw(ax):
        profiles_vs_gamma(sc, ax, a.usable(st, [ds]), ds, kind, ylabel,
                          "%s at the longest time" % what, clip=clip, an=an)
        ax.set_xlim(-XLIM, XLIM)
    return need_usable(a, st, [ds], ds), draw


def fig2(a, sc, dpi):
    return make_figure(sc, [
        ("a",) + with_edges(a, GROUND, "energy", profile_panel(
            a, sc, GROUND, "energy", "bond", r"$E_n$", "energy")),
        ("b",) + gamma_panel(a, sc, GROUND, "energy", "bond", r"$E_n$",
                             "energy"),
        ("c",) + with_edges(a, DOMAIN_WALL, "sz", profile_panel(
            a, sc, DOMAIN_WALL, "sz", "site", r"$S^z_n$", "magnetization")),
        ("d",) + gamma_panel(a, sc, DOMAIN_WALL, "sz", "site", r"$S^z_n$",
                             "magnetization")])


def current_panel(a, sc, st, ds, ylabel, what):
    """Fig. 3a,b: current profiles; dashed, the homogeneous chains with the
    left (n/t < 0) and right (n/t > 0) parameters at their longest time."""
    def draw(ax):
        p = a.focal(st, [ds])
        profiles_vs_time(sc, ax, p, P(p.id, ds), "bond",
                         ylabel, "%s, %s" % (what, p.gamma_label()))
        refs = []
        for side, delta in (("left", p.dl), ("right", p.dr)):
            q = a.reference(delta, p)
            if q is None or q.id == p.id:
                continue
            r = int(q.rows[-1])
            t = sc.take(P(q.id, "time"), rows=[r])[0]
            y = sc.take(P(q.id, ds), rows=[r])[0]
            x = xlabels(q.L, "bond") / t
            m = x < 0 if side == "left" else x > 0
            h, = ax.plot(x[m], y[m], "k--", lw=1.1)
            refs.append((h, "homogeneous $\\Delta$=%.3g\nt = %g, n/t %s 0" %
                         (delta, t, "<" if side == "left" else ">")))
        # times upper left, references upper right: the corners are
        # outside the light cone, where the currents vanish
        ax.legend(loc="upper left", fontsize=7)
        if refs:
            ax.add_artist(ax.get_legend())
            ax.legend([r[0] for r in refs], [r[1] for r in refs],
                      loc="upper right", fontsize=7)
        ax.set_xlim(-XLIM, XLIM)
        if not refs:
            ax.set_title("%s, %s (no homogeneous reference in the sweep)" %
                         (what, p.gamma_label()), fontsize=8)
    return need_focal(a, st, [ds], ds), draw


def window_band(a, ax):
    """The last fit's window as a grey band across a track panel (t up)."""
    at = a.f[N["paths"]["analysis"]].attrs
    ax.axhspan(float(at["window_t0"]), float(at["window_t1"]),
               color="0.88", zorder=0, label="fit window")


def chi_verdicts(a, sc):
    """{point id: converged} for the top rungs of the chi_verdict table,
    or None when no point has two chi_max (convergence not checked)."""
    path = N["paths"]["chi_verdict"]
    if path not in a.f:
        return None
    cv = a.f[path][()]
    if not len(cv) or not (cv["nrungs"] >= 2).any():
        return None
    rows = list(range(len(cv)))
    top = sc.take_field("/" + path, "point_id", rows)
    verdict = sc.take_field("/" + path, "verdict", rows)
    return {int(p): int(x) == 1 for p, x in zip(top, verdict)}


def chi_fit_line(a, sc, ax, state):
    """A Delta + B over the velocities converged in chi_max, dashed."""
    path = N["paths"]["velocity_fit_chi"]
    if path not in a.f:
        return
    vc = a.f[path][()]
    good = [k for k in range(len(vc)) if vc["ok"][k] and
            vc["state"][k] == state]
    if not good:
        return
    k = max(good, key=lambda j: vc["nused"][j])
    A, B, sA, sB = (sc.take_field("/" + path, f, [k])[0]
                    for f in ("A", "B", "A_sd", "B_sd"))
    xx = np.linspace(0, 1, 50)
    ax.plot(xx, A * xx + B, "b--",
            label=r"converged only: A = %.3f $\pm$ %.3f, B = %.3f $\pm$ "
                  r"%.3f" % (A, sA, B, sB))


def fig3(a, sc, dpi):
    def check_c():
        return None if a.usable(GROUND, ["n_left", "n_right"]) else \
            "no light-cone maxima (run kapitza fit)"

    def draw_c(ax):
        pts = a.usable(GROUND, ["n_left", "n_right"])
        cols = gcolors(len(pts))
        for j, p in enumerate(pts):
            rows = [int(r) for r in p.rows]
            t = sc.take(P(p.id, "time"), rows=rows)
            nl = sc.take(A(p.id, "n_left"), rows=rows)
            nr = sc.take(A(p.id, "n_right"), rows=rows)
            ax.plot(nl, t, ".", ms=3, color=cols[j], label=p.gamma_label())
            ax.plot(nr, t, ".", ms=3, color=cols[j])
        window_band(a, ax)
        ax.set_xlabel("n'")
        ax.set_ylabel("t")
        ax.set_title("maxima $n'_L < 0 < n'_R$ of $J^E_n$ (0: one maximum)")
        ax.legend(loc="best")

    def vgroup():
        if N["paths"]["lightcone"] not in a.f or \
                N["paths"]["velocity_fit"] not in a.f:
            return None
        vf = a.f[N["paths"]["velocity_fit"]][()]
        good = [g for g in range(len(vf)) if vf["ok"][g] and
                vf["state"][g] == GROUND] or \
            [g for g in range(len(vf)) if vf["ok"][g]]
        if not good:
            return None
        return max(good, key=lambda k: (vf["chi_max"][k], vf["npoints"][k]))

    def check_d():
        return None if vgroup() is not None else \
            "no v'_R(Delta) fit (kapitza fit needs >= 3 Delta values " \
            "whose data cover the window)"

    def draw_d(ax):
        g = vgroup()
        lc = a.f[N["paths"]["lightcone"]][()]
        vf = a.f[N["paths"]["velocity_fit"]][()]
        ids = [int(s) for s in vf["point_ids"][g].decode().split(",") if s]
        rows = [i for i in range(len(lc)) if int(lc["point_id"][i]) in ids
                and lc["ok"][i]]
        d = sc.take_field("/" + N["paths"]["lightcone"], "delta_right", rows)
        v = sc.take_field("/" + N["paths"]["lightcone"], "v_right", rows)
        e = sc.take_field("/" + N["paths"]["lightcone"], "v_right_sd", rows)
        A, B, sA, sB = (sc.take_field("/" + N["paths"]["velocity_fit"], k, [g])[0]
                        for k in ("A", "B", "A_sd", "B_sd"))
        # the change of v'_R over the window's halves, a systematic the sd
        # does not see: a wide grey bar behind the sd's (older /analysis
        # tables lack the field)
        if "v_right_win" in lc.dtype.names:
            w = sc.take_field("/" + N["paths"]["lightcone"], "v_right_win",
                              rows)
            fin = np.isfinite(w)
            if fin.any():
                ax.errorbar(d[fin], v[fin], yerr=w[fin], fmt="none",
                            ecolor="0.6", elinewidth=5, alpha=0.6,
                            label="change over the window's halves")
        label = "$v'_R$ (%s, $\\chi_{max}$ = %d)" % (
            state_name(vf["state"][g]), vf["chi_max"][g])
        conv = chi_verdicts(a, sc)
        if conv is None:
            ax.errorbar(d, v, yerr=e, fmt="o", color="k", capsize=3,
                        label=label)
        else:
            # open markers: not converged in chi_max (or not checked)
            ok = np.array([conv.get(int(lc["point_id"][i]), False)
                           for i in rows], dtype=bool)
            if ok.any():
                ax.errorbar(d[ok], v[ok], yerr=e[ok], fmt="o", color="k",
                            capsize=3, label=label + ", converged in "
                            "$\\chi_{max}$")
            if (~ok).any():
                ax.errorbar(d[~ok], v[~ok], yerr=e[~ok], fmt="o", color="k",
                            mfc="white", capsize=3,
                            label=label + ", not converged")
            chi_fit_line(a, sc, ax, vf["state"][g])
        xx = np.linspace(0, max(1.0, float(np.max(d))), 50)
        ax.plot(xx, A * xx + B, "r-",
                label=r"$A\Delta+B$: A = %.3f $\pm$ %.3f, B = %.3f $\pm$ "
                      r"%.3f" % (A, sA, B, sB))
        at = a.f[N["paths"]["analysis"]].attrs
        ax.set_xlabel(r"$\Delta$")
        ax.set_ylabel("$v'_R$")
        ax.set_title("internal light cone, fit over %g $\\leq$ t $\\leq$ %g"
                     % (at["window_t0"], at["window_t1"]))
        ax.legend(loc="upper left", bbox_to_anchor=(0.06, 1.0))

    return make_figure(sc, [
        ("a",) + with_edges(a, GROUND, "energy_current", current_panel(
            a, sc, GROUND, "energy_current", r"$J^E_n$", "energy current")),
        ("b",) + with_edges(a, DOMAIN_WALL, "spin_current", current_panel(
            a, sc, DOMAIN_WALL, "spin_current", r"$J^M_n$", "spin current")),
        ("c", check_c, draw_c), ("d", check_d, draw_d)])


def fig4(a, sc, dpi):
    bmax = a.beta_range()
    blab = r"$\beta^{eff}_n$" + ("" if bmax is None else
                                 r" (beyond $\pm%g$: at the edge)" % bmax)

    def draw_d(ax):
        p = a.focal(GROUND, ["trace_distance"])
        rows = [int(r) for r in p.rows]
        t = sc.take(P(p.id, "time"), rows=rows)
        w0 = p.L // 2 - 1  # window of site n = 0
        cols = [w0 - 2, w0 + 2]
        d = sc.take(A(p.id, "trace_distance"), rows=rows,
                    cols=cols)
        cc = gcolors(4)
        for j in range(4):
            n = cols[0] + j - p.L // 2 + 1
            ax.plot(t, d[:, j], color=cc[j], label="n = %d" % n)
        ax.set_xlabel("t")
        ax.set_ylabel(r"$d_n(t)$")
        ax.set_title("$d_n$ near the junction, %s" % p.gamma_label())
        ax.legend(loc="best")

    return make_figure(sc, [
        ("a",) + profile_panel(a, sc, GROUND, "beta_eff", "window", blab,
                               "effective inverse temperature", an=True,
                               clip=bmax),
        ("b",) + gamma_panel(a, sc, GROUND, "beta_eff", "window", blab,
                             r"$\beta_{eff}$", an=True, clip=bmax),
        ("c",) + profile_panel(a, sc, GROUND, "trace_distance", "window",
                               r"$d_n$", "distance to the thermal state",
                               an=True),
        ("d", need_focal(a, GROUND, ["trace_distance"], "trace_distance"),
         draw_d)])


def fig5(a, sc, dpi):
    def panel(st, ds, yl, title):
        def draw(ax):
            pts = a.usable(st, [ds])
            cols = gcolors(len(pts))
            for j, p in enumerate(pts):
                rows = [int(r) for r in p.rows]
                b = p.L // 2 - 1  # bond n = 0
                t = sc.take(P(p.id, "time"), rows=rows)
                y = sc.take(P(p.id, ds), rows=rows,
                            cols=[b, b + 1])[:, 0]
                ax.plot(t, y, color=cols[j], label=p.gamma_label())
            ax.set_xlabel("t")
            ax.set_ylabel(yl)
            ax.set_title(title)
            ax.legend(loc="best")
        return need_usable(a, st, [ds], ds), draw

    return make_figure(sc, [
        ("a",) + panel(GROUND, "energy_current", r"$J^E_{n=0}(t)$",
                       "energy current at the junction"),
        ("b",) + panel(DOMAIN_WALL, "spin_current", r"$J^M_{n=0}(t)$",
                       "spin current at the junction"),
        ("c",) + panel(GROUND, "entropy", "S(t)",
                       "entanglement entropy at the junction "
                       "(ground_state)"),
        ("d",) + panel(DOMAIN_WALL, "entropy", "S(t)",
                       "entanglement entropy at the junction "
                       "(domain_wall)")])


def fig7(a, sc, dpi):
    return make_figure(sc, [
        ("a",) + profile_panel(a, sc, DOMAIN_WALL, "mu_eff", "window",
                               r"$\mu^{eff}_n$", "effective chemical "
                               "potential", an=True),
        ("b",) + gamma_panel(a, sc, DOMAIN_WALL, "mu_eff", "window",
                             r"$\mu^{eff}_n$", r"$\mu_{eff}$", an=True)])


def fig8(a, sc, dpi):
    def pick():
        c = [p for p in a.usable(GROUND, ["trace_distance"], junction=False)
             if p.homogeneous and abs(p.dr) <= 1e-9]
        return max(c, key=lambda q: q.chi) if c else None

    def draw(ax):
        p = pick()
        profiles_vs_time(sc, ax, p, A(p.id, "trace_distance"), "window", r"$d_n$", "distance to the thermal "
                         "state, homogeneous XX (%s)" % p.gamma_label())
        ax.set_xlim(-XLIM, XLIM)

    return make_figure(sc, [("a", lambda: None if pick() else
                             "no trace distance for the homogeneous XX "
                             "chain", draw)], size=(6.4, 4.2))


def chi_ladders(a):
    """The chi_max ladders of the last `kapitza fit` with at least two
    rungs: [(point ids by rising chi_max, converged)], from
    /analysis/chi_verdict (verdict 1: converged, as in chi_verdicts)."""
    path = N["paths"]["chi_verdict"]
    if path not in a.f or N["paths"]["lightcone"] not in a.f:
        return []
    out = []
    for r in a.f[path][()]:
        ids = [int(x) for x in r["point_ids"].decode().split(",") if x]
        if len(ids) >= 2:
            out.append((ids, int(r["verdict"]) == 1))
    return out


def convergence_fig(a, sc, dpi):
    # the focal point of |Psi1>, else of the domain wall, whose chi_max
    # ladder has at least two runs with data
    p, ladder = None, []
    for st in (GROUND, DOMAIN_WALL):
        q = a.focal(st, ["energy_current"])
        lad = [] if q is None else sorted(
            [r for r in a.points if r.key == q.key and len(r.rows) >= 2 and
             "energy_current" in r.ds], key=lambda r: r.chi)
        if len(lad) >= 2:
            p, ladder = q, lad
            break

    def draw(ax):
        cv = a.f[N["paths"]["convergence"]][()] \
            if N["paths"]["convergence"] in a.f else None
        cols = tcolors(len(ladder))
        for j, q in enumerate(ladder):
            rows = [int(r) for r in q.rows]
            b = q.L // 2 - 1
            t = sc.take(P(q.id, "time"), rows=rows)
            y = sc.take(P(q.id, "energy_current"), rows=rows,
                        cols=[b, b + 1])[:, 0]
            ax.plot(t, y, color=cols[j], label=r"$\chi_{max}$ = %d" % q.chi)
            if cv is not None:
                k = np.flatnonzero(cv["point_id"] == q.id)
                if len(k) and np.isfinite(cv["t_all"][k[0]]):
                    ta = sc.take_field("/" + N["paths"]["convergence"], "t_all",
                                       [int(k[0])])[0]
                    ax.axvline(ta, color=cols[j], ls=":", lw=1)
        ax.set_xlabel("t")
        ax.set_ylabel(r"$J^E_{n=0}(t)$")
        ax.set_title("convergence in $\\chi_{max}$, %s, %s\n(dotted: "
                     "agreement with the next $\\chi_{max}$ ends)" %
                     (p.gamma_label(), state_name(p.state)))
        ax.legend(loc="best")

    lads = chi_ladders(a)
    lcp = "/" + N["paths"]["lightcone"]
    byid = {q.id: q for q in a.points}

    def name(ids):
        q = byid.get(ids[-1])
        return q.gamma_label() if q is not None else "point %d" % ids[-1]

    def draw_v(ax):
        # v'_R of every rung: how the velocity moves with chi_max, against
        # its sd (bars) and its change over the window's halves (grey)
        lc = a.f[lcp][()]
        cols = gcolors(len(lads))
        for j, (ids, verdict) in enumerate(lads):
            rows = [int(np.flatnonzero(lc["point_id"] == i)[0]) for i in ids
                    if (lc["point_id"] == i).any()]
            if not rows:
                continue
            chi = sc.take_field(lcp, "chi_max", rows)
            v = sc.take_field(lcp, "v_right", rows)
            e = sc.take_field(lcp, "v_right_sd", rows)
            if "v_right_win" in lc.dtype.names:
                w = sc.take_field(lcp, "v_right_win", rows)
                fin = np.isfinite(w) & np.isfinite(v)
                ax.errorbar(chi[fin], v[fin], yerr=w[fin], fmt="none",
                            ecolor=cols[j], elinewidth=5, alpha=0.25)
            ax.errorbar(chi, v, yerr=e, fmt="-", color=cols[j], capsize=3)
            # the top rung carries the verdict: open if not converged
            ax.plot(chi[:-1], v[:-1], "o", color=cols[j], zorder=3)
            ax.plot(chi[-1:], v[-1:], "o", color=cols[j], zorder=3,
                    mfc=cols[j] if verdict else "white",
                    label="%s: %s" % (name(ids), "converged" if verdict
                                      else "not converged"))
        ax.set_xlabel(r"$\chi_{max}$")
        ax.set_ylabel("$v'_R$")
        ax.set_title("$v'_R$ against $\\chi_{max}$\n(bars: sd; wide: "
                     "change over the window's halves)")
        ax.legend(loc="best")

    def draw_tracks(ax):
        # n'_R(t) of every rung: where and when the internal maximum forms
        # at each chi_max (0: one maximum, not drawn)
        cols = gcolors(len(lads))
        styles = ["-", "--", ":", "-."]
        for j, (ids, _) in enumerate(lads):
            for r, i in enumerate(ids):
                q = byid.get(i)
                if q is None or "n_right" not in q.an:
                    continue
                rows = [int(x) for x in q.rows]
                t = sc.take(P(i, "time"), rows=rows)
                nr = sc.take(A(i, "n_right"), rows=rows)
                on = nr != 0
                if not on.any():
                    continue
                ax.plot(nr[on], t[on], styles[r % len(styles)],
                        color=cols[j], label="%s, $\\chi_{max}$ = %d"
                        % (name(ids), q.chi))
        window_band(a, ax)
        ax.set_xlabel("$n'_R$")
        ax.set_ylabel("t")
        ax.set_title("right maximum $n'_R(t)$ of every $\\chi_{max}$")
        ax.legend(loc="best", fontsize=6)

    no_ladder = lambda: None if lads else \
        "no velocity ladder of two chi_max (kapitza fit on an archive " \
        "with the same point at several chi_max)"
    return make_figure(sc, [("a", lambda: None if len(ladder) >= 2 else
                             "fewer than two chi_max values to compare",
                             draw), ("b", no_ladder, draw_v),
                            ("c", no_ladder, draw_tracks)], size=(6.4, 4.4))


# ---- the GHD side (kapitza ghd, /analysis/ghd) -------------------------

def v_ghd(delta):
    """Light-cone edge of the homogeneous XXZ chain at Delta = cos(g), the
    largest dressed velocity of its ground state, (pi/2) sin(g)/g (1 at
    Delta = 0; Takahashi's book, ch. 4, and the TBA of kernels/tba)."""
    g = math.acos(max(-1.0, min(1.0, delta)))
    return math.pi / 2 if g < 1e-12 else math.pi * math.sin(g) / (2 * g)


def with_edges(a, st, ds, panel):
    """A profile panel (check, draw) plus the GHD light-cone edges
    n/t = -v_L, v_R of its focal point's halves."""
    check, draw = panel

    def draw2(ax):
        draw(ax)
        p = a.focal(st, [ds])
        if p is None:
            return
        vl, vr = v_ghd(p.dl), v_ghd(p.dr)
        ax.axvline(-vl, color="0.45", ls=":", lw=1.2)
        ax.axvline(vr, color="0.45", ls=":", lw=1.2)
        ax.text(0.99, 0.02, "dotted: GHD light cone $-v_L$ = %.3f, $v_R$ = "
                "%.3f" % (-vl, vr), transform=ax.transAxes, ha="right",
                va="bottom", fontsize=7, color="0.3")
    return check, draw2


def ghd_reference(a, ds):
    """The archive's |Psi1> junction point (ground_state, XX left half) at
    the gamma of /analysis/ghd with the latest data, or None."""
    d = float(a.f[G()].attrs["delta_right"])
    c = [p for p in a.usable(GROUND, [ds]) if not p.homogeneous and
         abs(p.dr - d) <= 1e-9]
    return max(c, key=lambda p: (p.tlast, p.chi)) if c else None


def fig6(a, sc, dpi):
    have = G() in a.f

    def check():
        return None if have else "no GHD profiles (run kapitza ghd)"

    def panel(ds, ylabel, what):
        def draw(ax):
            g = a.f[G()]
            R = sc.take(G("R"))
            ok = sc.take(G("ok"))
            z = sc.take(G("zeta"))
            y = sc.take(G(ds))
            cols = plt.cm.plasma(np.linspace(0.05, 0.8, max(len(R), 1)))
            for k in range(len(R)):
                if ok[k]:
                    ax.plot(z, y[k], color=cols[k], label="R = %g" % R[k])
            p = ghd_reference(a, ds)
            if p is not None:
                r = int(p.rows[-1])
                t = sc.take(P(p.id, "time"), rows=[r])[0]
                yy = sc.take(P(p.id, ds), rows=[r])[0]
                ax.plot(xlabels(p.L, "bond") / t, yy, "k-", lw=1.1,
                        label="numerics, t = %g" % t)
            vr = float(g.attrs["v_right"])
            for x in (-float(g.attrs["v_left"]), vr):
                ax.axvline(x, color="0.45", ls=":", lw=1.0)
            ax.set_xlim(float(z[0]), float(z[-1]))
            ax.set_xlabel(r"$\zeta = x/t$")
            ax.set_ylabel(ylabel)
            ax.set_title(r"%s, GHD, $\gamma=\pi/%d$, chaotic junction"
                         % (what, int(g.attrs["P"])))
            ax.legend(loc="best")
        return check, draw

    return make_figure(sc, [
        ("a",) + panel("energy", r"$E(\zeta)$", "energy"),
        ("b",) + panel("energy_current", r"$J^E(\zeta)$", "energy current")])


DRAW = {"fig1": fig1, "fig2": fig2, "fig3": fig3, "fig4": fig4,
        "fig5": fig5, "fig6": fig6, "fig7": fig7, "fig8": fig8,
        "convergence": convergence_fig}


def main(argv):
    ap = argparse.ArgumentParser(prog="kapitza plot")
    ap.add_argument("archive")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--only", default=",".join(FIGURES))
    ap.add_argument("--dpi", type=int, default=150)
    ap.add_argument("--schema", default=None)
    o = ap.parse_args(argv)
    try:
        init_schema(o.schema)
    except (OSError, ValueError, KeyError) as e:
        print("kapitza plot: %s" % e, file=sys.stderr)
        return 2
    want = [s.strip() for s in o.only.split(",") if s.strip()]
    bad = [s for s in want if s not in DRAW]
    if bad:
        print("kapitza plot: unknown figure(s) %s (known: %s)" %
              (", ".join(bad), ", ".join(FIGURES)), file=sys.stderr)
        return 2
    if not (50 <= o.dpi <= 1200):
        print("kapitza plot: --dpi must be in [50, 1200]", file=sys.stderr)
        return 2
    try:
        a = Archive(o.archive)
    except (OSError, ValueError, KeyError) as e:
        print("kapitza plot: cannot read '%s': %s" % (o.archive, e),
              file=sys.stderr)
        return 2
    os.makedirs(o.output, exist_ok=True)
    made = 0
    for name in want:
        sc = Sidecar(a.f, name)
        res = DRAW[name](a, sc, o.dpi)
        if res is None:
            why = []
            for _, w in sorted(sc.skipped.items()):
                if w not in why:
                    why.append(w)
            print("%-12s skipped: %s" % (name, "; ".join(why)))
            continue
        png = os.path.join(o.output, name + ".png")
        res.savefig(png, dpi=o.dpi)
        plt.close(res)
        side = {"figure": name, "png": name + ".png",
                "archive": os.path.abspath(o.archive),
                "spec_hash": a.spec_hash,
                "checksum": "sha256 of the array as read: float64 "
                            "little-endian C order, rows then cols applied",
                "panels": sc.panels, "skipped_panels": sc.skipped}
        with open(os.path.join(o.output, name + ".json"), "w") as fh:
            json.dump(side, fh, indent=1)
        extra = ("; panels left out: " + ", ".join(
            "%s (%s)" % kv for kv in sorted(sc.skipped.items()))
            if sc.skipped else "")
        print("%-12s %s%s" % (name, png, extra))
        made += 1
    print("kapitza plot: %d figure%s in %s" % (made, "" if made == 1 else
                                               "s", o.output))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
