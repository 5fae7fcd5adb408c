package alpine_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/feed/alpine"
)

// FuzzParse checks that no input panics Parse or Detect, and that whatever
// Parse accepts is well formed.
func FuzzParse(f *testing.F) {
	// Excerpts of the real v3.11/main.yaml, v3.8/main.yaml and v3.7/main.yaml.
	f.Add([]byte(`---
distroversion: v3.11
reponame: main
archs:
  - x86_64
urlprefix: http://dl-cdn.alpinelinux.org/alpine
apkurl: "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk"
packages:
  - pkg:
      name: busybox
      secfixes:
        1.30.1-r2:
          - CVE-2019-5747
        1.29.3-r10:
          - CVE-2018-20679
          - CVE-2019-5747
  - pkg:
      name: tcpdump
      secfixes:
        4.9.3-r0:
          - CVE-2018-14881 (BGP)
          - CVE-2018-10103 (SMB - partially fixed, but SMB printing disabled)
`))
	f.Add([]byte(`distroversion: v3.8
reponame: main
packages:
  - pkg:
      name: db
      secfixes:
      # whitelist issues for Oracle Berkeley DB (later closed source releases)
        "0":
        - CVE-2016-0682
  - pkg:
      name: xen
      secfixes:
        4.9.1-r3:
          - CVE-2017-5753 CVE-2017-5715 CVE-2017-5754 XSA-254 XPTI
        4.11.1-r0:
          - CVE-????-?????  XSA-284
          - CVE_2019-2426
          - CVE 2018-16859
          - CVE-2017-17434-1
`))
	f.Add([]byte(`{"apkurl": "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk", "archs": ["x86_64"], "reponame": "main", "urlprefix": "https://dl-cdn.alpinelinux.org/alpine", "distroversion": "v3.18", "packages": [{"pkg": {"name": "xen", "secfixes": {"4.17.1-r1": ["CVE-2022-42332 XSA-427"], "0": ["CVE-2021-28831"]}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		alpine.Detect("main.yaml", b)
		var advs []*advisory.Advisory
		feed, err := alpine.Parse(bytes.NewReader(b), func(a *advisory.Advisory) error {
			advs = append(advs, a)
			return nil
		})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "alpine: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		if !strings.HasPrefix(feed.Name, "alpine-secdb/v") || feed.Format != alpine.Format {
			t.Fatalf("feed %+v", feed)
		}
		for i, a := range advs {
			if a.ID == "" || strings.ContainsAny(a.ID, " \t\n(?") || (i > 0 && advs[i-1].ID >= a.ID) || len(a.Affected) == 0 {
				t.Fatalf("advisory %+v", a)
			}
			for _, af := range a.Affected {
				if af.Package == "" || !strings.HasPrefix(af.Ecosystem, "Alpine:v") {
					t.Fatalf("%s: affected %+v", a.ID, af)
				}
				switch af.Status {
				case advisory.StatusAffected:
					if len(af.Ranges) == 0 {
						t.Fatalf("%s: affected without ranges", a.ID)
					}
					for _, r := range af.Ranges {
						if len(r.Events) != 2 || r.Events[1].Fixed == "" || r.Events[1].Fixed == "0" {
							t.Fatalf("%s: range %+v", a.ID, r)
						}
					}
				case advisory.StatusNotAffected:
					if af.Ranges != nil {
						t.Fatalf("%s: not affected with ranges", a.ID)
					}
				default:
					t.Fatalf("%s: status %q", a.ID, af.Status)
				}
			}
		}
	})
}
