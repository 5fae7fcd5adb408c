#!/usr/bin/env python3
"""Independent oracle: Ubuntu cvescan data against a dpkg status file.

THIS IS A TEST-DATA GENERATOR, NOT PART OF THE PRODUCT. It shares no code
with Kensa: it exists to compute, from the raw inputs and by a second and
deliberately simple route, what the CVE rules package must report for one
fixture, so that internal/rules/cve/ubuntu_test.go can compare Kensa's
findings with it record by record. Its output is committed as
internal/rules/cve/testdata/ubuntu-20.04-base-focal.expected; the Go test
reads that file and never runs this script.

Inputs (defaults are the shared fixtures of the Kensa workplace):

  --status  .../fixtures/pkgdb/dpkg/ubuntu-20.04-base/var/lib/dpkg/status
  --db      .../vulndata/native/ubuntu/ubuntu-vuln-db-focal.json.bz2
  --out     internal/rules/cve/testdata/ubuntu-20.04-base-focal.expected
            ("-" writes to standard output)

Usage, from the repository root:

  python3 scripts/oracle/ubuntu_cvescan.py            # regenerate
  python3 scripts/oracle/ubuntu_cvescan.py --check    # compare, exit 1 on a diff

Versions are compared by the real dpkg (`dpkg --compare-versions`), never
by a reimplementation; without /usr/bin/dpkg the script says so and exits
0 without writing anything (a skip, as the Go tests skip without the
shared fixtures).

The rules (each one stated where Kensa could have chosen otherwise):

 1. Installed packages are the paragraphs whose Status is exactly
    "install ok installed". (Kensa also counts the transitional states
    half-configured, unpacked, triggers-pending...: files are on disk.
    The fixture has none of them, only one "deinstall ok config-files"
    paragraph, which both leave out.)
 2. A package is matched through its source package: the name and
    version of "Source: name (version)"; "Source: name" keeps the
    binary's version; no Source field means the source is the binary's
    own name and version. The cvescan data is keyed on source packages.
 3. For each CVE whose focal entry names that source package:
      released <v>          vulnerable iff source version < v (dpkg),
                            fix "fixed", fixed version <v>
      released, empty note  not vulnerable (Kensa follows cvescan, which
                            compares against the empty version and finds
                            every install patched; rule of the parser,
                            internal/feed/ubuntu)
      needed, deferred,
      pending, needs-triage,
      active                vulnerable, "unfixed", no fixed version
      ignored               vulnerable, "will_not_fix"
      not-affected          not vulnerable
      DNE                   nothing
    Any other word is an error. The focal database uses only released,
    needed, deferred and not-affected.
 4. Kernel packages are not matched unless they are the running kernel's;
    a package database alone has no running kernel, so every kernel
    package (linux-image-*, linux-modules-*, linux-headers-*,
    linux-libc-dev, ...; as classifyKernel in internal/rules/cve/ospkg.go)
    is left out. The ubuntu-20.04-base fixture has none.
 5. Kensa also looks a package up by its binary name when that differs
    from the source name, evaluating such an entry against the binary's
    version. cvescan entries name source packages, so this matters only
    when a binary is named like some other source package; the script
    reports every such collision on standard error (there is none for
    this fixture and database) and applies the same rule, so that the
    expected file states what Kensa does.
 6. Kensa's Ubuntu Pro twin ecosystem (Ubuntu:Pro:20.04:LTS) receives
    only fixes published to esm-infra/esm-apps; the focal database has
    only "Ubuntu Archive" fixes, so it adds nothing here. An entry whose
    repository is another pocket is rejected by this script.
 7. One finding per (binary package, CVE); several entries for one pair
    (rule 5) keep the first released fix, as the release's own archive.

Output: one line per vulnerable (binary package, CVE), sorted:

  <binary>\t<CVE>\t<fix status>\t<fixed version or ->\t<ubuntu priority>
"""

import argparse
import bz2
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("KENSA_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
DEFAULT_STATUS = os.path.join(SHARED, "fixtures/pkgdb/dpkg/ubuntu-20.04-base/var/lib/dpkg/status")
DEFAULT_DB = os.path.join(SHARED, "vulndata/native/ubuntu/ubuntu-vuln-db-focal.json.bz2")
DEFAULT_OUT = os.path.join(REPO, "internal/rules/cve/testdata/ubuntu-20.04-base-focal.expected")
RELEASE = "focal"

UNFIXED = {"needed", "deferred", "pending", "needs-triage", "active"}


def paragraphs(path):
    """Yields the paragraphs of a deb822 file as dicts (continuation lines
    joined with newlines; only the single-line fields are used)."""
    para, last = {}, None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if para:
                    yield para
                para, last = {}, None
                continue
            if line[0] in " \t":
                if last:
                    para[last] += "\n" + line.strip()
                continue
            key, _, value = line.partition(":")
            last = key.strip()
            para[last] = value.strip()
    if para:
        yield para


def installed_packages(path):
    """Returns [(binary, version, source, source_version)] of installed packages."""
    out = []
    for p in paragraphs(path):
        if p.get("Status") != "install ok installed":
            continue
        name, ver = p["Package"], p["Version"]
        src, src_ver = name, ver
        m = re.fullmatch(r"(\S+)(?:\s+\((\S+)\))?", p.get("Source", "").strip())
        if p.get("Source"):
            if not m:
                sys.exit(f"{name}: unreadable Source field {p['Source']!r}")
            src = m.group(1)
            if m.group(2):
                src_ver = m.group(2)
        out.append((name, ver, src, src_ver))
    return out


KERNEL_RUNTIME = re.compile(r"^linux-(?:image|image-unsigned|modules|modules-extra)-\d")
KERNEL_OTHER = ("linux-headers-", "linux-kbuild-", "linux-source-", "linux-doc", "linux-support-",
                "linux-image-", "linux-modules-")


def is_kernel(name):
    return name == "linux-libc-dev" or bool(KERNEL_RUNTIME.match(name)) or name.startswith(KERNEL_OTHER)


_cmp_cache = {}


def dpkg_lt(a, b):
    """a < b by dpkg's own comparison."""
    key = (a, b)
    if key not in _cmp_cache:
        r = subprocess.run(["dpkg", "--compare-versions", a, "lt", b], capture_output=True, text=True)
        if r.returncode not in (0, 1) or r.stderr.strip():
            sys.exit(f"dpkg --compare-versions {a} lt {b}: rc {r.returncode}: {r.stderr.strip()}")
        _cmp_cache[key] = r.returncode == 0
    return _cmp_cache[key]


def verdict(entry, version):
    """(fix status, fixed version) when version is vulnerable, else None."""
    status = entry["status"]
    word = status[0]
    note = status[1].strip() if len(status) > 1 else ""
    if entry.get("repository") not in (None, "", "Ubuntu Archive"):
        sys.exit(f"repository {entry['repository']!r}: not handled by this oracle")
    if word == "released":
        if not note:
            return None  # rule 3: released without a version
        if not re.fullmatch(r"[0-9]\S*", note):
            sys.exit(f"released with a note that is not a version: {note!r}")
        return ("fixed", note) if dpkg_lt(version, note) else None
    if word in UNFIXED:
        return ("unfixed", "-")
    if word == "ignored":
        return ("will_not_fix", "-")
    if word in ("not-affected", "DNE"):
        return None
    sys.exit(f"unknown status {word!r}")


def compute(status_path, db_path):
    pkgs = installed_packages(status_path)
    with bz2.open(db_path, "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    by_pkg = {}  # tracker package name -> [(cve, priority, entry)]
    for cve, rec in data.items():
        for rel, entries in rec.get("releases", {}).items():
            if rel != RELEASE:
                sys.exit(f"{cve}: release {rel!r} in a {RELEASE} database")
            for name, entry in entries.items():
                by_pkg.setdefault(name, []).append((cve, rec.get("priority", ""), entry))

    stats = {"installed": len(pkgs), "kernel_skipped": 0, "collisions": []}
    lines = {}
    for name, ver, src, src_ver in pkgs:
        if is_kernel(name):
            stats["kernel_skipped"] += 1
            continue
        lookups = [(src, src_ver)]
        if name != src:
            lookups.append((name, ver))  # rule 5
            if name in by_pkg:
                stats["collisions"].append(f"{name} (source {src}) is also a tracker package name")
        for key, version in lookups:
            for cve, prio, entry in by_pkg.get(key, []):
                v = verdict(entry, version)
                if v is None:
                    continue
                k = (name, cve)
                prev = lines.get(k)
                if prev is None or (prev[0] != "fixed" and v[0] == "fixed"):
                    lines[k] = (v[0], v[1], prio)
    out = [f"{b}\t{c}\t{fx}\t{fv}\t{p}" for (b, c), (fx, fv, p) in sorted(lines.items())]
    return out, stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--status", default=DEFAULT_STATUS)
    ap.add_argument("--db", default=DEFAULT_DB)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = ap.parse_args()
    if not shutil.which("dpkg"):
        print("skip: dpkg is not installed; the oracle compares versions with the real dpkg", file=sys.stderr)
        return 0
    for p in (args.status, args.db):
        if not os.path.exists(p):
            print(f"skip: {p} not found (the shared fixtures exist only in the Kensa workplace)", file=sys.stderr)
            return 0
    lines, stats = compute(args.status, args.db)
    text = "".join(line + "\n" for line in lines)

    counts = {}
    for line in lines:
        fx = line.split("\t")[2]
        counts[fx] = counts.get(fx, 0) + 1
    pkgs = len({line.split("\t")[0] for line in lines})
    print(f"installed packages: {stats['installed']} (kernel packages left out: {stats['kernel_skipped']}); "
          f"vulnerable (package, CVE) pairs: {len(lines)} in {pkgs} packages; "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)
    for c in stats["collisions"]:
        print("binary/source name collision: " + c, file=sys.stderr)

    if args.check:
        with open(args.out, encoding="utf-8") as f:
            have = f.read()
        if have != text:
            old, new = set(have.splitlines()), set(lines)
            for line in sorted(old - new):
                print("- " + line)
            for line in sorted(new - old):
                print("+ " + line)
            return 1
        return 0
    if args.out == "-":
        sys.stdout.write(text)
    else:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
