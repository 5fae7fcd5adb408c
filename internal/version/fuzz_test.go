package version

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// fuzzEcosystems are the rule sets FuzzCompare draws from. To spend a run
// on one of them, name it: KENSA_FUZZ_ECOSYSTEM=Debian go test -fuzz
// FuzzCompare -fuzztime 60s ./internal/version/
var fuzzEcosystems = []string{"Debian:12", "AlmaLinux:9", "Alpine:v3.18", "PyPI", "Go", "npm", "Maven"}

// FuzzCompare: Compare never panics, whatever the strings; where both
// parse, it is an order: Compare(a, a) == 0 and Compare(a, b) ==
// -Compare(b, a), each -1, 0 or +1. A panic inside semantic is recovered
// and becomes an error; that error fails the target too, as a bug to
// report upstream.
func FuzzCompare(f *testing.F) {
	for _, p := range dpkgPairs {
		f.Add(uint8(0), p.a, p.b)
	}
	for _, p := range rpmPairs {
		f.Add(uint8(1), p.a, p.b)
	}
	for _, p := range apkPairs {
		f.Add(uint8(2), p.a, p.b)
	}
	for _, p := range pypiPairs {
		f.Add(uint8(3), p.a, p.b)
	}
	for _, p := range goPairs {
		f.Add(uint8(4), p.a, p.b)
	}
	for _, p := range npmPairs {
		f.Add(uint8(5), p.a, p.b)
	}
	for _, p := range mavenPairs {
		f.Add(uint8(6), p.a, p.b)
	}
	only := os.Getenv("KENSA_FUZZ_ECOSYSTEM")
	if only != "" {
		found := false
		for _, e := range fuzzEcosystems {
			found = found || Base(e) == only
		}
		if !found {
			f.Fatalf("KENSA_FUZZ_ECOSYSTEM=%s: not one of %v", only, fuzzEcosystems)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, a, b string) {
		eco := fuzzEcosystems[int(which)%len(fuzzEcosystems)]
		if only != "" {
			for _, e := range fuzzEcosystems {
				if Base(e) == only {
					eco = e
				}
			}
		}
		ab, errAB := Compare(eco, a, b)
		ba, errBA := Compare(eco, b, a)
		for _, err := range []error{errAB, errBA} {
			if err != nil && strings.Contains(err.Error(), "panicked") {
				t.Fatalf("%s: %q, %q: %v", eco, a, b, err)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("%s: %q, %q: an error that is not ErrInvalid: %v", eco, a, b, err)
			}
		}
		_, errA := Parse(eco, a)
		_, errB := Parse(eco, b)
		if (errA == nil && errB == nil) != (errAB == nil) || (errAB == nil) != (errBA == nil) {
			t.Fatalf("%s: %q, %q: Parse errors %v, %v but Compare errors %v, %v", eco, a, b, errA, errB, errAB, errBA)
		}
		if errA == nil {
			if c, err := Compare(eco, a, a); err != nil || c != 0 {
				t.Fatalf("%s: Compare(%q, itself) = %d, %v", eco, a, c, err)
			}
			if Base(eco) == "PyPI" {
				// A PEP 440 version is never a "legacy" one, which
				// semantic sorts below every real version, "0.dev0"
				// the lowest of them.
				if c, err := Compare(eco, a, "0.dev0"); err != nil || c < 0 {
					t.Fatalf("PyPI: %q accepted but compared as a legacy version (%d, %v)", a, c, err)
				}
			}
		}
		if errAB != nil {
			return
		}
		if ab < -1 || ab > 1 || ab != -ba {
			t.Fatalf("%s: Compare(%q, %q) = %d but Compare(%q, %q) = %d", eco, a, b, ab, b, a, ba)
		}
	})
}
