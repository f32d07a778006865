"""What kapitza resubmit refuses, with a clear message, leaving
archive and checkpoints byte for byte as they were (sha256 before/after):
- a checkpoint of a different point (another point's file under this
  point's name), a truncated checkpoint, a checkpoint with one byte
  changed (checksum), a checkpoint whose state was changed and its
  checksum recomputed (the state's norm), a checkpoint of a sweep with a
  different spec hash (same point, another spec), and a checkpoint that continues rows the
  archive does not hold: `kapitza resubmit` exits 2 and runs nothing;
  --dry-run reports the same;
- a truncated archive: resubmit, status and merge exit 2, "truncated";
- an archive of a different spec: resubmit, status and merge of a set that
  mixes two specs exit 2;
- an archive another kapitza process is working on (its lock is held):
  resubmit exits 2;
- merge onto an existing output without --force, and of two archives whose
  done points differ: exit 2, nothing written;
- resubmit on a complete archive does nothing, says so, exits 0.
The worker refuses a bad checkpoint too (engine/farm/worker.c: "cannot resume"),
but resubmit checks every checkpoint before anything runs.

usage: test_ckpt_refuse.py KAPITZA MPIRUN"""
import os
import shutil
import signal
import sys

import h5py
import numpy as np

from ckpttest import digest, scale_last_site, wait_for
from farmtest import Farm, check, done, spec


def interrupted_archive(f, sp, name):
    """Runs sp on 2 ranks and stops it with SIGUSR1 once two points are
    under way; returns the archive path."""
    a = f.path(name)
    proc = f.start(2, ["run", sp, "-o", a, "-q", "--checkpoint-every", "0"])

    def going():
        try:
            with h5py.File(a, "r") as h:
                st = h["status"][:]
                return int(np.sum((st["state"] == 1)
                                  & (st["t_reached"] >= 1.0))) >= 2
        except (OSError, KeyError):
            return False
    check(wait_for(going, 120), "%s: two points running" % name)
    proc.send_signal(signal.SIGUSR1)
    proc.communicate(timeout=120)
    check(proc.returncode == 3, "%s: stopped, exit %d" % (name,
                                                         proc.returncode))
    return a


def refused(f, what, args, expect, paths, ranks=2):
    before = [digest(p) for p in paths]
    p = f.run(ranks, args) if ranks else f.status(*args)
    check(p.returncode == 2, "%s: exit %d (2 expected): %s %s"
          % (what, p.returncode, p.stdout[-500:], p.stderr[-800:]))
    check(expect in p.stderr, "%s: message %r does not say %r"
          % (what, p.stderr[-800:], expect))
    after = [digest(p) for p in paths]
    check(before == after, "%s: left unmodified" % what)
    lines = [x for x in p.stderr.splitlines() if x.startswith("kapitza")]
    print("%s: %s" % (what, lines[0][:400] if lines else "?"))


def ckpts(a):
    d = a + ".ckpt"
    return sorted(os.path.join(d, n) for n in os.listdir(d)
                  if n.endswith(".ckpt"))


# main is 141 lines, over the ~120 of the code: left whole because it is a list
# of refusals on one archive and its checkpoints, each checked byte for byte
# against the state the one before left.
def main():
    f = Farm(sys.argv, "ckpt-refuse")
    # 4 points of L = 50, chi 40, t_max 8: ~1.5 s each on one core
    text = spec("refuse", [50], [0.1, 0.4, 0.6, 0.8], t_max=8.0,
                chis=[40], measure_every=0.25)
    sp = f.write("s.yaml", text)
    a = interrupted_archive(f, sp, "a.h5")
    cks = ckpts(a)
    check(len(cks) == 2, "two checkpoints: %s" % cks)
    if len(cks) < 2:
        f.cleanup()
        return done("ckpt_refuse")
    keep = [a, a + ".ckpt"]
    saved = {c: open(c, "rb").read() for c in cks}

    def restore():
        for c, b in saved.items():
            with open(c, "wb") as o:
                o.write(b)

    # a checkpoint of another point under this point's name
    shutil.copyfile(cks[1], cks[0])
    refused(f, "checkpoint of another point", ["resubmit", a],
            "belongs to point", keep)
    refused(f, "checkpoint of another point (dry run)",
            ["resubmit", a, "--dry-run"], "belongs to point", keep)
    restore()
    # truncated
    with open(cks[0], "wb") as o:
        o.write(saved[cks[0]][:len(saved[cks[0]]) // 2])
    refused(f, "truncated checkpoint", ["resubmit", a], "truncated", keep)
    restore()
    # one byte changed in the payload
    b = bytearray(saved[cks[0]])
    b[len(b) // 2] ^= 0x40
    with open(cks[0], "wb") as o:
        o.write(bytes(b))
    refused(f, "damaged checkpoint", ["resubmit", a], "checksum", keep)
    restore()
    # a changed state under a recomputed checksum: refused at planning,
    # where the state is rebuilt and checked (norm), not only checksummed
    with open(cks[0], "wb") as o:
        o.write(scale_last_site(saved[cks[0]], 2.0))
    refused(f, "changed state, valid checksum", ["resubmit", a],
            "norm", keep)
    refused(f, "changed state, valid checksum (dry run)",
            ["resubmit", a, "--dry-run"], "norm", keep)
    restore()
    # not a checkpoint at all
    with open(cks[0], "wb") as o:
        o.write(b"hello\n")
    refused(f, "junk checkpoint", ["resubmit", a], "not a kapitza checkpoint",
            keep)
    restore()

    # the same points, another spec (another sweep name: another hash)
    sp2 = f.write("s2.yaml", text.replace("sweep: refuse", "sweep: other"))
    b2 = interrupted_archive(f, sp2, "b.h5")
    other = ckpts(b2)
    shared = [c for c in other
              if os.path.basename(c) in map(os.path.basename, cks)]
    if check(len(shared) >= 1, "a point checkpointed in both: %s %s"
             % (cks, other)):
        target = os.path.join(a + ".ckpt", os.path.basename(shared[0]))
        shutil.copyfile(shared[0], target)
        refused(f, "checkpoint of another spec", ["resubmit", a],
                "spec hash", keep)
        restore()
    # an archive of another spec in a set
    refused(f, "status of two specs", [a, b2], "not archives of one sweep",
            [a, b2], ranks=0)
    refused(f, "resubmit of two specs", ["resubmit", a, b2],
            "not one shard set", [a, b2, a + ".ckpt", b2 + ".ckpt"])
    refused(f, "merge of two specs", ["merge", a, b2, "-o",
                                      f.path("m.h5")],
            "are not shards of one sweep", [a, b2, f.path("m.h5")], ranks=1)

    # a checkpoint whose rows are not in the archive: a copy of a (with its
    # checkpoints) whose unfinished points have lost their rows (time
    # unwritten, as in a fresh archive) -- built, not raced, so that the
    # checkpoints are beyond the rows however fast the run was
    c = f.path("c.h5")
    shutil.copyfile(a, c)
    shutil.copytree(a + ".ckpt", c + ".ckpt")
    with h5py.File(c, "r+") as h:
        st = h["status"][:]
        for pid in np.flatnonzero(st["state"] != 2):
            h["points/%d/time" % pid][...] = np.nan
    refused(f, "checkpoint beyond the archive's rows",
            ["resubmit", c], "complete rows", [c, c + ".ckpt"])

    # truncated archive
    t = f.path("t.h5")
    with open(a, "rb") as i, open(t, "wb") as o:
        o.write(i.read()[:os.path.getsize(a) // 2])
    refused(f, "truncated archive (resubmit)", ["resubmit", t], "truncated",
            [t])
    refused(f, "truncated archive (status)", [t], "truncated", [t], ranks=0)
    refused(f, "truncated archive (merge)", ["merge", t, "-o",
                                             f.path("m2.h5")],
            "truncated", [t, f.path("m2.h5")], ranks=1)

    # the lock: a run working on the archive
    proc = f.start(2, ["resubmit", a, "-q"])

    def working():
        try:
            with h5py.File(a, "r") as h:
                return bool(np.any(h["status"]["state"][:] == 1))
        except (OSError, KeyError):
            return False
    check(wait_for(working, 120, 0.05), "the first resubmission is working")
    refused(f, "archive in use", ["resubmit", a], "another kapitza process",
            [])
    proc.communicate(timeout=300)
    check(proc.returncode == 0, "the resubmission completed: exit %d"
          % proc.returncode)

    # complete: nothing to do
    before = digest(a)
    p = f.run(2, ["resubmit", a])
    check(p.returncode == 0 and "nothing to do" in p.stdout,
          "complete archive: exit %d, %r" % (p.returncode, p.stdout))
    check(digest(a) == before, "complete archive left unmodified")

    # merge: existing output, differing done points
    m = f.write("exists.h5", "x")
    refused(f, "merge onto an existing output", ["merge", a, "-o", m],
            "--force", [a, m], ranks=1)
    d = f.path("d.h5")
    shutil.copyfile(a, d)
    with h5py.File(d, "r+") as h:
        x = h["points/0/sz"]
        v = x[3]
        v[0] += 1e-3
        x[3] = v
    refused(f, "merge of differing done points", ["merge", a, d, "-o",
                                                  f.path("m3.h5")],
            "different data", [a, d, f.path("m3.h5")], ranks=1)
    f.cleanup()
    return done("ckpt_refuse")


if __name__ == "__main__":
    sys.exit(main())
