"""A stop signal in the middle of a long point, inside a measurement
interval.  The test switch KAPITZA_TEST_HOLD_AT_STEP=23 holds every point
after TEBD step 23 (row 4 at t = 1 plus 3 of the 5 steps of the next
interval) until a stop signal comes; the test waits for every running point
to say so on stderr, then signals.  So the interval is as long as it takes,
on any machine.
- SIGTERM to the ranks (what SLURM sends every process at the time limit):
  every running point stops there, inside the interval, is checkpointed
  (ARCHIVE.h5.ckpt/<hash>.ckpt, format version 2 checked here: magic,
  version, header, row 4, layer 18 of the interval's 31, steps 23, FNV-1a
  64 checksum) and marked interrupted "(checkpoint written)"; the run
  exits with status 3; the archive opens;
- `kapitza resubmit` continues the point from the checkpoint time (the log
  says "resumes from its checkpoint at t = T", /status and /history record
  t_resumed = T > 0, attempt 2), not from t = 0, and the result equals an
  uninterrupted run bit for bit (h5diff on /points);
- the same with SIGTERM to a kapitza started without mpirun (a singleton),
  and with SIGUSR1 to mpirun (what the batch script passes on from SLURM's
  --signal=B:USR1; mpirun forwards it to every rank) under a dedicated
  scheduler on 3 ranks.  (SIGTERM to mpirun itself is not forwarded: Open
  MPI sends its ranks SIGTERM only after odls_base_sigkill_timeout and
  SIGKILL as long again later; slurm/README.md explains the consequences.)
- the checkpoint is removed once the point is done.

usage: test_ckpt_signal.py KAPITZA MPIRUN H5DIFF"""
import os
import signal
import struct
import subprocess
import sys
import time

import h5py
import numpy as np

from ckpttest import children, history
from farmtest import Farm, check, done, fnv1a64, spec


def check_ckpt_file(path, point_hash, spec_hash):
    """The documented layout (engine/ARCHIVE.md, Checkpoints)."""
    with open(path, "rb") as f:
        b = f.read()
    check(b[:8] == b"KZCKPT\r\n", "checkpoint magic")
    version, hdr = struct.unpack_from("<II", b, 8)
    check(version == 2 and hdr == 192, "version %d, header %d"
          % (version, hdr))
    check(b[16:32].decode() == spec_hash and b[32:48].decode() == point_hash,
          "checkpoint hashes %r %r" % (b[16:32], b[32:48]))
    row, spm = struct.unpack_from("<ii", b, 64)
    steps, = struct.unpack_from("<q", b, 72)
    t, dt = struct.unpack_from("<dd", b, 80)
    layer, = struct.unpack_from("<i", b, 116)
    payload, = struct.unpack_from("<Q", b, 152)
    check(len(b) == 192 + payload + 8, "file size = header + payload + 8")
    # held after step 23: row 4, 3 steps of 6 layers into the next
    # interval (Forest-Ruth, 5 steps a row)
    check(row == 4 and spm == 5 and layer == 18 and steps == HOLD_STEP
          and abs(t - row * spm * dt) < 1e-12,
          "row %d, layer %d, steps %d, t %g" % (row, layer, steps, t))
    # only the first MiB for speed: the full checksum is C's business
    if len(b) < (1 << 20):
        check(struct.unpack_from("<Q", b, len(b) - 8)[0] ==
              fnv1a64(b[:-8]), "FNV-1a 64 checksum of the file")
    return t


HOLD_STEP = 23


def one(f, h5diff, ref, sp, name, ranks, how, nheld, extra_run=()):
    """nheld: the points running at once (one per working rank)."""
    a = f.path(name + ".h5")
    proc = f.start_held(ranks, ["run", sp, "-o", a, "-q",
                                "--checkpoint-every", "0"] + list(extra_run),
                        HOLD_STEP)
    held = f.wait_held(proc, nheld)
    check(len(held) == nheld, "%s: %d points held: %s"
          % (name, nheld, f.held_stderr(proc)[-1500:]))
    if how == "term-ranks":
        ranks_pids = children(proc.pid)
        check(len(ranks_pids) == ranks, "%s: found the ranks" % name)
        for pid in ranks_pids:
            os.kill(pid, signal.SIGTERM)
    elif how == "term-self":
        proc.send_signal(signal.SIGTERM)
    else:
        proc.send_signal(signal.SIGUSR1)
    out, _ = proc.communicate(timeout=120)
    err = f.held_stderr(proc)
    check(proc.returncode == 3, "%s: exit status %d (3 = stopped by a "
          "signal): %s" % (name, proc.returncode, err[-1500:]))
    check(subprocess.run(["h5dump", "-H", a], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL).returncode == 0,
          "%s: archive opens with h5dump" % name)
    with h5py.File(a, "r") as h:
        st = h["status"][:]
        if not check(np.sum(st["state"] == 4) == nheld, "%s: every held "
                     "point interrupted: %s" % (name, list(st["state"]))):
            return
        k = int(np.flatnonzero(st["state"] == 4)[0])
        phash = h["points_table"]["hash"][k].decode()
        shash = h.attrs["spec_hash"].decode()
        msg = st["message"][k].decode()
        t_int = float(st["t_reached"][k])
        n = int(h["points_table"]["n_measure"][k])
        check("(checkpoint written)" in msg and "+ 18 of 31 layers" in msg,
              "%s: message %r" % (name, msg))
        check(0 < t_int < float(h["points_table"]["t_max"][k]),
              "%s: interrupted in the middle, t = %g" % (name, t_int))
        tt = h["points/%d/time" % k][:]
        check(np.all(np.isfinite(tt[:st["rows"][k]]))
              and np.all(np.isnan(tt[st["rows"][k]:])) and st["rows"][k] < n,
              "%s: rows up to the interrupt only" % name)
    ck = os.path.join(a + ".ckpt", phash + ".ckpt")
    check(os.path.exists(ck), "%s: checkpoint %s written" % (name, ck))
    if os.path.exists(ck):
        t_ck = check_ckpt_file(ck, phash, shash)
        check(t_ck == t_int, "%s: checkpoint at t = %g, interrupt at %g"
              % (name, t_ck, t_int))

    p = f.run(2, ["resubmit", a])
    check(p.returncode == 0, "%s: resubmit exit %d: %s"
          % (name, p.returncode, p.stderr[-1500:]))
    check("resumes from its checkpoint at t = %g" % t_int in p.stdout,
          "%s: the log shows the resume time %g: %s"
          % (name, t_int, p.stdout[-1500:]))
    with h5py.File(a, "r") as h:
        st = h["status"][:]
        check(np.all(st["state"] == 2), "%s: all done" % name)
        check(st["attempt"][k] == 2 and st["t_resumed"][k] == t_int,
              "%s: attempt %d resumed from %g" % (name, st["attempt"][k],
                                                 st["t_resumed"][k]))
    hs = [x for x in history(a) if x["point"] == k]
    check(len(hs) == 2 and hs[0]["outcome"] == 4 and hs[1]["outcome"] == 2
          and np.isnan(hs[0]["t_resumed"]) and hs[1]["t_resumed"] == t_int
          and hs[0]["t_reached"] == t_int and hs[1]["start"] >= hs[0]["end"],
          "%s: history of the point %s" % (name, hs))
    check(not os.path.exists(ck), "%s: checkpoint removed when done" % name)
    d = subprocess.run([h5diff, ref, a, "/points", "/points"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    check(d.returncode == 0, "%s: h5diff /points vs uninterrupted: %s"
          % (name, d.stdout[:2000]))
    s = f.status(a, "--history")
    check(s.returncode == 0 and ("from %8.3f" % t_int) in s.stdout,
          "status --history shows the resume time: %s" % s.stdout[-800:])


def main():
    f = Farm(sys.argv, "ckpt-signal")
    h5diff = f.extra[0]
    # two small points: the hold, not their size, makes the interval long
    text = spec("sig", [30], [0.2, 0.7], t_max=3.0, chis=[16],
                measure_every=0.25)
    sp = f.write("s.yaml", text)
    ref = f.path("ref.h5")
    t0 = time.time()
    p = f.run(2, ["run", sp, "-o", ref, "-q"])
    check(p.returncode == 0, "reference run exit %d: %s"
          % (p.returncode, p.stderr[-1000:]))
    print("reference run %.1f s" % (time.time() - t0))
    one(f, h5diff, ref, sp, "term_ranks", 2, "term-ranks", 2)
    one(f, h5diff, ref, sp, "term_singleton", None, "term-self", 1)
    one(f, h5diff, ref, sp, "usr1_dedicated", 3, "usr1", 2,
        ["--dedicated-scheduler"])
    f.cleanup()
    return done("ckpt_signal")


if __name__ == "__main__":
    sys.exit(main())
