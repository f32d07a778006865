"""Acceptance 3: an h5py reader that knows only engine/ARCHIVE.md reads an
archive and checks shapes, attributes and values: the domain wall at t = 0
(sz = +1/2 on sites n <= 0, -1/2 on n > 0, entropy 0, bond dimension 1,
E_n = Delta_n / 4 on aligned bonds, no currents), total S^z conserved at all
times, rows at t = k * measure_every, and the last profile equal to a
direct kernel run of the same point (tests/engine/kernel_profile.c).  A
second run with `measure: [magnetization, rho3]` checks that only the
requested observables are stored and that rho3 is a density matrix whose
S^z agrees with the sz dataset.

usage: test_farm_reader.py KAPITZA MPIRUN KERNEL_PROFILE"""
import re
import subprocess
import sys

import h5py
import numpy as np

from farmtest import Farm, check, check_close, done, spec


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h


def s(x):
    """Fixed-length string attributes and fields arrive as bytes."""
    return x.decode() if isinstance(x, (bytes, np.bytes_)) else str(x)


def kernel_profile(exe, row):
    args = [exe, str(row["L"]), repr(float(row["delta_left"])),
            repr(float(row["delta_right"])), str(row["order"]),
            repr(float(row["dt"])), str(row["chi_max"]),
            repr(float(row["cutoff"])), str(row["steps_per_measure"]),
            str(row["n_measure"])]
    out = subprocess.run(args, stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    prof = {"sz": {}, "energy": {}, "entropy": {}}
    for line in out.splitlines():
        w = line.split()
        if w[0] in prof:
            prof[w[0]][int(w[1])] = float(w[2])
        else:
            prof[w[0]] = float(w[1])
    L = int(row["L"])
    return (prof["t"], np.array([prof["sz"][i] for i in range(L)]),
            np.array([prof["energy"][i] for i in range(L - 1)]),
            np.array([prof["entropy"][i] for i in range(L - 1)]),
            prof["norm"])


def check_point(h, pid, row, profile_exe):
    g = h["points/%d" % pid]
    L, n = int(row["L"]), int(row["n_measure"])
    dr = float(row["delta_right"])
    # group attributes mirror the points table
    check(int(g.attrs["L"]) == L and s(g.attrs["hash"]) == s(row["hash"]),
          "point %d attributes" % pid)
    check(int(g.attrs["first_site_n"]) == -L // 2 + 1, "first_site_n")
    shapes = {"time": (n,), "sz": (n, L), "energy": (n, L - 1),
              "energy_current": (n, L - 1), "spin_current": (n, L - 1),
              "energy_flow": (n, L), "entropy": (n, L - 1),
              "bond_dim": (n, L - 1), "norm": (n,), "discarded": (n,),
              "discarded_max": (n,)}
    for name, shape in shapes.items():
        check(name in g and g[name].shape == shape,
              "point %d %s shape %s" % (pid, name,
                                        g[name].shape if name in g else None))
        units = s(g[name].attrs["units"])
        check(len(units) > 0 and (name in ("entropy", "bond_dim", "norm",
                                            "discarded", "discarded_max")
                                  or "J = 1" in units),
              "%s units %r" % (name, units))
    check("n = -L/2+1" in s(g["sz"].attrs["index0"]), "sz index0")
    check("bond n = -L/2+1" in s(g["energy"].attrs["index0"]),
          "energy index0")
    check(g["bond_dim"].dtype == np.int32, "bond_dim is int32")
    check(np.isnan(g["sz"].fillvalue), "NaN fill value")

    t = g["time"][:]
    check_close(t, np.arange(n) * float(row["measure_every"]), 1e-12,
                "point %d times" % pid)
    sz, E = g["sz"][:], g["energy"][:]
    # t = 0: the domain wall, up on kernel sites i <= L/2-1 (n <= 0)
    wall = np.where(np.arange(L) <= L // 2 - 1, 0.5, -0.5)
    check_close(sz[0], wall, 1e-14, "point %d sz(t=0)" % pid)
    check_close(g["entropy"][0], 0, 1e-14, "entropy(t=0)")
    check(np.all(g["bond_dim"][0] == 1), "bond_dim(t=0) = 1")
    check_close(g["norm"][:], 1, 1e-10, "norm")
    # E_n = Delta_n <Sz Sz> = Delta_n/4 on aligned bonds; the XX bonds
    # (i <= L/2-1, n <= 0) and the wall bond carry 0
    E0 = np.where(np.arange(L - 1) >= L // 2, dr / 4, 0.0)
    check_close(E[0], E0, 1e-14, "point %d energy(t=0)" % pid)
    for name in ("spin_current", "energy_current", "energy_flow"):
        check_close(g[name][0], 0, 1e-14, "%s(t=0)" % name)
    # U(1): total S^z stays 0 exactly up to rounding
    check_close(sz.sum(axis=1), 0, 1e-10, "point %d total Sz(t)" % pid)
    # the wall has moved by the end
    check(abs(sz[-1][L // 2 - 1] - 0.5) > 1e-3, "dynamics happened")
    d = g["discarded"][:]
    check(np.all(np.diff(d) >= 0), "discarded weight accumulates")
    check(np.all(g["discarded_max"][:] <= d + 1e-300), "max <= total")

    # the last profile against a direct kernel run of the same point
    tk, szk, Ek, Sk, nk = kernel_profile(profile_exe, row)
    check_close(t[-1], tk, 1e-12, "final time")
    check_close(sz[-1], szk, 1e-12, "point %d sz vs kernel" % pid)
    check_close(E[-1], Ek, 1e-12, "point %d energy vs kernel" % pid)
    check_close(g["entropy"][-1], Sk, 1e-12, "entropy vs kernel")
    check_close(g["norm"][-1], nk, 1e-12, "norm vs kernel")


def main():
    f = Farm(sys.argv, "reader")
    profile_exe = f.extra[0]
    text = spec("reader", [12], [0, 0.6], t_max=2.0, chis=[8],
                orders=[4], measure_every=0.5)
    sp = f.write("s.yaml", text)
    a = f.path("r.h5")
    p = f.run(2, ["run", sp, "-o", a, "-q"])
    check(p.returncode == 0, "run exit %d: %s" % (p.returncode, p.stderr))

    with h5py.File(a, "r") as h:
        at = h.attrs
        check(s(at["format"]) == "kapitza-archive", "format")
        check(int(at["format_version"]) == 1, "format_version")
        check(s(at["spec_text"]) == text, "spec_text is the file")
        check(s(at["spec_hash"]) == fnv1a64(text.encode()),
              "spec_hash = FNV-1a 64 of the text")
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                           s(at["created"])) is not None, "created")
        check(len(s(at["kapitza_version"])) > 0, "kapitza_version")
        check(int(at["npoints"]) == 2, "npoints")
        tab = h["points_table"][:]
        st = h["status"][:]
        pv = h["provenance"][:]
        check(list(tab["id"]) == [0, 1], "ids")
        check_close(tab["delta_right"], [0, 0.6], 0, "delta_right column")
        check(list(tab["state"]) == [1, 1], "domain_wall = 1")
        check(np.all(st["state"] == 2), "done")
        check_close(st["t_reached"], 2.0, 1e-12, "t reached")
        check(np.all(st["rows"] == 5), "5 rows")
        check(np.all(st["max_bond_dim"] >= 2), "chi grew")
        check(all(s(x) == s(at["kapitza_version"]) for x in pv["version"]),
              "provenance version")
        check(all(len(s(x)) > 0 for x in pv["host"]), "provenance host")
        check(all(s(a0) <= s(a1) for a0, a1 in
                  zip(pv["start_time"], pv["end_time"])), "start <= end")
        check(all(("gcc" in s(x) or "clang" in s(x)) and "openblas=" in s(x)
                  for x in pv["compiler"]),
              "compiler and OpenBLAS kernel set recorded")
        for pid in range(2):
            check_point(h, pid, tab[pid], profile_exe)

    # measure: only what is asked for, and rho3
    text = spec("rho3", [8], [0.5], t_max=1.0, chis=[16], orders=[4],
                measure_every=0.5, measure=["magnetization", "rho3"])
    sp = f.write("rho3.yaml", text)
    a = f.path("rho3.h5")
    p = f.run(1, ["run", sp, "-o", a, "-q"])
    check(p.returncode == 0, "rho3 run exit %d: %s"
          % (p.returncode, p.stderr))
    with h5py.File(a, "r") as h:
        g = h["points/0"]
        check("energy" not in g and "entropy" not in g
              and "spin_current" not in g, "unrequested observables absent")
        for name in ("time", "sz", "bond_dim", "norm", "discarded"):
            check(name in g, "%s always present" % name)
        r = g["rho3"][:]
        check(r.dtype == np.complex128 and r.shape == (3, 6, 8, 8),
              "rho3 complex (n, L-2, 8, 8): %s %s" % (r.dtype, r.shape))
        check_close(np.trace(r, axis1=2, axis2=3), 1, 1e-12, "tr rho3 = 1")
        check_close(np.abs(r - np.conj(np.swapaxes(r, 2, 3))).max(), 0,
                    1e-13, "rho3 Hermitian")
        ev = np.linalg.eigvalsh(r[-1])
        check(ev.min() > -1e-10, "rho3 positive: %g" % ev.min())
        # <Sz> of the window's first site: bit 2 of the basis index
        up = (np.arange(8) >> 2) & 1
        szr = np.einsum("twaa,a->tw", r, up - 0.5).real
        check_close(szr, g["sz"][:, :6], 1e-12, "Sz from rho3 = sz")
    f.cleanup()
    return done("farm_reader")


if __name__ == "__main__":
    sys.exit(main())
