package version

import (
	"errors"
	"strings"
	"testing"
)

// pair is an expected order: Compare(a, b) == want, and so
// Compare(b, a) == -want.
type pair struct {
	a, b string
	want int
}

// checkPairs checks each pair in both directions, through Compare and
// through a parsed Version, under every ecosystem name given.
func checkPairs(t *testing.T, ecosystems []string, pairs []pair) {
	t.Helper()
	for _, eco := range ecosystems {
		for _, p := range pairs {
			got, err := Compare(eco, p.a, p.b)
			if err != nil || got != p.want {
				t.Errorf("%s: Compare(%q, %q) = %d, %v; want %d", eco, p.a, p.b, got, err, p.want)
				continue
			}
			if got, err := Compare(eco, p.b, p.a); err != nil || got != -p.want {
				t.Errorf("%s: Compare(%q, %q) = %d, %v; want %d", eco, p.b, p.a, got, err, -p.want)
			}
			v, err := Parse(eco, p.a)
			if err != nil {
				t.Errorf("%s: Parse(%q): %v", eco, p.a, err)
				continue
			}
			if got, err := v.Compare(p.b); err != nil || got != p.want {
				t.Errorf("%s: Parse(%q).Compare(%q) = %d, %v; want %d", eco, p.a, p.b, got, err, p.want)
			}
		}
	}
}

// chain turns versions listed oldest first into the pairs of every two of
// them.
func chain(vs ...string) []pair {
	var ps []pair
	for i := range vs {
		for j := i + 1; j < len(vs); j++ {
			ps = append(ps, pair{vs[i], vs[j], -1})
		}
	}
	return ps
}

// deb-version(7): an epoch outweighs everything; "~" sorts before
// anything, even the end of the string; letters sort before other
// non-digits; digit runs compare as numbers; a missing revision is "0".
var dpkgPairs = []pair{
	{"1:1.0", "2.0", 1},
	{"1:1.0-1", "1:1.0-1", 0},
	{"0:1.0", "1.0", 0},
	{"2:1.0", "1:9.9", 1},
	{"3.0.19-1~deb12u2", "3.0.19-1", -1},
	{"3.0.19-1~deb12u2", "3.0.19-1~deb12u3", -1},
	{"1.0~rc1", "1.0", -1},
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0~~", "1.0~", -1},
	{"1.0~~a", "1.0~~", 1},
	{"1.0~", "1.0", -1},
	{"1.0", "1.0a", -1},
	{"1.0a", "1.0+", -1},
	{"5.2.15-2+b8", "5.2.15-2+b9", -1},
	{"5.2.15-2+b8", "5.2.15-2+b13", -1},
	{"2.36-9+deb12u4", "2.36-9", 1},
	{"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
	{"1.2.3+dfsg-1", "1.2.3-1", 1},
	{"1.2.3+dfsg-1", "1.2.3.1-1", -1},
	{"1.0", "1.0-0", 0},
	{"1.01", "1.1", 0},
	{"1.0", "1.0.0", -1},
	{"20230311+deb12u1", "20250419~deb12u2", -1},
	{"2.9-1~bpo12+1", "2.9-1", -1},
	{"0~20171227-0.3+deb12u1", "0", -1},
	{"1:2.66-4+deb12u2+b2", "1:2.66-4+deb12u3+b1", -1},
	{"2.1.12-stable-8", "2.1.12-stable-8+deb12u1", -1},
	{"17.0.15+6-1~deb12u1", "17.0.21.1+2-1~deb12u1", -1},
	// Ubuntu.
	{"1.8.31-1ubuntu1.2", "1.8.31-1ubuntu1.10", -1},
	{"1.1.1f-1ubuntu2.16", "1.1.1f-1ubuntu2.20", -1},
	{"1.1.1f-1ubuntu2.16", "1.1.1f-1ubuntu2", 1},
	{"1.1.1f-1ubuntu2", "1.1.1f-1", 1},
	{"1.1.1f-1ubuntu2", "1.1.1f-2", -1},
	{"2.7.17-1~18.04ubuntu1.13", "2.7.17-1~18.04ubuntu1.13+esm4", -1},
	{"2.7.17-1~18.04ubuntu1.13+esm4", "2.7.17-1", -1},
	{"1:9.18.18-0ubuntu0.22.04.1", "1:9.18.18-0ubuntu0.22.04.2", -1},
	{"5.15.0-91.101", "5.15.0-101.111", -1},
	{"5.15.0-101.111~20.04.1", "5.15.0-101.111", -1},
}

func TestDpkg(t *testing.T) {
	checkPairs(t, []string{"Debian:12", "Debian:11", "Ubuntu:22.04:LTS", "Ubuntu:Pro:18.04:LTS", "Debian", "Ubuntu"}, dpkgPairs)
}

// TestDebUpgradable: every version apt offered as an upgrade is newer than
// the installed one it replaces.
func TestDebUpgradable(t *testing.T) {
	var ps []pair
	for _, u := range debUpgradable {
		ps = append(ps, pair{u.installed, u.candidate, -1})
	}
	checkPairs(t, []string{"Debian:12"}, ps)
	if len(ps) < 20 {
		t.Fatalf("only %d recorded pairs", len(ps))
	}
}

// rpmvercmp (rpm's rpmio/rpmvercmp.c, and the "Versioning" chapter of
// rpm's documentation): epoch first, then version, then release; each
// split into runs of digits and of letters, numbers newer than letters;
// "~" before anything, "^" after the end of the string but before any
// other continuation.
var rpmPairs = []pair{
	{"1:1.0-1", "2.0-1", 1},
	{"0:1.0-1", "1.0-1", 0},
	{"1.0~rc1", "1.0", -1},
	{"1.0~rc1-1", "1.0-1", -1},
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0^git1", "1.0", 1},
	{"1.0^git1", "1.0.1", -1},
	{"1.0^git1", "1.0^git2", -1},
	{"1.0~rc1^git1", "1.0~rc1", 1},
	{"1.0~rc1^git1", "1.0", -1},
	{"1.0-1.el9", "1.0-1.el9_1", -1},
	{"2.34-60.el9", "2.34-60.el9_1", -1},
	{"2.34-60.el9_1", "2.34-60.el9_1.2", -1},
	{"1.0-1.el8", "1.0-1.el8_4", -1},
	{"1.0-1.el8", "1.0-1.el9", -1},
	{"1.0-1", "1.0", 1},
	{"1.0", "1.0.0", -1},
	{"1.01", "1.1", 0},
	{"1.0a", "1.0", 1},
	{"1.0a", "1.0.1", -1},
	{"4.18.0-372.9.1.el8", "4.18.0-372.13.1.el8_6", -1},
	{"4.18.0-425.3.1.el8", "4.18.0-425.10.1.el8_7", -1},
	{"2.28-251.el8_10.2", "2.28-251.el8_10.16", -1},
	{"1:1.1.1k-7.el8_6", "1:1.1.1k-16.el8_6", -1},
	{"1:1.1.1k-12.el8_9", "1:3.0.1-41.el9_0", -1},
	{"1.9.5p2-7.el9_1.1", "1.9.5p2-10.el9_3", -1},
	{"1.9.5p2-15.el9_7", "1.9.17p2-3.el9_8", -1},
	{"32:9.16.23-11.el9_2.1", "32:9.16.23-34.el9_7.1", -1},
	{"32:9.11.36-14.el8_10", "9.18.33-15.el10_2.10", 1},
	// Module builds: the release carries the module stream's build.
	{"1:0.1.15-2.git2d0b8a3.module_el8.4.0+2570+c6d2f4a7", "1:0.1.15-2.git2d0b8a3.module_el8.5.0+119+9a9ec082", -1},
	{"1:0.1.15-2.git2d0b8a3.module_el8.5.0+119+9a9ec082", "1:0.1.15-3.module_el8.6.0+2870+bd1a56ac", -1},
	{"0.1.15-2.git2d0b8a3.el8", "1:0.1.15-2.git2d0b8a3.module_el8.5.0+119+9a9ec082", -1},
	{"2.4.37-47.module_el8.6.0+2872+fe0ff7aa", "2.4.37-47.module_el8.6.0+2872+fe0ff7aa.1.alma", -1},
	{"1:14.18.2-2.module_el8.5.0+254+b4526b16", "1:14.20.1-2.module_el8.7.0+3342+b2df8497", -1},
	// Amazon Linux and Fedora.
	{"3.0.8-1.amzn2023.0.4", "3.0.8-1.amzn2023.0.10", -1},
	{"1:3.0.8-1.amzn2023.0.4", "3.0.8-1.amzn2023.0.10", 1},
	{"1.0.2k-24.amzn2.0.6", "1.0.2k-24.amzn2.0.7", -1},
	{"6.5.6-300.fc39", "6.6.2-201.fc39", -1},
	{"1.0-1.fc38", "1.0-1.el9", 1},
}

var rpmEcosystems = []string{
	"AlmaLinux:8", "AlmaLinux:9", "Rocky Linux:9", "Red Hat", "Red Hat:enterprise_linux:9::appstream",
	"Amazon Linux:2", "Amazon Linux:2023", "CentOS:7", "Oracle Linux:9", "Fedora:40",
	"openSUSE:Leap 15.5", "SUSE:Linux Enterprise Server 15 SP5",
}

func TestRPM(t *testing.T) {
	checkPairs(t, rpmEcosystems, rpmPairs)
}

// apk-tools' apk-package(5) documents the version syntax and the order of
// the suffixes: alpha, beta, pre, rc, no suffix, cvs, svn, git, hg, p. The
// pairs marked "version.data" are rows of apk-tools' own test vectors
// (test/version.data).
var apkPairs = []pair{
	{"1.2.3-r10", "1.2.3_rc1-r0", 1},
	{"1.2.3-r9", "1.2.3-r10", -1},
	{"1.0a", "1.0", 1},
	{"1.0a", "1.0b", -1},
	{"1.0a", "1.0.1", -1},
	{"1.0_rc1", "1.0_rc2", -1},
	{"1.0_rc9", "1.0_rc10", -1},
	{"1.0_p1", "1.0_p2", -1},
	{"1.2.3-r1", "1.2.3-r0", 1},
	{"1.02", "1.1", -1},
	{"3.1.4-r0", "3.1.4-r1", -1},
	{"3.1.4-r6", "3.1.5-r0", -1},
	{"1.36.1-r5", "1.36.1-r7", -1},
	{"1.2.4-r3", "1.2.4_git20230717-r4", -1},
	{"8.9.0-r1", "8.9.1-r0", -1},
	{"6.4-r0", "6.4_p20230506-r0", -1},
	{"6.4_p20230506-r0", "6.4_p20231125-r0", -1},
	{"2023c-r1", "2024a-r0", -1},
	{"2024a-r0", "2024b-r0", -1},
	{"0.1.0_alpha_pre2", "0.1.0_alpha", -1},                          // version.data
	{"1.0.0_pre20191002222144-r0", "1.0.0_pre20210530193627-r0", -1}, // version.data
	{"2.3.0b-r1", "2.3.0b-r2", -1},                                   // version.data
	{"3.1_p16", "3.1_p17", -1},                                       // version.data
	{"1.2.07.8", "1.2.12.04", -1},                                    // version.data
	{"1.2.12.04", "1.2.12.05", -1},                                   // version.data
	{"2.9.11_pre20051101-r3", "2.9.11_pre20051101", 1},               // version.data
	{"4.5_p1-r1", "4.5_p1", 1},                                       // version.data
	{"1.3_pre1-r1", "1.3.2", -1},                                     // version.data
	{"1.0_p10-r0", "1.0_p9-r0", 1},                                   // version.data
	{"0.20070118", "0.20070207_rc1", -1},                             // version.data
	{"1.06-r6", "006", -1},                                           // version.data
	{"2.12r-r4", "2.12r-r5", -1},                                     // version.data
	{"1.7", "1.7b", -1},                                              // version.data
	{"2.5.1-r8", "2.5.1a-r1", -1},                                    // version.data
	{"20040406-r1", "2.12r-r4", 1},                                   // version.data
	{"0.99.163", "2.6.15.20060110", -1},                              // version.data
	{"2.6.1.3-r1", "12.17.9", -1},                                    // version.data
	{"1.4.9-r2", "2.9.11_pre20051101-r2", -1},                        // version.data
	{"3.0.24", "3.0.24", 0},                                          // version.data
	{"0.1.0_alpha", "0.1.0_alpha2", -1},                              // version.data
	{"2.01.01_alpha10", "3.9.8-r5", -1},                              // version.data
	{"1.0.4-r3", "1.0.4-r4", -1},                                     // version.data
	{"1.3.5-r10", "1.3.5-r9", 1},                                     // version.data
	{"104-r11", "104-r9", 1},                                         // version.data
	{"1.6.8_p12-r1", "1.6.8_p9-r2", 1},                               // version.data
	{"0.9.28.1", "087-r1", -1},                                       // version.data
	{"1.2.2-r1", "1.2.2", 1},                                         // version.data
}

func TestApk(t *testing.T) {
	suffixes := chain("1.0_alpha", "1.0_alpha1", "1.0_beta", "1.0_beta2", "1.0_pre", "1.0_rc", "1.0_rc1", "1.0",
		"1.0_svn", "1.0_git", "1.0_hg", "1.0_p", "1.0_p1", "1.0a")
	checkPairs(t, []string{"Alpine:v3.18", "Alpine:v3.20", "Alpine"}, append(apkPairs, suffixes...))
}

// Go module versions are SemVer with a "v"; the Go vulnerability database
// writes them without it, and the standard library's pre-releases as
// "1.22.0-0" (the lowest pre-release of 1.22.0) and "1.21.0-rc.4". Kensa's
// inventory stores the standard library as "v1.22.3" (golang.StdlibVersion).
var goPairs = []pair{
	{"v1.22.1", "1.22.2", -1},
	{"v1.22.1", "1.22.1", 0},
	{"v1.22.3", "1.22.3", 0},
	{"1.21.9", "1.22.0-0", -1},
	{"1.22.0-0", "1.22.0-rc.1", -1},
	{"1.22.0-rc.1", "1.22.0-rc.2", -1},
	{"1.21.0-rc.4", "1.21.0", -1},
	{"v1.21.0-rc.2", "1.21.0-rc.4", -1},
	{"v1.22.3+fips", "1.22.3", 0},
	{"v1.22.3", "1.22", 1},
	{"1.22", "1.22.0", 0},
	{"0", "v0.0.1", -1},
	{"v0.0.0-20230101000000-abcdef123456", "v0.1.0", -1},
	{"v0.0.0-20230101000000-abcdef123456", "v0.0.0-20240101000000-123456abcdef", -1},
	{"v1.2.3", "v1.2.4-0.20230101000000-abcdef123456", -1},
	{"v1.2.4-0.20230101000000-abcdef123456", "v1.2.4", -1},
	{"v1.2.4-0.20230101000000-abcdef123456", "v1.2.4-rc.1", -1},
	{"v2.0.0+incompatible", "v2.0.0", 0},
	{"v2.0.0+incompatible", "v2.0.1+incompatible", -1},
	{"v1.10.0", "v1.9.9", 1},
	{"v0.17.0", "v0.23.0", -1},
	{"v1.60.1", "v1.64.0", -1},
}

func TestGo(t *testing.T) {
	checkPairs(t, []string{"Go"}, goPairs)
}

// TestGoPseudoBelowZero: a v0.0.0 pseudo-version is a pre-release of
// v0.0.0 and so sorts below OSV's "introduced: 0". A matcher must take
// "0" as "from the first version" rather than compare with it.
func TestGoPseudoBelowZero(t *testing.T) {
	checkPairs(t, []string{"Go"}, []pair{{"v0.0.0-20230101000000-abcdef123456", "0", -1}})
}

// semver.org §11, in its own example order, then build metadata (§10).
var npmPairs = append(chain("1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
	"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0"),
	pair{"1.0.0+build.1", "1.0.0+build.2", 0},
	pair{"1.0.0+build.1", "1.0.0", 0},
	pair{"1.0.0-alpha+001", "1.0.0-alpha", 0},
	pair{"v1.2.3", "1.2.3", 0},
	pair{"4.17.20", "4.17.21", -1},
	pair{"1.2.5", "1.2.6", -1},
	pair{"0.0.8", "1.2.6", -1},
	pair{"10.0.0", "9.9.9", 1},
	pair{"7.5.1", "7.5.2", -1},
	pair{"1.0.0-rc.1", "1.0.0-rc.1+build.5", 0},
)

func TestNpm(t *testing.T) {
	checkPairs(t, []string{"npm"}, npmPairs)
}

// PEP 440 ("Version specifiers"): release, then pre-release (a < b < rc),
// post-release and development release, an epoch before all, a local
// version after all; the normalisations it lists compare equal.
var pypiPairs = append(chain("1.0.dev1", "1.0a1.dev1", "1.0a1", "1.0a2", "1.0b1", "1.0rc1", "1.0",
	"1.0+ubuntu1", "1.0.post1.dev1", "1.0.post1", "1.0.post2", "1.0.1", "1.1"),
	pair{"2.0.0rc1", "2.0.0", -1},
	pair{"1.0.post1", "1.0", 1},
	pair{"1.0.dev1", "1.0a1", -1},
	pair{"1!1.0", "2.0", 1},
	pair{"1.0.0", "1.0", 0},
	pair{"1.0+ubuntu1", "1.0", 1},
	pair{"1.0c1", "1.0rc1", 0},
	pair{"1.0-1", "1.0.post1", 0},
	pair{"1.0alpha1", "1.0a1", 0},
	pair{"1.0-RC1", "1.0rc1", 0},
	pair{"v1.0", "1.0", 0},
	pair{"1.0.post1", "1.0.POST1", 0},
	pair{" 1.0 ", "1.0", 0},
	pair{"1.0+local.1", "1.0+local.2", -1},
	pair{"1.0+abc", "1.0+1", -1},
	pair{"1.0+1", "1.0+1.2", -1},
	pair{"4.2.7", "4.2.11", -1},
	pair{"3.2.25", "4.0", -1},
	pair{"2.31.0", "2.32.0", -1},
	pair{"1.26.18", "2.0.7", -1},
	pair{"41.0.7", "42.0.0", -1},
	pair{"10.0.1", "9.5.0", 1},
	pair{"23.2.1", "23.3", -1},
	pair{"2013b", "2013a", 1},
)

func TestPyPI(t *testing.T) {
	checkPairs(t, []string{"PyPI"}, pypiPairs)
}

// Maven's ComparableVersion (maven-artifact): "." and "-" split items,
// a change between digits and letters splits too; qualifiers order
// alpha < beta < milestone < rc = cr < snapshot < "" = ga = final =
// release < sp, unknown qualifiers after them, alphabetically; trailing
// zeros and empty qualifiers are dropped.
var mavenPairs = append(chain("1.0-alpha-1", "1.0-alpha-2", "1.0-beta", "1.0-milestone-1", "1.0-rc1", "1.0-SNAPSHOT", "1.0", "1.0-sp1", "1.0.1"),
	pair{"1.0-SNAPSHOT", "1.0", -1},
	pair{"1.0-alpha", "1.0-beta", -1},
	pair{"1.0-beta", "1.0-rc", -1},
	pair{"1.0-rc", "1.0", -1},
	pair{"2.14.1", "2.15.0", -1},
	pair{"1.0.Final", "1.0", 0},
	pair{"1.0.GA", "1.0", 0},
	pair{"1.0-alpha1", "1.0-alpha-1", 0},
	pair{"1.0-CR1", "1.0-rc1", 0},
	pair{"1.0-M1", "1.0-milestone-1", 0},
	pair{"1", "1.0.0", 0},
	pair{"2.0-beta9", "2.0-rc1", -1},
	pair{"2.15.0-rc1", "2.15.0", -1},
	pair{"5.4.24.Final", "5.6.15.Final", -1},
	pair{"6.0.0.Alpha1", "6.0.0.Beta1", -1},
	pair{"6.0.0.Beta1", "6.0.0.CR1", -1},
	pair{"6.0.0.CR1", "6.0.0.Final", -1},
	pair{"5.2.19.RELEASE", "5.2.20.RELEASE", -1},
	pair{"5.2.20.RELEASE", "5.3.0", -1},
	pair{"6.0.0-M1", "6.0.0-RC1", -1},
	pair{"31.1-jre", "32.0.0-jre", -1},
	pair{"31.1-android", "31.1-jre", -1},
	pair{"9.4.50.v20221201", "9.4.51.v20230217", -1},
	pair{"4.1.94.Final", "4.1.100.Final", -1},
	pair{"2.9.10.8", "2.13.4.2", -1},
	pair{"2.13.4", "2.13.4.2", -1},
)

func TestMaven(t *testing.T) {
	checkPairs(t, []string{"Maven"}, mavenPairs)
}

func TestBase(t *testing.T) {
	for in, want := range map[string]string{
		"Debian:12":                             "Debian",
		"Ubuntu:Pro:18.04:LTS":                  "Ubuntu",
		"AlmaLinux:8":                           "AlmaLinux",
		"Amazon Linux:2023":                     "Amazon Linux",
		"Alpine:v3.18":                          "Alpine",
		"Rocky Linux:9":                         "Rocky Linux",
		"Red Hat:enterprise_linux:9::appstream": "Red Hat",
		"Go":                                    "Go",
		"PyPI":                                  "PyPI",
		"":                                      "",
	} {
		if got := Base(in); got != want {
			t.Errorf("Base(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnsupported(t *testing.T) {
	for _, eco := range []string{"", "Gentoo", "Arch Linux", "debian:12", "Windows", "crates", ":12"} {
		if _, err := Parse(eco, "1.0"); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Parse(%q, 1.0): %v, want ErrUnsupported", eco, err)
		}
		if _, err := Compare(eco, "1.0", "2.0"); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Compare(%q, ...): %v, want ErrUnsupported", eco, err)
		}
		// The ecosystem is the first thing wrong, whatever the version.
		if _, err := Parse(eco, ""); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Parse(%q, \"\"): %v, want ErrUnsupported", eco, err)
		}
	}
}

// TestInvalid: a string the ecosystem's tool would refuse is an error
// (ErrInvalid), from Parse and from either side of Compare, never a panic
// and never a guess.
func TestInvalid(t *testing.T) {
	cases := map[string][]string{
		"Debian:12": {"", " ", "1:", ":1.0", "a:1.0", "-1:1.0", "99999999999:1.0", "1.0-", "-1", "1:-1",
			"abc", "<unfixed>", "1.0 2", "1.0_1", "1.0-1:2", "1.0-a-b_c", "1.0\n"},
		"Ubuntu:22.04:LTS": {"1:", "not-a-version"},
		"AlmaLinux:9":      {"", ":1.0", "a:1.0-1", "1.0-", "-1", "1.0-1-2", "1.0 -1", "1.0/1", "1:"},
		"Amazon Linux:2":   {"1.0-1-2"},
		"Alpine:v3.18": {"", "abc", "1.0-1", "1.0-r", "1.0_foo", "1.0A", "1.0ab", "1..0", ".1", "1.0_rc1a",
			"1.0~ABC", "1.0-r1_p1", "v1.0", "1.0bc"},
		"PyPI":  {"", "garbage", "1.0-SNAPSHOT", "1.0.0.0-foo", "1.0+", "1.0+a..b", "1!", "1.0a1b1", "(devel)"},
		"Go":    {"", "v", "vv1.0.0", "(devel)", "go1.22.1", "1.2.3.4", "v1.2.3-", "v1.0.0--1", "v1.0.0-a.-1", "1.0.0 "},
		"npm":   {"", "vv1.0.0", "latest", "^1.2.3", "1.2.3-", "1.2.3+", "1.0.0--1"},
		"Maven": {"", "  ", strings.Repeat("1", 1025)},
	}
	// Too long for any ecosystem (semantic is quadratic in some).
	for _, eco := range fuzzEcosystems {
		cases[eco] = append(cases[eco], strings.Repeat("9", 1<<20), "1."+strings.Repeat("0", 1024))
	}
	for eco, vs := range cases {
		for _, s := range vs {
			if v, err := Parse(eco, s); !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%q, %q) = %v, %v; want ErrInvalid", eco, s, v, err)
			}
			if c, err := Compare(eco, s, "1.0"); !errors.Is(err, ErrInvalid) {
				t.Errorf("Compare(%q, %q, 1.0) = %d, %v; want ErrInvalid", eco, s, c, err)
			}
			if c, err := Compare(eco, "1.0", s); !errors.Is(err, ErrInvalid) {
				t.Errorf("Compare(%q, 1.0, %q) = %d, %v; want ErrInvalid", eco, s, c, err)
			}
		}
	}
}

// TestValidEdges: strings at the edges of the syntax that the tools take.
func TestValidEdges(t *testing.T) {
	cases := map[string][]string{
		// dpkg takes a signed epoch (strtol), surrounding blanks, ':' in
		// the upstream version, and an epoch up to INT_MAX.
		"Debian:12":    {"0", "+1:1.0", "-0:1.0", " 1.0\t", "1:2:3", "2147483647:1", "1.0-1-2", "1.0~", "0~~"},
		"AlmaLinux:9":  {"0", "1.0", "01:1.0-1", "1.0^", "1.0~", "1.0_1+2", "1.0-el9^1"},
		"Alpine:v3.18": {"0", "1", "1.0_p", "1.0_alpha_beta1_p2", "1.0~0abc9-r0", "1.0a_rc1-r0", "20240101-r999"},
		"PyPI":         {"0", "1.0.0a0", "2012.10", "1.0_dev_1", "1.0-rc-1", "1.0.r1", "1.0-post1", "1.0+ubuntu-1.2_3", "v1!2.0", "1.0\n"},
		"Go":           {"0", "1", "1.22", "v1.0.0+incompatible", "v1.0.0-0.20230101000000-abcdef123456", "1.0.0-x-y.z--"},
		"npm":          {"0.0.0", "v1.0.0", "1.0.0-0A.is.legal", "1.0.0+21AF26D3----117B344092BD"},
		"Maven":        {"1.0-foo", "weird version", "1.0.Final.2", strings.Repeat("1", 1024)},
	}
	for eco, vs := range cases {
		for _, s := range vs {
			v, err := Parse(eco, s)
			if err != nil {
				t.Errorf("Parse(%q, %q): %v", eco, s, err)
				continue
			}
			if c, err := v.Compare(s); err != nil || c != 0 {
				t.Errorf("%s: %q compared with itself = %d, %v", eco, s, c, err)
			}
		}
	}
}

func TestVersionAccessors(t *testing.T) {
	for _, c := range []struct{ eco, s, rules string }{
		{"Debian:12", "1:2.66-4+deb12u2+b2", "Debian"},
		{"Ubuntu:Pro:18.04:LTS", "1.1.1-1ubuntu2.1~18.04.23", "Ubuntu"},
		{"Amazon Linux:2023", "3.0.8-1.amzn2023.0.4", "Red Hat"},
		{"Fedora:40", "6.5.6-300.fc39", "Red Hat"},
		{"Rocky Linux:9", "2.34-60.el9", "Rocky Linux"},
		{"Go", "v1.22.1", "Go"},
	} {
		v, err := Parse(c.eco, c.s)
		if err != nil {
			t.Fatal(err)
		}
		if v.String() != c.s {
			t.Errorf("Parse(%q, %q).String() = %q", c.eco, c.s, v.String())
		}
		if v.Ecosystem() != c.rules {
			t.Errorf("Parse(%q, %q).Ecosystem() = %q, want %q", c.eco, c.s, v.Ecosystem(), c.rules)
		}
		// The rules' name parses the same way.
		w, err := Parse(v.Ecosystem(), c.s)
		if err != nil {
			t.Fatal(err)
		}
		if cmp, err := w.Compare(v.String()); err != nil || cmp != 0 {
			t.Errorf("%s: reparsed %q compares %d, %v", c.eco, c.s, cmp, err)
		}
	}
	var zero Version
	if _, err := zero.Compare("1.0"); err == nil {
		t.Error("the zero Version compared without an error")
	}
}

// benchPairs are the real pairs of one rule set, used by BenchmarkCompare.
func benchPairs() map[string][][2]string {
	deb := make([][2]string, 0, len(debUpgradable))
	for _, u := range debUpgradable {
		deb = append(deb, [2]string{u.installed, u.candidate})
	}
	rpm := make([][2]string, 0, len(rpmReal))
	for i := range rpmReal {
		rpm = append(rpm, [2]string{rpmReal[i], rpmReal[(i+1)%len(rpmReal)]})
	}
	return map[string][][2]string{"Debian:12": deb, "AlmaLinux:9": rpm}
}

// BenchmarkCompare measures one Compare of a real pair, parsing both
// versions: what a matcher pays per range event it checks.
func BenchmarkCompare(b *testing.B) {
	for eco, pairs := range benchPairs() {
		name := map[string]string{"Debian:12": "dpkg", "AlmaLinux:9": "rpm"}[eco]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := pairs[i%len(pairs)]
				if _, err := Compare(eco, p[0], p[1]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(name+"/parsed", func(b *testing.B) {
			b.ReportAllocs()
			vs := make([]Version, len(pairs))
			for j, p := range pairs {
				v, err := Parse(eco, p[0])
				if err != nil {
					b.Fatal(err)
				}
				vs[j] = v
			}
			i := 0
			for b.Loop() {
				j := i % len(pairs)
				if _, err := vs[j].Compare(pairs[j][1]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// TestRecordedVersionsParse keeps the recorded lists honest: every recorded
// version parses under its rules.
func TestRecordedVersionsParse(t *testing.T) {
	check := func(eco string, vs []string) {
		for _, s := range vs {
			if _, err := Parse(eco, s); err != nil {
				t.Errorf("%s: %v", eco, err)
			}
		}
	}
	check("Debian:12", debInstalled)
	check("Ubuntu:22.04:LTS", ubuntuShapes)
	check("AlmaLinux:9", rpmReal)
	for _, u := range debUpgradable {
		if strings.ContainsAny(u.installed+u.candidate, " \t") {
			t.Errorf("%s: blank in a recorded version", u.pkg)
		}
	}
}
