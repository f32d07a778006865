"""Team points in the farm (kapitza run/resubmit --team-size R
--team-min-core-hours X): a point whose modelled core-hours reach X runs on
a team of R ranks, the other points on single ranks of the same run.
- a sweep of one team point and two single points on 4 ranks (team of 2)
  completes; /history records each attempt's team (size, ranks, leader
  first = the rank of /status), the single points' teams of 1, and `kapitza
  status --history` shows the team; /points equal the single-rank run's
  (h5diff);
- the same with teams of 3 and of 4 (every point a team point: rank 0
  leads, since the remote ranks alone are too few), and with a dedicated
  scheduler (a team of 4 asked for, 3 remote ranks: capped to 3, rank 0 in
  no team); /points equal the single-rank run's;
- the ScaLAPACK path forced on (--team-scalapack 8): the team point says
  it decomposed sectors by ScaLAPACK, and every dataset is within 1e-12 of
  the single-rank run;
- a team point failing on its leader (KAPITZA_FAULT_POINT) ends its team:
  the run ends with the other points done, and resubmit completes it;
- a team point stopped by SIGTERM to every rank (while its leader holds
  after the checkpoint of t = 1, KAPITZA_TEST_HOLD_AT_ROW) is checkpointed
  by its leader (the gathered state) and marked
  interrupted; `kapitza resubmit --slurm` passes the team options on to
  the job script it writes (a stand-in sbatch keeps it); `kapitza resubmit`
  with a team of 3 resumes it from the checkpoint, and the result equals
  the uninterrupted single-rank run;
- a point stopped alone inside an interval (KAPITZA_TEST_HOLD_AT_STEP, a
  checkpoint at a layer) and resubmitted on a team of 2 equals the
  uninterrupted run (the leader finishes that interval alone first);
- a team point stopped inside an interval (its leader holds after a step,
  SIGTERM): checkpointed at a layer inside the interval, and resumed it
  equals the uninterrupted run;
- a team member killed with SIGKILL while its leader holds after a
  checkpoint (KAPITZA_TEST_HOLD_AT_ROW: the checkpoint file is the event
  waited for) takes the job down; `kapitza resubmit` on a team of 2 resumes
  the point and the result equals the single-rank run;
- shards: the two shards of the three-point sweep, each run with teams,
  merge into the single-rank run's /points;
- `kapitza bench --team` on 2 ranks prints alone's line plus team=2, with
  the same discarded weight and bonds, counted flops, and the busiest
  rank's share of the gate seconds.

usage: test_team_farm.py KAPITZA MPIRUN H5DIFF"""
import os
import re
import signal
import subprocess
import sys

import h5py
import numpy as np

from ckpttest import children, history, kill_job, wait_for
from farmtest import Farm, check, done, spec

# the chi 96 point's modelled core-hours are ~3e-4, the chi 8 and 12
# points' ~6e-5 (the per-step constant dominates): 1e-4 makes one team point
# (rho3 too: the team measures its three-site windows across boundaries)
THREE = dict(lengths=[40], deltas=[0.5], t_max=4.0, chis=[8, 12, 96],
             measure_every=0.25,
             measure=["energy", "energy_current", "magnetization",
                      "spin_current", "entropy", "rho3"])
THRESHOLD = "1e-4"


def h5same(tool, a, b):
    d = subprocess.run([tool, a, b, "/points", "/points"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return d.returncode == 0, d.stdout[:1500]


def slot(path, k, attempt):
    """The /history slot of attempt `attempt` of point k, and /status."""
    with h5py.File(path, "r") as h:
        x = h["history"][k, attempt - 1]
        st = h["status"][k]
    return (dict(rank=int(x["rank"]), team_size=int(x["team_size"]),
                 team=x["team_ranks"].decode(), outcome=int(x["outcome"])),
            st)


def ranks_of(text):
    out = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def roles(f, tool, sp, ref, name, ranks, size, extra, team_pts):
    """A run with teams of `size`; team_pts: the ids that must run on a
    team.  Returns the team of each point."""
    a = f.path(name + ".h5")
    p = f.run(ranks, ["run", sp, "-o", a, "-q", "--team-size", str(size)]
              + extra)
    if not check(p.returncode == 0, "%s: exit %d: %s"
                 % (name, p.returncode, p.stderr[-1500:])):
        return {}
    teams = {}
    with h5py.File(a, "r") as h:
        st = h["status"][:]
        npts = len(st)
    check(bool(np.all(st["state"] == 2)), "%s: all done" % name)
    for k in range(npts):
        x, s = slot(a, k, 1)
        team = ranks_of(x["team"])
        teams[k] = team
        want = size if k in team_pts else 1
        check(x["team_size"] == want and len(team) == want
              and len(set(team)) == want
              and all(0 <= r < ranks for r in team),
              "%s: point %d ran on a team of %d: %s" % (name, k, want, x))
        check(x["rank"] == team[0] == int(s["rank"]),
              "%s: point %d's leader %d is the rank of /history and "
              "/status (%d, %d)" % (name, k, team[0], x["rank"], s["rank"]))
    s = f.status(a, "--history")
    for k in team_pts:
        check(("team %s" % slot(a, k, 1)[0]["team"]) in s.stdout,
              "%s: status --history shows point %d's team: %s"
              % (name, k, s.stdout[-1200:]))
    ok, out = h5same(tool, ref, a)
    check(ok, "%s: /points equal the single-rank run's: %s" % (name, out))
    return teams


def farm_part(f, tool):
    sp = f.write("three.yaml", spec("three", **THREE))
    ref = f.path("three_ref.h5")
    p = f.run(None, ["run", sp, "-o", ref, "-q"])
    check(p.returncode == 0, "single-rank run exit %d: %s"
          % (p.returncode, p.stderr[-800:]))
    with h5py.File(ref, "r") as h:
        chis = list(h["points_table"]["chi_max"])
    big = chis.index(96)
    dry = f.run(4, ["run", sp, "--dry-run", "--team-size", "2",
                    "--team-min-core-hours", THRESHOLD])
    check(("teams (2 ranks, points of >= %g core-hours): %d (2 ranks)\n"
           % (float(THRESHOLD), big)) in dry.stdout,
          "dry run names the one team point %d: %s" % (big, dry.stdout))
    thr = ["--team-min-core-hours", THRESHOLD]
    t2 = roles(f, tool, sp, ref, "team2", 4, 2, thr, [big])
    if t2:
        singles = [t2[k][0] for k in t2 if k != big]
        print("team of 2: point %d on ranks %s, single points on %s"
              % (big, t2[big], singles))
    roles(f, tool, sp, ref, "team3", 4, 3, thr, [big])
    t4 = roles(f, tool, sp, ref, "team4", 4, 4,
               ["--team-min-core-hours", "0"], [0, 1, 2])
    check(all(t4.get(k, [None])[0] == 0 for k in range(3)),
          "team of 4 on 4 ranks: rank 0 leads every point: %s" % t4)
    td = roles(f, tool, sp, ref, "team_dedicated", 4, 3,
               ["--dedicated-scheduler"] + thr, [big])
    check(td and all(0 not in t for t in td.values()),
          "dedicated scheduler: rank 0 in no team: %s" % td)
    p = f.run(4, ["run", sp, "-o", f.path("capped.h5"), "-q",
                  "--team-size", "4", "--dedicated-scheduler"] + thr)
    x = slot(f.path("capped.h5"), big, 1)[0] if p.returncode == 0 else {}
    check(x.get("team_size") == 3 and x.get("team") == "1-3",
          "a team of 4 with 3 remote ranks and a dedicated scheduler is "
          "capped to 1-3: %s %s" % (x, p.stderr[-500:]))

    # the ScaLAPACK path forced on small sectors: equal to 1e-12
    a = f.path("scalapack.h5")
    p = f.run(3, ["run", sp, "-o", a, "-q", "--team-size", "2",
                  "--team-scalapack", "8"] + thr)
    m = re.search(r"point %d: team of 2, (\d+) sectors by ScaLAPACK" % big,
                  p.stderr)
    check(p.returncode == 0 and m is not None and int(m.group(1)) > 0,
          "scalapack: the team point used the path (exit %d): %s"
          % (p.returncode, p.stderr[-800:]))
    if p.returncode == 0:
        worst = 0.0
        with h5py.File(ref, "r") as r, h5py.File(a, "r") as h:
            for k in r["points"]:
                for name in r["points/" + k]:
                    x = r["points/%s/%s" % (k, name)][()]
                    y = h["points/%s/%s" % (k, name)][()]
                    if x.dtype.names:  # rho3: {r, i}
                        x = np.stack([x[c] for c in x.dtype.names])
                        y = np.stack([y[c] for c in y.dtype.names])
                    fin = np.isfinite(x)
                    check(np.array_equal(fin, np.isfinite(y)),
                          "scalapack: %s/%s rows written" % (k, name))
                    if fin.any():
                        worst = max(worst, float(np.max(np.abs(
                            x[fin].astype(float) - y[fin].astype(float)))))
        print("scalapack: largest difference %.3g" % worst)
        check(worst <= 1e-12, "scalapack: every dataset within 1e-12 of "
              "the single-rank run: %.3g" % worst)

    # a team point that fails (KAPITZA_FAULT_POINT: after its first row, on
    # the leader) ends its team: the members are free again, the run ends,
    # and resubmit (alone this time) completes it
    a = f.path("fault.h5")
    p = f.run(4, ["run", sp, "-o", a, "-q", "--team-size", "2"] + thr,
              env={"KAPITZA_FAULT_POINT": str(big)})
    with h5py.File(a, "r") as h:
        st = h["status"][:]
    check(p.returncode == 1 and int(st["state"][big]) == 3
          and st["message"][big].decode() == "injected fault"
          and sum(int(x) == 2 for x in st["state"]) == 2,
          "fault: the team point failed, the others done (exit %d): %s"
          % (p.returncode, st))
    p = f.run(2, ["resubmit", a])
    x = slot(a, big, 2)[0]
    check(p.returncode == 0 and x["team_size"] == 1 and x["outcome"] == 2,
          "fault: resubmit alone completes it: %s %s" % (x, p.stderr[-500:]))
    ok, out = h5same(tool, ref, a)
    check(ok, "fault: resubmitted = single-rank run: %s" % out)

    # shards: each shard's team point on a team, merged = single-rank run
    shards = []
    for i in range(2):
        s = f.path("shard%d.h5" % i)
        p = f.run(3, ["run", sp, "-o", s, "-q", "--shard", "%d/2" % i,
                      "--team-size", "2"] + thr)
        check(p.returncode == 0, "shard %d exit %d: %s"
              % (i, p.returncode, p.stderr[-800:]))
        shards.append(s)
    m = f.path("merged.h5")
    p = f.run(1, ["merge"] + shards + ["-o", m])
    check(p.returncode == 0, "merge: %s" % p.stderr[-800:])
    ok, out = h5same(tool, ref, m)
    check(ok, "merged team shards equal the single-rank run: %s" % out)
    with h5py.File(m, "r") as h:
        x = h["history"][big, 0]
    check(int(x["team_size"]) == 2, "merge keeps the team of point %d: %s"
          % (big, x))


def rank_pid(proc, rank):
    """The pid of MPI rank `rank` of mpirun proc (its environment)."""
    for pid in children(proc.pid):
        try:
            with open("/proc/%d/environ" % pid, "rb") as e:
                env = e.read().split(b"\0")
        except OSError:
            continue
        if ("OMPI_COMM_WORLD_RANK=%d" % rank).encode() in env:
            return pid
    return None


def long_spec(f):
    # one point of a few seconds on one core
    sp = f.write("long.yaml", spec("long", [60], [0.5], t_max=10.0,
                                   chis=[48], measure_every=0.25))
    ref = f.path("long_ref.h5")
    p = f.run(None, ["run", sp, "-o", ref, "-q"])
    check(p.returncode == 0, "long single-rank run exit %d: %s"
          % (p.returncode, p.stderr[-800:]))
    return sp, ref


def signal_part(f, tool, sp, ref):
    # the leader checkpoints row 4 (t = 1) and holds there until the
    # signal: the checkpoint file is the event, whatever the machine's speed
    a = f.path("term.h5")
    proc = f.start(2, ["run", sp, "-o", a, "-q", "--checkpoint-every", "0",
                       "--team-size", "2"],
                   env={"KAPITZA_TEST_HOLD_AT_ROW": "4"})
    with h5py.File(ref, "r") as h:
        ck0 = os.path.join(a + ".ckpt",
                           h["points_table"]["hash"][0].decode() + ".ckpt")
    check(wait_for(lambda: os.path.exists(ck0), 180),
          "sigterm: the team point checkpointed t = 1 and holds")
    kids = children(proc.pid)
    check(len(kids) == 2, "sigterm: found the 2 ranks %s" % kids)
    for pid in kids:
        os.kill(pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=180)
    check(proc.returncode == 3, "sigterm: exit %d (3: stopped): %s"
          % (proc.returncode, err[-1500:]))
    with h5py.File(a, "r") as h:
        st = h["status"][0]
        phash = h["points_table"]["hash"][0].decode()
    t_int = float(st["t_reached"])
    check(int(st["state"]) == 4
          and "(checkpoint written)" in st["message"].decode()
          and t_int == 1.0,
          "sigterm: interrupted with a checkpoint at t = %g: %s"
          % (t_int, st))
    x = slot(a, 0, 1)[0]
    check(x["team_size"] == 2 and x["team"] == "0,1" and x["outcome"] == 4,
          "sigterm: attempt 1 on the team 0,1: %s" % x)
    ck = os.path.join(a + ".ckpt", phash + ".ckpt")
    check(os.path.exists(ck), "sigterm: the leader wrote %s" % ck)

    # resubmit --slurm passes the team options on to the job it writes
    # (a stand-in sbatch on PATH keeps the script)
    fake = f.path("bin")
    os.makedirs(fake, exist_ok=True)
    with open(os.path.join(fake, "sbatch"), "w") as fh:
        fh.write("#!/bin/sh\ncat > %s\necho 'Submitted batch job 7'\n"
                 % f.path("job.sh"))
    os.chmod(os.path.join(fake, "sbatch"), 0o755)
    p = f.run(None, ["resubmit", a, "--team-size", "3",
                     "--team-min-core-hours", "0.5", "--slurm", "--time=5"],
              env={"PATH": fake + ":" + os.environ.get("PATH", "")})
    script = open(f.path("job.sh")).read() if os.path.exists(
        f.path("job.sh")) else ""
    check(p.returncode == 0 and " --team-size 3 --team-min-core-hours 0.5"
          in script, "sigterm: resubmit --slurm passes the team on: %s %s"
          % (p.stderr[-500:], script[-600:]))

    p = f.run(3, ["resubmit", a, "--team-size", "3"])
    check(p.returncode == 0, "sigterm: resubmit on a team of 3, exit %d: %s"
          % (p.returncode, p.stderr[-1500:]))
    check("resumes from its checkpoint at t = %g" % t_int in p.stdout,
          "sigterm: resumed from t = %g: %s" % (t_int, p.stdout[-800:]))
    x, st = slot(a, 0, 2)
    check(x["team_size"] == 3 and x["team"] == "0-2" and x["outcome"] == 2
          and int(st["attempt"]) == 2 and float(st["t_resumed"]) == t_int,
          "sigterm: attempt 2 on the team 0-2 from t = %g: %s %s"
          % (t_int, x, st))
    check(not os.path.exists(ck), "sigterm: checkpoint removed when done")
    ok, out = h5same(tool, ref, a)
    check(ok, "sigterm: interrupted on 2, resumed on 3 = single-rank run: "
          "%s" % out)


def mid_interval_part(f, tool, sp, ref):
    """A point stopped alone inside an interval (a version-2 checkpoint at
    a layer) and resumed on a team: the leader finishes that interval
    alone, then the team goes on; the result is the uninterrupted run."""
    a = f.path("mid.h5")
    proc = f.start_held(None, ["run", sp, "-o", a, "-q"], step=22)
    held = f.wait_held(proc, 1)
    check(len(held) == 1, "mid: the point holds inside an interval: %s"
          % f.held_stderr(proc)[-800:])
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=180)
    check(proc.returncode == 3, "mid: stopped (exit %d)" % proc.returncode)
    p = f.run(2, ["resubmit", a, "--team-size", "2"])
    check(p.returncode == 0, "mid: resubmit on a team of 2, exit %d: %s"
          % (p.returncode, p.stderr[-1500:]))
    x = slot(a, 0, 2)[0]
    check(x["team_size"] == 2 and x["outcome"] == 2,
          "mid: attempt 2 ran on a team of 2: %s" % x)
    ok, out = h5same(tool, ref, a)
    check(ok, "mid: stopped inside an interval alone, resumed on a team = "
          "uninterrupted run: %s" % out)


def team_mid_part(f, tool, sp, ref):
    """A team point stopped inside an interval: its leader holds after step
    22 (KAPITZA_TEST_HOLD_AT_STEP, inside the interval of row 2) until
    SIGTERM, the team agrees to stop TEAM_STOP_LAG layers later, the leader
    checkpoints the gathered state at that layer; resumed (the leader
    finishes the interval alone, then a team of 2), it equals the
    uninterrupted run."""
    a = f.path("tmid.h5")
    proc = f.start_held(2, ["run", sp, "-o", a, "-q", "--team-size", "2"],
                        step=22)
    held = f.wait_held(proc, 1)
    check(len(held) == 1, "team mid: the leader holds inside an interval: "
          "%s" % f.held_stderr(proc)[-800:])
    for pid in children(proc.pid):
        os.kill(pid, signal.SIGTERM)
    proc.communicate(timeout=180)
    check(proc.returncode == 3, "team mid: stopped (exit %d): %s"
          % (proc.returncode, f.held_stderr(proc)[-1500:]))
    with h5py.File(a, "r") as h:
        msg = h["status"][0]["message"].decode()
    m = re.search(r"interrupted at t = [0-9.e+-]+ \+ (\d+) of (\d+) layers "
                  r"\(checkpoint written\)", msg)
    check(m is not None and 0 < int(m.group(1)) < int(m.group(2)),
          "team mid: checkpointed inside the interval: %s" % msg)
    x = slot(a, 0, 1)[0]
    check(x["team_size"] == 2 and x["outcome"] == 4,
          "team mid: attempt 1 on a team of 2, interrupted: %s" % x)
    p = f.run(2, ["resubmit", a, "--team-size", "2"])
    check(p.returncode == 0, "team mid: resubmit, exit %d: %s"
          % (p.returncode, p.stderr[-1500:]))
    ok, out = h5same(tool, ref, a)
    check(ok, "team mid: stopped inside an interval on a team, resumed = "
          "uninterrupted run: %s" % out)


def kill_part(f, tool, sp, ref):
    a = f.path("kill.h5")
    hold_row = 4  # t = 1
    proc = f.start(3, ["run", sp, "-o", a, "-q", "--checkpoint-every", "0",
                       "--team-size", "2"],
                   env={"KAPITZA_TEST_HOLD_AT_ROW": str(hold_row)})
    with h5py.File(ref, "r") as h:
        phash = h["points_table"]["hash"][0].decode()
    ck = os.path.join(a + ".ckpt", phash + ".ckpt")
    held = wait_for(lambda: os.path.exists(ck), 180)
    check(held, "sigkill: the leader checkpointed row %d and holds"
          % hold_row)
    team = []
    if held:
        x = slot(a, 0, 1)[0]
        team = ranks_of(x["team"])
        check(x["team_size"] == 2 and len(team) == 2,
              "sigkill: the point runs on a team of 2: %s" % x)
    victim = rank_pid(proc, team[1]) if len(team) == 2 else None
    check(victim is not None, "sigkill: found the member, rank %s"
          % team[1:])
    if victim is not None:
        os.kill(victim, signal.SIGKILL)
    try:
        proc.communicate(timeout=120)
        check(proc.returncode != 0, "sigkill: the job failed (exit %d)"
              % proc.returncode)
    except subprocess.TimeoutExpired:
        kill_job(proc)
        proc.communicate(timeout=60)
        check(False, "sigkill: mpirun ended the job after a member died")
    with h5py.File(a, "r") as h:
        st = h["status"][0]
    # mpirun ends the others with SIGTERM: the holding leader may still
    # mark its point interrupted; either way the checkpoint is there
    check(int(st["state"]) in (1, 4) and os.path.exists(ck),
          "sigkill: the point is left running or interrupted with its "
          "checkpoint: %s" % st)
    p = f.run(2, ["resubmit", a, "--team-size", "2"])
    check(p.returncode == 0, "sigkill: resubmit exit %d: %s"
          % (p.returncode, p.stderr[-1500:]))
    check("resumes from its checkpoint at t = 1" in p.stdout,
          "sigkill: resumed from t = 1: %s" % p.stdout[-800:])
    hs = [x for x in history(a) if x["point"] == 0]
    check(len(hs) == 2 and hs[0]["outcome"] in (1, 4)
          and hs[1]["outcome"] == 2,
          "sigkill: the dead attempt stays running or interrupted, the "
          "second is done: %s" % hs)
    ok, out = h5same(tool, ref, a)
    check(ok, "sigkill: resumed = single-rank run: %s" % out)


def bench_part(f):
    """`kapitza bench --team` on 2 ranks: the same final line as alone plus
    team=2, the same discarded weight and largest bond (a team evolves the
    point bitwise as one rank), counted flops on the line, and the busiest
    rank's share of the gate seconds between even and all."""
    args = ["bench", "--chi", "48", "--t-end", "3"]
    alone = f.run(None, args)
    team = f.run(2, args + ["--team"])
    check(alone.returncode == 0 and team.returncode == 0,
          "bench: exit %d alone, %d on a team: %s" % (
              alone.returncode, team.returncode, team.stderr[-800:]))

    def fields(out):
        line = [ln for ln in out.splitlines() if ln.startswith("bench L=")]
        return dict(kv.split("=", 1) for kv in line[-1].split()[1:]) \
            if line else {}
    a, t = fields(alone.stdout), fields(team.stdout)
    check(t.get("team") == "2" and "team" not in a,
          "bench: team=2 on the team's line only: %s / %s" % (a, t))
    check(a and all(a.get(k) == t.get(k)
                    for k in ("discarded", "max_bond", "bonds_at_chi")),
          "bench: the team's discarded weight and bonds equal alone's: "
          "%s / %s" % (a, t))
    check(float(t.get("sat_gflops", 0)) > 0,
          "bench: the team's line has counted flops: %s" % t)
    m = re.search(r"busiest rank had ([0-9.]+)% .*\(([0-9.]+)% with ranges "
                  r"balanced on those seconds, ([0-9.]+)% even\)",
                  team.stderr)
    check(m is not None and float(m.group(3)) == 50.0
          and 50.0 <= float(m.group(2)) <= float(m.group(1)) + 1e-9
          and float(m.group(1)) <= 100.0,
          "bench: the busiest rank's share: %s" % (
              m.group(0) if m else team.stderr[-800:]))


def main():
    f = Farm(sys.argv, "team-farm")
    tool = f.extra[0]
    farm_part(f, tool)
    bench_part(f)
    sp, ref = long_spec(f)
    signal_part(f, tool, sp, ref)
    mid_interval_part(f, tool, sp, ref)
    team_mid_part(f, tool, sp, ref)
    kill_part(f, tool, sp, ref)
    f.cleanup()
    return done("team_farm")


if __name__ == "__main__":
    sys.exit(main())
