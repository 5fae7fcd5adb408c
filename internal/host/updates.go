package host

// Updates are the newer package versions the host's own package manager
// offers, read from its package lists (apt's /var/lib/apt/lists), with the
// vulnerabilities each update's changelog says it fixes. They are the
// facts of the feed-free CVE method for Debian and Ubuntu hosts that no
// feed covers: a server can evaluate them later without the host.
type Updates struct {
	// Method names how the facts were gathered: "apt-changelog".
	Method string `json:"method"`
	// Lists are the package lists read, in the root.
	Lists []string `json:"lists"`
	// Pending is one entry per installed package with a newer candidate.
	Pending []PendingUpdate `json:"pending"`
	// ChangelogsRead counts the candidate changelogs that were read;
	// ChangelogsMissing those that could not be (not downloaded, no
	// network, no changelog in the package).
	ChangelogsRead    int `json:"changelogs_read"`
	ChangelogsMissing int `json:"changelogs_missing"`
}

// PendingUpdate is a newer version of one installed package.
type PendingUpdate struct {
	Name string `json:"name"`
	Arch string `json:"arch,omitempty"`
	// Installed and Candidate are dpkg versions; Candidate is newer.
	Installed string `json:"installed"`
	Candidate string `json:"candidate"`
	// Suite is the archive the candidate comes from ("bookworm-security").
	Suite      string `json:"suite,omitempty"`
	SourceName string `json:"source_name,omitempty"`
	// FixedCVEs are the CVE ids named in the candidate's changelog entries
	// newer than Installed, less those the installed package's own
	// changelog already names (fixed earlier by a backport). Sorted.
	FixedCVEs []string `json:"fixed_cves,omitempty"`
	// Changelog says whether the candidate's changelog was read ("read")
	// or why not.
	Changelog string `json:"changelog"`
}
