"""Acceptance 6: `kapitza status` on a finished sweep and on a running one.
- finished: the table has one row per point with its parameters and the
  totals line has the right counts;
- running: a longer sweep is started in the background and status is polled
  (read-only, while the run writes) until it shows running points with t
  reached > 0 and points still pending; the counts always add up; after the
  run, status shows everything done;
- interrupted: with every running point held inside a measurement interval
  (KAPITZA_TEST_HOLD_AT_STEP; the test waits for both to say so), SIGUSR1
  to mpirun (forwarded to the ranks, as SLURM's pre-timeout signal would
  be) stops the run cleanly: both running points become interrupted there
  with the rows they measured, the others stay pending, the archive opens,
  the exit status is 3;
- a stop signal that reaches one worker rank only stops the whole sweep
  (the rank tells rank 0, which hears it between the layers of its own
  held point), instead of interrupting the points one by one;
- killed: kill -9 of every rank and mpirun mid-run leaves an archive that
  opens, with every point that was done intact;
- status on something that is not an archive exits 2.

usage: test_farm_status.py KAPITZA MPIRUN"""
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

from farmtest import Farm, check, done, spec, totals

# 6 points of L = 40, chi 32, t_max 8: about 1.5 s each on one core
SLOW = dict(lengths=[40], deltas=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], t_max=8.0,
            chis=[32], measure_every=0.5)


def rows(stdout):
    return [ln.split() for ln in stdout.splitlines()
            if ln.strip()[:1].isdigit()]


# main is 179 lines, over the ~120 of the code: left whole because it is one
# scenario in order: a sweep finished, then run, polled, stopped and killed,
# each step on the archive the one before left.
def main():
    f = Farm(sys.argv, "status")

    # finished sweep
    sp = f.write("s.yaml", spec("fin", [8, 10], [0, 0.5], t_max=0.5,
                                chis=[4]))
    a = f.path("fin.h5")
    p = f.run(2, ["run", sp, "-o", a, "-q"])
    check(p.returncode == 0, "run exit %d" % p.returncode)
    s = f.status(a)
    check(s.returncode == 0, "status exit %d: %s" % (s.returncode, s.stderr))
    check(totals(s.stdout) == {"done": 4, "failed": 0, "running": 0,
                               "pending": 0, "interrupted": 0},
          "totals %s" % totals(s.stdout))
    r = rows(s.stdout)
    check([x[0] for x in r] == ["0", "1", "2", "3"], "a row per point")
    check([x[1] for x in r] == ["8", "8", "10", "10"], "L column")
    check(all(x[7] == "done" and x[10] == "0.500" for x in r),
          "status and t reached columns: %s" % r)
    t = f.status(a, "--totals")
    check(t.returncode == 0 and len(rows(t.stdout)) == 0
          and totals(t.stdout) == totals(s.stdout), "--totals")

    # running sweep
    sp = f.write("slow.yaml", spec("slow", **SLOW))
    a = f.path("slow.h5")
    proc = f.start(2, ["run", sp, "-o", a, "--progress", "0.5"])
    seen_running = seen_pending = 0
    max_t = 0.0
    t0 = time.time()
    while proc.poll() is None and time.time() - t0 < 300:
        time.sleep(0.2)
        if not os.path.exists(a):
            continue
        s = f.status(a)
        if s.returncode != 0:  # the file is still being created
            continue
        c = totals(s.stdout)
        check(c is not None and sum(c.values()) == 6, "counts add up: %s"
              % c)
        for x in rows(s.stdout):
            if x[7] == "running" and x[10] != "-":
                max_t = max(max_t, float(x[10]))
                seen_running = max(seen_running, c["running"])
                seen_pending = max(seen_pending, c["pending"])
    out, err = proc.communicate(timeout=300)
    check(proc.returncode == 0, "slow run exit %d: %s"
          % (proc.returncode, err[-2000:]))
    check(seen_running >= 1 and max_t > 0,
          "status saw running points (max %d, t up to %g)"
          % (seen_running, max_t))
    check(seen_pending >= 1, "status saw pending points while running")
    check("ETA" in out and "running" in out, "progress report printed")
    s = f.status(a)
    check(totals(s.stdout) == {"done": 6, "failed": 0, "running": 0,
                               "pending": 0, "interrupted": 0},
          "final totals %s" % totals(s.stdout))

    # interrupted sweep: every point holds after TEBD step 15 (row 1 at
    # t = 0.5 and half the next interval; KAPITZA_TEST_HOLD_AT_STEP) until
    # the signal, sent once both running points say they hold
    a = f.path("int.h5")
    proc = f.start_held(2, ["run", sp, "-o", a, "-q"], 15)
    held = f.wait_held(proc, 2)
    check(len(held) == 2, "two points held: %s" % f.held_stderr(proc)[-1500:])
    proc.send_signal(signal.SIGUSR1)
    out, _ = proc.communicate(timeout=120)
    check(proc.returncode == 3, "interrupted run exit %d" % proc.returncode)
    with h5py.File(a, "r") as h:
        st = h["status"][:]
        n_int = int(np.sum(st["state"] == 4))
        check(n_int == 2, "both running points interrupted: %s"
              % list(st["state"]))
        check(np.all(np.isin(st["state"], [0, 4])), "states %s"
              % list(st["state"]))
        check(np.sum(st["state"] == 0) == 4, "the others still pending")
        for k in np.flatnonzero(st["state"] == 4):
            tt = h["points/%d/time" % k][:]
            n = int(st["rows"][k])
            check(n == 2 and np.all(np.isfinite(tt[:n]))
                  and np.all(np.isnan(tt[n:])),
                  "interrupted point %d: %d rows then NaN" % (k, n))
            check(st["message"][k].startswith(b"interrupted at t = 0.5 + "),
                  "message %r" % st["message"][k])
        for k in np.flatnonzero(st["state"] == 0):
            check(st["attempt"][k] == 0, "pending point never started")
    s = f.status(a)
    c = totals(s.stdout)
    check(c is not None and c["interrupted"] == n_int and c["running"] == 0,
          "status after the interrupt %s" % c)

    # a signal to rank 1 only (found by its environment; Linux /proc)
    a = f.path("one.h5")
    proc = f.start_held(2, ["run", sp, "-o", a, "-q"], 15)
    held = f.wait_held(proc, 2)
    check(len(held) == 2, "one-rank signal: two points held: %s"
          % f.held_stderr(proc)[-1500:])
    rank1 = None
    kids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)],
                          stdout=subprocess.PIPE, text=True).stdout
    for pid in kids.split():
        try:
            with open("/proc/%s/environ" % pid, "rb") as e:
                env = e.read().split(b"\0")
        except OSError:
            continue
        if b"OMPI_COMM_WORLD_RANK=1" in env:
            rank1 = int(pid)
    check(rank1 is not None and proc.poll() is None,
          "found rank 1 at work")
    if rank1 is not None and proc.poll() is None:
        os.kill(rank1, signal.SIGUSR1)
    else:
        proc.send_signal(signal.SIGUSR1)  # end the held run anyway
    out, _ = proc.communicate(timeout=120)
    check(proc.returncode == 3, "one-rank signal: exit %d" % proc.returncode)
    check("stopped by a signal" in out, "summary says stopped: %r" % out)
    with h5py.File(a, "r") as h:
        st = list(h["status"]["state"])
        # rank 1 stops its point and tells rank 0, which hears it between
        # the layers of its own held point and stops it too
        check(st.count(4) == 2 and st.count(0) == 4,
              "the running points interrupted, the rest not started: %s"
              % st)

    # killed (kill -9): the ranks are mpirun's children; end them by pid
    a = f.path("killed.h5")
    proc = f.start(2, ["run", sp, "-o", a, "-q"])
    t0 = time.time()
    while time.time() - t0 < 120 and proc.poll() is None:
        time.sleep(0.2)
        if os.path.exists(a):
            s = f.status(a)
            if s.returncode == 0 and totals(s.stdout)["done"] >= 1:
                break
    kids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)],
                          stdout=subprocess.PIPE, text=True).stdout.split()
    for pid in kids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.kill()
    proc.communicate(timeout=60)
    check(len(kids) >= 1, "found the ranks to kill: %s" % kids)
    s = f.status(a)
    c = totals(s.stdout)
    check(s.returncode == 0 and c is not None and c["done"] >= 1,
          "killed archive opens with done points: %s %s" % (c, s.stderr))
    with h5py.File(a, "r") as h:
        st = h["status"][:]
        for k in np.flatnonzero(st["state"] == 2):
            g = h["points/%d" % k]
            check(np.all(np.isfinite(g["sz"][:]))
                  and np.all(np.isfinite(g["time"][:])),
                  "done point %d intact after kill -9" % k)

    # not an archive
    junk = f.write("junk.h5", "not hdf5\n")
    s = f.status(junk)
    check(s.returncode == 2 and "cannot open archive" in s.stderr,
          "junk: %d %r" % (s.returncode, s.stderr))
    s = f.status(f.path("missing.h5"))
    check(s.returncode == 2, "missing archive exit %d" % s.returncode)
    f.cleanup()
    return done("farm_status")


if __name__ == "__main__":
    sys.exit(main())
