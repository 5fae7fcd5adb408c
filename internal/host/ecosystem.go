package host

import "strings"

// Ecosystem returns the ecosystem name of the OS's packages with the
// release, as OSV spells it where OSV has the distro ("Debian:12",
// "Ubuntu:22.04:LTS", "AlmaLinux:8", "Rocky Linux:9", "Alpine:v3.18",
// "SUSE:Linux Enterprise Server 15 SP5"), and in the same form for those
// whose advisories come from elsewhere ("Amazon Linux:2023" from ALAS,
// "CentOS:7", "Oracle Linux:9", "Fedora:40"). Red Hat's own OSV
// ecosystems are per repository ("Red Hat:enterprise_linux:9::baseos");
// "Red Hat:enterprise_linux:9" names the release they share. It is ""
// when the distro or its release is unknown.
func (o *OSRelease) Ecosystem() string {
	if o == nil || o.Major == "" {
		return ""
	}
	switch o.ID {
	case "sles", "sles_sap", "sled":
		// OSV: "SUSE:Linux Enterprise Server 15 SP5" for VERSION_ID 15.5.
		major, sp, ok := strings.Cut(o.Major, ".")
		if ok && sp != "0" {
			return "SUSE:Linux Enterprise Server " + major + " SP" + sp
		}
		return "SUSE:Linux Enterprise Server " + major
	case "ubuntu":
		// OSV marks LTS releases (even years, April) with ":LTS".
		if len(o.Major) == 5 && o.Major[2:] == ".04" && (o.Major[1]-'0')%2 == 0 {
			return "Ubuntu:" + o.Major + ":LTS"
		}
		return "Ubuntu:" + o.Major
	}
	prefix, ok := map[string]string{
		"debian":        "Debian:",
		"almalinux":     "AlmaLinux:",
		"rocky":         "Rocky Linux:",
		"rhel":          "Red Hat:enterprise_linux:",
		"alpine":        "Alpine:v",
		"amzn":          "Amazon Linux:",
		"centos":        "CentOS:",
		"ol":            "Oracle Linux:",
		"fedora":        "Fedora:",
		"opensuse-leap": "openSUSE:Leap ",
	}[o.ID]
	if !ok {
		return ""
	}
	return prefix + o.Major
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
