package host

// Ecosystem returns the OSV ecosystem name of the OS's packages, with the
// release as OSV spells it ("Debian:12", "Ubuntu:22.04:LTS", "AlmaLinux:8",
// "Rocky Linux:9", "Alpine:v3.18"), or "" when the distro or its release is
// unknown. Distro advisories are keyed by these exact strings.
func (o *OSRelease) Ecosystem() string {
	if o == nil || o.Major == "" {
		return ""
	}
	if o.ID == "ubuntu" {
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
		"sles":          "SUSE:Linux Enterprise Server ",
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
