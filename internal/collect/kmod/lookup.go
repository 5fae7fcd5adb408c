package kmod

import "github.com/kensa-dev/kensa/internal/host"

// Install returns the install command kmod would run for a module (the
// first matching install line of the merged configuration), nil when
// none. Other collectors (config/net, for wireless drivers) use it.
func (c *Conf) Install(name string) *host.Setting { return c.install(Normalize(name)) }

// Blacklist returns the first blacklist line of a module, nil when none.
func (c *Conf) Blacklist(name string) *host.Setting { return c.blacklist(Normalize(name)) }
