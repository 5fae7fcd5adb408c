package rpm

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/testfixture"
)

// TestMatchesRPMOnFixtures compares every package and every owned file
// with what Debian's own rpm (4.18; scripts/test.sh installs it) prints for
// the sqlite and Berkeley DB fixtures. rpm cannot read NDB; the ndb fixture
// is checked against recorded values in rpm_test.go.
func TestMatchesRPMOnFixtures(t *testing.T) {
	rpmBin, err := exec.LookPath("rpm")
	if err != nil {
		t.Skip("rpm is not installed (scripts/test.sh installs it)")
	}
	pkgdb := testfixture.Shared(t, "fixtures", "pkgdb", "rpm")
	for _, dir := range []string{"cbl-mariner-2.0-sqlite", "libuuid-bdb"} {
		t.Run(dir, func(t *testing.T) {
			// rpm may write next to a database it opens: query a copy.
			db := t.TempDir()
			src := filepath.Join(pkgdb, dir, "var/lib/rpm")
			entries, err := os.ReadDir(src)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(src, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(db, e.Name()), b, 0o644)
			}
			out, err := exec.Command(rpmBin, "--dbpath", db, "-qa", "--qf",
				`%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM} %|MODULARITYLABEL?{%{MODULARITYLABEL}}:{-}|\t[%{FILENAMES}|]\n`).Output()
			if err != nil {
				t.Fatalf("rpm -qa: %v", err)
			}
			var want []string
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if !strings.HasPrefix(l, "gpg-pubkey ") {
					want = append(want, strings.TrimSuffix(l, "|"))
				}
			}
			sort.Strings(want)

			inv, run := collectRoot(t, filepath.Join(pkgdb, dir))
			if run.Status != "ok" {
				t.Fatalf("collector %+v", run)
			}
			var got []string
			for _, p := range inv.Packages {
				// SOURCERPM carries no epoch; Kensa's source version
				// takes the binary's, for comparisons.
				srcVersion := p.SourceVersion
				if i := strings.IndexByte(srcVersion, ':'); i >= 0 {
					srcVersion = srcVersion[i+1:]
				}
				label := p.ModularityLabel
				if label == "" {
					label = "-"
				}
				got = append(got, p.Name+" "+p.Version+" "+p.Arch+" "+p.SourceName+"-"+srcVersion+".src.rpm "+label+"\t"+strings.Join(p.Files, "|"))
			}
			sort.Strings(got)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("kensa vs rpm -qa (-rpm +kensa):\n%s", d)
			}
		})
	}
}
