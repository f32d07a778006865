"""test_architecture: every name ARCHITECTURE.md cites exists in the tree.

Each span in backticks is read as
  - a function, `name()`: some .c, .h or .py file of the tree must contain
    `name(` (a definition or a call: the page names real functions);
  - a path, a span of path characters that contains a '/' (not first: a
    leading '/' is a group of the HDF5 archive, not a file) or ends in a
    file extension: it must exist, relative to the repository root (a bare
    file name: some file of the tree has that name);
  - anything else (a command line, a string) is not checked.
The page must cite at least 20 paths and 20 functions, so that a page that
lost its names cannot pass.

usage: test_architecture.py REPO_ROOT
"""
import os
import re
import sys

EXT = (".c", ".h", ".py", ".md", ".yaml", ".build", ".sbatch", ".sh")
SKIP_DIRS = {".git", "build"}


def tree_files(root):
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS
                   and not x.startswith("build")]
        for f in files:
            yield os.path.join(d, f)


def main(argv):
    root = os.path.abspath(argv[1])
    text = open(os.path.join(root, "ARCHITECTURE.md"), encoding="utf-8").read()
    spans = re.findall(r"`([^`\n]+)`", text)
    funcs, paths = set(), set()
    for s in spans:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\(\)", s):
            funcs.add(s[:-2])
        elif re.fullmatch(r"[A-Za-z0-9_.\-/]+", s) and not s.startswith("/") \
                and ("/" in s or s.endswith(EXT)):
            paths.add(s)
    files = list(tree_files(root))
    names = {os.path.basename(f) for f in files}
    missing = []
    for p in sorted(paths):
        if "/" in p.rstrip("/"):
            if not os.path.exists(os.path.join(root, p)):
                missing.append("path " + p)
        elif p.rstrip("/") not in names and \
                not os.path.isdir(os.path.join(root, p)):
            missing.append("file " + p)
    sources = []
    for f in files:
        if f.endswith((".c", ".h", ".py")) and \
                os.path.basename(f) != "test_architecture.py":
            with open(f, encoding="utf-8", errors="replace") as fh:
                sources.append(fh.read())
    blob = "\n".join(sources)
    for fn in sorted(funcs):
        if not re.search(r"(?<![A-Za-z0-9_])" + re.escape(fn) + r"\s*\(",
                         blob):
            missing.append("function %s()" % fn)
    print("ARCHITECTURE.md: %d paths, %d functions cited"
          % (len(paths), len(funcs)))
    ok = True
    if len(paths) < 20 or len(funcs) < 20:
        print("FAIL: too few names cited (at least 20 paths and 20 "
              "functions expected)")
        ok = False
    for m in missing:
        print("FAIL: ARCHITECTURE.md cites %s, which is not in the tree" % m)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
