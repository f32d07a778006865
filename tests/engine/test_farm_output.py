"""Acceptance 4: the output path and the spec are judged before any work.
- an existing archive is never overwritten: exit 2, a message naming
  --force, the file byte-for-byte unchanged; with --force it is replaced;
- an unwritable output path (missing directory, a directory, a read-only
  file system) is a clear error before any computation and leaves nothing;
- a malformed spec gives FILE:LINE:COLUMN and writes no archive;
- --dry-run lists the points and writes nothing;
- bad command lines exit 2.

usage: test_farm_output.py KAPITZA MPIRUN"""
import hashlib
import os
import sys

import h5py

from farmtest import Farm, check, done, spec


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def nothing_ran(p):
    # the start line is printed only once the archive exists
    return "points on" not in p.stdout and "created in" not in p.stdout


def main():
    f = Farm(sys.argv, "output")
    sp = f.write("s.yaml", spec("out", [8], [0, 0.5], t_max=0.5, chis=[4]))
    a = f.path("a.h5")
    p = f.run(2, ["run", sp, "-o", a, "-q"])
    check(p.returncode == 0, "first run exit %d: %s"
          % (p.returncode, p.stderr))
    before = digest(a)
    with h5py.File(a, "r") as h:
        created = h.attrs["created"]

    # exists, no --force (None: a singleton process without mpirun)
    for n in (None, 2):
        p = f.run(n, ["run", sp, "-o", a])
        check(p.returncode == 2, "existing archive, %s ranks: exit %d"
              % (n, p.returncode))
        check("exists" in p.stderr and "--force" in p.stderr,
              "message: %r" % p.stderr)
        check(p.stderr.count("refusing") == 1, "one message, from rank 0")
        check(nothing_ran(p), "nothing ran")
        check(digest(a) == before, "archive unchanged")

    # --force replaces it (a new creation time is not guaranteed within the
    # same second, so look at a changed spec instead)
    sp2 = f.write("s2.yaml", spec("out2", [8], [0.25], t_max=0.5, chis=[4]))
    p = f.run(None, ["run", sp2, "-o", a, "--force", "-q"])
    check(p.returncode == 0, "--force exit %d: %s" % (p.returncode, p.stderr))
    with h5py.File(a, "r") as h:
        check(h.attrs["sweep"] == b"out2" and h.attrs["npoints"] == 1,
              "--force wrote the new sweep")
        check(len(h["points"]) == 1, "old points gone")
    check(created is not None, "read the old creation time")

    # unwritable paths
    bad = [(f.path("no/such/dir/a.h5"), "No such file or directory"),
           (f.dir, "is a directory")]
    if os.path.isdir("/proc/self"):
        bad.append(("/proc/kapitza-test.h5", "cannot write archive"))
    for k, (path, why) in enumerate(bad):
        p = f.run(2 if k == 0 else None, ["run", sp, "-o", path])
        check(p.returncode == 2, "%s: exit %d" % (path, p.returncode))
        check("cannot write archive" in p.stderr and why in p.stderr,
              "%s: message %r" % (path, p.stderr))
        check(nothing_ran(p), "%s: nothing ran" % path)
    check(not os.path.exists(f.path("no")), "no directory was created")

    # malformed specs: no archive
    cases = [("chain:\n  length: 9\n", "s.yaml:"),
             (spec("x", [8], [0], t_max=1).replace("t_max: 1",
                                                   "t_max: -1"), ":"),
             ("sweep: x\nchain: [\n", ":")]
    for k, (text, where) in enumerate(cases):
        name = "bad%d.yaml" % k
        path = f.write(name, text)
        out = f.path("bad%d.h5" % k)
        p = f.run(2 if k == 0 else None, ["run", path, "-o", out])
        check(p.returncode == 2, "%s: exit %d" % (name, p.returncode))
        first = p.stderr.strip().splitlines()[0] if p.stderr.strip() else ""
        check(first.startswith("kapitza run: ") and name + ":" in first,
              "%s: FILE:LINE:COL message %r" % (name, first))
        check(not os.path.exists(out), "%s: no archive written" % name)
        check(nothing_ran(p), "%s: nothing ran" % name)
    p = f.run(None, ["run", f.path("missing.yaml"), "-o", f.path("m.h5")])
    check(p.returncode == 2 and "cannot read spec" in p.stderr,
          "missing spec: %d %r" % (p.returncode, p.stderr))

    # dry run: lists, estimates, writes nothing
    dry = f.path("dry.h5")
    p = f.run(2, ["run", sp, "-o", dry, "--dry-run"])
    check(p.returncode == 0, "dry run exit %d: %s" % (p.returncode, p.stderr))
    check("total: 2 points" in p.stdout and "archive" in p.stdout,
          "dry run lists: %r" % p.stdout)
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()[:1].isdigit()]
    check(len(lines) == 2, "one line per point")
    check(not os.path.exists(dry), "dry run wrote nothing")
    p = f.run(None, ["run", sp, "-o", a, "--dry-run"])
    check(p.returncode == 2 and "exists" in p.stderr,
          "dry run reports an existing archive")

    # command lines
    for args in (["run"], ["run", sp], ["run", sp, "-o"],
                 ["run", sp, "-o", f.path("x.h5"), "--threads", "0"],
                 ["run", sp, "-o", f.path("x.h5"), "--bogus"]):
        p = f.run(None, args)
        check(p.returncode == 2, "%s: exit %d" % (args, p.returncode))
    check(not os.path.exists(f.path("x.h5")), "bad command lines wrote nothing")
    p = f.run(None, ["run", sp, "-o", f.path("x.h5")],
              env={"KAPITZA_FAULT_POINT": "abc"})
    check(p.returncode == 2 and "KAPITZA_FAULT_POINT" in p.stderr,
          "bad fault switch rejected")
    f.cleanup()
    return done("farm_output")


if __name__ == "__main__":
    sys.exit(main())
