package collect

import "time"

// DiscoveryConfig bounds the search for software that no package manager
// knows about. Kensa never walks the whole file system: it looks where
// software is installed, within these limits, and reports every limit hit.
//
// A zero or negative limit means the value of DefaultDiscovery.
type DiscoveryConfig struct {
	// Roots are the directories searched (absolute, inside the host root),
	// each recursively, to MaxDepth. A path element may be a path.Match
	// pattern ("/opt/*/lib").
	//
	// Empty means the default search: DefaultDiscoveryRoots, plus
	// DefaultHomeDiscoveryRoots in the home directory of every user, plus
	// the executables of running processes. Roots replace all of it: with
	// Roots set, neither home directories nor running processes are looked
	// at, only these directories.
	Roots []string
	// MaxDepth bounds how deep below a root the search goes.
	MaxDepth int
	// MaxFiles bounds the number of directory entries looked at, over all
	// roots.
	MaxFiles int
	// MaxFileSize is the largest archive (JAR, WAR, EAR) opened. Binaries
	// are not limited: their build info is read in a few bounded reads.
	MaxFileSize int64
	// Timeout bounds the whole search.
	Timeout time.Duration
}

// RootKind says how a discovery root is searched.
type RootKind int

const (
	// RootTree is searched recursively for every kind of software, to
	// DiscoveryConfig.MaxDepth.
	RootTree RootKind = iota
	// RootBin is a directory of executables: only its own entries are
	// looked at, and only as Go binaries.
	RootBin
	// RootSitePackages is a Python site-packages directory: only its own
	// *.dist-info and *.egg-info entries are looked at. It is used for
	// trees too large to walk, such as the interpreters of pyenv.
	RootSitePackages
)

// DiscoveryRoot is one place searched by default. Path may hold
// path.Match patterns in any element; a pattern matching nothing is not an
// error.
type DiscoveryRoot struct {
	Path string
	Kind RootKind
}

// DefaultDiscoveryRoots returns the places software is installed outside
// the package manager, or where package-manager-installed interpreters keep
// their own packages.
func DefaultDiscoveryRoots() []DiscoveryRoot {
	return []DiscoveryRoot{
		{"/usr/local", RootTree},
		{"/opt", RootTree},
		{"/srv", RootTree},
		{"/usr/bin", RootBin},
		{"/usr/sbin", RootBin},
		{"/bin", RootBin},
		{"/sbin", RootBin},
		{"/usr/libexec", RootTree},
		// The library directories of every Python interpreter, 2 and 3
		// (python2.7, python3, python3.11): distro packages and pip
		// install their distributions in their dist-packages and
		// site-packages. CentOS 7 and Ubuntu 18.04 still ship python2.7.
		{"/usr/lib/python[23]*", RootTree},
		{"/usr/lib64/python[23]*", RootTree},
		{"/usr/local/lib/python[23]*", RootTree},
		{"/usr/share/java", RootTree},
		{"/usr/lib/node_modules", RootTree},
		// Where applications are deployed with their own dependencies
		// (node_modules, virtualenvs, WEB-INF/lib): web roots, and the
		// conventional directories of container images.
		{"/var/www", RootTree},
		{"/app", RootTree},
		{"/usr/src/app", RootTree},
	}
}

// DefaultHomeDiscoveryRoots returns the places searched in each user's
// home directory, relative to it.
func DefaultHomeDiscoveryRoots() []DiscoveryRoot {
	return []DiscoveryRoot{
		{"bin", RootBin},
		{".local/bin", RootBin},
		{"go/bin", RootBin},
		{".cargo/bin", RootBin},
		{".local/lib/python*/site-packages", RootTree},
		{".pyenv/versions/*/lib/python*/site-packages", RootSitePackages},
	}
}

// DefaultDiscovery returns the default limits.
func DefaultDiscovery() DiscoveryConfig {
	return DiscoveryConfig{
		MaxDepth:    12,
		MaxFiles:    200_000,
		MaxFileSize: 512 << 20,
		Timeout:     60 * time.Second,
	}
}

// WithDefaults returns c with every unset limit taken from DefaultDiscovery.
func (c DiscoveryConfig) WithDefaults() DiscoveryConfig {
	d := DefaultDiscovery()
	if c.MaxDepth <= 0 {
		c.MaxDepth = d.MaxDepth
	}
	if c.MaxFiles <= 0 {
		c.MaxFiles = d.MaxFiles
	}
	if c.MaxFileSize <= 0 {
		c.MaxFileSize = d.MaxFileSize
	}
	if c.Timeout <= 0 {
		c.Timeout = d.Timeout
	}
	return c
}
