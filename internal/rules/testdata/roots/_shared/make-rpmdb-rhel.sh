#!/usr/bin/env bash
# Regenerates the rpm databases of the RHEL-family fixture layers
# (var/lib/rpm/rpmdb.sqlite of rhel9-default, rhel9-cis, rhel9-pkgs-extra
# and rhel9-pkgs-missing, and the al2023-* ones): tiny empty noarch packages
# named and versioned as RHEL 9.4 (Amazon Linux 2023) names them, registered
# with `rpm --justdb --nodeps`. See README-rhel.md and README-al2023.md. Needs rpm and rpmbuild (Debian: apt install rpm; rpmbuild
# is in the rpm package) — only to regenerate, not to run the tests.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name version-release: the default RHEL 9 server ("Server" environment,
# minimal set the rules look at).
base=(
	"setup 2.13.7-10.el9" "bash 5.1.8-9.el9" "systemd 252-32.el9_4" "systemd-udev 252-32.el9_4"
	"openssh 8.7p1-38.el9" "openssh-server 8.7p1-38.el9" "openssh-clients 8.7p1-38.el9"
	"pam 1.5.1-19.el9" "authselect 1.2.6-2.el9" "authselect-libs 1.2.6-2.el9" "libpwquality 1.4.4-8.el9"
	"sudo 1.9.5p2-10.el9_3" "chrony 4.5-1.el9" "cronie 1.5.7-11.el9" "cronie-anacron 1.5.7-11.el9"
	"rsyslog 8.2310.0-4.el9" "libselinux 3.6-1.el9" "libselinux-utils 3.6-1.el9"
	"selinux-policy 38.1.35-2.el9_4" "selinux-policy-targeted 38.1.35-2.el9_4"
	"firewalld 1.3.4-1.el9" "nftables 1.0.9-1.el9" "crypto-policies 20240202-1.git283706d.el9"
	"dnf 4.14.0-9.el9" "rpm 4.16.1.3-29.el9" "shadow-utils 4.9-8.el9" "util-linux 2.37.4-18.el9"
	"kernel-core 5.14.0-427.13.1.el9_4" "grub2-common 2.06-77.el9" "grub2-pc 2.06-77.el9"
	"audit 3.1.2-2.el9" "logrotate 3.18.0-8.el9" "kmod 28-9.el9" "procps-ng 3.3.17-14.el9"
)
# packages a Level 1 server should not have, and at and gdm (rules that apply
# only when they are installed)
unwanted=(
	"telnet 0.17-85.el9" "ftp 0.17-89.el9" "ypbind 2.7.2-7.el9" "tftp 5.2-37.el9" "openldap-clients 2.6.6-3.el9"
	"mcstrans 3.6-1.el9" "setroubleshoot-server 3.3.32-1.el9" "avahi 0.8-20.el9" "autofs 5.1.7-58.el9"
	"dhcp-server 4.4.2-19.b1.el9" "bind 9.16.23-18.el9_4" "dnsmasq 2.85-16.el9_4" "samba 4.19.4-105.el9_4"
	"vsftpd 3.0.5-5.el9" "dovecot 2.3.16-11.el9" "cyrus-imapd 3.4.1-11.el9" "nfs-utils 2.5.4-25.el9" "ypserv 4.1-7.el9"
	"cups 2.3.3op2-24.el9" "rpcbind 1.2.6-7.el9" "rsync-daemon 3.2.3-19.el9" "net-snmp 5.9.1-13.el9"
	"telnet-server 0.17-85.el9" "tftp-server 5.2-37.el9" "squid 5.5-13.el9" "httpd 2.4.57-8.el9" "nginx 1.20.1-14.el9_2.1"
	"xinetd 2.3.15-33.el9" "bluez 5.64-2.el9" "systemd-journal-remote 252-32.el9_4"
	"at 3.1.23-11.el9" "gdm 40.1-23.el9"
)
# what rhel9-pkgs-missing leaves out of the default set
missing=(sudo libselinux libselinux-utils authselect authselect-libs libpwquality rsyslog chrony cronie nftables firewalld)

# files the stand-ins own (everything else is an empty package): the
# set-id programs the default roots have, for the file-system walk's check.
declare -A owns=(
	[cronie]="%attr(0755,root,root) /usr/sbin/crond
%attr(4755,root,root) /usr/bin/crontab"
	[util-linux]="%attr(4755,root,root) /usr/bin/su"
)

build() { # name version-release
	local name=$1 vr=$2 v=${2%-*} r=${2##*-}
	[ -e "$work/rpms/$name-$vr.rpm" ] && return
	mkdir -p "$work/rpms" "$work/top"
	cat >"$work/$name.spec" <<SPEC
Name: $name
Version: $v
Release: $r
Summary: Kensa fixture stand-in for the RHEL 9 package $name (empty)
License: MIT
BuildArch: noarch
%description
Empty stand-in: only the name, the version and the file list matter.
%install
$(printf '%s\n' "${owns[$name]:-}" | awk 'NF {print "mkdir -p %{buildroot}" $NF " && rmdir %{buildroot}" $NF " && touch %{buildroot}" $NF}')
%files
${owns[$name]:-}
SPEC
	rpmbuild -bb --quiet --define "_topdir $work/top" --define '_source_date_epoch_from_changelog 0' \
		--define 'use_source_date_epoch_as_buildtime 1' --define 'clamp_mtime_to_source_date_epoch 1' --define '_buildhost kensa-fixtures' "$work/$name.spec" >/dev/null
	mv "$work"/top/RPMS/noarch/"$name"-"$vr".noarch.rpm "$work/rpms/$name-$vr.rpm"
}

makedb() { # layer, then "name vr" entries
	local layer=$1; shift
	local db=$work/db-$layer files=()
	mkdir -p "$db"
	for e in "$@"; do
		build ${e% *} ${e#* }
		files+=("$work/rpms/${e% *}-${e#* }.rpm")
	done
	rpm --dbpath "$db" --initdb
	rpm --dbpath "$db" --justdb --nodeps --noscripts --notriggers --ignorearch --ignoreos -i "${files[@]}"
	# one self-contained file: fold the WAL back in and drop the companions
	sqlite3 "$db/rpmdb.sqlite" 'PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE; PRAGMA page_size=1024; VACUUM;' >/dev/null
	mkdir -p "$layer/var/lib/rpm"
	cp "$db/rpmdb.sqlite" "$layer/var/lib/rpm/rpmdb.sqlite"
}

export SOURCE_DATE_EPOCH=1714521600 # 2024-05-01, RHEL 9.4's release month
makedb rhel9-default "${base[@]}"
# hardened: AIDE added, rsyslog removed (journald is the one log store)
cis=("aide 0.16-100.el9")
for e in "${base[@]}"; do [ "${e% *}" = rsyslog ] || cis+=("$e"); done
makedb rhel9-cis "${cis[@]}"
makedb rhel9-pkgs-extra "${base[@]}" "${unwanted[@]}"
kept=()
for e in "${base[@]}"; do
	skip=
	for m in "${missing[@]}"; do [ "${e% *}" = "$m" ] && skip=1; done
	[ -z "$skip" ] && kept+=("$e")
done
makedb rhel9-pkgs-missing "${kept[@]}"
# Amazon Linux 2023 (2023.4): the packages the rules look at, as AL2023
# names them; no cronie, rsyslog or firewalld by default.
al2023=(
	"setup 2.13.7-3.amzn2023.0.2" "bash 5.2.15-1.amzn2023.0.2" "systemd 252.23-2.amzn2023" "systemd-udev 252.23-2.amzn2023"
	"openssh 8.7p1-8.amzn2023.0.11" "openssh-server 8.7p1-8.amzn2023.0.11" "openssh-clients 8.7p1-8.amzn2023.0.11"
	"pam 1.5.1-8.amzn2023.0.3" "authselect 1.4.2-1.amzn2023.0.2" "authselect-libs 1.4.2-1.amzn2023.0.2" "libpwquality 1.4.4-6.amzn2023.0.2"
	"sudo 1.9.15-1.p5.amzn2023.0.1" "chrony 4.3-1.amzn2023.0.4" "libselinux 3.4-5.amzn2023.0.2" "libselinux-utils 3.4-5.amzn2023.0.2"
	"selinux-policy 37.22-1.amzn2023.0.1" "selinux-policy-targeted 37.22-1.amzn2023.0.1" "crypto-policies 20220428-1.gitdfb10ea.amzn2023.0.2"
	"dnf 4.14.0-1.amzn2023.0.4" "rpm 4.16.1.3-29.amzn2023.0.6" "shadow-utils 4.9-12.amzn2023.0.4" "util-linux 2.37.4-1.amzn2023.0.4"
	"kernel 6.1.91-99.172.amzn2023" "grub2-common 2.06-61.amzn2023" "grub2-efi-x64 2.06-61.amzn2023" "audit 3.0.6-1.amzn2023.0.2"
	"logrotate 3.20.1-2.amzn2023.0.3" "kmod 29-2.amzn2023.0.5" "procps-ng 3.3.17-1.amzn2023.0.2" "cloud-init 22.2.2-1.amzn2023.1.13"
)
al2023_extra=(
	"telnet 0.17-85.amzn2023.0.2" "ftp 0.17-89.amzn2023.0.2" "openldap-clients 2.4.57-6.amzn2023.0.4" "mcstrans 3.4-1.amzn2023.0.2"
	"setroubleshoot-server 3.3.28-1.amzn2023.0.3" "avahi 0.8-14.amzn2023.0.12" "dhcp-server 4.4.3-3.amzn2023.0.2" "bind 9.16.48-1.amzn2023.0.2"
	"dnsmasq 2.89-1.amzn2023.0.2" "samba 4.18.6-1.amzn2023.0.1" "vsftpd 3.0.5-1.amzn2023.0.2" "dovecot 2.3.20-1.amzn2023.0.1"
	"nfs-utils 2.5.4-2.rc3.amzn2023.0.3" "cups 2.4.2-9.amzn2023.0.3" "rpcbind 1.2.6-2.amzn2023.0.2" "rsync-daemon 3.2.6-1.amzn2023.0.3"
	"net-snmp 5.9.3-1.amzn2023.0.2" "telnet-server 0.17-85.amzn2023.0.2" "tftp-server 5.2-32.amzn2023.0.2" "squid 5.8-1.amzn2023.0.2"
	"httpd 2.4.59-1.amzn2023" "nginx 1.24.0-1.amzn2023.0.2" "systemd-journal-remote 252.23-2.amzn2023" "at 3.1.23-6.amzn2023.0.2"
	"rsyslog 8.2204.0-3.amzn2023.0.4"
)
makedb al2023-default "${al2023[@]}"
makedb al2023-cis "${al2023[@]}" "aide 0.16.2-4.amzn2023.0.2" "cronie 1.5.7-1.amzn2023.0.2"
makedb al2023-pkgs-extra "${al2023[@]}" "${al2023_extra[@]}"
kept=()
for e in "${al2023[@]}"; do
	case "${e% *}" in sudo | libselinux | libselinux-utils | authselect | authselect-libs | libpwquality | chrony) ;;
	*) kept+=("$e") ;;
	esac
done
makedb al2023-pkgs-missing "${kept[@]}"
# Amazon Linux 2: the packages the rules look at, as Amazon Linux 2 names
# them (yum, authconfig and pam 1.1.8, OpenSSH 7.4p1, cronie, rsyslog,
# chrony, iptables; no crypto-policies, authselect, nftables or firewalld).
# Amazon Linux 2's own rpm database is a Berkeley DB (rpm 4.11); these are
# sqlite like the others (see README-al2.md).
al2=(
	"setup 2.8.71-10.amzn2.0.1" "bash 4.2.46-34.amzn2" "systemd 219-78.amzn2.0.22" "systemd-libs 219-78.amzn2.0.22"
	"openssh 7.4p1-22.amzn2.0.9" "openssh-server 7.4p1-22.amzn2.0.9" "openssh-clients 7.4p1-22.amzn2.0.9"
	"pam 1.1.8-23.amzn2.0.1" "authconfig 6.2.8-30.amzn2.0.2" "libpwquality 1.2.3-5.amzn2" "sudo 1.8.23-10.amzn2.3.5"
	"chrony 4.2-5.amzn2.0.2" "cronie 1.4.11-23.amzn2" "cronie-anacron 1.4.11-23.amzn2" "rsyslog 8.24.0-57.amzn2.2.0.2"
	"libselinux 2.5-12.amzn2.0.2" "libselinux-utils 2.5-12.amzn2.0.2" "selinux-policy 3.13.1-192.amzn2.6.10"
	"selinux-policy-targeted 3.13.1-192.amzn2.6.10" "yum 3.4.3-158.amzn2.0.6" "rpm 4.11.3-48.amzn2.0.4"
	"shadow-utils 4.1.5.1-24.amzn2.0.3" "util-linux 2.30.2-2.amzn2.0.11" "kernel 5.10.215-203.850.amzn2"
	"grub2-common 2.06-61.amzn2.0.9" "grub2-pc 2.06-61.amzn2.0.9" "audit 2.8.1-3.amzn2.1" "logrotate 3.8.6-15.amzn2"
	"kmod 25-3.amzn2.0.2" "procps-ng 3.3.10-26.amzn2.0.1" "iptables 1.8.4-10.amzn2.1.2" "postfix 2.10.1-6.amzn2.0.3"
	"cloud-init 19.3-46.amzn2.0.1" "ec2-instance-connect 1.1-19.amzn2"
)
al2_extra=(
	"telnet 0.17-66.amzn2" "rsh 0.17-76.amzn2.0.2" "talk 0.17-46.amzn2.0.2" "ypbind 1.37.1-9.amzn2.0.2"
	"openldap-clients 2.4.44-25.amzn2.0.6" "mcstrans 0.3.4-5.amzn2.0.2" "setroubleshoot 3.2.30-3.amzn2.0.1"
	"avahi 0.6.31-20.amzn2" "cups 1.6.3-51.amzn2.0.3" "dhcp 4.2.5-79.amzn2.1.5" "openldap-servers 2.4.44-25.amzn2.0.6"
	"bind 9.11.4-26.P2.amzn2.13.5" "vsftpd 3.0.2-25.amzn2" "httpd 2.4.58-1.amzn2" "dovecot 2.2.36-8.amzn2.0.3"
	"samba 4.10.16-25.amzn2.0.1" "squid 3.5.20-17.amzn2.7.22" "net-snmp 5.7.2-49.amzn2.2" "ypserv 2.31-12.amzn2.0.2"
	"telnet-server 0.17-66.amzn2" "nfs-utils 1.3.0-0.54.amzn2.0.2" "rpcbind 0.2.0-44.amzn2" "rsync 3.1.2-11.amzn2.0.2"
	"prelink 0.5.0-9.amzn2.0.2" "xorg-x11-server-Xorg 1.20.4-15.amzn2.0.3" "autofs 5.0.7-116.amzn2.0.1" "at 3.1.13-25.amzn2"
)
# the firewall managers of the benchmark's section 3.5: iptables-services
# (iptables.service and ip6tables.service), nftables and firewalld
al2_iptables_services="iptables-services 1.8.4-10.amzn2.1.2"
al2_nftables="nftables 0.8-14.amzn2.0.1"
al2_firewalld="firewalld 0.6.3-13.amzn2.0.1"
makedb al2-default "${al2[@]}"
# hardened: AIDE added, iptables-services manages the firewall
makedb al2-cis "${al2[@]}" "aide 0.16-1.amzn2.0.1" "$al2_iptables_services"
makedb al2-iptables "${al2[@]}" "$al2_iptables_services"
makedb al2-pkgs-nftables "${al2[@]}" "$al2_nftables"
makedb al2-pkgs-firewalld "${al2[@]}" "$al2_firewalld"
makedb al2-pkgs-fw-all "${al2[@]}" "$al2_iptables_services" "$al2_nftables" "$al2_firewalld"
makedb al2-pkgs-extra "${al2[@]}" "${al2_extra[@]}"
kept=()
for e in "${al2[@]}"; do
	case "${e% *}" in sudo | libselinux | libselinux-utils | libpwquality | chrony | cronie | cronie-anacron | rsyslog) ;;
	*) kept+=("$e") ;;
	esac
done
makedb al2-pkgs-missing "${kept[@]}"
ls -l */var/lib/rpm/rpmdb.sqlite
# RHEL 8 (8.10): the packages the rules look at, as RHEL 8.10 names and
# versions them (OpenSSH 8.0p1, pam 1.3.1, authselect 1.2.6, dnf and yum 4,
# grub2 2.02 with BLS). See README-rhel8.md.
export SOURCE_DATE_EPOCH=1715126400 # 2024-05-08, RHEL 8.10's release
rhel8=(
	"setup 2.12.2-11.el8" "bash 4.4.20-5.el8" "systemd 239-82.el8" "systemd-udev 239-82.el8"
	"openssh 8.0p1-24.el8" "openssh-server 8.0p1-24.el8" "openssh-clients 8.0p1-24.el8"
	"pam 1.3.1-34.el8" "authselect 1.2.6-2.el8" "authselect-libs 1.2.6-2.el8" "libpwquality 1.4.4-6.el8"
	"sudo 1.9.5p2-1.el8_9" "chrony 4.5-1.el8" "cronie 1.5.2-10.el8" "cronie-anacron 1.5.2-10.el8"
	"rsyslog 8.2102.0-15.el8" "libselinux 2.9-8.el8" "libselinux-utils 2.9-8.el8"
	"selinux-policy 3.14.3-139.el8" "selinux-policy-targeted 3.14.3-139.el8"
	"firewalld 0.9.11-9.el8" "nftables 1.0.4-4.el8_9" "iptables 1.8.5-11.el8_9" "crypto-policies 20230731-1.git3177e06.el8"
	"dnf 4.7.0-20.el8" "yum 4.7.0-20.el8" "rpm 4.14.3-31.el8" "shadow-utils 4.6-22.el8" "util-linux 2.32.1-46.el8"
	"kernel-core 4.18.0-553.el8_10" "grub2-common 2.02-156.el8" "grub2-pc 2.02-156.el8"
	"audit 3.1.2-1.el8" "logrotate 3.14.0-6.el8" "kmod 25-20.el8" "procps-ng 3.3.15-14.el8"
)
rhel8_unwanted=(
	"telnet 0.17-76.el8" "ftp 0.17-78.el8" "ypbind 2.5-2.el8" "tftp 5.2-24.el8" "openldap-clients 2.4.46-19.el8_10"
	"talk 0.17-60.el8" "rsh 0.17-82.el8"
	"mcstrans 2.9-2.el8" "setroubleshoot-server 3.3.26-5.el8" "avahi 0.7-27.el8" "autofs 5.1.4-113.el8"
	"dhcp-server 4.3.6-50.el8" "bind 9.11.36-16.el8_10" "dnsmasq 2.79-33.el8" "samba 4.19.4-3.el8"
	"vsftpd 3.0.3-36.el8" "dovecot 2.3.16-5.el8" "cyrus-imapd 3.0.7-25.el8" "nfs-utils 2.3.3-59.el8" "ypserv 4.1-1.el8"
	"cups 2.2.6-60.el8_10" "rpcbind 1.2.5-10.el8" "rsync-daemon 3.1.3-19.el8_7.1" "net-snmp 5.8-30.el8"
	"telnet-server 0.17-76.el8" "tftp-server 5.2-24.el8" "squid 4.15-10.module+el8.10.0+21444+1f1a5d71" "httpd 2.4.37-65.module+el8.10.0+21982+14717793"
	"nginx 1.14.1-9.module+el8.0.0+4108+af250afe" "xinetd 2.3.15-25.el8" "bluez 5.63-1.el8" "systemd-journal-remote 239-82.el8"
	"at 3.1.20-12.el8" "gdm 40.0-27.el8"
)
makedb rhel8-default "${rhel8[@]}"
# hardened: AIDE added; rsyslog kept (the benchmark, as ComplianceAsCode
# numbers it, has rsyslog installed and journald forwarding to it)
makedb rhel8-cis "${rhel8[@]}" "aide 0.16-103.el8"
makedb rhel8-pkgs-extra "${rhel8[@]}" "${rhel8_unwanted[@]}"
kept=()
for e in "${rhel8[@]}"; do
	case "${e% *}" in sudo | libselinux | libselinux-utils | authselect | authselect-libs | libpwquality | rsyslog | chrony | cronie | nftables | firewalld) ;;
	*) kept+=("$e") ;;
	esac
done
makedb rhel8-pkgs-missing "${kept[@]}"
# the firewall alternatives of the benchmark's section 3.4: iptables-services
# installed beside firewalld and nftables (rhel8-pkgs-fw-all), and
# iptables-services in their place (rhel8-iptables; removing nftables
# removes firewalld, which requires it)
rhel8_iptables_services="iptables-services 1.8.5-11.el8_9"
makedb rhel8-pkgs-fw-all "${rhel8[@]}" "$rhel8_iptables_services"
kept=()
for e in "${rhel8[@]}"; do
	case "${e% *}" in nftables | firewalld) ;;
	*) kept+=("$e") ;;
	esac
done
makedb rhel8-iptables "${kept[@]}" "$rhel8_iptables_services"
ls -l rhel8-*/var/lib/rpm/rpmdb.sqlite
