"""test_blascore: kapitza runs OpenBLAS's vector kernels where the CPU has
them, and leaves an explicit OPENBLAS_CORETYPE alone.

A DYNAMIC_ARCH OpenBLAS that does not know the CPU model falls back to its
SSE3 "Prescott" kernels; kapitza then re-executes itself with
OPENBLAS_CORETYPE set (engine/util/blascore.c).  Checked through
`kapitza bench --peak`, which names the kernel set in use:
  1. without OPENBLAS_CORETYPE, on a CPU (and OS) with AVX2 + FMA or
     AVX-512 F/DQ/BW/VL, the kernels are not Prescott's (on an older CPU
     only that the command ran; the CPU flags come from /proc/cpuinfo);
  2. with OPENBLAS_CORETYPE=Prescott, they are Prescott's (the user's
     choice wins, and no exec loop);
  3. the re-executed program got its arguments (the --peak line is there,
     with a positive rate).

usage: test_blascore.py KAPITZA
"""
import os
import re
import subprocess
import sys


def peak(exe, coretype):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    r = subprocess.run([exe, "bench", "--peak"], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, (r.returncode, r.stderr)
    m = re.search(r"^peak blas=(\S+) zgemm_gflops=([0-9.]+)", r.stdout, re.M)
    assert m, "no peak line in %r" % r.stdout
    assert float(m.group(2)) > 0, r.stdout
    return m.group(1)


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def main():
    exe = sys.argv[1]
    flags = cpu_flags()
    vec = ({"avx2", "fma"} <= flags or
           {"avx512f", "avx512dq", "avx512bw", "avx512vl"} <= flags)
    auto = peak(exe, None)
    print("without OPENBLAS_CORETYPE: %s (AVX2/AVX-512 in cpuinfo: %s)"
          % (auto, vec))
    if vec:
        assert auto.lower() != "prescott", auto
    forced = peak(exe, "Prescott")
    print("with OPENBLAS_CORETYPE=Prescott: %s" % forced)
    assert forced.lower() == "prescott", forced
    print("ok")


if __name__ == "__main__":
    main()
