#!/usr/bin/env bash
# Builds two real Debian 12 (bookworm) root file systems with debootstrap and
# scans them with Kensa's best-practices and cis rules packages. Not run in
# CI: it needs root, network access to deb.debian.org and several minutes.
#
#   default   `debootstrap --include=openssh-server,libpam-runtime bookworm`:
#             a default server as Debian ships it, plus a root password and
#             one user with a password (so there are passwords to age).
#   hardened  a copy of default hardened by hand per the CIS Debian Linux 12
#             Benchmark v1.1.0, Level 1 - Server, with the benchmark's
#             remediations, for every control Kensa implements that a root
#             without a disk or a boot loader can hold: the security archive
#             and every pending update; a kernel (linux-image-amd64) so the
#             module controls have modules to judge, and modprobe.d
#             blacklists; /tmp and /dev/shm tmpfs lines in fstab; sysctl.d
#             for the kernel and network parameters; banners; apparmor,
#             aide (database by aideinit, daily timer), sudo (use_pty,
#             logfile, timestamp_timeout), systemd-timesyncd, nftables
#             (input policy drop, loopback rules, enabled); cron and
#             cron.allow modes; an sshd drop-in with explicit algorithm
#             lists and AllowGroups; PAM through pam-auth-update profiles
#             (faillock, pwquality, pwhistory, no nullok) and pam_wheel for
#             su; login.defs, useradd and chage ageing; umask, TMOUT;
#             journald persistent and compressed; private homes and log
#             files. Separate partitions for /home, /var, /var/log..., the
#             GRUB password and kernel command line are left out (no disk,
#             no boot loader).
#
# The roots stay images: proc/ is mounted only for apt and unmounted before
# Kensa scans them, so the running-kernel rules (AppArmor profiles,
# listening sockets, wireless) are not_applicable, and the sysctl rules are
# judged on the values sysctl.d persists.
#
# For each root it prints every best-practices and cis result (rule,
# status, the finding's first evidence line or the result's reason) and the
# coverage, then runs the root's own `sshd -T` in a chroot and compares it
# with the effective sshd configuration Kensa computed (`kensa inventory`,
# config.sshd.global), then changes passwords in the chroot to show what
# the PAM stack enforces.
#
# Usage: sudo bench/debootstrap-roots.sh [--rebuild]
#   --rebuild   build the default root again even if it exists (the hardened
#               root is always rebuilt from the default one)
# Environment: ROOTS (default /var/tmp/kensa-roots), MIRROR (default
# http://deb.debian.org/debian), SECURITY_MIRROR (default
# http://deb.debian.org/debian-security), KENSA (a kensa binary; default:
# build /tmp/kensa-db from this repository).
# Outputs: $ROOTS/{default,hardened}/ and, beside them, NAME.json (the scan
# report), NAME.inventory.json, NAME.sshd-T.txt, hardened.apt.log and
# hardened.aideinit.log.
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
# CIS Debian Linux 12 Benchmark v1.1.0, Level 1 - Server, applied by hand
# with the benchmark's remediations, control by control, for everything a
# chroot without a disk or a boot loader can hold. Left out (and said so in
# bench/debootstrap-results.md): separate partitions for /home, /var,
# /var/tmp, /var/log, /var/log/audit (1.1.2.x: no disk), the GRUB password
# and kernel command line (1.3.1.2, 1.4.x: no boot loader), and Level 2
# controls (auditd, udf/squashfs/overlayfs modules, ...).
rm -rf "$hard"
step "copying to $hard and applying CIS Debian 12 Level 1 settings"
th=$(date +%s)
cp -a "$def" "$hard"
H=$hard

# Package work in the chroot: no service may start (policy-rc.d); proc/
# is mounted for apt and the kernel's postinst, and unmounted before the
# scan (the root stays an image).
printf '#!/bin/sh\nexit 101\n' >"$H/usr/sbin/policy-rc.d"
chmod 755 "$H/usr/sbin/policy-rc.d"
[ -s "$H/etc/resolv.conf" ] || cp /etc/resolv.conf "$H/etc/resolv.conf"
mount_proc "$H"

# 1.2.2.1: the security and updates archives, and every pending update.
cat >"$H/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${SECURITY_MIRROR:-http://deb.debian.org/debian-security} bookworm-security main
EOF
# apt's and dpkg's output goes to hardened.apt.log (shown if a step fails).
aptlog=$roots/hardened.apt.log
: >"$aptlog"
apt_in() {
	if ! in_root "$H" apt-get -y -q -o Dpkg::Options::=--force-confold "$@" >>"$aptlog" 2>&1; then
		echo "apt-get $* failed in $H:" >&2
		tail -30 "$aptlog" >&2
		exit 1
	fi
}
apt_in update
upgradable=$(in_root "$H" apt list --upgradable 2>/dev/null | grep -c /) || true
apt_in upgrade
step "apt-get upgrade: $upgradable packages upgraded from bookworm-security and bookworm-updates"
# What a hardened server installs:
#   linux-image-amd64         a kernel, so that the module controls (1.1.1.x)
#                             have modules to judge (debootstrap installs none)
#   apparmor apparmor-utils   1.3.1.1
#   aide aide-common          6.3.1, 6.3.2
#   sudo                      5.2.1
#   systemd-timesyncd         2.3.1.1, 2.3.2.x (one time daemon)
#   nftables                  4.1.1, 4.3.x (Debian 12's firewall framework)
#   libpam-pwquality          5.3.1.3, 5.3.2.3; cracklib-runtime builds the
#                             dictionary it checks against (without it every
#                             new password fails: "error loading dictionary")
# Logging stays journald alone (6.1.1.x: one logging pipeline; rsyslog is
# not installed).
apt_in install --no-install-recommends \
	linux-image-amd64 apparmor apparmor-utils aide aide-common sudo systemd-timesyncd \
	nftables libpam-pwquality cracklib-runtime

# 1.1.1.1-1.1.1.5, 1.1.1.9: file system and USB storage modules (Level 1
# ones: udf, squashfs and overlayfs are Level 2).
for m in cramfs freevxfs hfs hfsplus jffs2 usb-storage; do
	printf 'install %s /bin/false\nblacklist %s\n' "$m" "$m" >"$H/etc/modprobe.d/$m.conf"
done

# 1.1.2.1.x, 1.1.2.2.x: /tmp and /dev/shm are tmpfs file systems, so they
# can be set in /etc/fstab without a disk (the benchmark's own lines).
cat >>"$H/etc/fstab" <<'EOF'
# CIS 1.1.2.1 and 1.1.2.2
tmpfs	/tmp	tmpfs	defaults,rw,nosuid,nodev,noexec,relatime,size=2G	0	0
tmpfs	/dev/shm	tmpfs	defaults,rw,nosuid,nodev,noexec,relatime	0	0
EOF

# 1.5.x, 3.3.x: kernel and network parameters, persisted in sysctl.d (an
# image has no running kernel: the scan judges these persisted values).
cat >"$H/etc/sysctl.d/60-kernel_sysctl.conf" <<'EOF'
# CIS Debian 12 1.5.1, 1.5.2, 1.5.3
kernel.randomize_va_space = 2
kernel.yama.ptrace_scope = 1
fs.suid_dumpable = 0
EOF
cat >"$H/etc/sysctl.d/60-netipv4_sysctl.conf" <<'EOF'
# CIS Debian 12 3.3.x (IPv4)
net.ipv4.ip_forward = 0
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.icmp_ignore_bogus_error_responses = 1
net.ipv4.icmp_echo_ignore_broadcasts = 1
net.ipv4.conf.all.accept_redirects = 0
net.ipv4.conf.default.accept_redirects = 0
net.ipv4.conf.all.secure_redirects = 0
net.ipv4.conf.default.secure_redirects = 0
net.ipv4.conf.all.rp_filter = 1
net.ipv4.conf.default.rp_filter = 1
net.ipv4.conf.all.accept_source_route = 0
net.ipv4.conf.default.accept_source_route = 0
net.ipv4.conf.all.log_martians = 1
net.ipv4.conf.default.log_martians = 1
net.ipv4.tcp_syncookies = 1
EOF
cat >"$H/etc/sysctl.d/60-netipv6_sysctl.conf" <<'EOF'
# CIS Debian 12 3.3.x (IPv6)
net.ipv6.conf.all.forwarding = 0
net.ipv6.conf.all.accept_redirects = 0
net.ipv6.conf.default.accept_redirects = 0
net.ipv6.conf.all.accept_source_route = 0
net.ipv6.conf.default.accept_source_route = 0
net.ipv6.conf.all.accept_ra = 0
net.ipv6.conf.default.accept_ra = 0
EOF
# 1.5.3: core dumps.
printf '# CIS Debian 12 1.5.3\n* hard core 0\n' >"$H/etc/security/limits.d/60-cis.conf"

# 1.6.x: banners without the OS name, root 0644.
notice='Authorized users only. All activity may be monitored and reported.'
for f in issue issue.net motd; do
	echo "$notice" >"$H/etc/$f"
	chown root:root "$H/etc/$f"
	chmod 644 "$H/etc/$f"
done

# 2.3.x: systemd-timesyncd (enabled by its postinst) with the site's
# servers.
mkdir -p "$H/etc/systemd/timesyncd.conf.d"
cat >"$H/etc/systemd/timesyncd.conf.d/60-cis.conf" <<'EOF'
# CIS Debian 12 2.3.2.1
[Time]
NTP=0.debian.pool.ntp.org 1.debian.pool.ntp.org
FallbackNTP=2.debian.pool.ntp.org 3.debian.pool.ntp.org
EOF
in_root "$H" systemctl enable -q systemd-timesyncd.service

# 2.4.1.x: cron's files root-only, crontab limited by cron.allow (group
# crontab: the set-group-id crontab reads it).
chown root:root "$H/etc/crontab"
chmod 600 "$H/etc/crontab"
for d in cron.hourly cron.daily cron.weekly cron.monthly cron.d; do
	chown root:root "$H/etc/$d"
	chmod 700 "$H/etc/$d"
done
rm -f "$H/etc/cron.deny"
printf 'root\nadmin\n' >"$H/etc/cron.allow"
in_root "$H" chown root:crontab /etc/cron.allow
chmod 640 "$H/etc/cron.allow"

# 4.3.x: nftables, input and forward dropped by default, loopback
# accepted and forged loopback dropped, ssh open; enabled at boot.
cat >"$H/etc/nftables.conf" <<'EOF'
#!/usr/sbin/nft -f
# CIS Debian 12 4.3: nftables is the firewall manager.
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		iif != "lo" ip saddr 127.0.0.0/8 drop
		iif != "lo" ip6 saddr ::1 drop
		ct state established,related accept
		meta l4proto { icmp, ipv6-icmp } accept
		tcp dport 22 accept
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
	chain output {
		type filter hook output priority filter; policy drop;
		oif "lo" accept
		ct state established,related,new accept
	}
}
EOF
chmod 700 "$H/etc/nftables.conf"
if ! in_root "$H" nft -c -f /etc/nftables.conf; then
	echo "warning: nft -c could not check /etc/nftables.conf (no nf_tables on this kernel?)" >&2
fi
in_root "$H" systemctl enable -q nftables.service

# 5.1.x: sshd. The drop-in is read first (Debian's sshd_config includes
# sshd_config.d/*.conf on its first line) and the first value of a keyword
# wins. Explicit algorithm lists (5.1.6, 5.1.12, 5.1.15), not removal
# lists: a removal list leaves hmac-sha1 and umac-128 offered.
in_root "$H" groupadd -r sshusers
in_root "$H" usermod -aG sshusers admin
cat >"$H/etc/ssh/sshd_config.d/00-cis.conf" <<'EOF'
# CIS Debian Linux 12 Benchmark, Level 1 - Server (section 5.1)
AllowGroups sshusers
Banner /etc/issue.net
Ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr
ClientAliveInterval 15
ClientAliveCountMax 3
DisableForwarding yes
HostbasedAuthentication no
IgnoreRhosts yes
KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha256
LoginGraceTime 60
LogLevel VERBOSE
MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512,hmac-sha2-256
MaxAuthTries 4
MaxSessions 10
MaxStartups 10:30:60
PermitEmptyPasswords no
PermitRootLogin no
PermitUserEnvironment no
UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication no
X11Forwarding no
EOF
chown -R root:root "$H/etc/ssh/sshd_config" "$H/etc/ssh/sshd_config.d"
chmod 600 "$H/etc/ssh/sshd_config" "$H/etc/ssh/sshd_config.d/00-cis.conf"
chmod 755 "$H/etc/ssh/sshd_config.d"
chmod 600 "$H"/etc/ssh/ssh_host_*_key
chmod 644 "$H"/etc/ssh/ssh_host_*_key.pub

# 5.2.x: sudo for the administrator, with a pty, its own log and a
# 15-minute credential cache.
cat >"$H/etc/sudoers.d/60-cis" <<'EOF'
# CIS Debian 12 5.2.2, 5.2.3, 5.2.6
Defaults use_pty
Defaults logfile="/var/log/sudo.log"
Defaults timestamp_timeout=15
EOF
chmod 440 "$H/etc/sudoers.d/60-cis"
in_root "$H" visudo -cq
in_root "$H" usermod -aG sudo admin
# 5.2.7: su only for the members of an empty group.
in_root "$H" groupadd -r sugroup
sed -i -E 's/^(auth\s+sufficient\s+pam_rootok\.so.*)$/\1\nauth       required   pam_wheel.so use_uid group=sugroup/' "$H/etc/pam.d/su"
grep -q '^auth.*pam_wheel.so use_uid group=sugroup' "$H/etc/pam.d/su"

# 5.3.x: PAM through pam-auth-update profiles, as the benchmark does it.
# pam_faillock (5.3.2.2): preauth before pam_unix, authfail after it, and
# the account check.
cat >"$H/usr/share/pam-configs/faillock" <<'EOF'
Name: Enable pam_faillock to deny access
Default: yes
Priority: 0
Auth-Type: Primary
Auth:
	[default=die]	pam_faillock.so authfail
EOF
cat >"$H/usr/share/pam-configs/faillock_notify" <<'EOF'
Name: Notify of failed login attempts and reset count upon success
Default: yes
Priority: 1024
Auth-Type: Primary
Auth:
	requisite	pam_faillock.so preauth
Account-Type: Primary
Account:
	required	pam_faillock.so
EOF
# pam_pwhistory (5.3.2.4, 5.3.3.3.x): sorts after pwquality (priority
# 1024) and before pam_unix (256), using the token pwquality asked for.
cat >"$H/usr/share/pam-configs/pwhistory" <<'EOF'
Name: pwhistory password history checking
Default: yes
Priority: 1000
Password-Type: Primary
Password:
	requisite	pam_pwhistory.so remember=24 enforce_for_root try_first_pass use_authtok
EOF
# 5.3.3.4.1: no nullok on pam_unix (the benchmark edits the profile).
sed -i -E 's/(pam_unix\.so.*) nullok/\1/' "$H/usr/share/pam-configs/unix"
in_root "$H" pam-auth-update --enable unix pwquality pwhistory faillock faillock_notify
# 5.3.3.1.x: lockout after 5 failures for 15 minutes.
sed -i -E 's/^#? *deny *=.*/deny = 5/; s/^#? *unlock_time *=.*/unlock_time = 900/' "$H/etc/security/faillock.conf"
# 5.3.3.2.x: password quality.
mkdir -p "$H/etc/security/pwquality.conf.d"
cat >"$H/etc/security/pwquality.conf.d/50-cis.conf" <<'EOF'
# CIS Debian 12 5.3.3.2.1 - 5.3.3.2.8
difok = 2
minlen = 14
minclass = 4
maxrepeat = 3
maxsequence = 3
dictcheck = 1
enforcing = 1
enforce_for_root
EOF

# 5.4.1.x: password ageing and hashing, for new accounts (login.defs,
# useradd) and existing users with a password (chage). 5.4.3.3 and 7.2.9:
# umask 027 and private homes.
sed -i -E 's/^PASS_MAX_DAYS\b.*/PASS_MAX_DAYS\t365/; s/^PASS_MIN_DAYS\b.*/PASS_MIN_DAYS\t1/;
	s/^PASS_WARN_AGE\b.*/PASS_WARN_AGE\t7/; s/^UMASK\b.*/UMASK\t\t027/; s/^#?HOME_MODE\b.*/HOME_MODE\t0750/;
	s/^ENCRYPT_METHOD\b.*/ENCRYPT_METHOD YESCRYPT/' "$H/etc/login.defs"
in_root "$H" useradd -D -f 45
for u in $(awk -F: '$2 !~ /^[!*]/ && $2 != "" {print $1}' "$H/etc/shadow"); do
	in_root "$H" chage --maxdays 365 --mindays 1 --warndays 7 --inactive 45 "$u"
done
for h in $(awk -F: '$3 >= 1000 && $3 < 65534 {print $6}' "$H/etc/passwd"); do
	[ -d "$H$h" ] && chmod 750 "$H$h"
done
sed -i -E 's/^#?DIR_MODE=.*/DIR_MODE=0750/' "$H/etc/adduser.conf"

# 5.4.3.2, 5.4.3.3, 5.4.2.6: shell timeout and umask.
printf '# CIS Debian 12 5.4.3.2\nTMOUT=900\nreadonly TMOUT\nexport TMOUT\n' >"$H/etc/profile.d/60-tmout.sh"
printf '# CIS Debian 12 5.4.3.3\numask 027\n' >"$H/etc/profile.d/50-systemwide_umask.sh"
printf '\n# CIS Debian 12 5.4.2.6\numask 0027\n' >>"$H/root/.bashrc"

# 6.1.1.x, 6.1.2.x: journald is the one logging pipeline, keeping a
# compressed journal on disk.
mkdir -p "$H/etc/systemd/journald.conf.d"
cat >"$H/etc/systemd/journald.conf.d/60-cis.conf" <<'EOF'
# CIS Debian 12 6.1.2.x
[Journal]
Storage=persistent
Compress=yes
ForwardToSyslog=no
EOF

# 1.3.1.x: AppArmor's profiles loaded at boot (apparmor.service, enabled
# by its postinst; the kernel command line needs a boot loader).
in_root "$H" systemctl enable -q apparmor.service

# 6.3.x: AIDE's database of the finished root, checked daily by its timer.
# aideinit scans the whole root: the slowest step.
in_root "$H" systemctl enable -q dailyaidecheck.timer
ta=$(date +%s)
in_root "$H" aideinit -y -f >"$roots/hardened.aideinit.log" 2>&1 || {
	echo "aideinit failed:" >&2
	tail -20 "$roots/hardened.aideinit.log" >&2
	exit 1
}
step "aideinit in $(($(date +%s) - ta))s"

apt_in clean
umount_proc "$H"
rm -f "$H/usr/sbin/policy-rc.d"

# 6.1.4.1: log files readable by their owners and group only (wtmp,
# btmp, lastlog keep utmp's 0664/0660); last, after apt and aide wrote
# theirs.
find "$H/var/log" -type f ! -name 'wtmp*' ! -name 'btmp*' ! -name 'lastlog*' -exec chmod g-wx,o-rwx {} +
step "hardened root ready in $(($(date +%s) - th))s"
echo "built $(date -u +%FT%TZ) in $(($(date +%s) - th))s" >"$H/.kensa-built"

# ---------------------------------------------------------------- scan and compare
# The keywords compared with sshd -T: those the rules read.
compare_keys=(permitrootlogin passwordauthentication kbdinteractiveauthentication usepam maxauthtries
	x11forwarding logingracetime permitemptypasswords ciphers macs kexalgorithms banner allowgroups
	allowusers denyusers denygroups clientaliveinterval clientalivecountmax maxstartups maxsessions loglevel
	hostbasedauthentication ignorerhosts permituserenvironment disableforwarding)

for name in default hardened; do
	dir=$roots/$name
	if mountpoint -q "$dir/proc"; then
		echo "$dir/proc is mounted: not an image" >&2
		exit 1
	fi
	step "$name: $(du -sh --apparent-size "$dir" | cut -f1) apparent, $(du -sh "$dir" | cut -f1) on disk, $(grep -c '^Package:' "$dir/var/lib/dpkg/status") packages"
	# --fs-walk: the cis file-system rules (7.1.11-7.1.13, 6.1.4.1) walk
	# the root; without it they are not evaluated.
	ts=$(date +%s%N)
	"$KENSA" scan -q --root "$dir" --packages best-practices,cis --fs-walk --format json -o "$dir.json"
	te=$(date +%s%N)
	"$KENSA" inventory -q --root "$dir" --pretty -o "$dir.inventory.json"
	step "$name: scan (best-practices,cis, --fs-walk) $(((te - ts) / 1000000)) ms -> $dir.json"
	python3 - "$dir.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
pkgs = ("best-practices", "cis")
ev = {}
for f in r.get("findings") or []:
    if f.get("rules_package") in pkgs:
        ev.setdefault(f["rule_id"], []).extend(f.get("evidence") or [])
# Every result: rule, status, the finding's first evidence line (fail) or
# the result's reason.
print("%-24s %-15s %s" % ("rule", "status", "evidence / reason"))
count = {}
for res in r["results"]:
    if res.get("rules_package") not in pkgs:
        continue
    c = count.setdefault(res["rules_package"], {})
    c[res["status"]] = c.get(res["status"], 0) + 1
    lines = ev.get(res["rule_id"]) or [res.get("reason", "")]
    print("%-24s %-15s %s" % (res["rule_id"], res["status"], lines[0]))
for p in pkgs:
    print("counts %s: %s" % (p, ", ".join("%s %d" % (k, v) for k, v in sorted((count.get(p) or {}).items()))))
for c in r["coverage"]:
    if c["package"] in pkgs:
        print("coverage: %s %s %s%s" % (c["package"], c["scope"], c["status"], (" (" + c["reason"] + ")") if c.get("reason") else ""))
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
    # A keyword neither side has (AllowGroups unset: sshd -T prints no
    # line) agrees.
    ok = (kv is None and k not in live) or (kv is not None and norm(kv) == norm(live.get(k, "")))
    agree += ok
    print("%-30s %-22s %-22s %s  (%s)" % (k, live.get(k, "-"), kv if kv is not None else "-", "yes" if ok else "NO", where if kv is not None else "unset"))
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

	# The same facts from the root's own tools, to check Kensa against them:
	# systemctl's enablement (offline, on the unit files), modprobe's
	# resolution of the blacklisted modules, systemd's merged journald and
	# timesyncd configuration, chage's view of the users.
	echo "tools: systemctl is-enabled: $(for u in cron.service systemd-timesyncd.service nftables.service apparmor.service dailyaidecheck.timer systemd-journald.service; do
		st=$(in_root "$dir" systemctl is-enabled "$u" 2>/dev/null) || true
		printf '%s=%s ' "$u" "${st:-no-unit}"
	done)"
	if [ -d "$dir/lib/modules" ]; then
		kver=$(ls "$dir/lib/modules" | sort -V | tail -1)
		echo "tools: modprobe -n -v (kernel $kver): $(for m in cramfs freevxfs hfs hfsplus jffs2 usb-storage; do
			printf '%s: %s; ' "$m" "$(in_root "$dir" modprobe -S "$kver" -n -v "$m" 2>&1 | tr '\n' ' ' | sed 's/ *$//')"
		done)"
	else
		echo "tools: no /lib/modules: no kernel installed"
	fi
	for c in journald timesyncd; do
		echo "tools: systemd-analyze cat-config systemd/$c.conf: $(in_root "$dir" systemd-analyze cat-config "systemd/$c.conf" 2>/dev/null | grep -E '^(Storage|Compress|NTP|FallbackNTP)=' | paste -sd' ' || true)"
	done
	echo "tools: chage -l: $(for u in root admin; do printf '%s: %s; ' "$u" "$(in_root "$dir" chage -l "$u" | sed -nE 's/^Password inactive\s+:\s+/inactive /p; s/^Maximum number of days[^:]*:\s+/max /p; s/^Number of days of warning[^:]*:\s+/warn /p' | paste -sd',' | sed 's/,/, /g')"; done)"
	echo "tools: fstab: $(grep -vE '^\s*(#|$)' "$dir/etc/fstab" | awk '{print $2" "$4}' | paste -sd';' || true)"

	# What the PAM stack really enforces: change passwords in the chroot
	# (the files they change are restored afterwards). On the
	# default root as the user (root skips pam_unix's checks), on the
	# hardened root as root (enforce_for_root; the user has PASS_MIN_DAYS 1).
	# passwd rewrites shadow and shadow-, pam_pwhistory opasswd and
	# opasswd.old: each is saved (or noted absent) and put back after.
	pam_files=(etc/shadow etc/shadow- etc/security/opasswd etc/security/opasswd.old)
	bak=$(mktemp -d)
	for f in "${pam_files[@]}"; do
		if [ -e "$dir/$f" ]; then cp -p "$dir/$f" "$bak/${f//\//_}"; fi
	done
	try_pw() { # label, then the passwd conversation
		local out rc=0
		out=$(printf '%s\n' "${@:2}" | in_root "$dir" timeout 20 "${passwd_cmd[@]}" 2>&1) || rc=$?
		echo "pam: $1: $([ $rc = 0 ] && echo accepted || echo "rejected ($(grep -oE 'BAD PASSWORD: .*|You must [^.]*|has been already used[^.]*|[Pp]assword unchanged' <<<"$out" | head -1))")"
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
		try_pw "4 repeated characters" 'Kq7!zvbbbbmwtL' 'Kq7!zvbbbbmwtL'
		try_pw "a 4-letter sequence" 'Kq7!zvabcdmwtL' 'Kq7!zvabcdmwtL'
	fi
	for f in "${pam_files[@]}"; do
		if [ -e "$bak/${f//\//_}" ]; then cp -p "$bak/${f//\//_}" "$dir/$f"; else rm -f "$dir/$f"; fi
	done
	rm -rf "$bak"
done
step "done in $(($(date +%s) - t0))s"
