"""posttest: what the post-stage's Python tests share
(test_fit_lightcone.py, test_fit_xx.py, test_fit_thermal.py, test_plot.py).

Each is run by meson as

    /usr/bin/python3 test_X.py KAPITZA MPIRUN [extra...]

and exits 0 when every check passed.  Checks are counted like tests/check.h;
every test asserts numbers.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

FAILURES = []
COUNT = [0]


def check(cond, what):
    COUNT[0] += 1
    if not cond:
        FAILURES.append(what)
        print("CHECK failed:", what, file=sys.stderr)
    return bool(cond)


def check_close(a, b, tol, what):
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    ok = a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol))
    return check(ok, "%s: %r vs %r (tol %g)" % (what, a, b, tol))


def done(name):
    print("%s: %d checks, %d failed" % (name, COUNT[0], len(FAILURES)))
    return 1 if FAILURES else 0


def lsq(x, y, sigma=None):
    """Closed-form least-squares line y = a x + b (normal equations on raw
    sums, Cramer's rule), with the standard deviations of a and b: from the
    residual variance rss/(n-2) without sigma, from sigma (absolute) with
    it.  Independent of engine/post/fit.c's centred algebra."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    w = np.ones_like(x) if sigma is None else 1 / np.asarray(sigma) ** 2
    S, Sx, Sy = w.sum(), (w * x).sum(), (w * y).sum()
    Sxx, Sxy = (w * x * x).sum(), (w * x * y).sum()
    D = S * Sxx - Sx * Sx
    a = (S * Sxy - Sx * Sy) / D
    b = (Sxx * Sy - Sx * Sxy) / D
    rss = (w * (y - a * x - b) ** 2).sum()
    s2 = 1.0 if sigma is not None else rss / (len(x) - 2)
    return a, b, np.sqrt(s2 * S / D), np.sqrt(s2 * Sxx / D)


def digest_datasets(path, group="/points"):
    """sha256 of every dataset under group (raw bytes)."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = hashlib.sha256(obj[()].tobytes()).hexdigest()
        f[group].visititems(visit)
    return out


class Env:
    """Runs `kapitza` in a private temporary directory."""

    def __init__(self, argv, name):
        if len(argv) < 3:
            sys.exit("usage: %s KAPITZA MPIRUN [...]" % argv[0])
        self.kapitza = os.path.abspath(argv[1])
        self.mpirun = argv[2]
        self.extra = argv[3:]
        self.dir = tempfile.mkdtemp(prefix="kapitza-%s-" % name)
        self.env = dict(os.environ)
        for k in ("KAPITZA_FAULT_POINT", "SLURM_CPUS_PER_TASK",
                  "KAPITZA_PYTHON", "KAPITZA_PLOT_SCRIPT"):
            self.env.pop(k, None)
        self.env["OMP_NUM_THREADS"] = "1"
        if os.geteuid() == 0:
            self.env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
            self.env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        self.env.setdefault("OMPI_MCA_btl_base_warn_component_unused", "0")

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def kz(self, args, env=None, ranks=None, timeout=900):
        """kapitza ARGS (under mpirun with `ranks` ranks if given)."""
        e = dict(self.env)
        e.update(env or {})
        cmd = [self.kapitza] + args
        if ranks:
            cmd = [self.mpirun, "--oversubscribe", "-n", str(ranks),
                   "-x", "OMP_NUM_THREADS"] + cmd
        p = subprocess.run(cmd, env=e, cwd=self.dir, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
        return p

    def run_sweep(self, spec_text, name, ranks=2):
        sp = self.write(name + ".yaml", spec_text)
        a = self.path(name + ".h5")
        p = self.kz(["run", sp, "-o", a, "-q", "--force"], ranks=ranks)
        check(p.returncode == 0, "kapitza run %s: exit %d\n%s\n%s" %
              (name, p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
        return a

    def cleanup(self):
        if os.environ.get("KAPITZA_KEEP_TEST_DIR"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
