package host

// ConfigFiles holds the lines of the configuration files the file_line
// rules read (banners, sudoers, journald, rsyslog, shell start-up files,
// GRUB, chrony, timesyncd, dconf). Only what the rules need is kept:
// comments and blank lines are dropped, and files that hold secrets are
// never read (see the config/files collector for the list and for what is
// left out of grub.cfg and sudoers).
type ConfigFiles struct {
	// Files are the files looked at, grouped by Set, each set in the order
	// its program reads it (sudoers with its includes in place, journald's
	// drop-ins after the main file, later lines winning where the program
	// says so). A file of the fixed list that does not exist is here with
	// Exists false, so a rule can tell "no file" from "no line".
	Files []ConfigFile `json:"files"`
	// Source says what was read and what was left out.
	Source string `json:"source,omitempty"`
}

// ConfigFile is one file and the lines kept from it.
type ConfigFile struct {
	// Path is the absolute path inside the host, as named by the fixed list
	// or by the include that pulled the file in.
	Path string `json:"path"`
	// Set names the group the file belongs to: banner, sudoers, journald,
	// timesyncd, rsyslog, profile, root-shell, grub, default-grub, chrony,
	// dconf, gdm.
	Set    string `json:"set"`
	Exists bool   `json:"exists"`
	// IncludedFrom is "file:line" of the directive that pulled the file in.
	IncludedFrom string `json:"included_from,omitempty"`
	// Lines are the lines kept, in file order.
	Lines []ConfigLine `json:"lines,omitempty"`
	// Error says why the file could not be read (too large, binary,
	// unreadable); its lines are then unknown and rules give an error.
	Error string `json:"error,omitempty"`
}

// ConfigLine is one line kept from a file: trimmed, a continued line
// joined, and for some sets normalised (a sudoers Defaults line becomes one
// line per parameter; a grub.cfg password hash is replaced by a note that
// one is there).
type ConfigLine struct {
	// N is the line number in the file (the first line of a continued one).
	N    int    `json:"n"`
	Text string `json:"text"`
	// Seq is the line's place in the order its program reads the set:
	// the lines of an included file come between the lines before and
	// after the include directive, so "the last line wins" can be judged
	// across files.
	Seq int `json:"seq"`
	// Section is the [section] an INI-style line is in (journald.conf:
	// "Journal"; a dconf keyfile: "org/gnome/login-screen").
	Section string `json:"section,omitempty"`
}
