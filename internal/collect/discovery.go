package collect

import "time"

// DiscoveryConfig bounds the search for software that no package manager
// knows about. Kensa never walks the whole file system: it looks where
// software is installed, within these limits, and reports every limit hit.
type DiscoveryConfig struct {
	// Roots are the directories searched (absolute, inside the host root).
	// Empty means DefaultDiscoveryRoots plus the home directories of users.
	Roots []string
	// MaxDepth bounds how deep below a root the search goes.
	MaxDepth int
	// MaxFiles bounds the number of files looked at, over all roots.
	MaxFiles int
	// MaxFileSize is the largest file opened (binaries, archives).
	MaxFileSize int64
	// Timeout bounds the whole search.
	Timeout time.Duration
}

// DefaultDiscoveryRoots are the places software is installed outside the
// package manager, or where package-manager-installed interpreters keep
// their own packages.
var DefaultDiscoveryRoots = []string{
	"/usr/local", "/opt", "/srv",
	"/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/libexec",
	"/usr/lib/python3", "/usr/lib64/python3", "/usr/share/java", "/usr/lib/node_modules",
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
