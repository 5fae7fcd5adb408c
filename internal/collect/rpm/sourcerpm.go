package rpm

import "strings"

// parseSourceRPM splits a SOURCERPM value, the file name of the source
// package a binary package was built from, into the source package's name
// and its "version-release":
//
//	util-linux-2.32.1-42.el8_8.src.rpm -> util-linux, 2.32.1-42.el8_8
//
// rpm names the file %{NAME}-%{VERSION}-%{RELEASE}.src.rpm (.nosrc.rpm for
// a package built without its sources). A name may contain dashes; rpm
// forbids them in version and release, so the last two dashes split the
// three. ok is false when the value does not have that shape.
func parseSourceRPM(s string) (name, version string, ok bool) {
	base, found := strings.CutSuffix(s, ".src.rpm")
	if !found {
		if base, found = strings.CutSuffix(s, ".nosrc.rpm"); !found {
			return "", "", false
		}
	}
	r := strings.LastIndexByte(base, '-')
	if r <= 0 || r == len(base)-1 {
		return "", "", false
	}
	v := strings.LastIndexByte(base[:r], '-')
	if v <= 0 || v == r-1 {
		return "", "", false
	}
	return base[:v], base[v+1:], true
}
