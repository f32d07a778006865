"""Every command reads an archive through one validating reader: a damaged
archive (built here with h5py from a small real run) is refused by status,
fit, merge and plot with exit 2 and one line naming the object and what was
expected, and nothing is written; a named pipe or a directory given as the
archive is refused at once (no command blocks on a pipe).

The cases, each refused by status, fit, resubmit, resubmit --dry-run,
merge and plot: a named pipe, a directory, a file truncated to 0 bytes, to
100 bytes, to half and to one byte short, /points/<id>/time rewritten as
int32, a dataset shorter than its siblings, a done point's group deleted,
a /status state out of range, a negative attempt counter, L = 0 in
/points_table, an unknown format_version, npoints stored as a string, a
/status member of another type, a dangling symbolic link and a loop of
links.  Bits flipped in the file's metadata (the superblock and the B-tree,
heap and symbol-table nodes, at seeded offsets) never crash or hang a
command, and give the same verdict on every run.  The undamaged archive
passes every command, also through a symbolic link; `kapitza fit` and
`kapitza resubmit` refuse it (exit 2, nothing written) while another
process holds the archive lock, even with --force, and a stale lock file
that nobody holds is no obstacle.  An immutable archive (chattr +i), and a
read-only one for a user who may not write it, is read by status but
refused by fit and resubmit with a message that says so.  A point whose
attempt counter is at INT32_MAX is resubmitted and the counter stays there
(it saturates).

usage: test_archive_damage.py KAPITZA MPIRUN"""
import fcntl
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np

from posttest import Env, check, done

SPEC = """sweep: damage
chain:
  length: 12
  left: { delta: 0 }
  right: { delta: [0, 0.5] }
state: domain_wall
evolve: { dt: 0.05, t_max: 1, order: 2, measure_every: 0.5 }
truncate: { chi_max: 8, cutoff: 1.0e-10 }
measure: [energy, energy_current, magnetization]
"""

TIMEOUT = 60  # a command that blocks fails the test instead of hanging it


def digest(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def rewrite(f, path, data, dtype):
    """Replaces dataset `path` by `data` as `dtype` (attributes kept)."""
    attrs = dict(f[path].attrs)
    del f[path]
    d = f.create_dataset(path, data=np.asarray(data).astype(dtype))
    for k, v in attrs.items():
        d.attrs[k] = v


def set_field(f, table, row, field, value):
    a = f[table][()]
    a[field][row] = value
    f[table][...] = a


def damage_time_int32(f):
    rewrite(f, "points/0/time", f["points/0/time"][()], np.int32)


def damage_short(f):
    rewrite(f, "points/1/energy", f["points/1/energy"][:-1], np.float64)


def damage_group(f):
    del f["points/1"]


def damage_state(f):
    set_field(f, "status", 0, "state", 9)  # names no state


def damage_attempt(f):
    set_field(f, "status", 1, "attempt", -5)


def damage_length(f):
    set_field(f, "points_table", 0, "L", 0)


def damage_version(f):
    f.attrs["format_version"] = np.int32(99)


def damage_npoints(f):
    f.attrs["npoints"] = "two"


def damage_member(f):
    old = f["status"][()]
    t = old.dtype
    nt = np.dtype([(n, np.float64 if n == "rows" else t.fields[n][0])
                   for n in t.names])
    new = np.zeros(old.shape, nt)
    for n in t.names:
        new[n] = old[n]
    del f["status"]
    f.create_dataset("status", data=new)


CASES = [
    ("time as int32", damage_time_int32, "/points/0/time"),
    ("short dataset", damage_short, "/points/1/energy"),
    ("done point's group deleted", damage_group, "points/1"),
    ("state out of range", damage_state, "/status[0].state"),
    ("negative attempt", damage_attempt, "/status[1]"),
    ("L = 0", damage_length, "/points_table[0]"),
    ("unknown format_version", damage_version, "format version 99"),
    ("npoints as a string", damage_npoints, "npoints"),
    ("status member of another type", damage_member, "'rows'"),
]


def refused(e, name, path, what, out_dir):
    """Every reading command exits 2 on path, says `what` in one line,
    and leaves path unchanged."""
    before = digest(path) if os.path.isfile(path) else None
    cmds = [["status", path], ["fit", path, "--window", "0:1"],
            ["resubmit", path, "--dry-run"], ["resubmit", path],
            ["merge", path, "-o", e.path(name + "-merged.h5")],
            ["plot", path, "-o", out_dir]]
    for c in cmds:
        p = e.kz(c, timeout=TIMEOUT)
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        check(p.returncode == 2 and len(lines) >= 1 and what in lines[0],
              "%s: kapitza %s: exit %d, expected 2 and a line with %r: %r"
              % (name, c[0], p.returncode, what, p.stderr))
    check(not os.path.exists(e.path(name + "-merged.h5")),
          "%s: merge wrote nothing" % name)
    check(not os.path.exists(out_dir), "%s: plot wrote nothing" % name)
    if before:
        check(digest(path) == before, "%s: the archive is unchanged" % name)
    print("refused: %-32s %s" % (name, lines[0]))


def truncated(e, good):
    size = os.path.getsize(good)
    for n in (0, 100, size // 2, size - 1):
        path = e.path("trunc%d.h5" % n)
        shutil.copy(good, path)
        os.truncate(path, n)
        refused(e, "truncated to %d bytes" % n, path, "cannot open archive",
                e.path("out-trunc%d" % n))


def links(e, good):
    link = e.path("link.h5")
    os.symlink(good, link)
    p = e.kz(["status", link], timeout=TIMEOUT)
    check(p.returncode == 0, "status through a symbolic link: %d %r"
          % (p.returncode, p.stderr))
    os.symlink(e.path("nothing-here.h5"), e.path("dangling.h5"))
    refused(e, "dangling link", e.path("dangling.h5"),
            "No such file or directory", e.path("out-dangling"))
    os.symlink(e.path("loop.h5"), e.path("loop.h5"))
    refused(e, "loop of links", e.path("loop.h5"), "symbolic links",
            e.path("out-loop"))


def metadata_offsets(good):
    """The superblock's and every B-tree, local heap and symbol-table
    node's first bytes: a flip there damages the file's structure, where
    a flip in raw data would only change a number."""
    with open(good, "rb") as fh:
        b = fh.read()
    return [0] + [m.start() for sig in (b"TREE", b"HEAP", b"SNOD")
                  for m in re.finditer(sig, b)]


def bit_flips(e, good, n=24):
    rng = random.Random(20261203)
    starts = metadata_offsets(good)
    with open(good, "rb") as fh:
        data = fh.read()
    verdicts = {}
    for k in range(n):
        off = rng.choice(starts) + rng.randrange(48)
        b = bytearray(data)
        b[off] ^= 1 << rng.randrange(8)
        path = e.path("flip%d.h5" % k)
        with open(path, "wb") as fh:
            fh.write(b)
        before = digest(path)
        seen = []
        for c in (["status"], ["status"], ["resubmit", "--dry-run"]):
            p = e.kz(c + [path], timeout=TIMEOUT)
            seen.append((p.returncode, p.stderr.strip().split("\n")[0]))
            check(p.returncode in (0, 1, 2), "flip at byte %d: kapitza %s "
                  "ended with %d (a crash?): %r"
                  % (off, c[0], p.returncode, p.stderr))
        check(seen[0] == seen[1], "flip at byte %d: two status runs agree:"
              " %r" % (off, seen[:2]))
        check(digest(path) == before, "flip at byte %d: unchanged" % off)
        verdicts[seen[0][0]] = verdicts.get(seen[0][0], 0) + 1
    print("bit flips: status exit codes %s" % verdicts)


def locks(e, good):
    """A held lock refuses every writer; a lock file nobody holds is
    stale and no obstacle (the lock is fcntl's, gone with its holder)."""
    lock = good + ".ckpt/LOCK"
    before = digest(good)
    with open(lock, "a+") as fh:
        fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for c in (["fit", good, "--window", "0:1", "-q", "--force"],
                  ["resubmit", good]):
            p = e.kz(c, timeout=TIMEOUT)
            check(p.returncode == 2 and "another kapitza process" in
                  p.stderr, "kapitza %s under a held lock: %d %r"
                  % (c[0], p.returncode, p.stderr))
        fcntl.lockf(fh, fcntl.LOCK_UN)
    check(digest(good) == before, "nothing written under a held lock")
    check(os.path.exists(lock), "the stale lock file is still there")
    p = e.kz(["resubmit", good], timeout=TIMEOUT)
    check(p.returncode == 0, "resubmit beside a stale lock file: %d %r"
          % (p.returncode, p.stderr))


def unwritable(e, good):
    """An immutable archive, and a read-only one for a user other than
    its owner: readable, but every writer refuses with a message."""
    path = e.path("immutable.h5")
    shutil.copy(good, path)
    shutil.copytree(good + ".ckpt", path + ".ckpt")
    with h5py.File(path, "r+") as f:
        set_field(f, "status", 1, "state", 3)  # failed: resubmit would run
    cases = []
    if subprocess.run(["chattr", "+i", path],
                      capture_output=True).returncode == 0:
        cases.append(("immutable", None))
    else:
        print("chattr +i not supported here: immutable case skipped")
    if os.geteuid() == 0:
        cases.append(("read-only for nobody",
                      ["setpriv", "--reuid=nobody", "--regid=nogroup",
                       "--clear-groups"]))
    for name, prefix in cases:
        if prefix:
            subprocess.run(["chattr", "-i", path])
            os.chmod(path, 0o444)
            os.chmod(e.dir, 0o755)
        before = digest(path)
        for c, want in ((["status"], 0), (["fit", "--window", "0:1"], 2),
                        (["resubmit"], 2)):
            argv = [e.kapitza] + c + [path]
            p = subprocess.run((prefix or []) + argv, capture_output=True,
                               text=True, timeout=TIMEOUT)
            ok = p.returncode == want
            if want == 2:
                ok = ok and path in p.stderr and any(
                    w in p.stderr for w in ("for writing", "Permission"))
            check(ok, "%s: kapitza %s: %d %r" % (name, c[0], p.returncode,
                                                p.stderr))
        check(digest(path) == before, "%s: unchanged" % name)
        print("refused: %-32s (writers)" % name)
    subprocess.run(["chattr", "-i", path])


def main():
    e = Env(sys.argv, "damage")
    good = e.run_sweep(SPEC, "good", ranks=1)
    with h5py.File(good, "r") as f:
        check(all(f["status"]["state"] == 2), "both points done")
    for c in (["status", good], ["fit", good, "--window", "0:1", "-q"]):
        p = e.kz(c, timeout=TIMEOUT)
        check(p.returncode in (0, 1), "the good archive: kapitza %s: %d %s"
              % (c[0], p.returncode, p.stderr))
    check(os.path.isdir(good + ".ckpt"), "the run made the archive's "
          "checkpoint directory")
    locks(e, good)
    links(e, good)
    truncated(e, good)
    bit_flips(e, good)
    unwritable(e, good)
    fifo = e.path("pipe.h5")
    os.mkfifo(fifo)
    refused(e, "named pipe", fifo, "named pipe", e.path("out-pipe"))
    os.mkdir(e.path("dir.h5"))
    refused(e, "directory", e.path("dir.h5"), "directory",
            e.path("out-dir"))
    for k, (name, fn, what) in enumerate(CASES):
        path = e.path("case%d.h5" % k)
        shutil.copy(good, path)
        with h5py.File(path, "r+") as f:
            fn(f)
        refused(e, name, path, what, e.path("out%d" % k))
    # an attempt counter at INT32_MAX saturates instead of overflowing
    path = e.path("attempt-max.h5")
    shutil.copy(good, path)
    shutil.copytree(good + ".ckpt", path + ".ckpt")
    with h5py.File(path, "r+") as f:
        set_field(f, "status", 1, "state", 3)  # failed: resubmit runs it
        set_field(f, "status", 1, "attempt", 2**31 - 1)
    p = e.kz(["resubmit", path], timeout=TIMEOUT)
    check(p.returncode == 0, "resubmit at attempt INT32_MAX: exit %d %r"
          % (p.returncode, p.stderr))
    with h5py.File(path, "r") as f:
        st = f["status"][1]
        check(st["state"] == 2 and st["attempt"] == 2**31 - 1,
              "the point ran, its attempt counter saturated: %s" % (st,))
    e.cleanup()
    return done("test_archive_damage")


if __name__ == "__main__":
    sys.exit(main())
