"""The thermal tables of a spec's `thermal:` section are farmed
items of `kapitza run` (engine/SPEC.md "Thermal tables", engine/ARCHIVE.md).
- `kapitza run --dry-run` lists one item per anisotropy (state
  thermal_table) after the time-evolution points, with its cost and the
  tables' core-hours; the evolution points keep the ids and hashes of the
  same spec without the section;
- `kapitza run` computes them: /status says done, `kapitza status` shows
  them ("thermal_table", "9/9 mu" rows), the points table and the group
  attributes carry the parameters, the hash is FNV-1a 64 of the group's
  canonical text;
- the stored table equals a direct kernel computation (thermal_ref: one
  thermal_table_create over the whole grid, as the former `kapitza fit
  --thermal` did) bit for bit: energy, sz, rho3 (stored as <a|rho|b> at
  [a][b]), the beta and mu grids, and the discarded weight to round-off;
- a table that fails (KAPITZA_FAULT_POINT) is failed, `kapitza fit` names
  its delta and `kapitza resubmit`, exits 1; resubmit computes it (attempt
  2, equal to the reference) and leaves the done table alone;
- SIGTERM to a singleton run in the middle of the second table: exit 3,
  the first table done, the second interrupted with some of its mu rows
  (no checkpoint file), the evolution point pending; `kapitza resubmit`
  completes them without recomputing the finished table (attempt 1, one
  history slot, provenance and data untouched) and the interrupted table
  ends equal to an uninterrupted run's;
- `--shard I/2` + `kapitza merge`: the shards split the tables by cost,
  and the merged archive holds every table done, equal to a plain run's;
- `--threads 3` (mu rows computed two at a time) gives the same /points,
  per-row discarded weights included.

usage: test_thermal_farm.py KAPITZA MPIRUN H5DIFF THERMAL_REF"""
import os
import signal
import subprocess
import sys

import h5py
import numpy as np

from ckpttest import history, point_same, wait_for
from farmtest import Farm, check, check_close, done, fnv1a64, totals

# two domain-wall points (no DMRG: cheap) and a thermal section whose
# default anisotropies are those of the chains: 0 (left, and the XX right
# half) and 0.5
SPEC = """sweep: thermal-farm
chain:
  length: 10
  left: { delta: 0 }
  right: { delta: [0, 0.5] }
state: domain_wall
evolve: { dt: 0.1, t_max: 0.5, order: 2, measure_every: 0.5 }
truncate: { chi_max: 8 }
measure: [energy, magnetization]
%s"""
THERMAL = """thermal:
  beta: { min: -2, max: 2, step: 0.5 }
  mu: { min: -0.5, max: 0.5, step: 0.25 }
  length: 8
  chi_max: 16
  dtau: 0.1
"""
# one evolution point and two tables of 21 mu rows, ~2.5 s each on a
# loaded core: long enough to stop the second one in the middle
SLOW = """sweep: thermal-slow
chain:
  length: 8
  left: { delta: 0 }
  right: { delta: [0.5] }
state: domain_wall
evolve: { dt: 0.1, t_max: 0.5, order: 2, measure_every: 0.5 }
truncate: { chi_max: 4 }
measure: [energy, magnetization]
thermal:
  beta: { min: -2, max: 2, step: 0.5 }
  mu: { min: -1, max: 1, step: 0.1 }
  length: 10
  chi_max: 16
  dtau: 0.05
"""


def reference(tool, spec_path):
    """thermal_ref's tables: {delta: (e, sz, rho[a][b] = <a|rho|b>,
    discarded)} over [mu][beta]."""
    p = subprocess.run([tool, spec_path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    check(p.returncode == 0, "thermal_ref: %s" % p.stderr)
    out, lines = {}, p.stdout.splitlines()
    k = 0
    while k < len(lines):
        _, d, nb, nm, disc = lines[k].split()
        nb, nm = int(nb), int(nm)
        rows = np.array([[float(x) for x in ln.split()]
                         for ln in lines[k + 1:k + 1 + nb * nm]])
        k += 1 + nb * nm
        z = rows[:, 2::2] + 1j * rows[:, 3::2]
        # kernel layout: rho[a + 8 b] = <a|rho|b>, i.e. z.reshape(8, 8)
        # is [b][a]: transposed to the archive's [a][b]
        rho = z.reshape(nm, nb, 8, 8).transpose(0, 1, 3, 2)
        out[round(float(d), 12)] = (rows[:, 0].reshape(nm, nb),
                                    rows[:, 1].reshape(nm, nb), rho,
                                    float(disc))
    return out


def tables(path):
    """{delta: (point id, group)} of the archive's thermal tables, and the
    points table."""
    with h5py.File(path, "r") as h:
        table = h["points_table"][:]
        ids = [int(r["id"]) for r in table if r["state"] == 2]
        return {round(float(table["delta_right"][k]), 12): k
                for k in ids}, table


def check_tables(path, ref, what, ids=None):
    """Every table of path (or those in ids) done and equal to ref."""
    tabs, _ = tables(path)
    with h5py.File(path, "r") as h:
        st = h["status"][:]
        for d, k in sorted(tabs.items()):
            if ids is not None and k not in ids:
                continue
            g = h["points/%d" % k]
            e, sz, rho, disc = ref[d]
            check(st["state"][k] == 2, "%s: table %d done" % (what, k))
            check(np.array_equal(g["energy"][()], e) and
                  np.array_equal(g["sz"][()], sz),
                  "%s: table %d (delta %g): energy and sz equal the "
                  "kernel's, max diff %.3g" %
                  (what, k, d, np.max(np.abs(g["energy"][()] - e))))
            check(np.array_equal(g["rho3"][()], rho),
                  "%s: table %d: rho3 equals the kernel's, max diff %.3g"
                  % (what, k, np.max(np.abs(g["rho3"][()] - rho))))
            dd = g["discarded"][()]
            check(np.all(np.diff(dd) >= 0) and
                  abs(dd[-1] - disc) <= 1e-12 * max(disc, 1e-300) + 1e-300,
                  "%s: table %d: discarded %r, kernel %r"
                  % (what, k, dd, disc))


# main is 209 lines, over the ~120 of the code: left whole because it is one
# thermal sweep run, stopped, resumed and compared with the reference, each
# step on what the one before made.
def main():
    f = Farm(sys.argv, "thermal-farm")
    h5diff, tool = f.extra[0], f.extra[1]
    sp = f.write("t.yaml", SPEC % THERMAL)
    bare = f.write("bare.yaml", SPEC % "")
    ref = reference(tool, sp)
    check(sorted(ref) == [0.0, 0.5], "two anisotropies: %s" % sorted(ref))

    # --- dry run: the tables are items, the points keep their hashes
    p = f.run(None, ["run", sp, "--dry-run"])
    q = f.run(None, ["run", bare, "--dry-run"])
    rows = [ln.split() for ln in p.stdout.splitlines()
            if ln.strip()[:1].isdigit()]
    brows = [ln.split() for ln in q.stdout.splitlines()
             if ln.strip()[:1].isdigit()]
    check(p.returncode == 0 and len(rows) == 4 and
          [r[3] for r in rows] == ["domain_wall"] * 2 + ["thermal_table"] * 2,
          "dry run lists 2 points and 2 tables: %s" % p.stdout)
    check([r[:2] for r in rows[:2]] == [r[:2] for r in brows],
          "the points' ids and hashes do not depend on the section")
    check(all(float(r[10]) > 0 for r in rows[2:]) and
          "2 of them thermal tables" in p.stdout and
          "for the thermal tables" in p.stdout,
          "dry run: tables with a cost and core-hours: %s" % p.stdout)

    # --- (a) a run computes them, (b) equal to the kernel's
    a = f.path("t.h5")
    p = f.run(2, ["run", sp, "-o", a, "-q"])
    check(p.returncode == 0, "run exit %d: %s" % (p.returncode, p.stderr))
    s = f.status(a)
    check(totals(s.stdout) == {"done": 4, "failed": 0, "running": 0,
                               "pending": 0, "interrupted": 0},
          "status: all done: %s" % s.stdout)
    lines = [ln for ln in s.stdout.splitlines() if "thermal_table" in ln]
    check(len(lines) == 2 and all("done" in ln and "5/5 mu" in ln
                                  for ln in lines),
          "status shows the tables done: %s" % lines)
    tabs, table = tables(a)
    check(sorted(tabs.values()) == [2, 3], "tables are points 2, 3: %s"
          % tabs)
    with h5py.File(a, "r") as h:
        for d, k in tabs.items():
            g = h["points/%d" % k]
            r = table[k]
            check(r["L"] == 8 and r["chi_max"] == 16 and r["dt"] == 0.1 and
                  r["order"] == 4 and r["n_measure"] == 5 and
                  r["delta_left"] == r["delta_right"] and r["cost"] > 0,
                  "points_table row of table %d" % k)
            check(g.attrs["length"] == 8 and g.attrs["chi_max"] == 16 and
                  g.attrs["dtau"] == 0.1 and g.attrs["order"] == 4 and
                  round(float(g.attrs["delta"]), 12) == d and
                  g.attrs["state"] == b"thermal_table",
                  "attributes of table %d" % k)
            canon = g.attrs["canonical"]
            check(canon.startswith(b"kapitza-thermal-v1;N=8;") and
                  "%016x" % fnv1a64(canon) == r["hash"].decode(),
                  "table %d: hash = FNV-1a of %r" % (k, canon))
            check(np.array_equal(g["beta"][()], np.arange(-2, 2.01, 0.5))
                  and np.array_equal(g["mu"][()],
                                     [-0.5, -0.25, 0, 0.25, 0.5]),
                  "table %d: beta and mu grids" % k)
    check_tables(a, ref, "run")
    ck = a + ".ckpt"
    check(not os.path.isdir(ck) or
          not [x for x in os.listdir(ck) if x.endswith(".ckpt")],
          "no checkpoint files for tables")

    # --- a failed table: fit names it, resubmit computes it
    x = f.path("fault.h5")
    p = f.run(2, ["run", sp, "-o", x, "-q"], env={"KAPITZA_FAULT_POINT": "3"})
    with h5py.File(x, "r") as h:
        st = h["status"][:]
    check(p.returncode == 1 and st["state"][3] == 3 and
          b"injected fault" in st["message"][3] and
          list(st["state"][:3]) == [2, 2, 2],
          "fault in table 3: exit %d, states %s" % (p.returncode,
                                                    list(st["state"])))
    p = f.run(None, ["fit", x, "--window", "0:0.5"])
    check(p.returncode == 1 and
          "thermal table for delta = 0.5 (point 3) is failed" in p.stderr and
          "kapitza resubmit %s" % x in p.stderr,
          "fit names the failed table and the fix: %d %r"
          % (p.returncode, p.stderr))
    with h5py.File(x, "r") as h:
        tp = h["analysis/thermal_profiles"][:]
        msgs = [m.decode() for m in tp["message"]]
    check(any("point 3) is failed" in m for m in msgs),
          "stored thermal_profiles message: %s" % msgs)
    with h5py.File(x, "r") as h:
        before = h["points/2/energy"][()].tobytes()
    p = f.run(2, ["resubmit", x, "-q"])
    check(p.returncode == 0, "resubmit after the fault: %d %s"
          % (p.returncode, p.stderr))
    with h5py.File(x, "r") as h:
        st = h["status"][:]
        check(list(st["attempt"]) == [1, 1, 1, 2],
              "only the failed table ran again: %s" % list(st["attempt"]))
        check(h["points/2/energy"][()].tobytes() == before,
              "the done table is untouched")
    check_tables(x, ref, "resubmitted after a fault")
    p = f.run(None, ["fit", x, "--window", "0:0.5", "-q"])
    check(p.returncode == 0 and p.stderr == "",
          "fit with every table: %d %r" % (p.returncode, p.stderr))

    # --- (c) SIGTERM in the middle of a table, then resubmit
    slow = f.write("slow.yaml", SLOW)
    sref = reference(tool, slow)
    b = f.path("slow.h5")
    proc = f.start(None, ["run", slow, "-o", b, "-q",
                          "--checkpoint-every", "0"])

    def second_going():
        # tables first (the most expensive), by id: 1, then 2
        try:
            with h5py.File(b, "r") as h:
                st = h["status"][:]
                return st["state"][1] == 2 and st["state"][2] == 1 and \
                    st["rows"][2] >= 1
        except (OSError, KeyError):
            return False
    check(wait_for(second_going, 120, 0.02),
          "the second table got going")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    check(proc.returncode == 3, "stopped: exit %d %s" % (proc.returncode,
                                                          err[-800:]))
    with h5py.File(b, "r") as h:
        st = h["status"][:]
        mu = h["points/2/mu"][()]
        rows = int(st["rows"][2])
        prov1 = h["provenance"][1].tobytes()
        data1 = {n: h["points/1/" + n][()].tobytes() for n in h["points/1"]}
    check(list(st["state"]) == [0, 2, 4],
          "point pending, table 1 done, table 2 interrupted: %s"
          % list(st["state"]))
    check(0 < rows < 21 and np.all(np.isfinite(mu[:rows])) and
          np.all(np.isnan(mu[rows:])),
          "table 2 has %d of 21 mu rows, the rest NaN" % rows)
    check("interrupted after %d of 21 mu rows" % rows in
          st["message"][2].decode(), "message %r" % st["message"][2])
    check(not [y for y in os.listdir(b + ".ckpt") if y.endswith(".ckpt")],
          "no checkpoint for a table")
    p = f.run(None, ["resubmit", b, "--dry-run"])
    check("thermal table, computed whole" in p.stdout and
          "point    1" not in p.stdout,
          "resubmit plans table 2 whole and leaves table 1: %s" % p.stdout)
    p = f.run(2, ["resubmit", b, "-q"])
    check(p.returncode == 0, "resubmit: %d %s" % (p.returncode, p.stderr))
    with h5py.File(b, "r") as h:
        st = h["status"][:]
        check(list(st["state"]) == [2, 2, 2] and
              list(st["attempt"]) == [1, 1, 2],
              "all done; the finished table kept attempt 1: %s %s"
              % (list(st["state"]), list(st["attempt"])))
        check(h["provenance"][1].tobytes() == prov1 and
              all(h["points/1/" + n][()].tobytes() == v
                  for n, v in data1.items()),
              "the finished table was not recomputed")
    hs = [y for y in history(b) if y["point"] in (1, 2)]
    check([(y["point"], y["attempt"], y["outcome"]) for y in hs] ==
          [(1, 1, 2), (2, 1, 4), (2, 2, 2)],
          "history of the tables: %s" % hs)
    check_tables(b, sref, "interrupted and resubmitted")

    # --- (d) shards and merge carry the tables
    shards = [f.path("t.shard%d.h5" % i) for i in range(2)]
    owner = {}
    for i, sh in enumerate(shards):
        p = f.run(1, ["run", sp, "--shard", "%d/2" % i, "-o", sh, "-q"])
        check(p.returncode == 0, "shard %d: %d %s" % (i, p.returncode,
                                                       p.stderr))
        with h5py.File(sh, "r") as h:
            st = h["status"][:]
            for k in np.flatnonzero(st["state"] == 2):
                owner[int(k)] = i
    check(sorted(owner) == [0, 1, 2, 3] and owner[2] != owner[3],
          "the shards cover the sweep, one table each: %s" % owner)
    s = f.status(*shards)
    check(s.returncode == 0 and totals(s.stdout)["done"] == 4,
          "status of the shard set: %s" % s.stdout[-600:])
    m = f.path("merged.h5")
    p = f.run(1, ["merge"] + shards + ["-o", m])
    check(p.returncode == 0, "merge: %d %s" % (p.returncode, p.stderr))
    with h5py.File(m, "r") as h, h5py.File(a, "r") as r:
        check(np.all(h["status"]["state"][:] == 2), "merged: all done")
        for k in (2, 3):
            check(point_same(h["points/%d" % k], r["points/%d" % k]),
                  "merged table %d equals the plain run's" % k)
    check_tables(m, ref, "merged")
    d = subprocess.run([h5diff, a, m, "/points", "/points"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    check(d.returncode == 0, "h5diff merged vs plain: %s" % d.stdout[:800])

    # --- (e) threads: --threads 3 computes the mu rows two at a time; the
    # tables, their per-row discarded weights included, are the same
    t3 = f.path("threads3.h5")
    p = f.run(1, ["run", sp, "-o", t3, "-q", "--threads", "3"])
    check(p.returncode == 0, "--threads 3: %d %s" % (p.returncode, p.stderr))
    with h5py.File(a, "r") as r:
        check(float(r["points/3/discarded"][-1]) > 0,
              "the tables truncate (discarded > 0)")
    d = subprocess.run([h5diff, a, t3, "/points", "/points"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    check(d.returncode == 0, "h5diff --threads 3 vs plain: %s"
          % d.stdout[:800])
    f.cleanup()
    return done("thermal_farm")


if __name__ == "__main__":
    sys.exit(main())
