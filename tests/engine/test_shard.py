"""Job arrays without SLURM: `kapitza run --shard I/N` and
`kapitza merge`.
- 3 shards of a 7-point sweep: each shard file has the full layout, its
  own points done and the others' status other-shard (state 5), shard
  attributes, and the shards are disjoint and cover the sweep; the split is
  balanced by cost and the same whatever the rank count;
- `kapitza status` on the shard set shows the sweep as one (all done);
  `kapitza resubmit` on the shard set has nothing to do;
- `kapitza merge` gives an archive whose /points equal a plain run's
  (h5diff) with every point done and merged_from set; a second merge onto
  it needs --force;
- a shard stopped by SIGUSR1, merged with the others: the unfinished point
  keeps its rows, status and history, its checkpoint is copied into the
  merged archive's .ckpt/, and `kapitza resubmit` on the merged archive
  completes it from the checkpoint (h5diff equal to the plain run);
- merging without one shard: its points are pending, and resubmit on the
  merged archive runs them.

usage: test_shard.py KAPITZA MPIRUN H5DIFF"""
import os
import signal
import subprocess
import sys

import h5py
import numpy as np

from ckpttest import history, wait_for
from farmtest import Farm, check, done, spec, totals


def h5diff(tool, a, b):
    d = subprocess.run([tool, a, b, "/points", "/points"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return d.returncode, d.stdout[:1500]


# main is 140 lines, over the ~120 of the code: left whole because it is the
# shards of one sweep run, merged and refused in turn, each step on what the
# one before made.
def main():
    f = Farm(sys.argv, "shard")
    tool = f.extra[0]
    text = spec("shards", [12, 16], [0.0, 0.3, 0.6], t_max=2.0, chis=[8],
                orders=[4], measure_every=0.25)
    text = text.replace("length: [12, 16]", "length: [12, 16, 20]")
    text = text.replace("delta: [0.0, 0.3, 0.6]", "delta: [0.3]")
    # 3 lengths x 1 delta + 2 chi: 6 points; plus 1: chi list of [8, 10]
    text = text.replace("chi_max: [8]", "chi_max: [8, 10]")
    sp = f.write("s.yaml", text)
    ref = f.path("ref.h5")
    p = f.run(2, ["run", sp, "-o", ref, "-q"])
    check(p.returncode == 0, "plain run exit %d" % p.returncode)
    with h5py.File(ref, "r") as h:
        npts = int(h.attrs["npoints"])
        cost = h["points_table"]["cost"][:]
    check(npts == 6, "6 points: %d" % npts)

    shards = [f.path("s.shard%dof3.h5" % i) for i in range(3)]
    owner = -np.ones(npts, int)
    for i, s in enumerate(shards):
        p = f.run(1 + i % 2, ["run", sp, "--shard", "%d/3" % i, "-o", s,
                              "-q"])
        check(p.returncode == 0, "shard %d exit %d: %s"
              % (i, p.returncode, p.stderr[-800:]))
        with h5py.File(s, "r") as h:
            st = h["status"]["state"][:]
            check(int(h.attrs["shard_index"]) == i
                  and int(h.attrs["shard_count"]) == 3, "shard attributes")
            check(set(st) <= {2, 5}, "shard %d states %s" % (i, list(st)))
            for k in np.flatnonzero(st == 2):
                check(owner[k] == -1, "point %d in two shards" % k)
                owner[k] = i
            for k in np.flatnonzero(st == 5):
                check(np.all(np.isnan(h["points/%d/time" % k][:])),
                      "other-shard point %d untouched" % k)
    check(np.all(owner >= 0), "the shards cover the sweep: %s" % owner)
    loads = [cost[owner == i].sum() for i in range(3)]
    check(max(loads) <= 2.0 * min(loads) + max(cost),
          "balanced by cost: %s" % loads)
    # the split does not depend on the rank count: the dry run lists it
    p = f.run(1, ["run", sp, "--shard", "1/3", "--dry-run"])
    ids = [int(x) for x in p.stdout.split("shard 1/3:")[1].split(":")[1]
           .split()] if "shard 1/3:" in p.stdout else []
    check(ids == list(np.flatnonzero(owner == 1)), "dry run lists shard 1: "
          "%s vs %s" % (ids, list(np.flatnonzero(owner == 1))))

    s = f.status(*shards)
    check(s.returncode == 0 and totals(s.stdout) ==
          {"done": 6, "failed": 0, "running": 0, "pending": 0,
           "interrupted": 0}, "status of the shard set: %s %s"
          % (totals(s.stdout), s.stderr))
    s1 = f.status(shards[0])
    c1 = totals(s1.stdout)
    check(c1 is not None and c1.get("other-shard", 0) ==
          int(np.sum(owner != 0)), "one shard alone: %s" % c1)
    p = f.run(2, ["resubmit"] + shards)
    check(p.returncode == 0 and "nothing to do" in p.stdout,
          "resubmit of the complete set: %d %r" % (p.returncode, p.stdout))

    m = f.path("merged.h5")
    p = f.run(1, ["merge"] + shards + ["-o", m])
    check(p.returncode == 0, "merge exit %d: %s" % (p.returncode, p.stderr))
    rc, out = h5diff(tool, ref, m)
    check(rc == 0, "merged /points equal the plain run's: %s" % out)
    with h5py.File(m, "r") as h:
        check(np.all(h["status"]["state"][:] == 2), "merged: all done")
        check(int(h.attrs["shard_count"]) == 1, "merged: not a shard")
        check("s.shard0of3.h5" in h.attrs["merged_from"].decode(),
              "merged_from")
        check(np.all(h["provenance"]["attempt"][:] == 1), "provenance kept")
    p = f.run(1, ["merge"] + shards + ["-o", m])
    check(p.returncode == 2 and "--force" in p.stderr, "no overwrite")
    p = f.run(1, ["merge"] + shards + ["-o", m, "--force"])
    check(p.returncode == 0, "--force replaces")

    # a stopped shard, merged, then resubmitted from the merged archive:
    # make shard 2 slow (a longer t_max would change the spec, so stop it
    # right after it starts)
    slow = text.replace("t_max: 2.0", "t_max: 12.0")
    sp2 = f.write("slow.yaml", slow)
    ref2 = f.path("ref2.h5")
    p = f.run(2, ["run", sp2, "-o", ref2, "-q"])
    sh2 = [f.path("w.shard%dof2.h5" % i) for i in range(2)]
    p = f.run(2, ["run", sp2, "--shard", "0/2", "-o", sh2[0], "-q"])
    check(p.returncode == 0, "slow shard 0 exit %d" % p.returncode)
    proc = f.start(1, ["run", sp2, "--shard", "1/2", "-o", sh2[1], "-q",
                       "--checkpoint-every", "0"])

    def going():
        try:
            with h5py.File(sh2[1], "r") as h:
                st = h["status"][:]
                return bool(np.any((st["state"] == 1)
                                   & (st["t_reached"] >= 1.0)))
        except (OSError, KeyError):
            return False
    check(wait_for(going, 120), "slow shard 1 running")
    proc.send_signal(signal.SIGUSR1)
    proc.communicate(timeout=120)
    check(proc.returncode == 3, "slow shard 1 stopped: %d" % proc.returncode)
    m2 = f.path("merged2.h5")
    p = f.run(1, ["merge"] + sh2 + ["-o", m2])
    check(p.returncode == 0 and "1 with a checkpoint" in p.stdout,
          "merge with an unfinished point: %d %r %r"
          % (p.returncode, p.stdout, p.stderr[-500:]))
    ck = [x for x in os.listdir(m2 + ".ckpt") if x.endswith(".ckpt")] \
        if os.path.isdir(m2 + ".ckpt") else []
    check(len(ck) == 1, "checkpoint copied: %s" % ck)
    with h5py.File(m2, "r") as h:
        st = h["status"][:]
        k = int(np.flatnonzero(st["state"] == 4)[0]) \
            if np.any(st["state"] == 4) else -1
        check(k >= 0 and st["rows"][k] > 0, "interrupted point kept with "
              "its rows: %s" % list(st["state"]))
    p = f.run(2, ["resubmit", m2])
    check(p.returncode == 0 and "resumes from its checkpoint" in p.stdout,
          "resubmit of the merged archive: %d %r"
          % (p.returncode, p.stdout[-800:]))
    rc, out = h5diff(tool, ref2, m2)
    check(rc == 0, "resumed merged /points equal the plain run's: %s" % out)
    hs = [x for x in history(m2) if x["point"] == k]
    check(len(hs) == 2 and hs[0]["outcome"] == 4 and hs[1]["outcome"] == 2
          and hs[1]["t_resumed"] > 0, "history across the merge: %s" % hs)

    # a missing shard: its points are pending in the merge, then run
    m3 = f.path("merged3.h5")
    p = f.run(1, ["merge", shards[0], shards[1], "-o", m3])
    check(p.returncode == 0 and "in no shard given" in p.stdout,
          "merge without shard 2: %r" % p.stdout)
    with h5py.File(m3, "r") as h:
        st = h["status"]["state"][:]
        check(list(np.flatnonzero(st == 0)) == list(np.flatnonzero(
            owner == 2)), "shard 2's points pending: %s" % list(st))
    p = f.run(2, ["resubmit", m3, "-q"])
    check(p.returncode == 0, "resubmit runs the missing shard's points")
    rc, out = h5diff(tool, ref, m3)
    check(rc == 0, "then /points equal the plain run's: %s" % out)
    f.cleanup()
    return done("shard")


if __name__ == "__main__":
    sys.exit(main())
