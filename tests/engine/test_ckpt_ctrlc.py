"""Ctrl-C of a running 2-rank sweep whose measurement intervals are long.

Ctrl-C sends SIGINT to mpirun, which passes SIGTERM to its ranks and
SIGKILL about a second later: a point whose interval lasts longer than that
survives only if it stops inside the interval.  The test switch
KAPITZA_TEST_HOLD_AT_STEP=23 makes the interval arbitrarily long on any
machine: every point holds after TEBD step 23 (row 4 at t = 1, then 3 of
the 5 steps of the next interval) until a stop signal comes, and says so on
stderr; the test waits for both running points (of three) to hold, then
sends SIGINT to mpirun, as a terminal's Ctrl-C would.  Then:
- rank 0 reports the run "stopped by a signal" (the case kapitza exits 3
  in).  mpirun itself exits 1 whatever its ranks return (Open MPI 4 sets
  that status on SIGINT before it signals them), and with its default
  odls_base_sigkill_timeout of 1 s it SIGKILLs ranks that are still in
  MPI_Finalize (which, while mpirun aborts the job, takes about 2 s here)
  -- after everything below was written.  So a second Ctrl-C, with
  OMPI_MCA_odls_base_sigkill_timeout=10 and a small wrapper between mpirun
  and kapitza that records kapitza's exit status, checks that every rank
  exits 3;
- both running points are interrupted "at t = 1 + 18 of 31 layers
  (checkpoint written)", each with a version-2 checkpoint at row 4, layer
  18, 23 steps; the third point is still pending; the archive opens;
- `kapitza resubmit` resumes both from their checkpoints and completes the
  sweep bit for bit equal to an uninterrupted run (h5diff of /points and
  /points_table).
No assertion on elapsed time; every wait is bounded by a generous timeout.

usage: test_ckpt_ctrlc.py KAPITZA MPIRUN H5DIFF"""
import glob
import os
import signal
import struct
import subprocess
import sys

import h5py
import numpy as np

from farmtest import Farm, check, done, spec

HOLD_STEP = 23

# Between mpirun and kapitza: passes the stop signals on and records
# kapitza's exit status in rc.<rank> (exec would lose it).
WRAPPER = r'''import os, signal, subprocess, sys
p = subprocess.Popen(sys.argv[1:])
def fwd(sig, _):
    p.send_signal(sig)
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2):
    signal.signal(s, fwd)
rc = p.wait()
with open("rc.%s" % os.environ.get("OMPI_COMM_WORLD_RANK", "x"), "w") as f:
    f.write(str(rc))
sys.exit(rc if rc >= 0 else 128 - rc)
'''


def ckpt_position(path):
    """(version, row, layer, steps) of a checkpoint file (engine/ARCHIVE.md,
    Checkpoints)."""
    with open(path, "rb") as f:
        b = f.read(200)
    version, = struct.unpack_from("<I", b, 8)
    row, = struct.unpack_from("<i", b, 64)
    steps, = struct.unpack_from("<q", b, 72)
    layer, = struct.unpack_from("<i", b, 116)
    return version, row, layer, steps


def check_interrupted(a):
    """Two points interrupted inside the interval after row 4, with their
    checkpoints there; the third pending."""
    with h5py.File(a, "r") as h:
        st = h["status"][:]
        hashes = [x.decode() for x in h["points_table"]["hash"]]
        states = list(st["state"])
        check(states.count(4) == 2 and states.count(0) == 1,
              "two points interrupted, one pending: %s" % states)
        for k in np.flatnonzero(st["state"] == 4):
            msg = st["message"][k].decode()
            check(msg == "interrupted at t = 1 + 18 of 31 layers "
                  "(checkpoint written)", "point %d: %r" % (k, msg))
            check(st["rows"][k] == 5 and st["t_reached"][k] == 1.0,
                  "point %d: rows 0..4 measured" % k)
            ck = os.path.join(a + ".ckpt", hashes[k] + ".ckpt")
            pos = ckpt_position(ck) if os.path.exists(ck) else None
            check(pos == (2, 4, 18, HOLD_STEP),
                  "point %d: checkpoint (version, row, layer, steps) %s"
                  % (k, pos))


def ranks_exit_3(f, sp):
    """Ctrl-C again, mpirun's kill timeout raised to 10 s: every rank
    (through the wrapper) exits 3."""
    wrapper = f.write("wrap.py", WRAPPER)
    a = f.path("w.h5")
    proc = f.start_held(2, ["run", sp, "-o", a, "-q", "--checkpoint-every",
                            "0"], HOLD_STEP,
                        env={"OMPI_MCA_odls_base_sigkill_timeout": "10"},
                        wrap=[sys.executable, wrapper])
    held = f.wait_held(proc, 2)
    check(len(held) == 2 and proc.poll() is None,
          "wrapped: both running points held: %s"
          % f.held_stderr(proc)[-1500:])
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=300)
    rcs = {}
    for path in glob.glob(f.path("rc.*")):
        with open(path) as g:
            rcs[os.path.basename(path)] = g.read().strip()
    check(rcs == {"rc.0": "3", "rc.1": "3"},
          "every rank exits 3 (stopped by a signal): %s; %s"
          % (rcs, f.held_stderr(proc)[-1500:]))
    check_interrupted(a)


def main():
    f = Farm(sys.argv, "ckpt-ctrlc")
    h5diff = f.extra[0]
    text = spec("ctrlc", [30], [0.2, 0.5, 0.7], t_max=3.0, chis=[16],
                measure_every=0.25)
    sp = f.write("s.yaml", text)
    ref = f.path("ref.h5")
    p = f.run(2, ["run", sp, "-o", ref, "-q"])
    check(p.returncode == 0, "reference run exit %d: %s"
          % (p.returncode, p.stderr[-1000:]))

    a = f.path("c.h5")
    proc = f.start_held(2, ["run", sp, "-o", a, "-q", "--checkpoint-every",
                            "0"], HOLD_STEP)
    held = f.wait_held(proc, 2)
    check(len(held) == 2 and proc.poll() is None,
          "both running points held: %s" % f.held_stderr(proc)[-1500:])
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=300)
    check(proc.returncode != 0, "mpirun exit %d" % proc.returncode)
    check("stopped by a signal" in out, "summary says stopped: %r" % out)
    check(subprocess.run(["h5dump", "-H", a], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL).returncode == 0,
          "the archive opens with h5dump")
    check_interrupted(a)

    p = f.run(2, ["resubmit", a])
    check(p.returncode == 0, "resubmit exit %d: %s"
          % (p.returncode, p.stderr[-1500:]))
    check(p.stdout.count("resumes from its checkpoint at t = 1") == 2,
          "both resume from their checkpoints: %s" % p.stdout[-1500:])
    with h5py.File(a, "r") as h:
        check(np.all(h["status"]["state"][:] == 2), "all done")
    for obj in ("/points", "/points_table"):
        d = subprocess.run([h5diff, ref, a, obj, obj],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        check(d.returncode == 0, "h5diff %s vs uninterrupted: %s"
              % (obj, d.stdout[:2000]))
    ranks_exit_3(f, sp)
    f.cleanup()
    return done("ckpt_ctrlc")


if __name__ == "__main__":
    sys.exit(main())
