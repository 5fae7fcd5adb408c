package assess

import (
	"testing"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/aptchangelog"
	"github.com/kensa-dev/kensa/internal/collect/fswalk"
)

// The file-system walk costs seconds: it runs only when asked for and
// only for the cis package, never for kensa inventory.
func TestCollectorsForFSWalk(t *testing.T) {
	for _, tc := range []struct {
		pkgs []string
		walk bool
		want bool
	}{
		{nil, false, false},
		{nil, true, false},
		{[]string{"cis"}, false, false},
		{[]string{"cis"}, true, true},
		{[]string{"best-practices"}, true, false},
		{[]string{"cve", "cis"}, true, true},
	} {
		has, after := false, false
		seenMounts, seenUsers := false, false
		for _, c := range CollectorsFor(tc.pkgs, collect.DefaultDiscovery(), aptchangelog.Options{NoDownload: true}, tc.walk) {
			switch c.Name() {
			case fswalk.Name:
				has, after = true, seenMounts && seenUsers
			case "config/mounts":
				seenMounts = true
			case "os/users":
				seenUsers = true
			}
		}
		if has != tc.want || (has && !after) {
			t.Errorf("%v, --fs-walk %v: walk included %v (after users and mounts: %v), want %v", tc.pkgs, tc.walk, has, after, tc.want)
		}
	}
}
