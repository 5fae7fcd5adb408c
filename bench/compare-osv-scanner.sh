#!/usr/bin/env bash
# Compares Kensa's CVE findings with OSV-Scanner v2's, offline, on the same
# OSV data (shared/vulndata/osv) and the same inputs:
#   - every Go binary on $PATH (ELF files that `go version FILE` recognises,
#     symlinks resolved), and
#   - the default python3's site-packages plus Debian's
#     /usr/lib/python3/dist-packages.
# Findings are compared per (location, package, OSV record id). A third,
# independent evaluation of the OSV ranges (a small Python matcher below)
# checks every finding of either tool record by record.
#
# Not run in CI. Needs go, python3 (with pip, for PEP 440 ordering) and an
# osv-scanner v2 binary: $OSV_SCANNER, or osv-scanner on $PATH. To build one
# outside the repository (v2.6.0 needs Go >= 1.27):
#   GOTOOLCHAIN=go1.27.3 GOBIN=/tmp/osvs go install github.com/google/osv-scanner/v2/cmd/osv-scanner@v2.6.0
#   OSV_SCANNER=/tmp/osvs/osv-scanner bench/compare-osv-scanner.sh
#
# Usage: bench/compare-osv-scanner.sh [OUTDIR]   (default: a new temp dir)
# Environment: OSV_SCANNER, VULNDATA (default ../shared/vulndata).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

osvs=${OSV_SCANNER:-$(command -v osv-scanner || true)}
if [ -z "$osvs" ] || [ ! -x "$osvs" ]; then
	echo "SKIP: osv-scanner not installed (set OSV_SCANNER or put osv-scanner v2 on PATH; see the header of $0)"
	exit 0
fi
data=${VULNDATA:-$repo/../shared/vulndata}
for f in osv/osv-scalibr/Go/all.zip osv/osv-scalibr/PyPI/all.zip; do
	[ -f "$data/$f" ] || { echo "missing $data/$f" >&2; exit 1; }
done
out=${1:-$(mktemp -d /tmp/kensa-vs-osvs.XXXXXX)}
mkdir -p "$out"
scratch=$(mktemp -d /tmp/kensa-vs-osvs-in.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

echo "== versions"
"$osvs" --version | head -2
go version
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  host: $(. /etc/os-release; echo "$PRETTY_NAME"), $(uname -r), $(nproc) CPU"

echo "== build and import"
go build -o "$out/kensa" ./cmd/kensa
"$out/kensa" -q db import --db "$out/kensa.db" "$data/osv" "$data/kev"
rc=0
"$out/kensa" -q scan --packages cve --db "$out/kensa.db" --format json -o "$out/kensa-host.json" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 3 ] || { echo "kensa scan failed ($rc)" >&2; exit 1; }
"$out/kensa" -q inventory -o "$out/kensa-inventory.json"

echo "== inputs"
# Go binaries on PATH: real path, and a hard link (or copy) for osv-scanner.
mkdir -p "$scratch/gobin"
: >"$out/gobins.txt"
declare -A seen
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
	[ -d "$d" ] || continue
	for f in "$d"/*; do
		[ -f "$f" ] || continue
		r=$(readlink -f "$f")
		[ "$(head -c4 "$r" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || continue
		[ -z "${seen[$r]:-}" ] || continue
		seen[$r]=1
		[ -n "$(go version "$r" 2>/dev/null)" ] || continue
		n=$(echo "${r#/}" | tr / _)
		ln "$r" "$scratch/gobin/$n" 2>/dev/null || cp "$r" "$scratch/gobin/$n"
		echo "$r $scratch/gobin/$n" >>"$out/gobins.txt"
	done
done
echo "Go binaries on PATH: $(wc -l <"$out/gobins.txt")"
while read -r r _; do echo "  $r: $(go version "$r" | cut -d' ' -f2-)"; done <"$out/gobins.txt"
{
	python3 -c 'import site; print("\n".join(site.getsitepackages()))'
	echo /usr/lib/python3/dist-packages
} | while read -r p; do [ -d "$p" ] && readlink -f "$p"; done | sort -u >"$out/pydirs.txt"
echo "python3: $(command -v python3) ($(python3 --version 2>&1)); site dirs:"
sed 's/^/  /' "$out/pydirs.txt"

echo "== osv-scanner (offline)"
# A private copy of the two zips: osv-scanner may create or write its cache dir.
for e in Go PyPI; do
	mkdir -p "$out/osvdb/osv-scalibr/$e"
	cp "$data/osv/osv-scalibr/$e/all.zip" "$out/osvdb/osv-scalibr/$e/all.zip"
done
run_osvs() { # plugin output-file dirs...
	local plugin=$1 file=$2 rc=0
	shift 2
	# --no-ignore: ~/.pyenv is a git work tree whose .gitignore lists versions/.
	OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY="$out/osvdb" "$osvs" scan source --offline --no-ignore -r \
		--experimental-no-default-plugins --experimental-plugins "$plugin" \
		--all-packages --all-vulns --format json --output-file "$file" "$@" >"$file.log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || { echo "osv-scanner failed ($rc), see $file.log" >&2; exit 1; }
}
run_osvs go/binary "$out/osvs-go.json" "$scratch/gobin"
mapfile -t pydirs <"$out/pydirs.txt"
run_osvs python/wheelegg "$out/osvs-py.json" "${pydirs[@]}"

echo "== comparison (per location, package, OSV record id)"
python3 - "$out" "$data/osv/osv-scalibr" <<'EOF'
import collections, functools, json, re, sys, zipfile
out, osvdir = sys.argv[1], sys.argv[2]
try:
    from pip._vendor.packaging.version import Version, InvalidVersion
except ImportError:
    Version = None

def pep503(n): return re.sub(r'[-_.]+', '-', n).lower()

bins = dict(l.split() for l in open(out + '/gobins.txt'))          # real -> scratch
pydirs = [l.strip() for l in open(out + '/pydirs.txt') if l.strip()]
in_py = lambda loc: any(loc.startswith(p + '/') for p in pydirs)
scope = lambda eco, loc: (eco == 'Go' and loc in bins) or (eco == 'PyPI' and in_py(loc))

# Kensa: one key per OSV record behind each finding.
K = {}
for f in json.load(open(out + '/kensa-host.json'))['findings']:
    v = f.get('vulnerability') or {}
    eco, loc = v.get('ecosystem'), v.get('location', '')
    if not scope(eco, loc): continue
    pkg = v['package'] if eco == 'Go' else pep503(v['package'])
    for p in v.get('provenance', []):
        if p.get('method') == 'feed' and p.get('record'):
            K[(loc, eco, pkg, p['record'])] = v['installed_version']
# osv-scanner.
S = {}
back = {s: r for r, s in bins.items()}
for name in ('osvs-go.json', 'osvs-py.json'):
    for r in json.load(open(out + '/' + name)).get('results', []):
        loc = back.get(r['source']['path'], r['source']['path'])
        for p in r['packages']:
            eco = p['package']['ecosystem']
            pkg = p['package']['name'] if eco == 'Go' else pep503(p['package']['name'])
            for vv in p.get('vulnerabilities') or []:
                S[(loc, eco, pkg, vv['id'])] = p['package']['version']

# Independent matcher over Kensa's inventory (same components as osv-scanner's, names aside).
def semver_key(v):
    v = v.lstrip('v').split('+', 1)[0]
    core, _, pre = v.partition('-')
    nums = [int(x) for x in core.split('.')] + [0, 0, 0]
    return (nums[:3], 0 if pre else 1, [(0, int(x), '') if x.isdigit() else (1, 0, x) for x in pre.split('.')] if pre else [])
def cmp_go(a, b): ka, kb = semver_key(a), semver_key(b); return (ka > kb) - (ka < kb)
def cmp_py(a, b): va, vb = Version(a), Version(b); return (va > vb) - (va < vb)
def in_range(events, ver, cmp):
    val = lambda e: next(iter(e.values()))
    evs = sorted(events, key=functools.cmp_to_key(lambda x, y: -1 if val(x) == '0' else 1 if val(y) == '0' else cmp(val(x), val(y))))
    aff = False
    for e in evs:
        (t, v), = e.items()
        if t == 'introduced' and (v == '0' or cmp(ver, v) >= 0): aff = True
        elif t in ('fixed', 'limit') and cmp(ver, v) >= 0: aff = False
        elif t == 'last_affected' and cmp(ver, v) > 0: aff = False
    return aff
recs, idx = {}, {}
for eco in ('Go', 'PyPI'):
    z = zipfile.ZipFile(f'{osvdir}/{eco}/all.zip')
    for n in z.namelist():
        d = json.loads(z.read(n)); recs[d['id']] = d
        if d.get('withdrawn'): continue
        for a in d.get('affected', []):
            nm = a['package']['name'] if eco == 'Go' else pep503(a['package']['name'])
            idx.setdefault((eco, nm), []).append((d['id'], a))
inv = [s for s in json.load(open(out + '/kensa-inventory.json'))['software'] if scope(s['ecosystem'], s['location'])]
X, unversioned = {}, []
for s in inv:
    eco, ver = s['ecosystem'], s['version']
    if ver in ('', '(devel)'): unversioned.append(s); continue
    if eco == 'PyPI' and Version is None: continue
    pkg = s['name'] if eco == 'Go' else pep503(s['name'])
    for rid, a in idx.get((eco, pkg), []):
        hit = ver in a.get('versions', []) or ver.lstrip('v') in a.get('versions', [])
        for r in a.get('ranges', []):
            if r['type'] in ('SEMVER', 'ECOSYSTEM'):
                try: hit = hit or in_range(r['events'], ver, cmp_go if eco == 'Go' else cmp_py)
                except (ValueError, TypeError): pass
        if hit: X[(s['location'], eco, pkg, rid)] = ver
invby = {(s['location'], s['ecosystem'], s['name'] if s['ecosystem'] == 'Go' else pep503(s['name'])): s for s in inv}

def why(k, who):
    loc, eco, pkg, rid = k
    s = invby.get((loc, eco, pkg), {})
    if who == 'osv-scanner' and S[k] == '(devel)':
        return 'osv-scanner matched a "(devel)" module (no version) against an introduced-0 range; Kensa leaves it unmatched and says so in coverage'
    if who == 'kensa' and pkg == 'toolchain':
        cmd = (s.get('purl', '').split('#', 1) + [''])[1]
        imports = [i['path'] for a in recs[rid]['affected'] if a['package']['name'] == 'toolchain'
                   for i in a.get('ecosystem_specific', {}).get('imports', [])]
        ok = any(cmd == p or p.startswith(cmd + '/') for p in imports)
        return ('toolchain record names this command (%s); osv-scanner has no toolchain package' % cmd) if ok else \
               ('Kensa false positive: record is for %s, this binary is %s' % (','.join(imports), cmd or '?'))
    if who == 'kensa' and pkg != pkg.lower():
        return 'osv-scanner misses mixed-case Go module paths (its purl lower-cases the namespace)'
    if pkg == 'stdlib' and not re.fullmatch(r'go1\.\d+(\.\d+)?', (s.get('go_version') or '').split(' ')[0]):
        return 'non-release Go toolchain %r: Kensa reads %s, osv-scanner compares it as a 1.N pre-release' % (s.get('go_version'), s.get('version'))
    if eco == 'PyPI' and who == 'osv-scanner':
        twin = [x for x in K if x[1:] == k[1:] and x[0].rsplit('/', 2)[0] == loc.rsplit('/', 2)[0]]
        if twin: return 'second metadata dir of the same distribution in the same environment (Kensa reports it once, at %s)' % twin[0][0]
    return 'unclassified'

A = set(K) & set(S); OK = sorted(set(K) - set(S)); OS = sorted(set(S) - set(K))
for eco in ('Go', 'PyPI'):
    n = lambda s: sum(1 for x in s if x[1] == eco)
    print(f'{eco:5} kensa={n(K)} osv-scanner={n(S)} agreed={n(A)} only-kensa={n(OK)} only-osv-scanner={n(OS)} independent-matcher={n(X)}')
print(f'ALL   kensa={len(K)} osv-scanner={len(S)} agreed={len(A)} only-kensa={len(OK)} only-osv-scanner={len(OS)} independent-matcher={len(X)}')
print(f'independent matcher: confirms {len(set(K) & set(X))}/{len(K)} Kensa, {len(set(S) & set(X))}/{len(S)} osv-scanner; '
      f'Kensa misses {len(set(X) - set(K))} it finds; {len(unversioned)} components without a version not matched')
for title, keys, who in (('only Kensa', OK, 'kensa'), ('only osv-scanner', OS, 'osv-scanner')):
    print(f'-- {title}: {len(keys)}')
    by = collections.defaultdict(list)
    for k in keys: by[why(k, who)].append(k)
    for reason, ks in sorted(by.items(), key=lambda x: -len(x[1])):
        print(f'  {len(ks):4}  {reason}')
        for k in ks[:40]:
            print(f'          {k[0]} {k[2]}@{(K if who == "kensa" else S)[k]} {k[3]}' + ('' if k in X else '  [no version]' if (K if who == "kensa" else S)[k] in ('', '(devel)') else '  [not in range per independent matcher]'))
        if len(ks) > 40: print(f'          ... {len(ks) - 40} more')
json.dump({'agreed': sorted(A), 'only_kensa': OK, 'only_osv_scanner': OS, 'independent': sorted(X)}, open(out + '/compare.json', 'w'), indent=1)
EOF
echo "artifacts: $out"
