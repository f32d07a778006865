"""beta_eff from the Bethe ansatz: `kapitza fit --beta-from tba`.

A real run of |Psi1> (XX left half; right half gamma = pi/4 and gamma = 0.7,
which is no pi/P), L = 16, with rho3 and a `thermal:` section (beta in
[-2, 2] step 0.25, a 16-site purified chain, chi 32); then the energy rows
of the pi/4 point are replaced by synthetic ones, so that the answers are
known:
  - left half (XX, P = 2): bond energies of the free-fermion chain at
    betas in [-14, 14]; every finite TBA beta_eff reproduces the window's
    E-bar = (E_n + E_{n+1})/2 by the free-fermion integral
    e(beta) = (1/2pi) int cos k / (1 + exp(beta cos k)) dk to 1e-10, and an
    infinite one lies beyond e(-+10);
  - right half (gamma = pi/4): in row k every bond holds the table's e at
    its grid node beta_k in [-2, 2], so the table inverts it to beta_k
    exactly and the TBA to beta_k up to the table's accuracy (purification
    of 16 sites at chi 32: measured 3.4e-6 in beta here, asserted 1e-5,
    the TBA against 24-site tables being 1e-8 in e, tests/kernels/
    test_tba.c); the same against the table-inverted beta_eff of a plain
    `kapitza fit`, and thermal_profiles' beta_diff_max is the largest of
    those differences;
  - d_n is computed where beta_eff is finite and on the table's grid;
  - /analysis's beta_from is "tba" (and "tables" for the plain fit);
  - the gamma = 0.7 point is refused with a message naming its delta and
    pi/P, on stderr and in thermal_profiles, exit status 1;
  - a domain_wall point (it needs (beta, mu)) is refused, exit 1;
  - --beta-from with another value is a usage error (2).

usage: test_fit_beta_tba.py KAPITZA MPIRUN"""
import sys

import h5py
import numpy as np

from posttest import Env, check, check_close, done

SPEC = """sweep: btba
chain:
  length: 16
  left: { delta: 0 }
  right: { gamma: [pi/4, 0.7] }
state: ground_state
evolve: { dt: 0.05, t_max: 2, order: 4, measure_every: 0.25 }
truncate: { chi_max: 16, cutoff: 1.0e-10 }
measure: [energy, energy_current, magnetization, rho3]
thermal:
  beta: { min: -2, max: 2, step: 0.25 }
  length: 16
  chi_max: 32
  dtau: 0.05
"""

DW = """sweep: btba-dw
chain:
  length: 8
  left: { delta: 0 }
  right: { gamma: [pi/4] }
state: domain_wall
evolve: { dt: 0.05, t_max: 1, order: 2, measure_every: 0.5 }
truncate: { chi_max: 8, cutoff: 1.0e-10 }
measure: [energy, energy_current, magnetization]
"""

K = np.linspace(-np.pi, np.pi, 4096, endpoint=False)


def e_ff(beta):
    """Free-fermion energy per bond (periodic trapezoid: spectral)."""
    x = beta * np.cos(K)
    f = np.where(x > 0, np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))),
                 1 / (1 + np.exp(-np.abs(x))))
    return np.mean(np.cos(K) * f)


def attr(f, name):
    v = f["analysis"].attrs[name]
    return v.decode() if isinstance(v, bytes) else str(v)


def main():
    e = Env(sys.argv, "fit-beta-tba")
    a = e.run_sweep(SPEC, "bt")
    L = 16
    nw = L - 2
    n = np.arange(nw) - L // 2 + 1  # first site of each window
    with h5py.File(a, "r+") as f:
        pt = f["points_table"][()]
        pid = int([r["id"] for r in pt if r["state"] == 0 and
                   abs(r["delta_right"] - np.cos(np.pi / 4)) < 1e-12][0])
        bad = int([r["id"] for r in pt if r["state"] == 0 and
                   abs(r["delta_right"] - np.cos(0.7)) < 1e-12][0])
        tab = [r["id"] for r in pt if r["state"] == 2 and
               abs(r["delta_right"] - np.cos(np.pi / 4)) < 1e-12][0]
        tb = f["points/%d/beta" % tab][()]
        te = f["points/%d/energy" % tab][()][0]
        E = f["points/%d/energy" % pid]
        nrow = E.shape[0]
        node = [2 * k for k in range(nrow)]  # grid betas -2, -1.5 .. 2
        node = [i for i in node if i < len(tb)]
        check(len(node) == nrow == 9, "rows %d, nodes %s" % (nrow, node))
        Es = np.empty(E.shape)
        bl = np.linspace(-14, 14, nrow * (L // 2 + 1))
        for k in range(nrow):
            for b in range(L - 1):
                # bonds 0..7 the XX half's, 8..14 the right half's (window
                # 7 straddles both: it is left, and still inverted)
                Es[k, b] = e_ff(bl[k * (L // 2 + 1) + b]) if b < 8 else \
                    te[node[k]]
        E[...] = Es
    # the plain fit (tables) first, for the comparison
    p = e.kz(["fit", a, "--window", "1:2", "-q"])
    check(p.returncode == 1, "plain fit: %d %s" % (p.returncode, p.stderr))
    with h5py.File(a, "r") as f:
        check(attr(f, "beta_from") == "tables",
              "beta_from tables")
        btab = f["analysis/points/%d/beta_eff" % pid][()]
    p = e.kz(["fit", a, "--window", "1:2", "--beta-from", "tba"])
    print(p.stdout[p.stdout.find("effective temperature"):])
    check(p.returncode == 1, "fit --beta-from tba: exit 1 (one point "
          "refused): %d %s" % (p.returncode, p.stderr))
    check("delta = 0.764842187284 is not cos(pi/P)" in p.stderr,
          "the gamma = 0.7 point refused on stderr: %s" % p.stderr)
    with h5py.File(a, "r") as f:
        check(attr(f, "beta_from") == "tba", "beta_from tba")
        beta = f["analysis/points/%d/beta_eff" % pid][()]
        dist = f["analysis/points/%d/trace_distance" % pid][()]
        tp = {int(r["point_id"]): r
              for r in f["analysis/thermal_profiles"][()]}
        check(b"is not cos(pi/P)" in tp[bad]["message"] and
              tp[bad]["values"] == 0, "thermal_profiles: %d refused: %s"
              % (bad, tp[bad]["message"]))
        check(str(bad) not in f["analysis/points"] or
              "beta_eff" not in f["analysis/points/%d" % bad],
              "no beta_eff for the refused point")
    eb = 0.5 * (Es[:, :-1] + Es[:, 1:])
    emin, emax = e_ff(10.0), e_ff(-10.0)
    worst, nfin, ninf = 0.0, 0, 0
    for k in range(nrow):
        for w in range(nw):
            if n[w] > 0:
                continue
            if np.isfinite(beta[k, w]):
                nfin += 1
                worst = max(worst, abs(e_ff(beta[k, w]) - eb[k, w]))
            else:
                ninf += 1
                check(eb[k, w] < emin if beta[k, w] > 0 else
                      eb[k, w] > emax, "infinite beta beyond e(+-10)")
    print("XX half: %d finite beta_eff reproduce E-bar to %.2e (%d "
          "infinite)" % (nfin, worst, ninf))
    check(nfin >= 50 and ninf >= 2, "finite %d, infinite %d" % (nfin, ninf))
    check(worst < 1e-10, "XX half: e_ff(beta_eff) vs E-bar %.3g" % worst)
    right = n > 0
    dn = np.max(np.abs(beta[:, right] - tb[node][:, None]))
    dt = np.max(np.abs(beta[:, right] - btab[:, right]))
    dnt = np.max(np.abs(btab[:, right] - tb[node][:, None]))
    print("pi/4 half: TBA beta_eff vs the grid's beta %.2e, vs the "
          "table-inverted %.2e (tables vs grid %.1e); beta_diff_max %.2e"
          % (dn, dt, dnt, tp[pid]["beta_diff_max"]))
    check(dnt < 1e-9, "the table inverts its own nodes: %.3g" % dnt)
    check(dn < 1e-5, "TBA beta_eff vs the grid's %.3g" % dn)
    check(dt < 1e-5, "TBA beta_eff vs the tables' %.3g" % dt)
    fin = np.isfinite(beta) & np.isfinite(btab)
    check_close(tp[pid]["beta_diff_max"],
                np.max(np.abs(beta[fin] - btab[fin])), 1e-12,
                "beta_diff_max is the largest difference")
    ongrid = np.isfinite(beta) & (beta >= -2) & (beta <= 2)
    check(np.all(np.isfinite(dist[ongrid])) and
          np.all(np.isnan(dist[~ongrid])),
          "d_n where beta_eff is on the table's grid")
    # a domain wall needs (beta, mu): refused, even without tables
    dw = e.run_sweep(DW, "dw")
    p = e.kz(["fit", dw, "--window", "0.5:1", "-q", "--beta-from", "tba"])
    with h5py.File(dw, "r") as f:
        tp = f["analysis/thermal_profiles"][()]
        check(p.returncode == 1 and len(tp) == 1 and
              b"domain_wall needs (beta, mu)" in tp[0]["message"],
              "domain_wall refused: %d %s" % (p.returncode, tp))
    p = e.kz(["fit", a, "--beta-from", "bethe"])
    check(p.returncode == 2 and "--beta-from takes 'tables' or 'tba'" in
          p.stderr, "--beta-from bethe: %d %s" % (p.returncode, p.stderr))
    e.cleanup()
    return done("test_fit_beta_tba")


if __name__ == "__main__":
    sys.exit(main())
