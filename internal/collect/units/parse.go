package units

import (
	"bytes"
	"strings"
)

// UnitFile is what the collector reads from a unit file: its [Install]
// section, and which unit a socket, timer or path unit starts.
type UnitFile struct {
	// Install is true when [Install] has WantedBy=, RequiredBy=,
	// UpheldBy= or Alias= (systemctl then calls an unlinked unit
	// disabled, not static).
	Install bool
	// Also are the units of Also= (a unit with only Also= is indirect).
	Also []string
	// Alias are the names of Alias=.
	Alias []string
	// Starts is the unit of Service= ([Socket]) or Unit= ([Timer],
	// [Path]); empty for the default (the same name).
	Starts string
	// Accept is [Socket] Accept=yes: each connection starts an instance
	// of the template <name>@.service.
	Accept bool
}

// ParseUnit reads a unit file as systemd's config parser does, for the
// keys above: "[Section]" lines, "Key=Value" assignments, lines starting
// with "#" or ";" are comments, a trailing backslash joins the next line
// (comment lines inside a continuation are dropped), keys are
// case-sensitive. List keys take space-separated names and an empty
// assignment empties the list; Service=, Unit= and Accept= take the last
// value.
func ParseUnit(b []byte) UnitFile {
	var u UnitFile
	var installLists = map[string][]string{}
	section := ""
	lines := strings.Split(string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			next := strings.TrimSpace(lines[i])
			if next != "" && (next[0] == '#' || next[0] == ';') {
				// A comment inside a continuation is skipped; the
				// continuation goes on.
				next = "\\"
			}
			line = line[:len(line)-1] + " " + next
		}
		line = strings.TrimSpace(strings.TrimSuffix(line, "\\"))
		if strings.HasPrefix(line, "[") {
			if end := strings.IndexByte(line, ']'); end > 0 {
				section = line[1:end]
			}
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch section {
		case "Install":
			switch key {
			case "WantedBy", "RequiredBy", "UpheldBy", "Alias", "Also":
				if val == "" {
					installLists[key] = nil
				} else {
					installLists[key] = append(installLists[key], strings.Fields(val)...)
				}
			}
		case "Socket":
			switch key {
			case "Service":
				u.Starts = val
			case "Accept":
				u.Accept = parseBool(val)
			}
		case "Timer", "Path":
			if key == "Unit" {
				u.Starts = val
			}
		}
	}
	u.Install = len(installLists["WantedBy"]) > 0 || len(installLists["RequiredBy"]) > 0 ||
		len(installLists["UpheldBy"]) > 0 || len(installLists["Alias"]) > 0
	u.Also = installLists["Also"]
	u.Alias = installLists["Alias"]
	return u
}

// parseBool reads systemd's booleans (parse_boolean).
func parseBool(s string) bool {
	switch strings.ToLower(s) {
	case "1", "yes", "y", "true", "t", "on":
		return true
	}
	return false
}

// LiveUnit is one line of `systemctl list-units`.
type LiveUnit struct {
	Name, Load, Active, Sub string
}

// ParseListUnits reads the output of `systemctl list-units --all
// --no-legend --plain --full`: "UNIT LOAD ACTIVE SUB DESCRIPTION" per
// line, columns separated by spaces. A leading status mark ("●" or "*",
// which older versions print even with --plain) is skipped; lines with
// fewer than four columns or a first column that is not a unit name are
// ignored. At most max units are returned; truncated says some were left.
func ParseListUnits(b []byte, max int) (units []LiveUnit, truncated bool) {
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && (f[0] == "●" || f[0] == "*" || f[0] == "×") {
			f = f[1:]
		}
		if len(f) < 4 || !ValidName(f[0]) {
			continue
		}
		if len(units) >= max {
			return units, true
		}
		units = append(units, LiveUnit{Name: f[0], Load: f[1], Active: f[2], Sub: f[3]})
	}
	return units, false
}

// unitTypes are the suffixes of unit names.
var unitTypes = []string{".service", ".socket", ".timer", ".target", ".path", ".mount", ".automount", ".swap", ".slice", ".scope", ".device"}

// ValidName reports whether s looks like a unit name: a known type
// suffix, a non-empty prefix, at most 255 bytes, no "/" and no control
// or space characters.
func ValidName(s string) bool {
	if len(s) > 255 || strings.HasPrefix(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '/' || c == 0x7f {
			return false
		}
	}
	for _, t := range unitTypes {
		if strings.HasSuffix(s, t) && len(s) > len(t) {
			return true
		}
	}
	return false
}

// suffix returns a unit name's type suffix (".service").
func suffix(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}

// Template returns the template of an instance name ("getty@tty1.service"
// gives "getty@.service"), or "" when name is not an instance.
func Template(name string) string {
	at := strings.IndexByte(name, '@')
	sfx := suffix(name)
	if at < 0 || at+1 >= len(name)-len(sfx) {
		return ""
	}
	return name[:at+1] + sfx
}
