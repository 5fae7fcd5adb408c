package finding

import (
	"testing"

	"github.com/kensa-dev/kensa/internal/host"
)

// TestUpgradeThatDoesNotFixKeepsTheID builds the subject of a finding from
// the inventory of a host before and after an upgrade that leaves the CVE
// in place: every id must survive, for OS packages and for software whose
// location holds its version.
func TestUpgradeThatDoesNotFixKeepsTheID(t *testing.T) {
	id := host.Identity{Hostname: "web1", MachineID: "4f1c2a9e8b7d4c3fa1e2d3c4b5a69788", Root: "/"}
	before := []host.Package{{Manager: "dpkg", Name: "libssl3", Version: "3.0.11-1~deb12u1", Arch: "amd64", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u1"}}
	after := []host.Package{{Manager: "dpkg", Name: "libssl3", Version: "3.0.11-1~deb12u2", Arch: "amd64", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2"}}
	if a, b := Fingerprint(PackageSubject(id, PackageCVE, "cve/Debian", before[0], "CVE-2024-2511")), Fingerprint(PackageSubject(id, PackageCVE, "cve/Debian", after[0], "CVE-2024-2511")); a != b {
		t.Errorf("OS package: id changed on upgrade: %s -> %s", a, b)
	}
	sw := [][2]host.Software{
		{
			{Ecosystem: "PyPI", Name: "requests", Version: "2.31.0", Kind: "python-dist", Location: "/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"},
			{Ecosystem: "PyPI", Name: "requests", Version: "2.32.0", Kind: "python-dist", Location: "/usr/lib/python3/dist-packages/requests-2.32.0.dist-info/METADATA"},
		},
		{
			{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", Kind: "java-archive", Location: "/opt/app/app-1.0.war!/WEB-INF/lib/log4j-core-2.14.1.jar"},
			{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.15.0", Kind: "java-archive", Location: "/opt/app/app-1.1.war!/WEB-INF/lib/log4j-core-2.15.0.jar"},
		},
		{
			{Ecosystem: "PyPI", Name: "six", Version: "1.16.0", Kind: "python-dist", Location: "/usr/lib/python3/dist-packages/six-1.16.0.egg-info"},
			{Ecosystem: "PyPI", Name: "six", Version: "1.17.0", Kind: "python-dist", Location: "/usr/lib/python3/dist-packages/six-1.17.0.egg-info"},
		},
		{
			{Ecosystem: "Maven", Name: "com.google.inject:guice", Version: "4.2.3", Kind: "java-archive", Location: "/usr/share/java/guice-no-aop-4.2.3.jar"},
			{Ecosystem: "Maven", Name: "com.google.inject:guice", Version: "4.2.4", Kind: "java-archive", Location: "/usr/share/java/guice-no-aop-4.2.4.jar"},
		},
		{
			{Ecosystem: "Go", Name: "stdlib", Version: "v1.22.3", Kind: "go-stdlib", Location: "/usr/local/bin/app"},
			{Ecosystem: "Go", Name: "stdlib", Version: "v1.22.4", Kind: "go-stdlib", Location: "/usr/local/bin/app"},
		},
	}
	for _, pair := range sw {
		a := Fingerprint(SoftwareSubject(id, PackageCVE, "cve/osv", pair[0], "CVE-2021-44228"))
		b := Fingerprint(SoftwareSubject(id, PackageCVE, "cve/osv", pair[1], "CVE-2021-44228"))
		if a != b {
			t.Errorf("%s: id changed on upgrade (%s vs %s)", pair[0].Name, SoftwareTarget(pair[0]), SoftwareTarget(pair[1]))
		}
	}
}

func TestSubjects(t *testing.T) {
	id := host.Identity{MachineID: "m"}
	amd := host.Package{Manager: "dpkg", Name: "zlib1g", Arch: "amd64"}
	i386 := host.Package{Manager: "dpkg", Name: "zlib1g", Arch: "i386"}
	if Fingerprint(PackageSubject(id, PackageCVE, "r", amd, "CVE-1")) != Fingerprint(PackageSubject(id, PackageCVE, "r", i386, "CVE-1")) {
		t.Error("the architectures of a multi-arch package are two subjects; docs/report.md makes them one")
	}
	if Fingerprint(PackageSubject(id, PackageCVE, "r", amd, "CVE-1")) == Fingerprint(PackageSubject(id, PackageCVE, "r", host.Package{Name: "zlib1g-dev", Arch: "amd64"}, "CVE-1")) {
		t.Error("two packages share an id")
	}
	a := host.Software{Ecosystem: "Go", Name: "stdlib", Kind: "go-stdlib", Location: "/usr/bin/a"}
	b := a
	b.Location = "/usr/bin/b"
	if Fingerprint(SoftwareSubject(id, PackageCVE, "r", a, "V")) == Fingerprint(SoftwareSubject(id, PackageCVE, "r", b, "V")) {
		t.Error("two binaries share an id")
	}
	// Two archives of one directory shipping the same artifact are two
	// subjects.
	j1 := host.Software{Ecosystem: "Maven", Name: "com.google.inject:guice", Kind: "java-archive", Location: "/usr/share/java/guice-multibindings.jar"}
	j2 := host.Software{Ecosystem: "Maven", Name: "com.google.inject:guice", Kind: "java-archive", Location: "/usr/share/java/guice-no-aop-4.2.3.jar"}
	if SoftwareTarget(j1) == SoftwareTarget(j2) {
		t.Errorf("two jars share the target %s", SoftwareTarget(j1))
	}
	for loc, want := range map[string]string{
		"/opt/app/app-1.0.war!/WEB-INF/lib/log4j-core-2.14.1.jar": "Maven:x@/opt/app/app.war!/WEB-INF/lib/log4j-core.jar",
		"/opt/app/app-1.0-SNAPSHOT.war":                           "Maven:x@/opt/app/app.war",
		"/usr/share/java/commons-io.jar":                          "Maven:x@/usr/share/java/commons-io.jar",
	} {
		if got := SoftwareTarget(host.Software{Ecosystem: "Maven", Name: "x", Kind: "java-archive", Location: loc}); got != want {
			t.Errorf("SoftwareTarget(%s) = %s, want %s", loc, got, want)
		}
	}
}

func TestHostKey(t *testing.T) {
	for _, c := range []struct {
		id   host.Identity
		want string
	}{
		{host.Identity{MachineID: "m", Hostname: "h", Root: "/"}, "m"},
		{host.Identity{Hostname: "h", Root: "/"}, "h"},
		{host.Identity{Root: "/mnt/img"}, "/mnt/img"},
	} {
		if got := HostKey(c.id); got != c.want {
			t.Errorf("HostKey(%+v) = %q, want %q", c.id, got, c.want)
		}
	}
}
