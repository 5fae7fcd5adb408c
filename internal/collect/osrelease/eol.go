package osrelease

import (
	"time"

	"github.com/kensa-dev/kensa/internal/host"
)

// eolEntry is the end of a release's free security support.
type eolEntry struct {
	date string
	note string
}

// eolTable is the vendors' published lifecycle, as of 2026-11. Dates are the
// end of the support that still ships security fixes for free: Debian LTS,
// Ubuntu standard support (ESM needs Ubuntu Pro), RHEL full + maintenance
// support (rebuilds follow RHEL), Amazon Linux end of support, Alpine's two
// years of main-repository fixes. Keys are ID and Major release.
//
// Kept as a function returning a fresh map: no package-level mutable state.
func eolTable() map[string]eolEntry {
	return map[string]eolEntry{
		"debian/9":     {"2022-06-30", "end of Debian LTS"},
		"debian/10":    {"2024-06-30", "end of Debian LTS"},
		"debian/11":    {"2026-08-31", "end of Debian LTS"},
		"debian/12":    {"2028-06-30", "end of Debian LTS; regular security support ended 2026-06-10"},
		"debian/13":    {"2030-06-30", "end of Debian LTS, as planned"},
		"ubuntu/16.04": {"2021-04-30", "end of standard support; ESM requires Ubuntu Pro"},
		"ubuntu/18.04": {"2023-05-31", "end of standard support; ESM requires Ubuntu Pro"},
		"ubuntu/20.04": {"2025-05-31", "end of standard support; ESM requires Ubuntu Pro"},
		"ubuntu/22.04": {"2027-06-01", "end of standard support; ESM requires Ubuntu Pro"},
		"ubuntu/24.04": {"2029-05-31", "end of standard support; ESM requires Ubuntu Pro"},
		"rhel/7":       {"2024-06-30", "end of maintenance support; ELS is paid"},
		"rhel/8":       {"2029-05-31", "end of maintenance support"},
		"rhel/9":       {"2032-05-31", "end of maintenance support"},
		"centos/7":     {"2024-06-30", "end of life"},
		"centos/8":     {"2021-12-31", "end of life"},
		"almalinux/8":  {"2029-03-01", "end of security support"},
		"almalinux/9":  {"2032-05-31", "end of security support"},
		"rocky/8":      {"2029-05-31", "end of security support"},
		"rocky/9":      {"2032-05-31", "end of security support"},
		"ol/7":         {"2024-12-31", "end of premier support"},
		"ol/8":         {"2029-07-31", "end of premier support"},
		"ol/9":         {"2032-06-30", "end of premier support"},
		"amzn/2018.03": {"2023-12-31", "end of maintenance support"},
		"amzn/2":       {"2026-06-30", "end of support"},
		"amzn/2023":    {"2029-06-30", "end of support"},
		"alpine/3.12":  {"2022-05-01", "end of main repository fixes"},
		"alpine/3.13":  {"2022-11-01", "end of main repository fixes"},
		"alpine/3.14":  {"2023-05-01", "end of main repository fixes"},
		"alpine/3.15":  {"2023-11-01", "end of main repository fixes"},
		"alpine/3.16":  {"2024-05-23", "end of main repository fixes"},
		"alpine/3.17":  {"2024-11-22", "end of main repository fixes"},
		"alpine/3.18":  {"2025-05-09", "end of main repository fixes"},
		"alpine/3.19":  {"2025-11-01", "end of main repository fixes"},
		"alpine/3.20":  {"2026-04-01", "end of main repository fixes"},
		"alpine/3.21":  {"2026-11-01", "end of main repository fixes"},
		"alpine/3.22":  {"2027-05-01", "end of main repository fixes"},
	}
}

// EOL returns the end of life of a release at time now, or nil when Kensa
// does not know the release.
func EOL(id, major string, now time.Time) *host.EndOfLife {
	e, ok := eolTable()[id+"/"+major]
	if !ok {
		return nil
	}
	d, err := time.Parse("2006-01-02", e.date)
	if err != nil {
		return nil
	}
	return &host.EndOfLife{Date: e.date, Reached: !now.Before(d.AddDate(0, 0, 1)), Note: e.note}
}
