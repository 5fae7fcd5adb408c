#!/usr/bin/env bash
# Builds two real Debian 12 (bookworm) root file systems with debootstrap and
# scans them with Kensa's best-practices rules package. Not run in CI: it
# needs root, network access to deb.debian.org and several minutes.
#
#   default   `debootstrap --include=openssh-server,libpam-runtime bookworm`:
#             a default server as Debian ships it, plus a root password and
#             one user with a password (so there are passwords to age).
#   hardened  a copy of default with the CIS Debian 12 Level 1 settings the
#             best-practices rules look at: an sshd drop-in
#             (sshd_config.d/00-cis.conf), libpam-pwquality installed in the
#             chroot with minlen 14 / minclass 4, pam_pwhistory remember=24
#             (a pam-auth-update profile), PASS_MAX_DAYS 365 in login.defs
#             and in /etc/shadow (chage), kernel.randomize_va_space=2 in
#             sysctl.d.
#
# The roots stay images: no proc/ is mounted when Kensa scans them, so the
# running-kernel rules (aslr-enabled, dep-enabled) are not_applicable.
#
# For each root it prints every best-practices result (rule, status, the
# finding's evidence or the result's reason), then runs the root's own
# `sshd -T` in a chroot and compares it with the effective sshd
# configuration Kensa computed (`kensa inventory`, config.sshd.global).
#
# Usage: sudo bench/debootstrap-roots.sh [--rebuild]
#   --rebuild   build the default root again even if it exists (the hardened
#               root is always rebuilt from the default one)
# Environment: ROOTS (default /var/tmp/kensa-roots), MIRROR (default
# http://deb.debian.org/debian), KENSA (a kensa binary; default: build
# /tmp/kensa-db from this repository).
# Outputs: $ROOTS/{default,hardened}/ and, beside them, NAME.json (the scan
# report), NAME.inventory.json and NAME.sshd-T.txt.
set -euo pipefail

cd "$(dirname "$0")/.."
roots=${ROOTS:-/var/tmp/kensa-roots}
mirror=${MIRROR:-http://deb.debian.org/debian}
rebuild=0
for a in "$@"; do
	case $a in
	--rebuild) rebuild=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown argument: $a" >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" -ne 0 ]; then
	echo "needs root (debootstrap, chroot)" >&2
	exit 1
fi

t0=$(date +%s)
step() { echo "== [$(($(date +%s) - t0))s] $*"; }

if [ -z "${KENSA:-}" ]; then
	KENSA=/tmp/kensa-db
	step "building $KENSA"
	go build -o "$KENSA" ./cmd/kensa
fi

if ! command -v debootstrap >/dev/null; then
	step "installing debootstrap"
	apt-get install -y debootstrap
fi

# Mounts made in a chroot are undone on any exit.
mounts=()
cleanup() {
	local m
	for m in "${mounts[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
}
trap cleanup EXIT
mount_proc() {
	mount -t proc proc "$1/proc"
	mounts+=("$1/proc")
}
umount_proc() {
	umount "$1/proc"
}

# Commands in a chroot: no service may start (policy-rc.d), no questions.
in_root() {
	local dir=$1
	shift
	chroot "$dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"
}

mkdir -p "$roots"
def=$roots/default
hard=$roots/hardened

# ---------------------------------------------------------------- default
if [ "$rebuild" = 1 ] || [ ! -e "$def/.kensa-built" ]; then
	rm -rf "$def" "$def.tmp"
	step "debootstrap bookworm -> $def (debootstrap $(debootstrap --version | awk '{print $2}'))"
	tb=$(date +%s)
	debootstrap --include=openssh-server,libpam-runtime bookworm "$def.tmp" "$mirror"
	# A password for root and one user, as a server installed by hand has;
	# the images are never booted, the passwords are not secret.
	echo 'root:kensa-bench-root' | in_root "$def.tmp" chpasswd
	in_root "$def.tmp" useradd -m -s /bin/bash -c 'Bench user' admin
	echo 'admin:kensa-bench-admin' | in_root "$def.tmp" chpasswd
	# sshd needs host keys and its privilege separation directory for -T.
	in_root "$def.tmp" ssh-keygen -A
	mkdir -p "$def.tmp/run/sshd"
	rm -f "$def.tmp/var/cache/apt/archives/"*.deb
	echo "built $(date -u +%FT%TZ) in $(($(date +%s) - tb))s" >"$def.tmp/.kensa-built"
	mv "$def.tmp" "$def"
	step "default root built in $(($(date +%s) - tb))s"
else
	step "reusing $def ($(cat "$def/.kensa-built"); --rebuild to build again)"
fi

# ---------------------------------------------------------------- hardened
rm -rf "$hard"
step "copying to $hard and applying CIS Level 1 settings"
th=$(date +%s)
cp -a "$def" "$hard"

# sshd (CIS Debian 12 5.1.x). The drop-in is read first (Debian's
# sshd_config includes sshd_config.d/*.conf on its first line) and the first
# value of a keyword wins.
cat >"$hard/etc/ssh/sshd_config.d/00-cis.conf" <<'EOF'
# CIS Debian Linux 12 Benchmark, Level 1 - Server (section 5.1)
LogLevel VERBOSE
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
PermitUserEnvironment no
HostbasedAuthentication no
IgnoreRhosts yes
UsePAM yes
MaxAuthTries 4
MaxSessions 10
MaxStartups 10:30:60
LoginGraceTime 60
ClientAliveInterval 15
ClientAliveCountMax 3
X11Forwarding no
DisableForwarding yes
Banner /etc/issue.net
Ciphers -3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,chacha20-poly1305@openssh.com
MACs -hmac-md5,hmac-md5-96,hmac-ripemd160,hmac-sha1-96,umac-64@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,hmac-ripemd160-etm@openssh.com,hmac-sha1-96-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com
KexAlgorithms -diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1
EOF
chmod 600 "$hard/etc/ssh/sshd_config" "$hard/etc/ssh/sshd_config.d/00-cis.conf"

# PAM password quality and history (CIS 5.3.3.2, 5.3.3.3).
printf '#!/bin/sh\nexit 101\n' >"$hard/usr/sbin/policy-rc.d"
chmod 755 "$hard/usr/sbin/policy-rc.d"
[ -s "$hard/etc/resolv.conf" ] || cp /etc/resolv.conf "$hard/etc/resolv.conf"
mount_proc "$hard"
in_root "$hard" apt-get update -qq
# cracklib-runtime (a recommendation) builds the dictionary pam_pwquality
# checks against: without it every new password fails ("error loading
# dictionary").
in_root "$hard" apt-get install -y -qq --no-install-recommends libpam-pwquality cracklib-runtime
# The history profile sorts after pwquality (priority 1024) and before
# pam_unix (256): pam_pwhistory uses the token pwquality asked for.
cat >"$hard/usr/share/pam-configs/pwhistory" <<'EOF'
Name: pwhistory password history checking
Default: yes
Priority: 1000
Password-Type: Primary
Password:
	requisite	pam_pwhistory.so remember=24 enforce_for_root try_first_pass use_authtok
EOF
in_root "$hard" pam-auth-update --enable pwquality pwhistory
in_root "$hard" apt-get clean
umount_proc "$hard"
rm -f "$hard/usr/sbin/policy-rc.d"
mkdir -p "$hard/etc/security/pwquality.conf.d"
cat >"$hard/etc/security/pwquality.conf.d/50-cis.conf" <<'EOF'
# CIS Debian 12 5.3.3.2.2 and 5.3.3.2.3
minlen = 14
minclass = 4
enforce_for_root
EOF

# Password ageing (CIS 5.4.1.1): login.defs for new accounts, chage for the
# accounts that have a password.
sed -i -E 's/^PASS_MAX_DAYS\b.*/PASS_MAX_DAYS\t365/; s/^PASS_MIN_DAYS\b.*/PASS_MIN_DAYS\t1/; s/^PASS_WARN_AGE\b.*/PASS_WARN_AGE\t7/' "$hard/etc/login.defs"
for u in $(awk -F: '$2 !~ /^[!*]/ && $2 != "" {print $1}' "$hard/etc/shadow"); do
	in_root "$hard" chage --maxdays 365 --mindays 1 --warndays 7 "$u"
done

# ASLR persisted (CIS 1.5.3); it takes effect on the running kernel only.
echo 'kernel.randomize_va_space = 2' >"$hard/etc/sysctl.d/60-kernel_sysctl.conf"
step "hardened root ready in $(($(date +%s) - th))s"

# ---------------------------------------------------------------- scan and compare
compare_keys=(permitrootlogin passwordauthentication kbdinteractiveauthentication usepam maxauthtries x11forwarding logingracetime permitemptypasswords)

for name in default hardened; do
	dir=$roots/$name
	if mountpoint -q "$dir/proc"; then
		echo "$dir/proc is mounted: not an image" >&2
		exit 1
	fi
	step "$name: $(du -sh --apparent-size "$dir" | cut -f1) apparent, $(du -sh "$dir" | cut -f1) on disk, $(grep -c '^Package:' "$dir/var/lib/dpkg/status") packages"
	ts=$(date +%s%N)
	"$KENSA" scan -q --root "$dir" --packages best-practices --format json -o "$dir.json"
	te=$(date +%s%N)
	"$KENSA" inventory -q --root "$dir" --pretty -o "$dir.inventory.json"
	step "$name: scan $(((te - ts) / 1000000)) ms -> $dir.json"
	python3 - "$dir.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
ev = {}
for f in r.get("findings") or []:
    if f.get("rules_package") == "best-practices":
        ev.setdefault(f["rule_id"], []).extend(f.get("evidence") or [])
print("%-24s %-15s %s" % ("rule", "status", "evidence / reason"))
for res in r["results"]:
    if res.get("rules_package") != "best-practices":
        continue
    lines = ev.get(res["rule_id"]) or [res.get("reason", "")]
    print("%-24s %-15s %s" % (res["rule_id"], res["status"], lines[0]))
    for l in lines[1:]:
        print("%-24s %-15s %s" % ("", "", l))
print("coverage:", "; ".join("%s %s %s%s" % (c["package"], c["scope"], c["status"], (" (" + c["reason"] + ")") if c.get("reason") else "") for c in r["coverage"] if c["package"] == "best-practices"))
EOF
	# The root's own sshd: -T prints the effective configuration (global
	# part, no Match connection given).
	[ -e "$dir/etc/ssh/ssh_host_ed25519_key" ] || in_root "$dir" ssh-keygen -A
	mkdir -p "$dir/run/sshd"
	if ! in_root "$dir" /usr/sbin/sshd -T >"$dir.sshd-T.txt" 2>"$dir.sshd-T.err"; then
		echo "sshd -T failed in $dir:" >&2
		cat "$dir.sshd-T.err" >&2
		exit 1
	fi
	python3 - "$dir.inventory.json" "$dir.sshd-T.txt" "${compare_keys[@]}" <<'EOF'
import json, sys
inv = json.load(open(sys.argv[1]))
sshd = (inv.get("config") or {}).get("sshd") or {}
glob = sshd.get("global") or {}
# A keyword sshd -T prints on several lines (acceptenv, hostkey, port) is
# joined with spaces, as Kensa joins it; values compare ignoring case and
# spacing, without-password being OpenSSH's synonym of prohibit-password
# (sshd -T prints the first name of its table).
live = {}
for line in open(sys.argv[2]):
    k, _, v = line.strip().partition(" ")
    k = k.lower()
    live[k] = (live[k] + ("\n" if k == "subsystem" else " ") + v) if k in live else v
def norm(v):
    v = " ".join(v.split()).lower()
    return "prohibit-password" if v == "without-password" else v
keys = sys.argv[3:]
print("sshd %s (Kensa: installed=%s, files %s)" % (sshd.get("version"), sshd.get("installed"), ", ".join(sshd.get("files") or [])))
print("%-30s %-22s %-22s %s" % ("keyword", "sshd -T", "kensa", "agree"))
agree = 0
for k in keys:
    s = glob.get(k) or {}
    kv = s.get("value")
    where = ("%s:%s" % (s["file"], s["line"])) if s.get("file") else "default"
    ok = kv is not None and norm(kv) == norm(live.get(k, ""))
    agree += ok
    print("%-30s %-22s %-22s %s  (%s)" % (k, live.get(k, "-"), kv if kv is not None else "-", "yes" if ok else "NO", where))
print("agreement on the %d compared keywords: %d/%d" % (len(keys), agree, len(keys)))
# Every keyword both sides know, for the record.
common = sorted(set(glob) & set(live))
diff = [k for k in common if norm(glob[k]["value"]) != norm(live[k])]
print("all keywords in both: %d, equal %d, different %d%s" % (len(common), len(common) - len(diff), len(diff), (": " + ", ".join("%s (kensa %r, sshd -T %r)" % (k, glob[k]["value"], live[k]) for k in diff)) if diff else ""))
only_live = sorted(set(live) - set(glob))
print("in sshd -T only (Kensa computes the keywords the rules read): %d" % len(only_live))
EOF
	# The facts the other rules read, straight from the files, to explain
	# their results.
	echo "facts: login.defs $(grep -E '^PASS_MAX_DAYS' "$dir/etc/login.defs" | tr -s '\t ' ' ');" \
		"shadow max age of accounts with a password: $(awk -F: '$2 !~ /^[!*]/ && $2 != "" {printf "%s=%s ", $1, $5}' "$dir/etc/shadow")"
	echo "facts: common-password: $(grep -E '^password' "$dir/etc/pam.d/common-password" | grep -oE 'pam_[a-z_]+\.so.*' | paste -sd'|' | sed 's/|/ | /g');" \
		"pwquality.conf.d: $(cat "$dir"/etc/security/pwquality.conf.d/*.conf 2>/dev/null | grep -v '^#' | paste -sd' ' || true)"
	echo "facts: system dirs (owner mode, links followed): $(cd "$dir" && for p in bin sbin usr usr/bin usr/sbin usr/local/bin usr/local/sbin lib lib64 usr/lib usr/lib64 usr/local/lib etc boot; do stat -L -c "/%n %U %a" "$p" 2>/dev/null || echo "/$p absent"; done | paste -sd',' | sed 's/,/, /g')"

	# What the PAM stack really enforces: change passwords in the chroot
	# (/etc/shadow and the history file are restored afterwards). On the
	# default root as the user (root skips pam_unix's checks), on the
	# hardened root as root (enforce_for_root; the user has PASS_MIN_DAYS 1).
	cp -p "$dir/etc/shadow" "$dir.shadow.bak"
	if [ -e "$dir/etc/security/opasswd" ]; then cp -p "$dir/etc/security/opasswd" "$dir.opasswd.bak"; fi
	try_pw() { # label, then the passwd conversation
		local out rc=0
		out=$(printf '%s\n' "${@:2}" | in_root "$dir" timeout 20 "${passwd_cmd[@]}" 2>&1) || rc=$?
		echo "pam: $1: $([ $rc = 0 ] && echo accepted || echo "rejected ($(grep -oE 'BAD PASSWORD: .*|You must [^.]*|has been already used[^.]*' <<<"$out" | head -1))")"
	}
	if [ "$name" = default ]; then
		passwd_cmd=(su admin -s /bin/sh -c passwd)
		try_pw "3 chars 'xq7'" kensa-bench-admin xq7 xq7
		try_pw "6 lower-case 'kqzvbn'" kensa-bench-admin kqzvbn kqzvbn
	else
		passwd_cmd=(passwd root)
		try_pw "13 chars, 4 classes" 'Ab1!Ab1!Ab1!x' 'Ab1!Ab1!Ab1!x'
		try_pw "14 lower-case" kqzvbnmwtrplxa kqzvbnmwtrplxa
		try_pw "14 chars, 4 classes" 'Kq7!zvbnmwtrpL' 'Kq7!zvbnmwtrpL'
		try_pw "the same again" 'Kq7!zvbnmwtrpL' 'Kq7!zvbnmwtrpL'
	fi
	cp -p "$dir.shadow.bak" "$dir/etc/shadow"
	rm -f "$dir.shadow.bak" "$dir/etc/security/opasswd"
	if [ -e "$dir.opasswd.bak" ]; then mv "$dir.opasswd.bak" "$dir/etc/security/opasswd"; fi
done
step "done in $(($(date +%s) - t0))s"
