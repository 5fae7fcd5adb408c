#!/bin/sh
# Builds testdata/rpm418/rpmdb.sqlite: a real SQLite rpm database written by
# rpm 4.18 (Debian 12 package "rpm"), holding three tiny packages chosen for
# their edge cases and one imported key:
#   kensa-epoch-zero           explicit Epoch: 0 (rpm prints EVR "0:1.0-1.el9")
#   kensa-modular              Epoch 3 and a MODULARITYLABEL
#   python3.11-kensa-odd-name  dots, dashes and a tilde; file names with spaces
#   gpg-pubkey                 from `rpm --import` of a throw-away key
# Nothing is installed on disk (--justdb). The key is generated afresh, so a
# rebuilt database differs in the gpg-pubkey record only.
set -eu
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/SPECS" "$work/db" "$work/gnupg"
chmod 700 "$work/gnupg"

cat > "$work/SPECS/epoch0.spec" <<'EOF'
Name: kensa-epoch-zero
Epoch: 0
Version: 1.0
Release: 1.el9
Summary: test package with an explicit epoch 0
License: MIT
BuildArch: noarch
%description
Kensa test package.
%install
mkdir -p %{buildroot}/usr/share/kensa
echo zero > %{buildroot}/usr/share/kensa/epoch-zero.txt
%files
/usr/share/kensa/epoch-zero.txt
EOF

cat > "$work/SPECS/modular.spec" <<'EOF'
%define modularitylabel perl:5.26:8000020190628015319:a5b0195c
Name: kensa-modular
Epoch: 3
Version: 2.0
Release: 3.module+el8.1.0+2940+f62455ee
Summary: test package with a modularity label
License: MIT
%description
Kensa test package.
%install
mkdir -p %{buildroot}/usr/lib/kensa %{buildroot}/etc/kensa
echo mod > %{buildroot}/usr/lib/kensa/modular.so
echo conf > %{buildroot}/etc/kensa/modular.conf
%files
%dir /etc/kensa
%config /etc/kensa/modular.conf
/usr/lib/kensa
EOF

cat > "$work/SPECS/odd.spec" <<'EOF'
Name: python3.11-kensa-odd-name
Version: 1.2.3~rc1
Release: 0.1.fc39
Summary: test package with dots, dashes and a tilde
License: MIT
BuildArch: noarch
%description
Kensa test package.
%install
mkdir -p "%{buildroot}/usr/share/kensa/dir with space"
echo odd > "%{buildroot}/usr/share/kensa/dir with space/odd file.txt"
%files
"/usr/share/kensa/dir with space"
EOF

for s in "$work"/SPECS/*.spec; do
	rpmbuild --define "_topdir $work" -bb "$s" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
done
GNUPGHOME="$work/gnupg" gpg --batch --passphrase '' \
	--quick-gen-key 'Kensa Test Key <test@kensa.invalid>' rsa2048 sign never
GNUPGHOME="$work/gnupg" gpg --armor --export test@kensa.invalid > "$work/key.asc"
rpm --dbpath "$work/db" --initdb
rpm --dbpath "$work/db" --import "$work/key.asc"
rpm --dbpath "$work/db" -i --justdb --nodeps --ignorearch --ignoreos --nosignature "$work"/RPMS/*/*.rpm
cp "$work/db/rpmdb.sqlite" "$out/rpmdb.sqlite"
rpm --dbpath "$work/db" -qa --qf '%{NAME}|%{EPOCH}|%{VERSION}-%{RELEASE}|%{ARCH}|%{SOURCERPM}|%{MODULARITYLABEL}|%{EVR}\n'
rpm --dbpath "$work/db" -qa --qf '%{NAME}: [%{FILENAMES}, ]\n'
