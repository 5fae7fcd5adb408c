package host

// AptSources are apt's package sources and the keyrings it trusts.
type AptSources struct {
	// Files are the source files read, in apt's order.
	Files []string `json:"files,omitempty"`
	// Sources are the enabled entries.
	Sources []AptSource `json:"sources,omitempty"`
	// Keyrings are the keyrings every source is checked against unless it
	// names its own (/etc/apt/trusted.gpg, /etc/apt/trusted.gpg.d/*).
	Keyrings []string `json:"keyrings,omitempty"`
}

// AptSource is one source entry (a sources.list line or a deb822 stanza).
type AptSource struct {
	// Type is deb or deb-src (both, space-separated, for a stanza).
	Type       string   `json:"type"`
	URIs       []string `json:"uris"`
	Suites     []string `json:"suites"`
	Components []string `json:"components,omitempty"`
	// Options are the entry's options, lower-case names (trusted,
	// allow-insecure, signed-by, arch, ...).
	Options map[string]string `json:"options,omitempty"`
	// SignedBy are the keyrings or fingerprints the entry is limited to;
	// MissingKeys those of them that are files that do not exist.
	SignedBy    []string `json:"signed_by,omitempty"`
	MissingKeys []string `json:"missing_keys,omitempty"`
	File        string   `json:"file"`
	Line        int      `json:"line"`
}
