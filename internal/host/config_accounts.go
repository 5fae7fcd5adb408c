package host

import (
	"path"
	"slices"
	"strings"
)

// Accounts holds the facts about local accounts that only the
// configuration rules need: the login shells /etc/shells allows, the home
// directories of interactive users with their dot files, and root's PATH
// as its startup files set it. The account databases themselves are in
// Inventory.Users and Inventory.Groups.
type Accounts struct {
	// Shells are the entries of /etc/shells, in order; nil when the file
	// could not be read (ShellsError says why) or does not exist.
	Shells      []string `json:"shells,omitempty"`
	ShellsFound bool     `json:"shells_found"`
	ShellsError string   `json:"shells_error,omitempty"`
	// Homes are the home directories of the interactive users, one per
	// user in /etc/passwd order, at most MaxHomes of them; HomesTruncated
	// is true when more users were interactive.
	Homes          []Home `json:"homes"`
	HomesTruncated bool   `json:"homes_truncated,omitempty"`
	// RootPath is root's PATH as its startup files set it.
	RootPath *RootPath `json:"root_path,omitempty"`
	// Source says what was read, or why some facts are missing.
	Source string `json:"source"`
}

// Home is an interactive user's home directory.
type Home struct {
	User  string `json:"user"`
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	Shell string `json:"shell"`
	// Dir is the home directory as found: Type "link" when the passwd
	// path is a symbolic link (Mode and owner are then the target's, found
	// inside the root), Exists false when there is none, Error when it
	// could not be examined.
	Dir PathInfo `json:"dir"`
	// DotFiles are the entries whose names start with "." directly in the
	// home directory, by name, each as lstat sees it (a link is Type
	// "link", never followed). DotFilesTruncated is true when the
	// directory had more entries than were read.
	DotFiles          []PathInfo `json:"dot_files,omitempty"`
	DotFilesTruncated bool       `json:"dot_files_truncated,omitempty"`
	// DotFilesError says why the directory could not be listed.
	DotFilesError string `json:"dot_files_error,omitempty"`
}

// RootPath is root's PATH as its login shell's startup files assign it,
// read without running anything.
type RootPath struct {
	// Assignments are every PATH assignment found, in the order the
	// files are read, including ENV_SUPATH of login.defs.
	Assignments []Setting `json:"assignments"`
	// Files are the files read; Missing the candidates that do not exist.
	Files []string `json:"files"`
	// Dirs are the absolute directories the assignments name, examined.
	Dirs []PathInfo `json:"dirs"`
	// Home is root's home directory, for $HOME and ~ in entries.
	Home string `json:"home"`
}

// Expand replaces $HOME, ${HOME} and a leading ~ of one PATH entry with
// root's home; other variables are left as they are.
func (r *RootPath) Expand(entry string) string {
	e := strings.ReplaceAll(strings.ReplaceAll(entry, "${HOME}", r.Home), "$HOME", r.Home)
	if e == "~" || strings.HasPrefix(e, "~/") {
		e = r.Home + e[1:]
	}
	return e
}

// NoLoginShells are the base names of shells that refuse a login.
var NoLoginShells = []string{"nologin", "false"}

// RefusesLogin reports whether shell is a nologin or false shell.
func RefusesLogin(shell string) bool {
	return slices.Contains(NoLoginShells, path.Base(shell))
}

// LoginShell reports whether shell lets its user log in interactively:
// listed in /etc/shells and not a nologin or false shell. Without an
// /etc/shells (ShellsFound false) only the second condition applies.
func (a *Accounts) LoginShell(shell string) bool {
	if shell == "" || RefusesLogin(shell) {
		return false
	}
	if !a.ShellsFound {
		return true
	}
	return slices.Contains(a.Shells, shell)
}

// AccountFiles says how each account database file was read.
type AccountFiles struct {
	Passwd  AccountFile `json:"passwd"`
	Group   AccountFile `json:"group"`
	Shadow  AccountFile `json:"shadow"`
	GShadow AccountFile `json:"gshadow"`
}

// MaxSkippedLines caps the line numbers kept in AccountFile's lists.
const MaxSkippedLines = 8

// AccountFile says how one account file was read and which of its lines
// were left out of Inventory.Users or Groups. Only line numbers, names
// and ids are kept: never a line's content, which may hold a hash.
type AccountFile struct {
	Path string `json:"path"`
	// Read is true when the file was read; Missing when it does not
	// exist; Error says why it could not be read otherwise. All false
	// and empty: the file was not looked at (/etc/gshadow when
	// /etc/group could not be read).
	Read    bool   `json:"read"`
	Missing bool   `json:"missing,omitempty"`
	Error   string `json:"error,omitempty"`
	// Compat counts the NIS compat lines, those whose name starts with
	// "+" or "-" ("+", "+name", "-name", "+@netgroup"); CompatLines are
	// the first MaxSkippedLines of their numbers. nss_compat replaces
	// them with NIS accounts a scan of files cannot see; nss_files
	// enumerates them (getpwent) under their literal name but never
	// returns them to a lookup by name or id.
	Compat      int   `json:"compat,omitempty"`
	CompatLines []int `json:"compat_lines,omitempty"`
	// CompatIDs are the compat entries that spell a uid or gid
	// explicitly, with their name, in file order (at most MaxCompatIDs).
	CompatIDs []CompatEntry `json:"compat_ids,omitempty"`
	// Unparsed counts the other lines that are not blank or comments and
	// were not taken as entries (not in the form glibc reads, or too
	// long); UnparsedLines are the first MaxSkippedLines numbers.
	Unparsed      int   `json:"unparsed,omitempty"`
	UnparsedLines []int `json:"unparsed_lines,omitempty"`
}

// MaxCompatIDs caps AccountFile.CompatIDs.
const MaxCompatIDs = 64

// CompatEntry is a NIS compat line that spells an id. UID is only set
// for /etc/passwd; nil means the field was empty.
type CompatEntry struct {
	Line int    `json:"line"`
	Name string `json:"name"`
	UID  *int   `json:"uid,omitempty"`
	GID  *int   `json:"gid,omitempty"`
}

// Skipped reports whether lines of the file were left out.
func (f *AccountFile) Skipped() bool { return f.Compat > 0 || f.Unparsed > 0 }

// AddCompat records a compat line.
func (f *AccountFile) AddCompat(line int) {
	f.Compat++
	if len(f.CompatLines) < MaxSkippedLines {
		f.CompatLines = append(f.CompatLines, line)
	}
}

// AddUnparsed records a line that was not taken as an entry.
func (f *AccountFile) AddUnparsed(line int) {
	f.Unparsed++
	if len(f.UnparsedLines) < MaxSkippedLines {
		f.UnparsedLines = append(f.UnparsedLines, line)
	}
}
