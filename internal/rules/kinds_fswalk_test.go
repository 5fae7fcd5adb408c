package rules_test

import (
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

func TestFSWalk(t *testing.T) {
	complete := func(mod func(w *host.FSWalk)) *host.Inventory {
		w := &host.FSWalk{Walked: []string{"/"}, Entries: 1000, Dirs: 100, Complete: true, OwnersChecked: true,
			PackageLists: 3, LogDir: "/var/log"}
		if mod != nil {
			mod(w)
		}
		return &host.Inventory{
			Config: &host.Config{FSWalk: w},
			Users: []host.User{
				{Name: "root", UID: 0, GID: 0, Shell: "/bin/bash"},
				{Name: "_chrony", UID: 101, GID: 103, Shell: "/usr/sbin/nologin"},
				{Name: "alice", UID: 1000, GID: 1000, Shell: "/bin/bash"},
			},
			Groups: []host.Group{{Name: "root", GID: 0}, {Name: "adm", GID: 4}, {Name: "utmp", GID: 43},
				{Name: "_chrony", GID: 103}, {Name: "alice", GID: 1000}, {Name: "systemd-journal", GID: 999}},
		}
	}
	entry := func(p string, mode uint32, owner, group string) host.FSEntry {
		return host.FSEntry{Path: p, Type: "file", Mode: mode, Owner: owner, Group: group}
	}
	list := func(es ...host.FSEntry) host.FSList { return host.FSList{Count: len(es), Entries: es} }
	ww := &rules.FSWalkCheck{Assert: "no_world_writable_files"}
	sticky := &rules.FSWalkCheck{Assert: "sticky_world_writable_dirs"}
	unowned := &rules.FSWalkCheck{Assert: "no_unowned"}
	suid := &rules.FSWalkCheck{Assert: "suid_inventory"}
	logs := &rules.FSWalkCheck{Assert: "log_files", MaxMode: "0640", Owners: []string{"root"}, Groups: []string{"root", "adm"},
		ServiceAccounts: true, Classes: []rules.LogClass{
			{Names: []string{"wtmp", "btmp*", "lastlog"}, MaxMode: "0664", Groups: []string{"root", "utmp"}},
			{Names: []string{"*.journal"}, Groups: []string{"root", "systemd-journal"}},
			{Names: []string{"gdm3/*"}, MaxMode: "0600"},
		}}

	for _, tc := range []struct {
		name   string
		check  *rules.FSWalkCheck
		inv    *host.Inventory
		status string
		ev     string // a substring of the joined evidence and reason
	}{
		{"not walked", ww, &host.Inventory{}, finding.StatusError, "did not run; kensa scan --fs-walk runs it"},
		{"walk failed", ww, &host.Inventory{Collectors: []host.CollectorRun{{Name: "config/fswalk", Status: host.StatusFailed, Reason: "boom"}}}, finding.StatusError, "did not complete: boom"},
		{"clean", ww, complete(nil), finding.StatusPass, "walked 1000 entries in 100 directories of /"},
		{"world-writable", ww, complete(func(w *host.FSWalk) { w.WorldWritableFiles = list(entry("/srv/a", 0o666, "root", "root")) }),
			finding.StatusFail, "/srv/a: file, mode 0666, owner root:root (writable by others)"},
		{"many, capped", ww, complete(func(w *host.FSWalk) {
			w.WorldWritableFiles = host.FSList{Count: 5000, Entries: make([]host.FSEntry, 1000)}
		}), finding.StatusFail, "and 4950 more world-writable regular file(s): 5000 found in all, 1000 kept"},
		{"budget ran out, nothing found", ww, complete(func(w *host.FSWalk) { w.Complete, w.Limit = false, "timeout 2m0s" }),
			finding.StatusError, "stopped at its timeout 2m0s budget after 1000 entries"},
		{"unreadable directories", ww, complete(func(w *host.FSWalk) { w.Complete, w.Unread, w.UnreadDirs = false, 2, []string{"/a", "/b"} }),
			finding.StatusError, "2 director(ies) could not be read (/a, /b)"},
		{"budget ran out, something found", ww, complete(func(w *host.FSWalk) {
			w.Complete, w.Limit = false, "max_entries 2000000"
			w.WorldWritableFiles = list(entry("/srv/a", 0o666, "root", "root"))
		}), finding.StatusFail, "there may be more"},
		{"hostile name", ww, complete(func(w *host.FSWalk) { w.WorldWritableFiles = list(entry("/srv/a\nPASS", 0o666, "root", "root")) }),
			finding.StatusFail, `"/srv/a\nPASS"`},
		{"open directory", sticky, complete(func(w *host.FSWalk) {
			w.WorldWritableDirs = list(host.FSEntry{Path: "/srv/up", Type: "dir", Mode: 0o777, Owner: "root", Group: "root"})
		}), finding.StatusFail, "/srv/up: dir, mode 0777, owner root:root (writable by others, no sticky bit)"},
		{"sticky", sticky, complete(nil), finding.StatusPass, "no world-writable directory without the sticky bit found in 1000 entries"},
		{"unowned", unowned, complete(func(w *host.FSWalk) {
			w.Unowned = list(host.FSEntry{Path: "/home/gone", Type: "dir", Mode: 0o700, UID: 1001, GID: 1001})
		}), finding.StatusFail, "/home/gone: dir, mode 0700, owner 1001 (no entry):1001 (no entry)"},
		{"unowned, directory service", unowned, complete(func(w *host.FSWalk) {
			w.Unowned = list(host.FSEntry{Path: "/srv/x", Type: "file", UID: 5000, Owner: "", Group: "root"})
			w.NSSPasswd = []string{"files", "sss"}
		}), finding.StatusFail, "also asks sss for accounts"},
		{"owners unknown", unowned, complete(func(w *host.FSWalk) { w.OwnersChecked, w.OwnersNote = false, "no account from /etc/passwd was read" }),
			finding.StatusError, "owners not judged: no account from /etc/passwd was read"},
		{"all owned", unowned, complete(nil), finding.StatusPass, "no file without a known owner or group found"},
		{"packaged set-id", suid, complete(func(w *host.FSWalk) {
			e := entry("/usr/bin/su", 0o4755, "root", "root")
			e.Package = "util-linux"
			w.SetID = list(e)
		}), finding.StatusPass, "/usr/bin/su: file, mode 4755, owner root:root: package util-linux"},
		{"unpackaged set-id", suid, complete(func(w *host.FSWalk) {
			e := entry("/usr/bin/su", 0o4755, "root", "root")
			e.Package = "util-linux"
			w.SetID = list(e, entry("/opt/x/helper", 0o4755, "root", "root"))
		}), finding.StatusFail, "/opt/x/helper: file, mode 4755, owner root:root: no OS package owns it"},
		{"set-id, no file lists", suid, complete(func(w *host.FSWalk) {
			w.PackageLists = 0
			w.SetID = list(entry("/usr/bin/su", 0o4755, "root", "root"))
		}), finding.StatusError, "no OS package file list was read"},
		{"set-id, list truncated", suid, complete(func(w *host.FSWalk) {
			e := entry("/usr/bin/su", 0o4755, "root", "root")
			e.Package = "util-linux"
			w.SetID = host.FSList{Count: 2000, Entries: []host.FSEntry{e}}
		}), finding.StatusError, "only 1 matched with packages"},
		{"no set-id at all", suid, complete(nil), finding.StatusPass, "0 set-id program(s)"},
		{"logs fine", logs, complete(func(w *host.FSWalk) {
			w.LogFiles = list(
				entry("/var/log/syslog", 0o640, "root", "adm"),
				entry("/var/log/wtmp", 0o664, "root", "utmp"),
				entry("/var/log/btmp.1", 0o660, "root", "utmp"),
				entry("/var/log/journal/abc/system.journal", 0o640, "root", "systemd-journal"),
				entry("/var/log/chrony/measurements.log", 0o640, "_chrony", "_chrony"),
				entry("/var/log/gdm3/greeter.log", 0o600, "root", "root"),
			)
		}), finding.StatusPass, "6 log file(s) under /var/log"},
		{"log world-readable", logs, complete(func(w *host.FSWalk) { w.LogFiles = list(entry("/var/log/dpkg.log", 0o644, "root", "root")) }),
			finding.StatusFail, "/var/log/dpkg.log: file, mode 0644, owner root:root: grants 0004 beyond 0640"},
		{"wtmp world-writable", logs, complete(func(w *host.FSWalk) { w.LogFiles = list(entry("/var/log/wtmp", 0o666, "root", "utmp")) }),
			finding.StatusFail, "grants 0002 beyond 0664"},
		{"utmp group only for the login records", logs, complete(func(w *host.FSWalk) { w.LogFiles = list(entry("/var/log/syslog", 0o640, "root", "utmp")) }),
			finding.StatusFail, "group utmp not one of root, adm"},
		{"class by path", logs, complete(func(w *host.FSWalk) { w.LogFiles = list(entry("/var/log/gdm3/x.log", 0o640, "root", "root")) }),
			finding.StatusFail, "grants 0040 beyond 0600"},
		{"interactive user owns a log", logs, complete(func(w *host.FSWalk) { w.LogFiles = list(entry("/var/log/app.log", 0o640, "alice", "adm")) }),
			finding.StatusFail, "owner alice not one of root or a system account that cannot log in"},
		{"service account, foreign group", logs, complete(func(w *host.FSWalk) { w.LogFiles = list(entry("/var/log/chrony/x.log", 0o640, "_chrony", "alice")) }),
			finding.StatusFail, "group alice not one of root, adm"},
		{"unknown owner", logs, complete(func(w *host.FSWalk) {
			w.LogFiles = list(host.FSEntry{Path: "/var/log/x", Type: "file", Mode: 0o600, UID: 4242, Group: "root"})
		}), finding.StatusFail, "owner 4242 (no entry) not one of root"},
		{"logs truncated", logs, complete(func(w *host.FSWalk) {
			w.LogFiles = host.FSList{Count: 30000, Entries: []host.FSEntry{entry("/var/log/syslog", 0o640, "root", "adm")}}
		}), finding.StatusError, "30000 log files found, only the first 1 judged"},
		{"no log files", logs, complete(nil), finding.StatusPass, "no regular file under /var/log"},
		{"logs, walk cut short", logs, complete(func(w *host.FSWalk) { w.Complete, w.Limit = false, "canceled" }),
			finding.StatusError, "canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := rules.Check{FSWalk: tc.check}
			o := c.Evaluate(tc.inv)
			joined := strings.Join(o.Evidence, "; ") + " | " + o.Reason
			if o.Status != tc.status || !strings.Contains(joined, tc.ev) {
				t.Errorf("got %s %q, want %s containing %q", o.Status, joined, tc.status, tc.ev)
			}
			if o.Status == finding.StatusPass && o.Reason != "" {
				t.Errorf("a pass with a reason: %q", o.Reason)
			}
		})
	}
}

func TestFSWalkValidate(t *testing.T) {
	for _, tc := range []struct{ yaml, err string }{
		{"assert: nope", "want one of"},
		{"assert: no_unowned\nmax_mode: \"0640\"", "are for assert log_files"},
		{"assert: log_files\nmax_mode: \"0999\"\nowners: [root]\ngroups: [root]", "octal mode"},
		{"assert: log_files\nmax_mode: \"0640\"\ngroups: [root]", "needs owners and groups"},
		{"assert: log_files\nmax_mode: \"0640\"\nowners: [root]\ngroups: [root]\nclasses: [{names: [\"/var/log/x\"]}]", "relative to the log directory"},
		{"assert: log_files\nmax_mode: \"0640\"\nowners: [root]\ngroups: [root]\nclasses: [{names: [\"[\"]}]", "relative to the log directory"},
		{"assert: log_files\nmax_mode: \"0640\"\nowners: [root]\ngroups: [root]\nclasses: [{max_mode: \"0600\"}]", "names is required"},
	} {
		var c rules.FSWalkCheck
		if err := yaml.Unmarshal([]byte(tc.yaml), &c); err != nil {
			t.Fatal(err)
		}
		rule := "id: x\npackage: cis\ntitle: t\ndescription: d\nrationale: r\nremediation: m\ntarget: t\nseverity: low\ncheck:\n  fs_walk:\n    " +
			strings.ReplaceAll(tc.yaml, "\n", "\n    ") + "\n"
		_, err := rules.Parse([]byte(rule))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.err)
		}
	}
}
