"""Every command reads an archive through one validating reader: a damaged
archive (built here with h5py from a small real run) is refused by status,
fit, merge and plot with exit 2 and one line naming the object and what was
expected, and nothing is written; a named pipe or a directory given as the
archive is refused at once (no command blocks on a pipe).

The cases: a named pipe, a directory, /points/<id>/time rewritten as int32,
a dataset shorter than its siblings, a done point's group deleted, a /status
state out of range, a negative attempt counter, L = 0 in /points_table,
an unknown format_version, npoints stored as a string, a /status member of
another type.  The undamaged archive passes every command; `kapitza fit`
refuses it (exit 2, nothing written) while another process holds the
archive lock, even with --force.  A point whose attempt counter is at
INT32_MAX is resubmitted and the counter stays there (it saturates).

usage: test_archive_damage.py KAPITZA MPIRUN"""
import fcntl
import hashlib
import os
import shutil
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


def main():
    e = Env(sys.argv, "damage")
    good = e.run_sweep(SPEC, "good", ranks=1)
    with h5py.File(good, "r") as f:
        check(all(f["status"]["state"] == 2), "both points done")
    for c in (["status", good], ["fit", good, "--window", "0:1", "-q"]):
        p = e.kz(c, timeout=TIMEOUT)
        check(p.returncode in (0, 1), "the good archive: kapitza %s: %d %s"
              % (c[0], p.returncode, p.stderr))
    lock = good + ".ckpt/LOCK"
    check(os.path.isdir(good + ".ckpt"), "the run made the archive's "
          "checkpoint directory")
    before = digest(good)
    with open(lock, "a+") as fh:
        fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        p = e.kz(["fit", good, "--window", "0:1", "-q", "--force"],
                 timeout=TIMEOUT)
        check(p.returncode == 2 and "another kapitza process" in p.stderr,
              "fit under a held lock: %d %r" % (p.returncode, p.stderr))
        fcntl.lockf(fh, fcntl.LOCK_UN)
    check(digest(good) == before, "fit under a held lock wrote nothing")
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
