"""Crashes: a 6-point sweep on 2 ranks is killed
with SIGKILL (every rank and mpirun) at a random moment, 10 times over at
different moments drawn from a seeded schedule (random.Random(SEED)); in
every other round the first `kapitza resubmit` is killed too.  After each
kill:
- the archive opens with h5dump (or, if the kill came before the archive
  was complete, there is none: it is built under a temporary name);
- every point marked done equals the same point of an uninterrupted run,
  bit for bit;
- `kapitza resubmit` (or `kapitza run` again, if there was no archive)
  completes the sweep, and the whole archive's point data equal the
  uninterrupted run's: h5diff on /points exits 0;
- a point that was running when the job died (its /status row and /history
  slot still say running) is resumed from its checkpoint when it has one.
Checkpoints are written every 0.005 minutes (0.3 s) so that kills often
find them; on a fast machine they may find none.  So a first round does not
depend on the machine's speed: with the test switch KAPITZA_TEST_HOLD_AT_ROW
every point checkpoints after row 3 and holds, the test waits for a
checkpoint file to appear and kills the job then; its resubmission must
resume from a checkpoint.

usage: test_ckpt_crash.py KAPITZA MPIRUN H5DIFF [--rounds N]"""
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

from ckpttest import check_done_points, history, kill_job
from farmtest import Farm, check, done, spec

SEED = 20251125
ROUNDS = 10


def h5dump_ok(path):
    return subprocess.run(["h5dump", path], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL,
                          timeout=120).returncode == 0


def killed(f, args, delay):
    """Starts kapitza on 2 ranks and SIGKILLs it after delay seconds (or
    lets it finish); returns the exit status (None if killed)."""
    proc = f.start(2, args)
    t0 = time.time()
    while time.time() - t0 < delay and proc.poll() is None:
        time.sleep(0.01)
    if proc.poll() is not None:
        proc.communicate()
        return proc.returncode
    kill_job(proc, signal.SIGKILL)
    proc.communicate(timeout=60)
    return None


def wait_for_checkpoint(proc, ckdir, timeout=300):
    """Waits (polling, bounded by timeout) until a finished checkpoint
    file is in ckdir while proc still runs; returns its name."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            check(False, "the held run ended first: exit %s %s"
                  % (proc.returncode, proc.communicate()[1][-800:]))
            return None
        if os.path.isdir(ckdir):
            names = [n for n in os.listdir(ckdir)
                     if n.endswith(".ckpt") and ".tmp." not in n]
            if names:
                return names[0]
        time.sleep(0.02)
    check(False, "no checkpoint appeared in %s within %d s" % (ckdir,
                                                               timeout))


def verify(f, h5diff, ref, a, what):
    """The completed archive a equals the uninterrupted ref; returns the
    number of attempts that resumed from a checkpoint."""
    d = subprocess.run([h5diff, ref, a, "/points", "/points"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    check(d.returncode == 0, "%s: h5diff /points vs uninterrupted run "
          "exit %d: %s" % (what, d.returncode, d.stdout[:1500]))
    with h5py.File(a, "r") as h:
        st = h["status"][:]
        check(np.all(st["state"] == 2), "%s: all done: %s"
              % (what, list(st["state"])))
    hs = history(a)
    res = [x for x in hs if np.isfinite(x["t_resumed"])]
    # attempts that started from a checkpoint continued, not restarted
    for x in res:
        check(x["t_resumed"] > 0 and x["outcome"] in (1, 2, 4),
              "%s: resumed attempt %s" % (what, x))
    # no leftover checkpoint of a done point, no temporary files
    left = [n for n in os.listdir(a + ".ckpt") if n != "LOCK"] \
        if os.path.isdir(a + ".ckpt") else []
    check(left == [], "%s: checkpoint directory empty: %s" % (what, left))
    os.remove(a)
    shutil.rmtree(a + ".ckpt", ignore_errors=True)
    return len(res)


def held_round(f, h5diff, ref, sp, ck):
    """Kills the job once a checkpoint is on disk (an event, not a
    time); the resubmission must resume from it."""
    a = f.path("held.h5")
    proc = f.start(2, ["run", sp, "-o", a] + ck,
                   env={"KAPITZA_TEST_HOLD_AT_ROW": "3"})
    name = wait_for_checkpoint(proc, a + ".ckpt")
    kill_job(proc, signal.SIGKILL)
    proc.communicate(timeout=60)
    what = "held round (killed with %s on disk)" % name
    check(h5dump_ok(a), "%s: h5dump opens the archive" % what)
    check_done_points(ref, a, what)
    p = f.run(2, ["resubmit", a] + ck)
    check(p.returncode == 0, "%s: resubmit exit %d: %s"
          % (what, p.returncode, p.stderr[-1500:]))
    n = verify(f, h5diff, ref, a, what)
    check(n >= 1, "%s: the resubmission resumed from a checkpoint "
          "(%d attempts)" % (what, n))
    print("%s: %d attempts resumed" % (what, n))
    return n


def main():
    f = Farm(sys.argv, "ckpt-crash")
    h5diff = f.extra[0]
    rounds = ROUNDS  # the soak of the long suite passes --rounds 100
    if "--rounds" in f.extra:
        rounds = int(f.extra[f.extra.index("--rounds") + 1])
    # 6 points of L = 32, chi 24, t_max 8: about 0.5 s each on one core
    text = spec("crash", [32], [0.1, 0.3, 0.5, 0.7, 0.9, 0.95], t_max=8.0,
                chis=[24], measure_every=0.25)
    sp = f.write("s.yaml", text)
    ref = f.path("ref.h5")
    t0 = time.time()
    p = f.run(2, ["run", sp, "-o", ref, "-q"])
    t_ref = time.time() - t0
    check(p.returncode == 0, "reference exit %d: %s"
          % (p.returncode, p.stderr[-1000:]))
    print("uninterrupted run: %.1f s" % t_ref)
    rng = random.Random(SEED)
    ck = ["--checkpoint-every", "0.005", "-q"]
    resumed_total = held_round(f, h5diff, ref, sp, ck)
    for r in range(rounds):
        a = f.path("c%d.h5" % r)
        delay = rng.uniform(0.3, 0.9 * t_ref)
        rc = killed(f, ["run", sp, "-o", a] + ck, delay)
        what = "round %d (run killed at %.2f s)" % (r, delay)
        if not os.path.exists(a):
            # killed while creating: no half archive under the name
            check(rc is None, "%s: no archive, yet exit %s" % (what, rc))
            p = f.run(2, ["run", sp, "-o", a] + ck)
            check(p.returncode == 0, "%s: run again: exit %d %s"
                  % (what, p.returncode, p.stderr[-800:]))
        else:
            check(h5dump_ok(a), "%s: h5dump opens the archive" % what)
            n_done = check_done_points(ref, a, what)
            print("%s: %s, %d points done" % (
                what, "finished" if rc is not None else "killed", n_done))
            if r % 2 == 1 and rc is None:
                d2 = rng.uniform(0.5, 0.6 * t_ref)
                rc2 = killed(f, ["resubmit", a] + ck, d2)
                w2 = "%s, resubmit killed at %.2f s" % (what, d2)
                check(h5dump_ok(a), "%s: h5dump opens the archive" % w2)
                check_done_points(ref, a, w2)
                check(rc2 in (None, 0), "%s: exit %s" % (w2, rc2))
            p = f.run(2, ["resubmit", a] + ck)
            check(p.returncode == 0, "%s: resubmit exit %d: %s"
                  % (what, p.returncode, p.stderr[-1500:]))
        resumed_total += verify(f, h5diff, ref, a, what)
    check(resumed_total >= 1, "some resubmission resumed from a checkpoint "
          "(%d attempts)" % resumed_total)
    print("attempts resumed from checkpoints: %d" % resumed_total)
    f.cleanup()
    return done("ckpt_crash")


if __name__ == "__main__":
    sys.exit(main())
