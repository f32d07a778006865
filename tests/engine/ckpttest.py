"""ckpttest: what the checkpoint, resubmission and shard tests share
(test_ckpt_*.py, test_shard.py, test_slurm.py), on top of farmtest.py."""
import hashlib
import os
import signal
import subprocess
import time

import h5py
import numpy as np

from farmtest import check, fnv1a64


def scale_last_site(buf, factor):
    """A checkpoint file whose last site tensor (the end of the payload,
    kernels/mps/mps_io.h: uint64 n, then n complex doubles) is multiplied
    by factor, with its checksum recomputed: a valid file with a changed
    state."""
    import struct
    end = len(buf) - 8
    for n in range(1, 1 << 16):
        at = end - 16 * n - 8
        if at < 160:
            break
        if struct.unpack_from("<Q", buf, at)[0] == n:
            vals = struct.unpack_from("<%dd" % (2 * n), buf, at + 8)
            b = bytearray(buf)
            struct.pack_into("<%dd" % (2 * n), b, at + 8,
                             *[v * factor for v in vals])
            struct.pack_into("<Q", b, end, fnv1a64(bytes(b[:end])))
            return bytes(b)
    raise ValueError("no last site found in the checkpoint")


def children(pid):
    """Process ids whose parent is pid (Linux ps)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)],
                         stdout=subprocess.PIPE, text=True).stdout
    return [int(x) for x in out.split()]


def kill_job(proc, sig=signal.SIGKILL):
    """Sends sig to mpirun's ranks (its children) and, for SIGKILL, to
    mpirun itself; returns the ranks found."""
    kids = children(proc.pid)
    for pid in kids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    if sig == signal.SIGKILL:
        try:
            proc.kill()
        except ProcessLookupError:
            pass
    return kids


def digest(path):
    """sha256 of a file, or of every file of a directory (sorted), so a
    test can tell that something was left unmodified."""
    h = hashlib.sha256()
    if os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            h.update(name.encode())
            h.update(digest(os.path.join(path, name)).encode())
    elif os.path.exists(path):
        with open(path, "rb") as f:
            h.update(f.read())
    else:
        h.update(b"<missing>")
    return h.hexdigest()


def point_same(ga, gb):
    """Whether two /points/<id> groups hold the same datasets, bit for bit."""
    if sorted(ga.keys()) != sorted(gb.keys()):
        return False
    for name in ga:
        a, b = ga[name][()], gb[name][()]
        if a.shape != b.shape or a.dtype != b.dtype or \
                a.tobytes() != b.tobytes():
            return False
    return True


def check_done_points(ref_path, path, what):
    """Every point marked done in path equals the same point of ref_path;
    returns the number of done points."""
    with h5py.File(ref_path, "r") as r, h5py.File(path, "r") as h:
        st = h["status"][:]
        ids = np.flatnonzero(st["state"] == 2)
        for k in ids:
            check(point_same(r["points/%d" % k], h["points/%d" % k]),
                  "%s: done point %d differs from the uninterrupted run"
                  % (what, k))
        return len(ids)


def wait_for(cond, timeout, step=0.1):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return True
        time.sleep(step)
    return cond()


def history(path):
    """The /history table as a list of dicts of the used slots."""
    out = []
    with h5py.File(path, "r") as h:
        hs = h["history"][:]
        for k in range(hs.shape[0]):
            for j in range(hs.shape[1]):
                x = hs[k, j]
                if x["attempt"] > 0:
                    out.append(dict(point=k, attempt=int(x["attempt"]),
                                    outcome=int(x["outcome"]),
                                    t_resumed=float(x["t_resumed"]),
                                    t_reached=float(x["t_reached"]),
                                    start=x["start_time"].decode(),
                                    end=x["end_time"].decode(),
                                    job=x["job"].decode(),
                                    message=x["message"].decode()))
    return out
