package collect

import (
	"sort"

	"github.com/kensa-dev/kensa/internal/host"
	packageurl "github.com/package-url/packageurl-go"
)

// enrichPackages names each OS package's ecosystem and purl from the OS
// identity. It runs after all collectors, so package collectors need not
// depend on the OS collector's output.
func enrichPackages(inv *host.Inventory) {
	eco := inv.OS.Ecosystem() // "" when the OS or its release is unknown
	for i := range inv.Packages {
		p := &inv.Packages[i]
		p.Ecosystem = eco
		p.PURL = osPURL(inv.OS, p)
	}
}

// osPURL builds the purl of an OS package, as the purl spec's deb, rpm and
// apk types define it: pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12.
func osPURL(o *host.OSRelease, p *host.Package) string {
	typ, ns := o.PURLNamespace(p.Manager)
	if ns == "" || p.Name == "" {
		return ""
	}
	var q packageurl.Qualifiers
	if p.Arch != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: p.Arch})
	}
	if o != nil && o.ID != "" {
		d := o.ID
		if o.Release != "" {
			d += "-" + o.Release
		}
		q = append(q, packageurl.Qualifier{Key: "distro", Value: d})
	}
	if p.SourceName != "" && p.SourceName != p.Name {
		key := "upstream"
		if p.Manager == "rpm" {
			key = "sourcerpm"
		}
		v := p.SourceName
		if p.Manager == "rpm" && p.SourceVersion != "" {
			v = p.SourceName + "-" + p.SourceVersion + ".src.rpm"
		}
		q = append(q, packageurl.Qualifier{Key: key, Value: v})
	}
	sort.Slice(q, func(i, j int) bool { return q[i].Key < q[j].Key })
	return packageurl.NewPackageURL(typ, ns, p.Name, p.Version, q, "").ToString()
}
