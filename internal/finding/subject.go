package finding

import (
	"path"
	"regexp"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// HostKey is the host's identity in fingerprints: the machine id, which
// survives renames, else the hostname, else the scanned root.
func HostKey(id host.Identity) string {
	switch {
	case id.MachineID != "":
		return id.MachineID
	case id.Hostname != "":
		return id.Hostname
	}
	return id.Root
}

// PackageTarget names an OS package as a finding's subject: its binary
// package name ("libssl3"), never its version, as docs/report.md defines.
// A multi-arch package installed for two architectures (zlib1g amd64 and
// i386) is one subject: the same fix applies to both, and a rules package
// reports it once, naming both.
func PackageTarget(p host.Package) string { return p.Name }

// SoftwareTarget names software found outside the package manager as a
// finding's subject: "ecosystem:name@location", where the location is
// reduced to what survives an upgrade. A Python distribution's metadata
// lives in a versioned directory (requests-2.31.0.dist-info) or file
// (foo-1.0.egg-info), so its site-packages directory stands in; a Java
// archive's file name usually holds its version (log4j-core-2.14.1.jar,
// app-1.0.war!/WEB-INF/lib/log4j-core-2.14.1.jar), so the version is cut
// from each archive name. Go binaries and npm manifests keep their path.
//
// Two records of one distribution in one site-packages directory (a stale
// egg-info beside a dist-info) are one subject: a rules package reports it
// once.
func SoftwareTarget(s host.Software) string {
	loc := s.Location
	switch s.Kind {
	case host.KindPythonDist:
		if !strings.HasSuffix(loc, ".egg-info") {
			loc = path.Dir(loc) // .../foo-1.0.dist-info/METADATA
		}
		loc = path.Dir(loc)
	case host.KindJavaArchive:
		parts := strings.Split(loc, "!/")
		for i, p := range parts {
			parts[i] = path.Join(path.Dir(p), archiveVersion.ReplaceAllString(path.Base(p), "$1"))
		}
		loc = strings.Join(parts, "!/")
	}
	return s.Ecosystem + ":" + s.Name + "@" + loc
}

// archiveVersion matches the version in an archive's file name:
// log4j-core-2.14.1.jar, app-1.0-SNAPSHOT.war, guice-no-aop-4.2.3.jar.
var archiveVersion = regexp.MustCompile(`-[0-9][0-9A-Za-z.+_~-]*(\.(?:jar|war|ear|rar|sar|par|jpi|hpi))$`)

// PackageSubject is the subject of a finding about an OS package.
func PackageSubject(id host.Identity, rulesPackage, ruleID string, p host.Package, vulnID string) Subject {
	return Subject{Host: HostKey(id), RulesPackage: rulesPackage, RuleID: ruleID, Target: PackageTarget(p), VulnerabilityID: vulnID}
}

// SoftwareSubject is the subject of a finding about software outside the
// package manager.
func SoftwareSubject(id host.Identity, rulesPackage, ruleID string, s host.Software, vulnID string) Subject {
	return Subject{Host: HostKey(id), RulesPackage: rulesPackage, RuleID: ruleID, Target: SoftwareTarget(s), VulnerabilityID: vulnID}
}
