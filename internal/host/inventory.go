// Package host holds the facts Kensa knows about one host: the Inventory that
// collectors produce and every rules package evaluates.
//
// The package is deliberately free of infrastructure: no file system, no
// network, no database. An Inventory is a plain, serialisable document, so
// the same value can come from a live scan, from an agent over the wire, or
// from a stored JSON file that a server re-evaluates when a feed changes.
package host

import "time"

// SchemaVersion is the version of the Inventory JSON document. Bump the major
// part on any change that removes or re-types a field; additions keep it.
const SchemaVersion = "1.0"

// Inventory is everything collected from one host or image.
type Inventory struct {
	SchemaVersion string    `json:"schema_version"`
	CollectedAt   time.Time `json:"collected_at"`
	// Identity says which host this is and how it was looked at.
	Identity Identity `json:"identity"`
	// OS is nil when no release file could be read.
	OS *OSRelease `json:"os,omitempty"`
	// Kernel is nil when nothing about kernels was found.
	Kernel *Kernel `json:"kernel,omitempty"`
	// Packages are the packages the OS package manager (dpkg, rpm, apk) knows.
	Packages []Package `json:"packages"`
	// Software is what was found outside the package manager: Go binaries,
	// Python distributions, npm packages, Java archives.
	Software []Software `json:"software"`
	Users    []User     `json:"users"`
	Groups   []Group    `json:"groups"`
	// AccountFiles says how /etc/passwd, group, shadow and gshadow were
	// read and which of their lines were not taken as entries; nil in
	// older inventories.
	AccountFiles *AccountFiles `json:"account_files,omitempty"`
	// Collectors records what each collector did, including failures, so a
	// consumer can tell "nothing found" from "not looked at".
	Collectors []CollectorRun `json:"collectors"`
	// Discovery records where the search for unmanaged software looked, what
	// it skipped and which limits it hit.
	Discovery *Discovery `json:"discovery,omitempty"`
	// Updates are the package manager's pending updates with the CVEs
	// their changelogs fix; nil when they were not gathered.
	Updates *Updates `json:"updates,omitempty"`
	// Config holds the configuration facts (sshd, PAM, login.defs,
	// sysctl, CPU, path modes) the configuration rules evaluate.
	Config *Config `json:"config,omitempty"`
}

// Identity names the host.
type Identity struct {
	Hostname string `json:"hostname"`
	// MachineID is /etc/machine-id when present; it survives renames and is
	// the preferred input of finding fingerprints.
	MachineID string `json:"machine_id,omitempty"`
	// Root is the directory scanned: "/" for the live host, or the --root
	// directory of an image.
	Root string `json:"root"`
	// Live is true when Root is the running system, so kernel and process
	// facts describe the machine itself.
	Live bool `json:"live"`
}

// OSRelease is the operating system's identity as the distro states it.
type OSRelease struct {
	// Family groups distros that share a package format and advisories
	// semantics: debian, rhel, alpine, suse, arch, unknown.
	Family string `json:"family"`
	// ID is os-release ID (debian, ubuntu, almalinux, rhel, amzn, alpine...).
	ID     string   `json:"id"`
	IDLike []string `json:"id_like,omitempty"`
	Name   string   `json:"name,omitempty"`
	// PrettyName is os-release PRETTY_NAME.
	PrettyName string `json:"pretty_name,omitempty"`
	// VersionID is os-release VERSION_ID verbatim.
	VersionID string `json:"version_id,omitempty"`
	// Release is the release as people name it: debian 12, ubuntu 20.04,
	// almalinux 8.8, amzn 2023, alpine 3.18.
	Release string `json:"release,omitempty"`
	// PointRelease is the most precise release known: 12.11 from
	// debian_version, 20.04.1 from VERSION, 3.18.4 from alpine-release.
	PointRelease string `json:"point_release,omitempty"`
	// Major is the release that selects advisories and benchmarks: "12"
	// for Debian, "20.04" for Ubuntu, "8" for AlmaLinux, "2023" for Amazon
	// Linux, "3.18" for Alpine.
	Major    string `json:"major,omitempty"`
	Codename string `json:"codename,omitempty"`
	// EOL is the vendor's end of standard support, when Kensa knows it.
	EOL *EndOfLife `json:"eol,omitempty"`
	// Sources lists the files the facts were read from, in the root.
	Sources []string `json:"sources"`
}

// EndOfLife describes the support status of a release.
type EndOfLife struct {
	// Date is the end of standard (security) support, YYYY-MM-DD.
	Date string `json:"date"`
	// Reached is true when Date is before the time of collection.
	Reached bool `json:"reached"`
	// Note names the support phase the date refers to.
	Note string `json:"note,omitempty"`
}

// Kernel describes the running kernel and the kernels installed.
type Kernel struct {
	// Running is the release of the running kernel (uname -r), empty when
	// not available (an image without proc/).
	Running string `json:"running,omitempty"`
	// RunningSource says where Running came from, or why it is missing.
	RunningSource string `json:"running_source"`
	// Installed lists kernel images installed by the package manager.
	Installed []InstalledKernel `json:"installed"`
	// RebootRequired is true when a newer kernel is installed than runs.
	RebootRequired bool   `json:"reboot_required"`
	RebootReason   string `json:"reboot_reason,omitempty"`
}

// InstalledKernel is one kernel image package.
type InstalledKernel struct {
	Package string `json:"package"`
	Version string `json:"version"`
	// Release is the kernel release string it boots as (uname -r).
	Release string `json:"release"`
}

// Package is one package known to the OS package manager.
type Package struct {
	// Manager is dpkg, rpm or apk.
	Manager string `json:"manager"`
	Name    string `json:"name"`
	// Version is exactly as the package format has it: dpkg
	// "[epoch:]upstream[-revision]", rpm "[epoch:]version-release", apk
	// "version-rN".
	Version string `json:"version"`
	Arch    string `json:"arch,omitempty"`
	// SourceName and SourceVersion identify the source package, on which
	// distro advisories are keyed (dpkg Source:, rpm SOURCERPM, apk origin).
	SourceName    string `json:"source_name,omitempty"`
	SourceVersion string `json:"source_version,omitempty"`
	// ModularityLabel is the rpm MODULARITYLABEL (name:stream:version:context).
	ModularityLabel string `json:"modularity_label,omitempty"`
	// Ecosystem is the OSV ecosystem name (Debian, Ubuntu, AlmaLinux, Alpine...).
	Ecosystem string `json:"ecosystem,omitempty"`
	PURL      string `json:"purl,omitempty"`
	// Files are the absolute paths the package owns, as its database lists them.
	Files []string `json:"files,omitempty"`
	// Source is the database file the record was read from.
	Source string `json:"source"`
}

// Software is a component found outside the OS package manager.
type Software struct {
	// Ecosystem is the OSV ecosystem name: Go, PyPI, npm, Maven.
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	PURL      string `json:"purl,omitempty"`
	// Kind distinguishes what was found: go-main, go-module, go-stdlib,
	// python-dist, npm, java-archive.
	Kind string `json:"kind"`
	// Location is the file the component was read from (a binary, a
	// METADATA file, a package.json, a JAR; nested archives use "!/").
	Location string `json:"location"`
	// Collector names the collector that found it.
	Collector string `json:"collector"`
	// GoVersion is the toolchain a Go binary was built with.
	GoVersion string `json:"go_version,omitempty"`
	// OwnedBy names the OS package that owns Location, when one does: such
	// software is also covered by the distro's advisories.
	OwnedBy string `json:"owned_by,omitempty"`
}

// Software kinds (Software.Kind).
const (
	KindGoMain      = "go-main"
	KindGoModule    = "go-module"
	KindGoStdlib    = "go-stdlib"
	KindPythonDist  = "python-dist"
	KindNPM         = "npm"
	KindJavaArchive = "java-archive"
)

// User is one account from /etc/passwd with its shadow aging fields. The
// password hash is never collected; only whether one is set.
type User struct {
	Name  string `json:"name"`
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	Gecos string `json:"gecos,omitempty"`
	Home  string `json:"home"`
	Shell string `json:"shell"`
	// Line is the entry's line in /etc/passwd (0 in older inventories).
	Line int `json:"line,omitempty"`
	// PasswdField says what the passwd password field holds, never the
	// value: "shadowed" ("x"), "empty" (login without a password unless
	// shadow decides), or "other" (a hash or anything else). Empty in
	// older inventories: unknown.
	PasswdField string `json:"passwd_field,omitempty"`
	// Shadow is nil when /etc/shadow has no entry or could not be read;
	// NoShadowEntry is true when it was read and has no entry for the
	// user, so that an unread file is never mistaken for a clean one.
	Shadow        *ShadowAging `json:"shadow,omitempty"`
	NoShadowEntry bool         `json:"no_shadow_entry,omitempty"`
}

// ShadowAging holds the /etc/shadow fields of one user except the hash.
// Day counts are days since 1970-01-01; nil means the field is empty.
type ShadowAging struct {
	// PasswordState is "set", "empty" (no password: login without one),
	// "locked" (hash prefixed with !), or "none" (* or !: no usable password).
	PasswordState string `json:"password_state"`
	LastChange    *int   `json:"last_change,omitempty"`
	MinDays       *int   `json:"min_days,omitempty"`
	MaxDays       *int   `json:"max_days,omitempty"`
	WarnDays      *int   `json:"warn_days,omitempty"`
	InactiveDays  *int   `json:"inactive_days,omitempty"`
	Expire        *int   `json:"expire,omitempty"`
	// Scheme is the crypt(3) scheme id of a set or locked hash ("y"
	// yescrypt, "6" SHA-512, "1" MD5), "des" for a traditional DES hash;
	// never any of the hash itself.
	Scheme string `json:"scheme,omitempty"`
	// Line is the entry's line in /etc/shadow.
	Line int `json:"line,omitempty"`
}

// Group is one entry of /etc/group. Duplicate names and GIDs are kept
// as they appear: finding them is a check.
type Group struct {
	Name    string   `json:"name"`
	GID     int      `json:"gid"`
	Members []string `json:"members,omitempty"`
	// Line is the entry's line in /etc/group.
	Line int `json:"line,omitempty"`
	// Shadow is the group's /etc/gshadow entry, nil when there is none or
	// the file could not be read.
	Shadow *GroupShadow `json:"shadow,omitempty"`
}

// GroupShadow is one /etc/gshadow entry without its password hash.
type GroupShadow struct {
	// PasswordState is as ShadowAging's: set, empty, locked or none.
	PasswordState string   `json:"password_state"`
	Admins        []string `json:"admins,omitempty"`
	Members       []string `json:"members,omitempty"`
	Line          int      `json:"line,omitempty"`
}

// CollectorRun is the outcome of one collector.
type CollectorRun struct {
	Name string `json:"name"`
	// Status is ok, partial (ran, with errors), failed, or skipped (not
	// applicable here, such as rpm on a Debian host).
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Errors are the problems met, capped; ErrorCount is the true total.
	Errors     []string `json:"errors,omitempty"`
	ErrorCount int      `json:"error_count,omitempty"`
	Items      int      `json:"items"`
	DurationMS float64  `json:"duration_ms"`
}

// Collector statuses.
const (
	StatusOK      = "ok"
	StatusPartial = "partial"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// Discovery reports the search for software outside the package manager.
type Discovery struct {
	Roots   []string      `json:"roots"`
	Skipped []SkippedPath `json:"skipped,omitempty"`
	// LimitsHit lists each limit that stopped part of the search.
	LimitsHit    []LimitHit `json:"limits_hit,omitempty"`
	FilesVisited int        `json:"files_visited"`
}

// SkippedPath is a directory the discovery did not enter, and why.
type SkippedPath struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// LimitHit records one limit reached during discovery.
type LimitHit struct {
	Limit string `json:"limit"`
	Path  string `json:"path,omitempty"`
	Value int64  `json:"value"`
}
