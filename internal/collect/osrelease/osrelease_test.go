package osrelease

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func TestParse(t *testing.T) {
	in := "# comment\nNAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID='12'\nQUOTED=\"a \\\"b\\\" \\$c\"\nBAD LINE\n=novalue\nUNTERMINATED=\"abc\nLOWER_ok=1\n"
	got := Parse([]byte(in))
	want := map[string]string{"NAME": "Debian GNU/Linux", "ID": "debian", "VERSION_ID": "12", "QUOTED": `a "b" $c`, "LOWER_ok": "1"}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("Parse (-want +got):\n%s", d)
	}
}

func TestIdentify(t *testing.T) {
	tests := []struct {
		name                                        string
		files                                       map[string]string
		family, id, release, point, major, codename string
		ecosystem                                   string
	}{
		{
			name:   "almalinux 8.8",
			files:  map[string]string{"/etc/os-release": "NAME=\"AlmaLinux\"\nVERSION=\"8.8 (Sapphire Caracal)\"\nID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"8.8\"\n", "/etc/redhat-release": "AlmaLinux release 8.8 (Sapphire Caracal)\n"},
			family: "rhel", id: "almalinux", release: "8.8", major: "8", ecosystem: "AlmaLinux:8",
		},
		{
			name:   "amazon linux 2023",
			files:  map[string]string{"/etc/os-release": "NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n", "/etc/system-release": "Amazon Linux release 2023.5.20240722 (Amazon Linux)\n"},
			family: "rhel", id: "amzn", release: "2023", point: "2023.5.20240722", major: "2023", ecosystem: "Amazon Linux:2023",
		},
		{
			name:   "alpine 3.18",
			files:  map[string]string{"/etc/os-release": "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\n", "/etc/alpine-release": "3.18.4\n"},
			family: "alpine", id: "alpine", release: "3.18", point: "3.18.4", major: "3.18", ecosystem: "Alpine:v3.18",
		},
		{
			name:   "ubuntu 22.04 in usr/lib only",
			files:  map[string]string{"/usr/lib/os-release": "NAME=\"Ubuntu\"\nVERSION=\"22.04.3 LTS (Jammy Jellyfish)\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n"},
			family: "debian", id: "ubuntu", release: "22.04", point: "22.04.3", major: "22.04", codename: "jammy", ecosystem: "Ubuntu:22.04:LTS",
		},
		{
			name:   "debian testing without VERSION_ID",
			files:  map[string]string{"/etc/os-release": "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nNAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=trixie\nID=debian\n", "/etc/debian_version": "trixie/sid\n"},
			family: "debian", id: "debian", point: "trixie/sid", codename: "trixie",
		},
		{
			name:   "centos 6 with redhat-release only",
			files:  map[string]string{"/etc/redhat-release": "CentOS release 6.10 (Final)\n"},
			family: "rhel", id: "centos", release: "6.10", major: "6", ecosystem: "CentOS:6",
		},
		{
			name:   "amazon linux AMI with system-release only",
			files:  map[string]string{"/etc/system-release": "Amazon Linux AMI release 2018.03\n"},
			family: "rhel", id: "amzn", release: "2018.03", major: "2018.03", ecosystem: "Amazon Linux:2018.03",
		},
		{
			name:   "cbl-mariner 2.0",
			files:  map[string]string{"/etc/os-release": "NAME=\"Common Base Linux Mariner\"\nVERSION=\"2.0.20230630\"\nID=mariner\nVERSION_ID=\"2.0\"\n"},
			family: "rhel", id: "mariner", release: "2.0", major: "2",
		},
		{
			name:   "sles 15 sp5",
			files:  map[string]string{"/etc/os-release": "NAME=\"SLES\"\nVERSION=\"15-SP5\"\nVERSION_ID=\"15.5\"\nID=\"sles\"\nID_LIKE=\"suse\"\n"},
			family: "suse", id: "sles", release: "15.5", major: "15.5", ecosystem: "SUSE:Linux Enterprise Server 15 SP5",
		},
		{
			name:   "alpine edge",
			files:  map[string]string{"/etc/os-release": "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19_alpha20230901\n"},
			family: "alpine", id: "alpine", release: "edge", point: "3.19_alpha20230901",
		},
		{
			name:   "os-release without ID",
			files:  map[string]string{"/etc/os-release": "NAME=\"Red Hat Something\"\nVERSION_ID=1\n"},
			family: "unknown", id: "linux", release: "1", major: "1",
		},
		{
			name:   "debian with debian_version only",
			files:  map[string]string{"/etc/debian_version": "11.9\n"},
			family: "debian", id: "debian", release: "11", point: "11.9", major: "11", ecosystem: "Debian:11",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{}
			for k, v := range tc.files {
				files[k] = []byte(v)
			}
			o := Identify(files)
			if o == nil {
				t.Fatal("Identify = nil")
			}
			got := []string{o.Family, o.ID, o.Release, o.PointRelease, o.Major, o.Codename, o.Ecosystem()}
			want := []string{tc.family, tc.id, tc.release, tc.point, tc.major, tc.codename, tc.ecosystem}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("family,id,release,point,major,codename,ecosystem (-want +got):\n%s", d)
			}
		})
	}
	if o := Identify(map[string][]byte{"/etc/os-release": []byte("\x00\xff garbage")}); o != nil {
		t.Errorf("garbage identified as %+v", o)
	}
}

func TestCollectFixtureRoots(t *testing.T) {
	pkgdb := testfixture.Shared(t, "fixtures", "pkgdb")
	now := func() time.Time { return time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		dir                string
		id, release, point string
		eolDate            string
		eolReached         bool
		sources            []string
	}{
		{"dpkg/debian-12-this-host", "debian", "12", "12.11", "2028-06-30", false, []string{"/etc/os-release", "/etc/debian_version"}},
		{"dpkg/ubuntu-20.04-base", "ubuntu", "20.04", "20.04.1", "2025-05-31", true, []string{"/etc/os-release"}},
		{"apk/alpine-3.14-minirootfs", "alpine", "3.14", "3.14.0", "2023-05-01", true, []string{"/etc/os-release", "/etc/alpine-release"}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			fsys, err := hostfs.Open(filepath.Join(pkgdb, tc.dir))
			if err != nil {
				t.Fatal(err)
			}
			inv := collect.Run(context.Background(), &collect.Env{FS: fsys, Clock: now}, []collect.Collector{New()}, nil)
			if inv.Collectors[0].Status != host.StatusOK {
				t.Fatalf("status %+v", inv.Collectors[0])
			}
			o := inv.OS
			if o.ID != tc.id || o.Release != tc.release || o.PointRelease != tc.point {
				t.Errorf("got %s %s (%s)", o.ID, o.Release, o.PointRelease)
			}
			if o.EOL == nil || o.EOL.Date != tc.eolDate || o.EOL.Reached != tc.eolReached {
				t.Errorf("EOL = %+v, want %s reached=%v", o.EOL, tc.eolDate, tc.eolReached)
			}
			if d := cmp.Diff(tc.sources, o.Sources); d != "" {
				t.Errorf("sources (-want +got):\n%s", d)
			}
		})
	}
}

func TestCollectNoReleaseFiles(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("image-host\n"), 0o644)
	fsys, _ := hostfs.Open(root)
	inv := collect.Run(context.Background(), &collect.Env{FS: fsys}, []collect.Collector{New()}, nil)
	if inv.Collectors[0].Status != host.StatusFailed || inv.OS != nil {
		t.Fatalf("want failed with no OS, got %+v %+v", inv.Collectors[0], inv.OS)
	}
	if inv.Identity.Hostname != "image-host" {
		t.Errorf("hostname = %q", inv.Identity.Hostname)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("ID=debian\nVERSION_ID=\"12\"\n"))
	f.Add([]byte("NAME='x'\nA=\"\\\"\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := Parse(b)
		for k := range m {
			if !validKey(k) {
				t.Fatalf("invalid key %q returned", k)
			}
		}
		files := map[string][]byte{"/etc/os-release": b, "/etc/redhat-release": b, "/etc/alpine-release": b, "/etc/debian_version": b}
		if o := Identify(files); o != nil && o.Family == "" {
			t.Fatal("identified OS without a family")
		}
	})
}

func TestMachineID(t *testing.T) {
	for content, want := range map[string]string{
		"3d1219c7c4c94f4a8e6b4c1b2a3d4e5f\n": "3d1219c7c4c94f4a8e6b4c1b2a3d4e5f",
		"uninitialized\n":                    "",
		"":                                   "",
		"00000000000000000000000000000000":   "",
		"not-a-machine-id":                   "",
	} {
		root := t.TempDir()
		os.MkdirAll(filepath.Join(root, "etc"), 0o755)
		os.WriteFile(filepath.Join(root, "etc/machine-id"), []byte(content), 0o644)
		os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=debian\nVERSION_ID=12\n"), 0o644)
		fsys, _ := hostfs.Open(root)
		inv := collect.Run(context.Background(), &collect.Env{FS: fsys}, []collect.Collector{New()}, nil)
		if inv.Identity.MachineID != want {
			t.Errorf("machine-id %q read as %q, want %q", content, inv.Identity.MachineID, want)
		}
	}
}

// An "ID:VERSION_ID" reference is keyed as /etc/os-release would be: the
// RHEL family by its major release, Alpine by major.minor, the family from
// the ID.
func TestFromRef(t *testing.T) {
	for ref, want := range map[string]host.OSRelease{
		"rhel:9.4":      {ID: "rhel", VersionID: "9.4", Release: "9.4", Major: "9", Family: "rhel"},
		"AlmaLinux:8":   {ID: "almalinux", VersionID: "8", Release: "8", Major: "8", Family: "rhel"},
		"ubuntu:22.04":  {ID: "ubuntu", VersionID: "22.04", Release: "22.04", Major: "22.04", Family: "debian"},
		"amzn:2023":     {ID: "amzn", VersionID: "2023", Release: "2023", Major: "2023", Family: "rhel"},
		"alpine:3.19.1": {ID: "alpine", VersionID: "3.19.1", Release: "3.19", Major: "3.19", PointRelease: "3.19.1", Family: "alpine"},
	} {
		got := FromRef(ref)
		if got == nil {
			t.Errorf("%s: nil", ref)
			continue
		}
		if diff := cmp.Diff(want, *got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", ref, diff)
		}
	}
	if FromRef(":9") != nil || FromRef("") != nil {
		t.Error("a reference without an ID is not an OS")
	}
}
