package host

import "strings"

// Ecosystem returns the OSV ecosystem name of the OS's packages, with the
// release as OSV spells it ("Debian:12", "Ubuntu:22.04:LTS", "AlmaLinux:8",
// "Rocky Linux:9", "Alpine:v3.18"), or "" when the distro or its release is
// unknown. Distro advisories are keyed by these exact strings.
func (o *OSRelease) Ecosystem() string {
	if o == nil || o.Major == "" {
		return ""
	}
	switch o.ID {
	case "debian":
		return "Debian:" + o.Major
	case "ubuntu":
		// OSV marks LTS releases (even years, April) with ":LTS".
		if strings.HasSuffix(o.Major, ".04") && len(o.Major) == 5 && (o.Major[1]-'0')%2 == 0 {
			return "Ubuntu:" + o.Major + ":LTS"
		}
		return "Ubuntu:" + o.Major
	case "almalinux":
		return "AlmaLinux:" + o.Major
	case "rocky":
		return "Rocky Linux:" + o.Major
	case "rhel":
		return "Red Hat:enterprise_linux:" + o.Major
	case "alpine":
		return "Alpine:v" + o.Major
	case "amzn":
		return "Amazon Linux:" + o.Major
	case "centos":
		return "CentOS:" + o.Major
	case "ol":
		return "Oracle Linux:" + o.Major
	case "fedora":
		return "Fedora:" + o.Major
	case "opensuse-leap":
		return "openSUSE:Leap " + o.Major
	case "sles":
		return "SUSE:Linux Enterprise Server " + o.Major
	}
	return ""
}

// PURLNamespace returns the purl type and namespace of OS packages on this
// distro ("deb", "debian"), following the purl spec's deb/rpm/apk types.
func (o *OSRelease) PURLNamespace(manager string) (typ, namespace string) {
	id := ""
	if o != nil {
		id = o.ID
	}
	switch manager {
	case "dpkg":
		return "deb", id
	case "rpm":
		if id == "rhel" {
			id = "redhat"
		}
		return "rpm", id
	case "apk":
		return "apk", id
	}
	return manager, id
}
