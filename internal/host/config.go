package host

// Config holds the configuration facts the configuration rules packages
// (best practices, CIS) evaluate. Each part is nil when its collector did
// not run or found nothing to read; the collector's run record says which.
type Config struct {
	SSHD   *SSHD      `json:"sshd,omitempty"`
	Login  *LoginDefs `json:"login_defs,omitempty"`
	PAM    *PAM       `json:"pam,omitempty"`
	Sysctl *Sysctl    `json:"sysctl,omitempty"`
	CPU    *CPU       `json:"cpu,omitempty"`
	// Paths are the files and directories the rules declare, with their
	// modes and owners, as found (links resolved inside the root).
	Paths []PathInfo `json:"paths,omitempty"`
	// Modules are the kernel modules: loaded, built in, available, and
	// what the modprobe configuration says about each.
	Modules *KernelModules `json:"modules,omitempty"`
	// Mounts are the file systems mounted (live) and configured (fstab).
	Mounts *Mounts `json:"mounts,omitempty"`
	// AppArmor is AppArmor's state in the running kernel (config/apparmor).
	AppArmor *AppArmor `json:"apparmor,omitempty"`
	// AptSources are apt's package sources and keyrings (config/apt-sources).
	AptSources *AptSources `json:"apt_sources,omitempty"`
	// Units are the systemd units (and SysV scripts) and their state.
	Units *Units `json:"units,omitempty"`
	// FSWalk is what the walk of the local file systems found
	// (config/fswalk, kensa scan --fs-walk); nil when it did not run.
	FSWalk *FSWalk `json:"fs_walk,omitempty"`
	// Accounts are the login shells, interactive users' homes and root's
	// PATH (config/homes).
	Accounts *Accounts `json:"accounts,omitempty"`
	// UserAdd are useradd's defaults for new accounts (/etc/default/useradd).
	UserAdd *UserAddDefaults `json:"useradd,omitempty"`
	// Files are the lines of the configuration files the file_line rules
	// read (config/files).
	Files *ConfigFiles `json:"files,omitempty"`
	// Network are the listening sockets and wireless interfaces
	// (config/net); Firewall the firewall configuration (config/firewall).
	Network  *Network  `json:"network,omitempty"`
	Firewall *Firewall `json:"firewall,omitempty"`
}

// KernelModules holds kernel module facts for the modules rules declare.
type KernelModules struct {
	// Release is the kernel release whose modules were examined (the
	// running one on a live host; the newest installed in an image).
	Release string `json:"release,omitempty"`
	// Loaded are the modules in proc/modules (nil when not available).
	Loaded []string `json:"loaded,omitempty"`
	// Modules maps a module name ("-" written as "_") to its facts.
	Modules map[string]KernelModule `json:"modules"`
	// Source says where the facts came from, or why some are missing.
	Source string `json:"source"`
}

// KernelModule is what is known of one module.
type KernelModule struct {
	Loaded  bool `json:"loaded"`
	BuiltIn bool `json:"built_in"`
	// Available is true when a module file exists for the release.
	Available bool `json:"available"`
	// Install is the effective "install" command of the merged modprobe
	// configuration, with where it is set; Blacklisted likewise.
	Install     *Setting `json:"install,omitempty"`
	Blacklisted *Setting `json:"blacklisted,omitempty"`
}

// Mounts holds mount points and their options.
type Mounts struct {
	// Live are the mounts of proc/mounts (nil for an image).
	Live []Mount `json:"live,omitempty"`
	// Fstab are the entries of /etc/fstab; FstabFound tells a file
	// without entries (debootstrap's "UNCONFIGURED FSTAB") from none.
	Fstab      []Mount `json:"fstab,omitempty"`
	FstabFound bool    `json:"fstab_found,omitempty"`
	// Source says where the facts came from, or why some are missing.
	Source string `json:"source"`
}

// Mount is one mounted or configured file system.
type Mount struct {
	Device     string   `json:"device"`
	MountPoint string   `json:"mount_point"`
	FSType     string   `json:"fs_type"`
	Options    []string `json:"options"`
	File       string   `json:"file,omitempty"`
	Line       int      `json:"line,omitempty"`
}

// Setting is one configuration value with where it was set. File is empty
// for a compiled-in or documented default.
type Setting struct {
	Value string `json:"value"`
	File  string `json:"file,omitempty"`
	Line  int    `json:"line,omitempty"`
}

// SSHD is the effective OpenSSH server configuration, computed as sshd
// does: the first value of a keyword wins, Include expands in place (globs
// in lexical order), keywords are case-insensitive, unset keywords take the
// installed version's compiled-in defaults.
type SSHD struct {
	// Installed is false when no OpenSSH server is installed (the SSH rules
	// are then not applicable).
	Installed bool `json:"installed"`
	// Version is the OpenSSH version ("9.2p1"), from the package manager.
	Version string `json:"version,omitempty"`
	// Files are the configuration files read, in order.
	Files []string `json:"files,omitempty"`
	// Global maps a lower-case keyword to its effective value outside any
	// Match block (defaults included, File empty for them).
	Global map[string]Setting `json:"global"`
	// Matches are the Match blocks, in order, with the keywords they set.
	Matches []SSHDMatch `json:"matches,omitempty"`
	// Live is the output of `sshd -T` on a live host (lower-case keyword to
	// value), nil when it was not run; LiveError says why it failed.
	Live      map[string]string `json:"live,omitempty"`
	LiveError string            `json:"live_error,omitempty"`
	// Disagreements lists keywords whose computed value differs from
	// `sshd -T`, as "keyword: computed X, sshd -T Y".
	Disagreements []string `json:"disagreements,omitempty"`
}

// SSHDMatch is one Match block.
type SSHDMatch struct {
	// Criteria are the Match line's criteria as written ("User alice",
	// "Address 10.0.0.0/8").
	Criteria string             `json:"criteria"`
	File     string             `json:"file"`
	Line     int                `json:"line"`
	Settings map[string]Setting `json:"settings"`
}

// LoginDefs is /etc/login.defs: upper-case key to setting.
type LoginDefs struct {
	File     string             `json:"file"`
	Settings map[string]Setting `json:"settings"`
}

// PAM is the PAM configuration of the services the rules look at.
type PAM struct {
	// Stacks maps a service ("passwd", "sshd", "login", "common-password",
	// "system-auth") to its entries with includes expanded.
	Stacks map[string][]PAMEntry `json:"stacks"`
	// PWQuality is the effective libpwquality configuration from
	// pwquality.conf.d/* then pwquality.conf (the later file wins).
	PWQuality map[string]Setting `json:"pwquality,omitempty"`
	// Faillock is faillock.conf.
	Faillock map[string]Setting `json:"faillock,omitempty"`
	// PWHistory is pwhistory.conf (read by pam_pwhistory from Linux-PAM
	// 1.5.3 on): lower-case key to its first setting.
	PWHistory map[string]Setting `json:"pwhistory,omitempty"`
	// Unread maps a stack to what could not be read into it ("file:
	// why"): a file that could not be read, an include not found, includes
	// nested too deep or in a loop, entries past the bound. Such a stack
	// is incomplete, so a line missing from it may be in what was not read.
	Unread map[string][]string `json:"unread,omitempty"`
	// ConfErrors maps a module configuration file that exists but could
	// not be read (pwquality.conf and its drop-ins, faillock.conf,
	// pwhistory.conf) to why: a value the module would take from it is
	// not known.
	ConfErrors map[string]string `json:"conf_errors,omitempty"`
}

// PAMEntry is one PAM rule line.
type PAMEntry struct {
	// Type is auth, account, password or session.
	Type    string   `json:"type"`
	Control string   `json:"control"`
	Module  string   `json:"module"`
	Args    []string `json:"args,omitempty"`
	File    string   `json:"file"`
	Line    int      `json:"line"`
}

// Sysctl holds kernel parameters: Running from proc/sys (live facts, of
// the scanned root's proc/), Persisted from sysctl.conf and sysctl.d in the
// documented override order.
type Sysctl struct {
	Running   map[string]string  `json:"running,omitempty"`
	Persisted map[string]Setting `json:"persisted"`
}

// CPU holds processor facts for DEP/NX.
type CPU struct {
	// Arch is the machine architecture (x86_64, aarch64, ...).
	Arch string `json:"arch,omitempty"`
	// CPUs counts the processors in /proc/cpuinfo; NXCPUs those with the
	// nx flag (x86).
	CPUs   int `json:"cpus"`
	NXCPUs int `json:"nx_cpus"`
	// Cmdline is the kernel command line (/proc/cmdline).
	Cmdline string `json:"cmdline,omitempty"`
	// Source says where the facts came from, or why they are missing.
	Source string `json:"source"`
}

// PathInfo is a file or directory with its mode and owner.
type PathInfo struct {
	// Path is the path asked for; Resolved the path it leads to, links
	// resolved inside the root.
	Path     string `json:"path"`
	Resolved string `json:"resolved,omitempty"`
	Exists   bool   `json:"exists"`
	// Type is file, dir, link, other.
	Type string `json:"type,omitempty"`
	// Mode is the permission bits (and setuid/setgid/sticky), octal.
	Mode  uint32 `json:"mode,omitempty"`
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	Owner string `json:"owner,omitempty"`
	Group string `json:"group,omitempty"`
	// Error says why the path could not be examined.
	Error string `json:"error,omitempty"`
}
