package ubuntu_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/feed/ubuntu"
)

// FuzzParse checks that no input panics Parse or Detect, and that whatever
// Parse accepts is well formed.
func FuzzParse(f *testing.F) {
	// Excerpts of the real focal database.
	f.Add([]byte(`{"data": {"CVE-2021-3156": {"priority": "high", "releases": {"focal": {"sudo": {"binaries": ["sudo", "sudo-ldap"], "repository": "Ubuntu Archive", "status": ["released", "1.8.31-1ubuntu1.2"]}}}}}, "metadata": {"timestamp": 1631863298, "ttl": 3900, "version": "1.0"}}`))
	f.Add([]byte(`{"data": {"CVE-2002-2439": {"priority": "low", "releases": {"focal": {"gcc-arm-none-eabi": {"binaries": ["gcc-arm-none-eabi", "gcc-arm-none-eabi-source"], "status": ["needed"]}, "gcc-avr": {"binaries": ["gcc-avr"], "status": ["not-affected", ""]}, "xerces-c": {"binaries": ["libxerces-c3.2"], "status": ["deferred", "2019-01-01"]}, "firefox": {"binaries": ["firefox-locale-kk,\n firefox-locale-km"], "repository": "Ubuntu Archive", "status": ["released", ""]}}}}}}`))
	f.Add([]byte(sample))
	f.Fuzz(func(t *testing.T, b []byte) {
		ubuntu.Detect("f.json", b)
		var advs []*advisory.Advisory
		feed, err := ubuntu.Parse(bytes.NewReader(b), func(a *advisory.Advisory) error {
			advs = append(advs, a)
			return nil
		})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ubuntu: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		if !strings.HasPrefix(feed.Name, "ubuntu-cvescan/") || feed.Format != ubuntu.Format {
			t.Fatalf("feed %+v", feed)
		}
		ids := map[string]bool{}
		for _, a := range advs {
			if a.ID == "" || ids[a.ID] || a.Kind != advisory.KindSecurity || a.Affected == nil {
				t.Fatalf("advisory %+v", a)
			}
			ids[a.ID] = true
			for _, af := range a.Affected {
				if af.Package == "" || !strings.HasPrefix(af.Ecosystem, "Ubuntu:") || af.VendorStatus == "" {
					t.Fatalf("%s: affected %+v", a.ID, af)
				}
				switch af.Status {
				case advisory.StatusAffected:
					if len(af.Ranges) != 1 || len(af.Ranges[0].Events) != 2 || af.Ranges[0].Events[1].Fixed == "" {
						t.Fatalf("%s: affected without a fix: %+v", a.ID, af)
					}
				case advisory.StatusUnfixed, advisory.StatusWillNotFix, advisory.StatusNotAffected:
					if af.Ranges != nil {
						t.Fatalf("%s: %s with ranges", a.ID, af.Status)
					}
				default:
					t.Fatalf("%s: status %q", a.ID, af.Status)
				}
				for _, bin := range af.Binaries {
					if bin == "" || strings.Contains(bin, ",") {
						t.Fatalf("%s: binary %q", a.ID, bin)
					}
				}
			}
		}
	})
}
