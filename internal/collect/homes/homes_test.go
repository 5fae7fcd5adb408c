package homes

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/collect/users"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func write(t *testing.T, root, name, body string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// TestHomes: only interactive users' homes are examined; a home that is
// a link is reported as one and judged by its target inside the root; a
// link that leaves the root, a loop and a missing home are each told
// apart; dot files are lstat'ed, never followed.
func TestHomes(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	os.MkdirAll(outside, 0o777)
	write(t, root, "etc/passwd", strings.Join([]string{
		"root:x:0:0::/root:/bin/bash",
		"daemon:x:1:1::/usr/sbin:/usr/sbin/nologin",
		"alice:x:1000:1000::/home/alice:/bin/bash",
		"bob:x:1001:1001::/home/bob:/bin/bash",   // a link inside the root
		"eve:x:1002:1002::/home/eve:/bin/sh",     // a link to the scanning machine's /
		"loop:x:1003:1003::/home/loop:/bin/bash", // a link loop
		"gone:x:1004:1004::/home/gone:/bin/bash", // missing
		"rel:x:1005:1005::home/rel:/bin/bash",    // relative
		"csh:x:1006:1006::/home/csh:/bin/csh",    // not in /etc/shells
		"falsy:x:1007:1007::/home/falsy:/bin/false",
	}, "\n")+"\n", 0o644)
	write(t, root, "etc/shells", "# shells\n/bin/sh\n/bin/bash\n  /usr/bin/zsh  \n", 0o644)
	write(t, root, "root/.profile", "PATH=/usr/bin\n", 0o644)
	write(t, root, "home/alice/.bashrc", "", 0o664)
	write(t, root, "home/alice/notdot", "", 0o777)
	write(t, root, "data/bob/.profile", "", 0o600)
	os.Symlink("/data/bob", filepath.Join(root, "home/bob"))
	os.Symlink(outside, filepath.Join(root, "home/eve"))
	os.Symlink("loop", filepath.Join(root, "home/loop"))
	os.Symlink("/etc/shadow", filepath.Join(root, "home/alice/.netrc"))
	os.Chmod(filepath.Join(root, "home/alice"), 0o750)
	inv := testfixture.Collect(t, root, users.New(), New())
	a := inv.Config.Accounts
	if a == nil {
		t.Fatalf("no accounts facts: %+v", inv.Collectors)
	}
	if d := cmp.Diff([]string{"/bin/sh", "/bin/bash", "/usr/bin/zsh"}, a.Shells); d != "" {
		t.Errorf("shells (-want +got):\n%s", d)
	}
	var got []string
	for _, h := range a.Homes {
		var dots []string
		for _, f := range h.DotFiles {
			dots = append(dots, fmt.Sprintf("%s:%s:%04o", filepath.Base(f.Path), f.Type, f.Mode))
		}
		got = append(got, fmt.Sprintf("%s %s exists=%v type=%s resolved=%s mode=%04o err=%q dots=%v", h.User, h.Dir.Path, h.Dir.Exists, h.Dir.Type, h.Dir.Resolved, h.Dir.Mode, h.Dir.Error, dots))
	}
	want := []string{
		`root /root exists=true type=dir resolved=/root mode=0755 err="" dots=[.profile:file:0644]`,
		`alice /home/alice exists=true type=dir resolved=/home/alice mode=0750 err="" dots=[.bashrc:file:0664 .netrc:link:0777]`,
		`bob /home/bob exists=true type=link resolved=/data/bob mode=0755 err="" dots=[.profile:file:0600]`,
		// The absolute link target restarts at the root: outside is not reached.
		fmt.Sprintf(`eve /home/eve exists=true type=link resolved= mode=0777 err="dangling symbolic link to %s" dots=[]`, outside),
		`loop /home/loop exists=true type=link resolved= mode=0777 err="symbolic link to loop: resolve /home/loop: too many levels of symbolic links" dots=[]`,
		`gone /home/gone exists=false type= resolved= mode=0000 err="" dots=[]`,
		`rel home/rel exists=false type= resolved= mode=0000 err="home is not an absolute path" dots=[]`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("homes (-want +got):\n%s", d)
	}
	if a.RootPath == nil || len(a.RootPath.Assignments) != 1 || a.RootPath.Assignments[0].File != "/root/.profile" {
		t.Errorf("root path = %+v", a.RootPath)
	}
}

// TestBounds: a home with more entries than MaxDirEntries is read only
// that far and marked truncated; more interactive users than MaxHomes
// stop the examination and say so.
func TestBounds(t *testing.T) {
	root := t.TempDir()
	var pw strings.Builder
	pw.WriteString("root:x:0:0::/root:/bin/sh\n")
	for i := range MaxHomes + 5 {
		fmt.Fprintf(&pw, "u%d:x:%d:%d::/home/shared:/bin/sh\n", i, 2000+i, 2000+i)
	}
	write(t, root, "etc/passwd", pw.String(), 0o644)
	write(t, root, "etc/shells", "/bin/sh\n", 0o644)
	os.MkdirAll(filepath.Join(root, "root"), 0o700)
	dir := filepath.Join(root, "home/shared")
	os.MkdirAll(dir, 0o755)
	for i := range MaxDirEntries + 10 {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf(".f%05d", i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	inv := testfixture.Collect(t, root, users.New(), New())
	a := inv.Config.Accounts
	if !a.HomesTruncated || len(a.Homes) != MaxHomes {
		t.Fatalf("homes %d, truncated %v", len(a.Homes), a.HomesTruncated)
	}
	h := a.Homes[1]
	if !h.DotFilesTruncated || len(h.DotFiles) != MaxDotFiles {
		t.Errorf("first shared home: %d dot files, truncated %v", len(h.DotFiles), h.DotFilesTruncated)
	}
	// The total budget runs out after MaxTotalEntries/MaxDirEntries homes.
	last := a.Homes[len(a.Homes)-1]
	if !last.DotFilesTruncated || len(last.DotFiles) != 0 || !strings.Contains(last.DotFilesError, "entries were read") {
		t.Errorf("last home: %+v", last.DotFilesError)
	}
	run := inv.Collectors[1]
	// One message for each home read in part (MaxTotalEntries/MaxDirEntries
	// of them), one for the homes never listed, one for the users never
	// examined: not one a home.
	listed := MaxTotalEntries / MaxDirEntries
	if run.Status != host.StatusPartial || run.ErrorCount != listed+2 || !strings.Contains(a.Source, "home listing stopped") {
		t.Errorf("run = %d errors %q, source %q", run.ErrorCount, run.Errors, a.Source)
	}
}

func TestParseAssignments(t *testing.T) {
	in := `# PATH=/commented
PATH="/usr/local/sbin:/usr/bin"
  export PATH=$PATH:/opt/x # trailing comment
if true; then PATH='/a b:/c'; fi
readonly PATH=/r;export PATH
MYPATH=/not
echo PATH=/not-either
PATH="/unterminated
`
	var got []string
	for _, s := range ParseAssignments([]byte(in), "/f") {
		got = append(got, fmt.Sprintf("%d:%s", s.Line, s.Value))
	}
	want := []string{"2:/usr/local/sbin:/usr/bin", "3:$PATH:/opt/x", "4:/a b:/c", "5:/r"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// The Red Hat family's /etc/profile: the pathmunge helper's own
// assignments are not PATHs of root; its calls are.
func TestParseAssignmentsPathmunge(t *testing.T) {
	in := `pathmunge () {
    case ":${PATH}:" in
        *:"$1":*)
            ;;
        *)
            if [ "$2" = "after" ] ; then
                PATH=$PATH:$1
            else
                PATH=$1:$PATH
            fi
    esac
}

if [ "$EUID" = "0" ]; then
    pathmunge /usr/sbin
    pathmunge /usr/local/sbin
else
    pathmunge /usr/local/sbin after
    pathmunge /usr/sbin after
fi
unset -f pathmunge
PATH=/after/def
`
	var got []string
	for _, s := range ParseAssignments([]byte(in), "/etc/profile") {
		got = append(got, fmt.Sprintf("%d:%s", s.Line, s.Value))
	}
	want := []string{"15:/usr/sbin:$PATH", "16:/usr/local/sbin:$PATH", "18:$PATH:/usr/local/sbin", "19:$PATH:/usr/sbin", "22:/after/def"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func FuzzParseAssignments(f *testing.F) {
	f.Add([]byte("PATH=/a:/b\nexport PATH=\"$PATH:.\"\n"))
	f.Add([]byte("if x; then PATH='/q'; else PATH=/r; fi\n# PATH=/c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range ParseAssignments(b, "/f") {
			if s.Line < 1 || strings.Contains(s.Value, "\n") {
				t.Fatalf("bad setting %+v", s)
			}
		}
	})
}
