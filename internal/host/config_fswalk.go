package host

// FSWalk is what one walk of the local file systems found
// (config/fswalk): the files the CIS file-system controls judge (world-
// writable files and directories, files without a known owner, set-id
// programs, log files). Only the offending entries are kept, so the facts
// stay small whatever the size of the disk; each list keeps its true count
// beside the entries kept, and the walk records whether it saw everything,
// so that a rule can tell "none found" from "not looked at".
type FSWalk struct {
	// Walked are the directories the walk started from ("/").
	Walked []string `json:"walked"`
	// Skipped are the directories not entered because they hold pseudo,
	// memory or remote file systems, as "path (reason)": "/proc (pseudo
	// file system)", "/mnt/nfs (nfs4)".
	Skipped []string `json:"skipped,omitempty"`
	// Excluded are the directories left out by configuration (container
	// storage) that exist in the root.
	Excluded []string `json:"excluded,omitempty"`
	// Entries counts the directory entries examined; Dirs the directories
	// read.
	Entries    int     `json:"entries"`
	Dirs       int     `json:"dirs"`
	DurationMS float64 `json:"duration_ms"`
	// Complete is true when the walk examined every entry it set out to:
	// no budget ran out, it was not canceled, and every directory could
	// be read. Limit says which budget stopped it ("max_entries 2000000",
	// "timeout 2m0s", "canceled"); Unread counts the directories (and
	// entries) that could not be read, UnreadDirs names the first of them.
	Complete   bool     `json:"complete"`
	Limit      string   `json:"limit,omitempty"`
	Unread     int      `json:"unread,omitempty"`
	UnreadDirs []string `json:"unread_dirs,omitempty"`

	// WorldWritableFiles are the regular files writable by others.
	WorldWritableFiles FSList `json:"world_writable_files"`
	// WorldWritableDirs are the directories writable by others that lack
	// the sticky bit.
	WorldWritableDirs FSList `json:"world_writable_dirs"`
	// Unowned are the entries (of any type) whose uid has no /etc/passwd
	// entry or whose gid has no /etc/group entry. OwnersChecked is false
	// when the accounts were not known (no /etc/passwd or /etc/group read),
	// and OwnersNote then says why.
	Unowned       FSList `json:"unowned"`
	OwnersChecked bool   `json:"owners_checked"`
	OwnersNote    string `json:"owners_note,omitempty"`
	// NSSPasswd and NSSGroup are the sources /etc/nsswitch.conf names for
	// the passwd and group databases ("files", "systemd", "sss"): accounts
	// of a source other than files are not in /etc/passwd.
	NSSPasswd []string `json:"nss_passwd,omitempty"`
	NSSGroup  []string `json:"nss_group,omitempty"`
	// SetID are the regular files with the set-user-id or set-group-id bit,
	// each with the OS package whose file list holds it (Package empty for
	// none). PackageLists is the number of OS packages with a file list:
	// 0 means ownership could not be established.
	SetID        FSList `json:"setid"`
	PackageLists int    `json:"package_lists"`
	// LogDir is the log directory walked ("/var/log"), as resolved inside
	// the root; LogFiles are the regular files below it.
	LogDir   string `json:"log_dir,omitempty"`
	LogFiles FSList `json:"log_files"`
}

// FSList is a capped list of entries with the true count of what matched.
type FSList struct {
	Count   int       `json:"count"`
	Entries []FSEntry `json:"entries,omitempty"`
}

// Truncated reports whether entries were left out of the list.
func (l FSList) Truncated() bool { return l.Count > len(l.Entries) }

// FSEntry is one file, directory or other entry found by the walk.
type FSEntry struct {
	Path string `json:"path"`
	// Type is file, dir, link or other.
	Type string `json:"type"`
	// Mode is the permission bits with set-user-id, set-group-id and
	// sticky (07777).
	Mode uint32 `json:"mode"`
	UID  int    `json:"uid"`
	GID  int    `json:"gid"`
	// Owner and Group are the names /etc/passwd and /etc/group give the
	// ids, empty when they have none.
	Owner string `json:"owner,omitempty"`
	Group string `json:"group,omitempty"`
	// Package is the OS package owning the file (SetID only).
	Package string `json:"package,omitempty"`
}
