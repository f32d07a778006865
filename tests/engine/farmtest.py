"""farmtest: what the engine's Python acceptance tests share.

Each test_farm_*.py is run by meson as

    /usr/bin/python3 test_farm_X.py KAPITZA MPIRUN H5DIFF KERNEL_PROFILE

(H5DIFF and KERNEL_PROFILE only where used) and exits 0 when every check
passed.  Checks print their failures and are counted like tests/check.h:
a test that asserts nothing is a defect, so each test asserts numbers.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

FAILURES = []
COUNT = [0]


def fnv1a64(data):
    """FNV-1a 64 (engine/util/eu.c): the checksum of a checkpoint file and
    the hash of a spec and of a point."""
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def check(cond, what):
    COUNT[0] += 1
    if not cond:
        FAILURES.append(what)
        print("CHECK failed:", what, file=sys.stderr)
    return cond


def check_close(a, b, tol, what):
    ok = bool(np.all(np.abs(np.asarray(a, float) - np.asarray(b, float))
                     <= tol))
    return check(ok, "%s: %r vs %r (tol %g)" % (what, a, b, tol))


def done(name):
    print("%s: %d checks, %d failed" % (name, COUNT[0], len(FAILURES)))
    return 1 if FAILURES else 0


class Farm:
    """Runs `kapitza` (under mpirun) in a private temporary directory."""

    def __init__(self, argv, name):
        if len(argv) < 3:
            sys.exit("usage: %s KAPITZA MPIRUN [H5DIFF] [KERNEL_PROFILE]"
                     % argv[0])
        self.kapitza = os.path.abspath(argv[1])
        self.mpirun = argv[2]
        self.extra = argv[3:]
        self.dir = tempfile.mkdtemp(prefix="kapitza-%s-" % name)
        self.env = dict(os.environ)
        self.env.pop("KAPITZA_FAULT_POINT", None)
        self.env["OMP_NUM_THREADS"] = "1"
        self.env.pop("SLURM_CPUS_PER_TASK", None)
        if os.geteuid() == 0:  # containers and CI run as root
            self.env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
            self.env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        # quiet Open MPI's "no network interface" chatter on laptops
        self.env.setdefault("OMPI_MCA_btl_base_warn_component_unused", "0")

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def cmd(self, ranks, args, wrap=()):
        """wrap: a command each rank runs kapitza under."""
        if ranks is None:  # no mpirun: a singleton MPI process
            return list(wrap) + [self.kapitza] + args
        return [self.mpirun, "--oversubscribe", "-n", str(ranks),
                "-x", "KAPITZA_FAULT_POINT", "-x", "OMP_NUM_THREADS"
                ] + list(wrap) + [self.kapitza] + args

    def run(self, ranks, args, env=None, timeout=600):
        e = dict(self.env)
        e.update(env or {})
        if "KAPITZA_FAULT_POINT" not in e:
            e["KAPITZA_FAULT_POINT"] = ""
        t0 = time.time()
        p = subprocess.run(self.cmd(ranks, args), env=e, cwd=self.dir,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
        p.elapsed = time.time() - t0
        return p

    def start(self, ranks, args, env=None):
        e = dict(self.env)
        e.update(env or {})
        e.setdefault("KAPITZA_FAULT_POINT", "")
        return subprocess.Popen(self.cmd(ranks, args), env=e, cwd=self.dir,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def start_held(self, ranks, args, step, env=None, wrap=()):
        """Starts kapitza with the test switch KAPITZA_TEST_HOLD_AT_STEP=step
        (engine/farm/worker.c): every point, after TEBD step `step` (inside
        a measurement interval), announces the hold on stderr and waits for
        a stop signal.  stderr goes to a file (proc.errpath), which
        wait_held() reads: waiting for that event instead of for a moment
        makes the test independent of the machine's speed."""
        e = dict(self.env)
        e.update(env or {})
        e.setdefault("KAPITZA_FAULT_POINT", "")
        e["KAPITZA_TEST_HOLD_AT_STEP"] = str(step)
        path = self.path("held-%d.err" % len(os.listdir(self.dir)))
        with open(path, "w") as err:
            proc = subprocess.Popen(self.cmd(ranks, args, wrap), env=e,
                                    cwd=self.dir, stdout=subprocess.PIPE,
                                    stderr=err, text=True)
        proc.errpath = path
        return proc

    def wait_held(self, proc, n, timeout=300):
        """Waits (at most timeout s) until n points of proc (start_held)
        hold; returns the holding lines (fewer if it timed out or the
        process ended)."""
        t0 = time.time()
        while True:
            with open(proc.errpath) as f:
                held = [ln for ln in f if "holding after step" in ln]
            if (len(held) >= n or proc.poll() is not None
                    or time.time() - t0 > timeout):
                return held
            time.sleep(0.1)

    def held_stderr(self, proc):
        with open(proc.errpath) as f:
            return f.read()

    def status(self, archive, *extra):
        return subprocess.run([self.kapitza, "status", archive] + list(extra),
                              env=self.env, cwd=self.dir,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=120)

    def cleanup(self):
        if os.environ.get("KAPITZA_KEEP_TEST_DIR"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def totals(status_stdout):
    """The counts of `kapitza status`'s total line, as a dict."""
    for line in status_stdout.splitlines():
        if line.startswith("total:"):
            out = {}
            for part in line.split(":", 2)[2].split(","):
                n, state = part.split()
                out[state] = int(n)
            return out
    return None


STATES = {0: "pending", 1: "running", 2: "done", 3: "failed",
          4: "interrupted"}


def spec(name, lengths, deltas, t_max, chis=(8,), orders=(4,), dt=0.05,
         measure_every=0.25, states=("domain_wall",), measure=None):
    """A sweep spec in the format of engine/SPEC.md."""
    def lst(v):
        return "[" + ", ".join(str(x) for x in v) + "]"
    text = ("sweep: %s\n"
            "chain:\n"
            "  length: %s\n"
            "  left: { delta: 0 }\n"
            "  right: { delta: %s }\n"
            "state: %s\n"
            "evolve: { dt: %s, t_max: %s, order: %s, measure_every: %s }\n"
            "truncate: { chi_max: %s, cutoff: 1.0e-10 }\n"
            % (name, lst(lengths), lst(deltas), lst(states), dt, t_max,
               lst(orders), measure_every, lst(chis)))
    if measure:
        text += "measure: %s\n" % lst(measure)
    return text
