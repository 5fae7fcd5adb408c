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
