"""A real single-node SLURM on this machine.

The test installs what is missing (apt-get, quietly: slurmd slurmctld
slurm-client munge, and libpmix-dev: Debian's mpi/pmix plugin of SLURM
dlopens its unversioned libpmix.so), starts munged, slurmctld and slurmd as
the children of this script with a configuration generated from `slurmd -C`
(free ports, state, spool and logs in a temporary folder; SlurmUser=root,
MpiDefault=none, ProctrackType=proctrack/linuxproc, TaskPlugin=task/none),
runs the checks and stops the daemons again by their own PIDs. It skips
(exit 77, meson's "skipped") only when the daemons cannot be started here,
and says why.

Default (the 'engine' suite, ~1-2 minutes):
- slurm/kapitza-array.sbatch runs a 6-point sweep as 3 array tasks (one
  shard each); the shards are merged with `kapitza merge` and the merged
  archive's /points equal a plain mpirun run's (h5diff);
- a job of slurm/kapitza.sbatch with a long point gets SIGUSR1 from SLURM
  through its batch shell (`scancel --batch --signal=USR1`, the signal that
  --signal=B:USR1@T sends before the time limit): the batch trap passes it
  to mpirun, the point is checkpointed and interrupted, the job's exit code
  is 3; `kapitza resubmit --slurm` submits a job array for the unfinished
  point, which resumes from the checkpoint and completes; the result equals
  a plain run;
- srun instead of mpirun (KAPITZA_LAUNCHER=srun,
  KAPITZA_SRUN_ARGS=--mpi=pmix; Debian's Open MPI 4.1 has no PMI-1/PMI-2
  support, so --mpi=pmi2 cannot work): slurm/kapitza.sbatch on 2 tasks runs
  the 6-point sweep (both ranks work, /points equal the plain mpirun run's);
  a job with two long points gets SIGUSR1 through its batch shell, srun
  forwards it to both ranks, the job exits 3 with both points checkpointed;
  the same script submitted again resumes both under srun and the result
  equals a plain run.
- teams: slurm/kapitza.sbatch on 2 tasks with --team-size 2 runs a sweep's
  big point on a team of both ranks and its small points alone, under
  mpirun and under srun; /history records the teams, /points equal a
  single-rank run's.
--full (the 'long' suite, a few minutes more): the same with the real time
  limit -- a job with --time=1 and --signal=B:USR1@50 and a point that
  needs longer is signalled by SLURM itself, checkpoints, and
  `kapitza resubmit --slurm` completes it.

usage: test_slurm.py KAPITZA MPIRUN H5DIFF SLURM_DIR [--full]"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

from ckpttest import history, wait_for
from farmtest import Farm, check, done, spec

SKIP = 77
# libpmix-dev: srun --mpi=pmix (Debian's slurm-wlm-basic-plugins dlopens
# /usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so, which only libpmix-dev
# ships; without it: "pmi/pmix: can not load PMIx library")
PKGS = ["slurmd", "slurmctld", "slurm-client", "munge", "libpmix-dev"]


def skip(why):
    print("SKIP: test_slurm: %s" % why)
    sys.stdout.flush()
    sys.exit(SKIP)


def installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    return r.returncode == 0 and "install ok installed" in r.stdout


def ensure_packages():
    missing = [p for p in PKGS if not installed(p)]
    if not missing:
        return
    if shutil.which("apt-get") is None:
        skip("SLURM is not installed (%s) and there is no apt-get"
             % " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"]
    print("installing %s" % " ".join(missing))
    r = subprocess.run(cmd + missing, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = subprocess.run(cmd + missing, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        skip("cannot install %s: %s" % (" ".join(missing),
                                        r.stdout.strip()[-500:]))


def free_port():
    s = socket.socket()
    s.bind(("", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sbin(name):
    for d in ("/usr/sbin", "/usr/bin", "/sbin"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return shutil.which(name)


class Cluster:
    """munged + slurmctld + slurmd, children of this process."""

    def __init__(self):
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="kapitza-slurm-")
        os.chmod(self.dir, 0o700)
        self.env = dict(os.environ)
        self.host = socket.gethostname().split(".")[0]

    def log_tail(self, name, n=15):
        p = os.path.join(self.dir, name)
        if not os.path.exists(p):
            return "(no %s)" % name
        with open(p, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def start(self):
        if os.geteuid() != 0:
            skip("starting slurmctld and slurmd with SlurmUser=root needs "
                 "root")
        ensure_packages()
        tools = {n: sbin(n) for n in ("munged", "slurmctld", "slurmd")}
        for n, p in tools.items():
            if not p:
                skip("%s not found after installing %s" % (n, PKGS))
        c = subprocess.run([tools["slurmd"], "-C"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        m = re.search(r"NodeName=\S+ (CPUs=.*?RealMemory=\d+)", c.stdout)
        if c.returncode != 0 or not m:
            skip("slurmd -C does not describe this node: %s"
                 % c.stdout[-300:])
        node = m.group(1)
        mem = int(re.search(r"RealMemory=(\d+)", node).group(1))
        node = re.sub(r"RealMemory=\d+", "RealMemory=%d" % max(100, mem // 2),
                      node)
        self.cpus = int(re.search(r"CPUs=(\d+)", node).group(1))
        d = self.dir
        for sub in ("state", "spool", "munge"):
            os.makedirs(os.path.join(d, sub), mode=0o700)
        key = os.path.join(d, "munge", "key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o600)
        sock = os.path.join(d, "munge", "socket")
        self.procs.append(("munged", subprocess.Popen(
            [tools["munged"], "-F", "--force", "--key-file", key,
             "--socket", sock, "--pid-file", os.path.join(d, "munge", "pid"),
             "--log-file", os.path.join(d, "munged.log"),
             "--seed-file", os.path.join(d, "munge", "seed")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)))
        if not wait_for(lambda: os.path.exists(sock), 15):
            self.stop()
            skip("munged did not start: %s" % self.log_tail("munged.log"))
        conf = os.path.join(d, "slurm.conf")
        with open(conf, "w") as f:
            f.write("""# generated by tests/engine/test_slurm.py
ClusterName=kapitzatest
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={p1}
SlurmdPort={p2}
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
MailProg=/bin/true
ReturnToService=2
MinJobAge=600
KillWait=30
NodeName={host} {node} State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP
""".format(host=self.host, p1=free_port(), p2=free_port(), sock=sock, d=d,
           node=node))
        self.env["SLURM_CONF"] = conf
        self.procs.append(("slurmctld", subprocess.Popen(
            [tools["slurmctld"], "-D", "-i"], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)))
        time.sleep(1)
        self.procs.append(("slurmd", subprocess.Popen(
            [tools["slurmd"], "-D"], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)))

        def idle():
            for name, p in self.procs:
                if p.poll() is not None:
                    return True
            r = subprocess.run(["sinfo", "-h", "-o", "%T"], env=self.env,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
            return r.stdout.strip() == "idle"
        wait_for(idle, 60, 0.5)
        dead = [(n, p.returncode) for n, p in self.procs
                if p.poll() is not None]
        if dead:
            why = "; ".join("%s exited with status %s" % x for x in dead)
            logs = "\n".join(self.log_tail(n + ".log")
                             for n in ("slurmctld", "slurmd"))
            self.stop()
            skip("the SLURM daemons cannot start here: %s\n%s" % (why, logs))
        r = subprocess.run(["sinfo", "-h", "-o", "%T"], env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if not check(r.stdout.strip() == "idle",
                     "the node is idle: %r\n%s" % (
                         r.stdout, self.log_tail("slurmd.log"))):
            return False
        print("SLURM up: node %s (%s), pids %s" % (
            self.host, node, [p.pid for n, p in self.procs]))
        return True

    def run(self, args, **kw):
        return subprocess.run(args, env=kw.pop("env", self.env),
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, **kw)

    def sbatch(self, args, env):
        r = self.run(["sbatch"] + args, env=env)
        m = re.search(r"Submitted batch job (\d+)", r.stdout)
        check(r.returncode == 0 and m is not None, "sbatch %s: %s %s"
              % (args, r.stdout, r.stderr))
        return int(m.group(1)) if m else None

    def wait_job(self, jobid, timeout):
        def gone():
            r = self.run(["squeue", "-h", "-j", str(jobid)])
            return r.returncode == 0 and r.stdout.strip() == ""
        ok = wait_for(gone, timeout, 1.0)
        check(ok, "job %s finished within %d s" % (jobid, timeout))
        return ok

    def job_field(self, jobid, field):
        """Field of `scontrol show job` for every task of the job."""
        r = self.run(["scontrol", "show", "job", str(jobid)])
        return re.findall(r"\b%s=(\S+)" % field, r.stdout)

    def state(self, jobid):
        r = self.run(["squeue", "-h", "-j", str(jobid), "-o", "%T"])
        return r.stdout.strip()

    def stop(self):
        # jobs first, then the daemons, each by its own pid
        if "SLURM_CONF" in self.env:
            subprocess.run(["scancel", "--user=root"], env=self.env,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            wait_for(lambda: self.run(["squeue", "-h"]).stdout.strip() == "",
                     30, 0.5)
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
        self.procs = []
        if os.environ.get("KAPITZA_KEEP_TEST_DIR"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def h5diff(tool, a, b):
    d = subprocess.run([tool, a, b, "/points", "/points"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return d.returncode, d.stdout[:1500]


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def running(a, which):
    """Whether which (np.any or np.all) of archive a's points are running
    and past t = 1 (False while the archive cannot be read)."""
    try:
        with h5py.File(a, "r") as h:
            st = h["status"][:]
            return len(st) > 0 and bool(which((st["state"] == 1)
                                             & (st["t_reached"] >= 1.0)))
    except (OSError, KeyError):
        return False


def array_part(f, cl, env, tool, slurm_dir):
    """The 6-point sweep as a job array; returns its spec and the plain
    mpirun run's archive (2 ranks)."""
    text = spec("slurm6", [12, 16, 20], [0.3, 0.6], t_max=2.0, chis=[8],
                measure_every=0.25)
    sp = f.write("six.yaml", text)
    ref = f.path("six_ref.h5")
    p = f.run(2, ["run", sp, "-o", ref, "-q"])
    check(p.returncode == 0, "plain run exit %d" % p.returncode)
    prefix = f.path("six")
    job = cl.sbatch(["--array=0-2", "--ntasks=1", "--cpus-per-task=1",
                     "--time=10", "-o", f.path("six-%A_%a.out"),
                     os.path.join(slurm_dir, "kapitza-array.sbatch"), sp,
                     prefix, "-q"], env)
    if job is None:
        return sp, ref
    cl.wait_job(job, 240)
    codes = cl.job_field(job, "ExitCode")
    check(codes == ["0:0"] * 3, "array tasks' exit codes %s" % codes)
    shards = [prefix + ".shard%dof3.h5" % i for i in range(3)]
    for i, s in enumerate(shards):
        out = read(f.path("six-%d_%d.out" % (job, i)))
        check(os.path.exists(s) and "shard %d/3 exit status 0" % i in out,
              "array task %d wrote its shard: %s" % (i, out[-600:]))
    s = f.status(*shards)
    check(s.returncode == 0 and "6 done" in s.stdout,
          "status of the shard set: %s" % s.stdout[-300:])
    m = f.path("six_merged.h5")
    p = f.run(1, ["merge"] + shards + ["-o", m])
    check(p.returncode == 0, "merge: %s" % p.stderr[-500:])
    rc, out = h5diff(tool, ref, m)
    check(rc == 0, "merged array run equals the plain mpirun run: %s" % out)
    with h5py.File(m, "r") as h:
        jobs = set(x.decode() for x in h["provenance"]["slurm_job_id"])
        tasks = set(x.decode() for x in h["provenance"]["slurm_array_task_id"])
        check(len(jobs) == 3 and tasks == {"0", "1", "2"},
              "provenance records the array tasks: %s %s" % (jobs, tasks))
    return sp, ref


def signal_part(f, cl, env, tool, slurm_dir, time_limit):
    """A long point in a job that SLURM signals (scancel --batch, or the
    real time limit), then resubmit --slurm."""
    if time_limit:
        # needs well over the minute the job gets: ~1.5 min on one core
        text = spec("slurmtl", [100], [0.5], t_max=60.0, chis=[64],
                    measure_every=0.5)
    else:
        text = spec("slurmsig", [50], [0.5], t_max=16.0, chis=[40],
                    measure_every=0.25)
    name = "tl" if time_limit else "sig"
    sp = f.write(name + ".yaml", text)
    a = f.path(name + ".h5")
    sb = ["--ntasks=1", "-o", f.path(name + "-%j.out")]
    if time_limit:
        sb += ["--time=1", "--signal=B:USR1@50"]
    else:
        sb += ["--time=10"]
    t_sub = time.time()
    job = cl.sbatch(sb + [os.path.join(slurm_dir, "kapitza.sbatch"), sp, a,
                          "--checkpoint-every", "0", "--progress", "2"],
                    env)
    if job is None:
        return

    check(wait_for(lambda: running(a, np.any), 120, 0.2),
          "%s: the point is running" % name)
    if not time_limit:
        r = cl.run(["scancel", "--batch", "--signal=USR1", str(job)])
        check(r.returncode == 0, "scancel --batch --signal=USR1: %s"
              % r.stderr)
    cl.wait_job(job, 300)
    elapsed = time.time() - t_sub
    out = read(f.path("%s-%d.out" % (name, job)))
    codes = cl.job_field(job, "ExitCode")
    check(codes == ["3:0"], "%s: the job's exit code %s (3: stopped by the "
          "signal, checkpointed); output:\n%s" % (name, codes, out[-1500:]))
    check("batch: SIGUSR1" in out and "passed on" in out,
          "%s: the batch shell got SIGUSR1 and passed it on" % name)
    check("stopped by the time-limit signal, checkpointed" in out,
          "%s: the job says it checkpointed" % name)
    if time_limit:
        check(elapsed < 100, "%s: the job ended before its time limit ran "
              "out (%.0f s after submission)" % (name, elapsed))
    with h5py.File(a, "r") as h:
        st = h["status"][:]
        ok = check(st["state"][0] == 4, "%s: interrupted: %s"
                   % (name, list(st["state"])))
        t_int = float(st["t_reached"][0])
        check(ok and "(checkpoint written)" in st["message"][0].decode(),
              "%s: message %r" % (name, st["message"][0]))
        ph = h["points_table"]["hash"][0].decode()
        slurm_job = h["provenance"]["slurm_job_id"][0].decode()
    check(slurm_job == str(job), "%s: provenance has the job id" % name)
    check(os.path.exists(os.path.join(a + ".ckpt", ph + ".ckpt")),
          "%s: checkpoint written" % name)
    print("%s: job %d stopped at t = %g after %.0f s" % (name, job, t_int,
                                                         elapsed))

    # kapitza resubmit --slurm: a job array for the unfinished point
    r = cl.run([f.kapitza, "resubmit", a, "--slurm", "--time=10",
                "--ntasks=1", "-o", f.path(name + "-re-%A_%a.out")],
               env=env)
    m = re.search(r"Submitted batch job (\d+)", r.stdout)
    check(r.returncode == 0 and m is not None,
          "%s: resubmit --slurm: %s %s" % (name, r.stdout, r.stderr))
    check("resume from the checkpoint at t = %g" % t_int in r.stdout,
          "%s: resubmit --slurm lists the resume: %s" % (name, r.stdout))
    if m:
        rj = int(m.group(1))
        cl.wait_job(rj, 600)
        codes = cl.job_field(rj, "ExitCode")
        out = read(f.path("%s-re-%d_0.out" % (name, rj)))
        check(codes == ["0:0"], "%s: resubmitted job exit %s:\n%s"
              % (name, codes, out[-1500:]))
        check("resumes from its checkpoint at t = %g" % t_int in out,
              "%s: the resubmitted job resumed: %s" % (name, out[-800:]))
    with h5py.File(a, "r") as h:
        st = h["status"][:]
        check(st["state"][0] == 2 and st["attempt"][0] == 2
              and st["t_resumed"][0] == t_int,
              "%s: done as attempt 2 from t = %g: %s" % (
                  name, t_int, st[0]))
    hs = history(a)
    check(len(hs) == 2 and hs[0]["job"] == str(job)
          and m and hs[1]["job"] == "%s_0" % m.group(1)
          and hs[1]["t_resumed"] == t_int,
          "%s: history %s" % (name, hs))
    # the same point without interruption
    ref = f.path(name + "_ref.h5")
    p = f.run(1, ["run", sp, "-o", ref, "-q"])
    check(p.returncode == 0, "%s: plain run exit %d" % (name, p.returncode))
    rc, out = h5diff(f.extra[0], ref, a)
    check(rc == 0, "%s: the resumed result equals a plain run: %s"
          % (name, out))


# srun's MPI plugin for Debian's Open MPI 4.1 (built with PMIx, without
# SLURM's PMI-1/PMI-2: --mpi=pmi2 makes MPI_Init fail).  The test's slurm.conf
# has MpiDefault=none, so the script's KAPITZA_SRUN_ARGS must name it.
SRUN_ARGS = "--mpi=pmix"


def srun_done(a, job, what):
    """Every point of archive a done, by job `job`, on 2 ranks, both of
    which ran points; returns /status."""
    with h5py.File(a, "r") as h:
        st = h["status"][:]
        pv = h["provenance"][:]
    check(bool(np.all(st["state"] == 2)), "%s: every point done: %s"
          % (what, list(st["state"])))
    sizes = set(int(x) for x in pv["mpi_size"])
    ranks = set(int(x) for x in pv["rank"])
    check(sizes == {2} and ranks == {0, 1} and set(st["rank"]) == {0, 1},
          "%s: 2 ranks, both ran points: /provenance mpi_size %s, rank %s; "
          "/status rank %s" % (what, sizes, ranks, list(st["rank"])))
    jobs = set(x.decode() for x in pv["slurm_job_id"])
    check(jobs == {str(job)}, "%s: provenance has the job id %s: %s"
          % (what, job, jobs))
    return st


def srun_part(f, cl, env, tool, slurm_dir, sp6, ref6):
    """kapitza.sbatch with KAPITZA_LAUNCHER=srun on 2 tasks: a whole sweep,
    then a stop by SIGUSR1 through the batch shell and srun, and the
    resumption under srun."""
    r = cl.run(["srun", "--mpi=list"])
    if not check(r.returncode == 0
                 and re.search(r"^\s*pmix\s*$", r.stdout + r.stderr, re.M),
                 "srun --mpi=list offers pmix: %s %s" % (r.stdout, r.stderr)):
        return
    senv = dict(env, KAPITZA_LAUNCHER="srun", KAPITZA_SRUN_ARGS=SRUN_ARGS)
    script = os.path.join(slurm_dir, "kapitza.sbatch")
    sb = ["--ntasks=2", "--cpus-per-task=1", "--time=10"]

    # the 6-point sweep of array_part in one allocation, under srun
    a = f.path("six_srun.h5")
    job = cl.sbatch(sb + ["-o", f.path("six-srun-%j.out"), script, sp6, a,
                          "-q"], senv)
    if job is None:
        return
    cl.wait_job(job, 120)
    out = read(f.path("six-srun-%d.out" % job))
    codes = cl.job_field(job, "ExitCode")
    if not check(codes == ["0:0"] and "kapitza: all points done" in out
                 and os.path.exists(a),
                 "srun: the job's exit code %s (0: all done); output:\n%s"
                 % (codes, out[-1500:])):
        return
    srun_done(a, job, "srun")
    rc, d = h5diff(tool, ref6, a)
    check(rc == 0, "srun: /points equal the plain mpirun run's: %s" % d)

    # two long points, one per rank; SIGUSR1 to the batch shell, whose trap
    # passes it to srun, which forwards it to both ranks
    text = spec("srunsig", [50], [0.3, 0.6], t_max=16.0, chis=[40],
                measure_every=0.25)
    sp = f.write("srunsig.yaml", text)
    a = f.path("srunsig.h5")
    args = [script, sp, a, "--checkpoint-every", "0", "--progress", "2"]
    job = cl.sbatch(sb + ["-o", f.path("srunsig-%j.out")] + args, senv)
    if job is None:
        return

    def going():
        return running(a, np.all)
    wait_for(lambda: going() or cl.state(job) == "", 120, 0.2)
    if not check(going(), "srun: both points are running: %s"
                 % read(f.path("srunsig-%d.out" % job))[-1500:]):
        return
    r = cl.run(["scancel", "--batch", "--signal=USR1", str(job)])
    check(r.returncode == 0, "srun: scancel --batch --signal=USR1: %s"
          % r.stderr)
    cl.wait_job(job, 120)
    out = read(f.path("srunsig-%d.out" % job))
    codes = cl.job_field(job, "ExitCode")
    check(codes == ["3:0"], "srun: the stopped job's exit code %s (3); "
          "output:\n%s" % (codes, out[-1500:]))
    check("batch: SIGUSR1" in out and "passed on" in out
          and "stopped by the time-limit signal, checkpointed" in out,
          "srun: the batch shell passed SIGUSR1 on and the job "
          "checkpointed: %s" % out[-1500:])
    with h5py.File(a, "r") as h:
        st = h["status"][:]
        hashes = [x.decode() for x in h["points_table"]["hash"]]
    t_int = [float(x) for x in st["t_reached"]]
    check(list(st["state"]) == [4, 4] and set(st["rank"]) == {0, 1}
          and all("(checkpoint written)" in m.decode()
                  for m in st["message"]),
          "srun: both ranks' points interrupted and checkpointed: %s" % st)
    check(all(os.path.exists(os.path.join(a + ".ckpt", x + ".ckpt"))
              for x in hashes), "srun: checkpoint files %s"
          % (os.listdir(a + ".ckpt") if os.path.isdir(a + ".ckpt") else []))
    print("srun: job %d stopped at t = %s" % (job, t_int))

    # the same command again: the script resubmits, under srun
    job = cl.sbatch(sb + ["-o", f.path("srunsig-%j.out")] + args, senv)
    if job is None:
        return
    cl.wait_job(job, 120)
    out = read(f.path("srunsig-%d.out" % job))
    codes = cl.job_field(job, "ExitCode")
    check(codes == ["0:0"] and all(
        "resumes from its checkpoint at t = %g" % t in out for t in t_int),
        "srun: the resubmitting job (exit code %s) resumed both points: %s"
        % (codes, out[-1500:]))
    st = srun_done(a, job, "srun resumed")
    check(list(st["attempt"]) == [2, 2]
          and [float(x) for x in st["t_resumed"]] == t_int,
          "srun: attempt 2 of both, from t = %s: %s" % (t_int, st))
    ref = f.path("srunsig_ref.h5")
    p = f.run(2, ["run", sp, "-o", ref, "-q"])
    check(p.returncode == 0, "srun: plain run exit %d" % p.returncode)
    rc, d = h5diff(tool, ref, a)
    check(rc == 0, "srun: the stopped and resumed result equals a plain "
          "run: %s" % d)


def team_part(f, cl, env, tool, slurm_dir):
    """slurm/kapitza.sbatch on 2 tasks with --team-size 2: the sweep's big
    point runs on a team of both ranks (rank 0 leads: the job has no other
    rank), its two small points on single ranks, under mpirun and under
    srun; /points equal a single-rank run's."""
    text = spec("slurmteam", [40], [0.5], t_max=4.0, chis=[8, 12, 96],
                measure_every=0.25)
    sp = f.write("team.yaml", text)
    ref = f.path("team_ref.h5")
    p = f.run(None, ["run", sp, "-o", ref, "-q"])
    check(p.returncode == 0, "team: single-rank run exit %d" % p.returncode)
    with h5py.File(ref, "r") as h:
        big = list(h["points_table"]["chi_max"]).index(96)
    script = os.path.join(slurm_dir, "kapitza.sbatch")
    launchers = [("mpirun", env)]
    r = cl.run(["srun", "--mpi=list"])
    if re.search(r"^\s*pmix\s*$", r.stdout + r.stderr, re.M):
        launchers.append(("srun", dict(env, KAPITZA_LAUNCHER="srun",
                                       KAPITZA_SRUN_ARGS=SRUN_ARGS)))
    for name, e in launchers:
        a = f.path("team_%s.h5" % name)
        job = cl.sbatch(["--ntasks=2", "--cpus-per-task=1", "--time=10",
                         "-o", f.path("team-%s-%%j.out" % name), script, sp,
                         a, "-q", "--team-size", "2",
                         "--team-min-core-hours", "1e-4"], e)
        if job is None:
            continue
        cl.wait_job(job, 180)
        out = read(f.path("team-%s-%d.out" % (name, job)))
        codes = cl.job_field(job, "ExitCode")
        if not check(codes == ["0:0"] and os.path.exists(a),
                     "team %s: the job's exit code %s; output:\n%s"
                     % (name, codes, out[-1500:])):
            continue
        with h5py.File(a, "r") as h:
            st = h["status"][:]
            hs = h["history"][:, 0]
            pv = h["provenance"][:]
        check(bool(np.all(st["state"] == 2)), "team %s: all done: %s"
              % (name, list(st["state"])))
        want = ["0,1" if k == big else str(int(st["rank"][k]))
                for k in range(len(st))]
        got = [x.decode() for x in hs["team_ranks"]]
        check(got == want and [int(x) for x in hs["team_size"]]
              == [2 if k == big else 1 for k in range(len(st))],
              "team %s: point %d on the team 0,1, the others alone: "
              "/history team_ranks %s, team_size %s"
              % (name, big, got, list(hs["team_size"])))
        check(set(x.decode() for x in pv["slurm_job_id"]) == {str(job)},
              "team %s: provenance has the job id %s" % (name, job))
        rc, d = h5diff(tool, ref, a)
        check(rc == 0, "team %s: /points equal the single-rank run's: %s"
              % (name, d))
    check(len(launchers) == 2, "team: srun offers pmix: %s %s"
          % (r.stdout, r.stderr))


def main():
    argv = [x for x in sys.argv if x != "--full"]
    full = len(argv) != len(sys.argv)
    f = Farm(argv, "slurm")
    tool, slurm_dir = f.extra[0], os.path.abspath(f.extra[1])
    cl = Cluster()
    try:
        if cl.start():
            env = dict(cl.env)
            env.update(f.env)
            env["SLURM_CONF"] = cl.env["SLURM_CONF"]
            env["KAPITZA"] = f.kapitza
            env["KAPITZA_MPIRUN"] = f.mpirun
            env.pop("KAPITZA_FAULT_POINT", None)
            t0 = time.time()
            if full:
                signal_part(f, cl, env, tool, slurm_dir, True)
            else:
                sp6, ref6 = array_part(f, cl, env, tool, slurm_dir)
                signal_part(f, cl, env, tool, slurm_dir, False)
                t1 = time.time()
                srun_part(f, cl, env, tool, slurm_dir, sp6, ref6)
                print("srun checks: %.0f s" % (time.time() - t1))
                t1 = time.time()
                team_part(f, cl, env, tool, slurm_dir)
                print("team checks: %.0f s" % (time.time() - t1))
            print("SLURM checks: %.0f s" % (time.time() - t0))
    finally:
        cl.stop()
    f.cleanup()
    return done("slurm" + (" (full)" if full else ""))


if __name__ == "__main__":
    sys.exit(main())
