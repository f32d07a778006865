"""`kapitza refine`: the chi_max ladder that extends itself.

A small sweep (domain wall, L = 40, gamma = pi/3 and pi/4, t_max = 4,
chi_max 8) is run, then fit / refine / resubmit in a loop.  The physical
light-cone velocities of so short a run are all v' = 0 +- 0 (no slow region
has formed), so each fit's /analysis/lightcone rows are overwritten with a
model of a velocity converging in chi,
    v'_R(chi) = v_inf - c / chi^2,  sd 0.005,
(pi/3: 0.64 - 1/chi^2, pi/4: 0.9 - 3/chi^2), which refine must judge with
--tol 0.01 (and 1 combined sd): pi/3 needs 8 -> 12 -> 18, pi/4
8 -> 12 -> 18 -> 27 (chi-step 1.5).  Checked:
  - refine without a fit, and --dry-run (the file unchanged byte for
    byte), and the reasons in the archive's spec text; both print the
    modelled core-hours of the points they add (the same figure);
  - each round adds exactly the rungs the rule asks for (computed here
    independently), the ladder stops where the tolerance is met, and the
    last refine says every ladder is converged (exit 0); with --max-chi
    below the next rung it adds nothing and exits 1;
  - the points' hashes equal those of a single run of the final ladder
    (chi_max [8, 12, 18, 27] for both anisotropies), and h5diff finds
    every dataset of every shared point identical;
  - with the real velocities (all v' = 0 +- 0) one refine adds the second
    rung and the next says converged.

usage: test_refine.py KAPITZA MPIRUN H5DIFF"""
import hashlib
import math
import re
import subprocess
import sys

import h5py
import numpy as np

from posttest import Env, check, done

SPEC = """sweep: refine
chain:
  length: 40
  left: { delta: 0 }
  right: { gamma: [pi/3, pi/4] }
state: domain_wall
evolve: { dt: 0.05, t_max: 4, order: 2, measure_every: 0.25 }
truncate: { chi_max: %s, cutoff: 1.0e-10 }
measure: [energy, energy_current]
"""
MODEL = {round(math.cos(math.pi / 3), 12): (0.64, 1.0),
         round(math.cos(math.pi / 4), 12): (0.9, 3.0)}
SD, TOL, STEP = 0.005, 0.01, 1.5


def model_v(delta, chi):
    vinf, c = MODEL[round(delta, 12)]
    return vinf - c / chi ** 2


def inject(path):
    """Overwrites /analysis/lightcone's velocities with the model."""
    with h5py.File(path, "r+") as f:
        tab = f["points_table"][()]
        lc = f["analysis/lightcone"][()]
        for r in lc:
            p = tab[tab["id"] == r["point_id"]][0]
            r["v_right"] = model_v(float(p["delta_right"]), int(p["chi_max"]))
            r["v_right_sd"] = SD
            r["ok"] = 1
        f["analysis/lightcone"][...] = lc


def expected_adds(path):
    """The rungs the rule asks for, from the archive's points: for each
    anisotropy, the next chi if the two largest differ by more than TOL or
    by more than the combined sd (or there is one chi)."""
    with h5py.File(path, "r") as f:
        tab = f["points_table"][()]
    out = set()
    for d in sorted(set(float(x) for x in tab["delta_right"])):
        chis = sorted(int(c) for c in tab["chi_max"][tab["delta_right"] == d])
        if len(chis) >= 2:
            dv = model_v(d, chis[-1]) - model_v(d, chis[-2])
            if abs(dv) <= TOL and abs(dv) <= math.hypot(SD, SD):
                continue
        out.add((round(d, 12), max(chis[-1] + 1,
                                   math.ceil(STEP * chis[-1] - 1e-9))))
    return out


def ladder(path):
    with h5py.File(path, "r") as f:
        tab = f["points_table"][()]
    return {(round(float(r["delta_right"]), 12), int(r["chi_max"])):
            r["hash"].decode() for r in tab}


def sha(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def main():
    e = Env(sys.argv, "refine")
    h5diff = e.extra[0]
    a = e.run_sweep(SPEC % "8", "a")

    p = e.kz(["refine", a])
    check(p.returncode == 2 and "kapitza fit" in p.stderr,
          "refine before any fit: %d %s" % (p.returncode, p.stderr))

    rounds = 0
    while True:
        # exit 1: the per-chi_max A, B fits need three anisotropies
        p = e.kz(["fit", a, "--window", "2:4", "-q"])
        check(p.returncode in (0, 1) and "velocity_fit" not in p.stderr,
              "fit: %d %s" % (p.returncode, p.stderr))
        inject(a)
        want = expected_adds(a)
        before = set(ladder(a))
        raw = sha(a)
        p = e.kz(["refine", a, "--tol", str(TOL), "-n"])
        check(p.returncode == 0 and sha(a) == raw,
              "--dry-run: exit 0, the file unchanged (%d)" % p.returncode)
        dry_cost = re.findall(r"estimated ([0-9.e+-]+) core-hours", p.stdout)
        p = e.kz(["refine", a, "--tol", str(TOL)])
        print(p.stdout)
        check(p.returncode == 0, "refine: %d %s" % (p.returncode, p.stderr))
        # what the new rungs cost by the model, the same before and after
        cost = re.findall(r"estimated ([0-9.e+-]+) core-hours", p.stdout)
        check(not want or (cost and cost == dry_cost and float(cost[0]) > 0),
              "refine prints the added points' core-hours: %s, --dry-run "
              "%s" % (cost, dry_cost))
        added = set(ladder(a)) - before
        check(added == want, "round %d adds %s, the rule wants %s"
              % (rounds, sorted(added), sorted(want)))
        if not want:
            check("every ladder is converged" in p.stdout,
                  "the last refine says so:\n" + p.stdout)
            break
        rounds += 1
        if rounds > 6:
            check(False, "refine does not stop")
            break
        with h5py.File(a, "r") as f:
            spec = f.attrs["spec_text"]
            spec = spec.decode() if isinstance(spec, bytes) else spec
            st = f["status"][()]
        check(spec.count("reason:") == len(ladder(a)) - 2 and
              "one chi_max" in spec and
              (rounds == 1 or "v'_R not converged" in spec),
              "the reasons are in the archive's spec text:\n" + spec)
        check(sum(int(s["state"]) == 0 for s in st) == len(added),
              "the new points are pending, the old ones kept")
        p = e.kz(["resubmit", a], ranks=2)
        check(p.returncode == 0, "resubmit: %d %s" % (p.returncode,
                                                      p.stderr[-2000:]))
    final = ladder(a)
    c3, c4 = round(math.cos(math.pi / 3), 12), round(math.cos(math.pi / 4),
                                                      12)
    check(sorted(c for d, c in final if d == c3) == [8, 12, 18] and
          sorted(c for d, c in final if d == c4) == [8, 12, 18, 27],
          "final ladders: %s" % sorted(final))
    check(rounds == 3, "three rounds of rungs (%d)" % rounds)

    # the cap: pi/4 made unconverged again; its next rung would be 41
    p = e.kz(["fit", a, "--window", "2:4", "-q"])
    inject(a)
    with h5py.File(a, "r+") as f:
        lc = f["analysis/lightcone"][()]
        tab = f["points_table"][()]
        top = tab[(np.round(tab["delta_right"], 12) == c4) &
                  (tab["chi_max"] == 27)][0]["id"]
        lc["v_right"][lc["point_id"] == top] += 0.1
        f["analysis/lightcone"][...] = lc
    p = e.kz(["refine", a, "--tol", str(TOL), "--max-chi", "40"])
    check(p.returncode == 1 and "above --max-chi 40" in p.stdout and
          set(ladder(a)) == set(final),
          "the cap: nothing added, exit 1 (%d)\n%s" % (p.returncode,
                                                      p.stdout))

    # one run of the final ladder: same hashes, identical data
    b = e.run_sweep(SPEC % "[8, 12, 18, 27]", "b")
    single = ladder(b)
    check(all(single.get(k) == h for k, h in final.items()),
          "same hashes as a single run of the final ladder")
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        ida = {r["hash"]: int(r["id"]) for r in fa["points_table"][()]}
        idb = {r["hash"]: int(r["id"]) for r in fb["points_table"][()]}
        sta = {int(r): int(fa["status"][int(r)]["state"]) for r in ida.values()}
    check(all(s == 2 for s in sta.values()), "every refined point is done")
    # every dataset of each shared point (the group's `id` attribute is
    # its position in the sweep, which differs)
    with h5py.File(a, "r") as f:
        names = {i: sorted(f["points/%d" % i].keys()) for i in ida.values()}
    ndiff = 0
    for h, i in ida.items():
        for n in names[i]:
            d = subprocess.run([h5diff, a, b, "/points/%d/%s" % (i, n),
                                "/points/%d/%s" % (idb[h], n)],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            ndiff += 1
            check(d.returncode == 0, "h5diff point %s/%s (%d vs %d): %d %s"
                  % (h.decode(), n, i, idb[h], d.returncode,
                     d.stdout[-500:]))
    check(ndiff >= 7 * 6, "h5diff ran on every dataset (%d)" % ndiff)

    # the real velocities (v' = 0 +- 0): one rung, then converged
    r = e.run_sweep(SPEC % "8", "r")
    p = e.kz(["fit", r, "--window", "2:4", "-q"])
    p = e.kz(["refine", r])
    check(p.returncode == 0 and len(ladder(r)) == 4,
          "real velocities: the second rung added (%d)" % p.returncode)
    p = e.kz(["resubmit", r], ranks=2)
    p = e.kz(["fit", r, "--window", "2:4", "-q"])
    p = e.kz(["refine", r])
    check(p.returncode == 0 and "every ladder is converged" in p.stdout and
          len(ladder(r)) == 4, "real velocities: converged at 8, 12\n" +
          p.stdout)
    p = e.kz(["status", r])
    check(p.returncode == 0, "status of a refined archive: %d" % p.returncode)
    rc = done("test_refine")
    if not rc:
        e.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
