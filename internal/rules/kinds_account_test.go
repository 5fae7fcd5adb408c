package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

// TestAccountOutcomes covers what fixture roots cannot express (files
// there belong to whoever runs the test) and the missing-fact paths.
func TestAccountOutcomes(t *testing.T) {
	alice := host.User{Name: "alice", UID: 1000, GID: 1000, Shell: "/bin/bash", Home: "/home/alice", PasswdField: "shadowed", Line: 2}
	home := func(uid int, mode uint32) *host.Config {
		return &host.Config{Accounts: &host.Accounts{ShellsFound: true, Shells: []string{"/bin/bash"}, Homes: []host.Home{{
			User: "alice", UID: 1000, GID: 1000, Shell: "/bin/bash",
			Dir:      host.PathInfo{Path: "/home/alice", Exists: true, Type: "dir", Mode: mode, UID: uid, GID: 1000},
			DotFiles: []host.PathInfo{{Path: "/home/alice/.profile", Exists: true, Type: "file", Mode: 0o644, UID: uid, GID: 1000}},
		}}}}
	}
	unreadShadow := []host.User{alice} // Shadow nil, NoShadowEntry false
	emptyShadow := alice
	emptyShadow.Shadow = &host.ShadowAging{PasswordState: "empty"}
	future := alice
	day := 20000
	future.Shadow = &host.ShadowAging{PasswordState: "set", LastChange: &day}
	at := time.Unix(int64(day-1)*86400, 0)
	for _, tc := range []struct {
		name  string
		check AccountCheck
		inv   host.Inventory
		want  string
	}{
		{"home owned by its user", AccountCheck{Assert: "interactive_homes", MaxMode: "0750"}, host.Inventory{Users: []host.User{alice}, Config: home(1000, 0o750)}, finding.StatusPass},
		{"home owned by another", AccountCheck{Assert: "interactive_homes", MaxMode: "0750"}, host.Inventory{Users: []host.User{alice}, Config: home(1001, 0o750)}, finding.StatusFail},
		{"dot files of their user", AccountCheck{Assert: "interactive_dot_files"}, host.Inventory{Users: []host.User{alice}, Config: home(1000, 0o750)}, finding.StatusPass},
		{"homes not collected", AccountCheck{Assert: "interactive_homes", MaxMode: "0750"}, host.Inventory{Users: []host.User{alice}}, finding.StatusError},
		{"no users", AccountCheck{Assert: "unique_uids"}, host.Inventory{}, finding.StatusError},
		{"shadow unread: empty passwords unknown", AccountCheck{Assert: "no_empty_passwords"}, host.Inventory{Users: unreadShadow}, finding.StatusError},
		{"shadow unread: root unknown", AccountCheck{Assert: "root_password_controlled"}, host.Inventory{Users: unreadShadow}, finding.StatusError},
		{"empty password", AccountCheck{Assert: "no_empty_passwords"}, host.Inventory{Users: []host.User{emptyShadow}}, finding.StatusFail},
		{"older inventory: passwd field unknown", AccountCheck{Assert: "all_shadowed"}, host.Inventory{Users: []host.User{{Name: "x"}}}, finding.StatusError},
		{"groups not collected", AccountCheck{Assert: "unique_gids"}, host.Inventory{Users: []host.User{alice}}, finding.StatusError},
		{"change after the scan", AccountCheck{Assert: "no_future_password_change"}, host.Inventory{Users: []host.User{future}, CollectedAt: at}, finding.StatusFail},
		{"change on the scan's day", AccountCheck{Assert: "no_future_password_change"}, host.Inventory{Users: []host.User{future}, CollectedAt: at.Add(24 * time.Hour)}, finding.StatusPass},
		{"PATH with an unknown variable", AccountCheck{Assert: "root_path_safe"}, host.Inventory{Users: []host.User{alice}, Config: &host.Config{Accounts: &host.Accounts{RootPath: &host.RootPath{
			Home: "/root", Assignments: []host.Setting{{Value: "$TOOLS:/usr/bin", File: "/root/.profile", Line: 3}},
			Dirs: []host.PathInfo{{Path: "/usr/bin", Exists: true, Type: "dir", Mode: 0o755}}}}}}, finding.StatusError},
		{"PATH with $HOME/bin owned by root", AccountCheck{Assert: "root_path_safe"}, host.Inventory{Users: []host.User{alice}, Config: &host.Config{Accounts: &host.Accounts{RootPath: &host.RootPath{
			Home: "/root", Assignments: []host.Setting{{Value: "$HOME/bin:$PATH", File: "/root/.profile", Line: 3}},
			Dirs: []host.PathInfo{{Path: "/root/bin", Exists: true, Type: "dir", Mode: 0o700}}}}}}, finding.StatusPass},
		{"PATH with a trailing colon", AccountCheck{Assert: "root_path_safe"}, host.Inventory{Users: []host.User{alice}, Config: &host.Config{Accounts: &host.Accounts{RootPath: &host.RootPath{
			Home: "/root", Assignments: []host.Setting{{Value: "/usr/bin:", File: "/etc/environment", Line: 1}},
			Dirs: []host.PathInfo{{Path: "/usr/bin", Exists: true, Type: "dir", Mode: 0o755}}}}}}, finding.StatusFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.check.validate(); err != nil {
				t.Fatal(err)
			}
			if got := tc.check.evaluate(&tc.inv); got.Status != tc.want {
				t.Errorf("%s (%s %q), want %s", got.Status, got.Reason, got.Evidence, tc.want)
			}
		})
	}
}

func TestAccountValidate(t *testing.T) {
	for _, c := range []AccountCheck{
		{Assert: "nope"},
		{Assert: "unique_uids", Exempt: []string{"x"}},
		{Assert: "interactive_homes"},
		{Assert: "interactive_homes", MaxMode: "9"},
		{Assert: "unique_uids", MaxMode: "0750"},
	} {
		if c.validate() == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
}

// TestAccountSkippedLinesAndGShadow: a pass over the accounts becomes an
// error when lines of the file it judges were not read as entries; a
// compat line that spells uid 0 fails; shadow_group_empty says whether
// /etc/gshadow was read and errors when it exists but could not be.
func TestAccountSkippedLinesAndGShadow(t *testing.T) {
	root := host.User{Name: "root", UID: 0, GID: 0, Shell: "/bin/bash", PasswdField: "shadowed", Line: 1}
	groups := []host.Group{{Name: "root", GID: 0, Line: 1}, {Name: "shadow", GID: 42, Line: 2}}
	zero := 0
	files := func(edit func(*host.AccountFiles)) *host.AccountFiles {
		af := &host.AccountFiles{Passwd: host.AccountFile{Path: "/etc/passwd", Read: true}, Group: host.AccountFile{Path: "/etc/group", Read: true},
			Shadow: host.AccountFile{Path: "/etc/shadow", Read: true}, GShadow: host.AccountFile{Path: "/etc/gshadow", Read: true}}
		edit(af)
		return af
	}
	for _, tc := range []struct {
		name   string
		assert string
		af     *host.AccountFiles
		want   string
		reason string
		ev     string
	}{
		{"clean", "only_root_uid_0", files(func(*host.AccountFiles) {}), finding.StatusPass, "", ""},
		{"unparsed passwd line", "only_root_uid_0", files(func(f *host.AccountFiles) { f.Passwd.AddUnparsed(7) }), finding.StatusError, "line 7", ""},
		{"compat passwd line", "unique_uids", files(func(f *host.AccountFiles) { f.Passwd.AddCompat(3) }), finding.StatusError, "NIS compat", ""},
		{"compat uid 0", "only_root_uid_0", files(func(f *host.AccountFiles) {
			f.Passwd.AddCompat(3)
			f.Passwd.CompatIDs = []host.CompatEntry{{Line: 3, Name: "+toor", UID: &zero}}
		}), finding.StatusFail, "", "/etc/passwd:3: the NIS compat entry +toor spells uid 0"},
		{"compat root is root", "only_root_uid_0", files(func(f *host.AccountFiles) {
			f.Passwd.AddCompat(3)
			f.Passwd.CompatIDs = []host.CompatEntry{{Line: 3, Name: "+root", UID: &zero}}
		}), finding.StatusError, "NIS compat", ""},
		{"compat group gid 0", "only_root_gid_0", files(func(f *host.AccountFiles) {
			f.Group.AddCompat(2)
			f.Group.CompatIDs = []host.CompatEntry{{Line: 2, Name: "+wheel", GID: &zero}}
		}), finding.StatusFail, "", "/etc/group:2: the NIS compat entry +wheel spells gid 0"},
		{"skipped group line does not touch passwd rules", "only_root_uid_0", files(func(f *host.AccountFiles) { f.Group.AddUnparsed(2) }), finding.StatusPass, "", ""},
		{"skipped group line", "unique_gids", files(func(f *host.AccountFiles) { f.Group.AddUnparsed(2) }), finding.StatusError, "/etc/group", ""},
		{"gshadow read", "shadow_group_empty", files(func(*host.AccountFiles) {}), finding.StatusPass, "", "/etc/gshadow: read"},
		{"gshadow missing", "shadow_group_empty", files(func(f *host.AccountFiles) { f.GShadow = host.AccountFile{Path: "/etc/gshadow", Missing: true} }), finding.StatusPass, "", "/etc/gshadow does not exist: only /etc/group was read"},
		{"gshadow unreadable", "shadow_group_empty", files(func(f *host.AccountFiles) {
			f.GShadow = host.AccountFile{Path: "/etc/gshadow", Error: "open /etc/gshadow: permission denied"}
		}), finding.StatusError, "could not be read", ""},
		{"gshadow older inventory", "shadow_group_empty", nil, finding.StatusPass, "", "not recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := host.Inventory{Users: []host.User{root}, Groups: groups, AccountFiles: tc.af}
			got := (&AccountCheck{Assert: tc.assert}).evaluate(&inv)
			ev := strings.Join(got.Evidence, "\n")
			if got.Status != tc.want || !strings.Contains(got.Reason, tc.reason) || !strings.Contains(ev, tc.ev) {
				t.Errorf("%s (%s %q), want %s with reason %q and evidence %q", got.Status, got.Reason, got.Evidence, tc.want, tc.reason, tc.ev)
			}
		})
	}
}
