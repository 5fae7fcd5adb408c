package files

import (
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// Placeholders written in place of what grub.cfg's password lines hold.
const (
	GrubPBKDF2Hash  = "<grub.pbkdf2 hash>"
	GrubNotPBKDF2   = "<not a grub.pbkdf2 hash>"
	GrubPlainText   = "<plain-text password>"
	GrubMissingHash = "<no hash>"
)

// ExtractGrub keeps the grub.cfg lines the rules need, and nothing else:
//
//   - "set superusers=..." as written;
//   - "password_pbkdf2 <user> <hash>" as "password_pbkdf2 <user>
//     <grub.pbkdf2 hash>" (or "<not a grub.pbkdf2 hash>"): that a hash is
//     there, never the hash;
//   - "password <user> <password>" as "password <user> <plain-text
//     password>";
//   - the kernel lines (linux, linux16, linuxefi) with their arguments.
//
// Lines are trimmed, "#" lines dropped, and a line ending in a backslash
// joined with the next (grub's script reads it as one).
func ExtractGrub(b []byte) []host.ConfigLine {
	var out []host.ConfigLine
	for _, l := range logical(b, true) {
		t := strings.TrimSpace(l.Text)
		if t == "" || t[0] == '#' {
			continue
		}
		f := strings.Fields(t)
		var keep string
		switch f[0] {
		case "set":
			if len(f) >= 2 && strings.HasPrefix(f[1], "superusers=") {
				keep = strings.Join(f, " ")
			}
		case "password_pbkdf2":
			switch {
			case len(f) < 3:
				keep = "password_pbkdf2 " + userOf(f) + " " + GrubMissingHash
			case strings.HasPrefix(f[2], "grub.pbkdf2."):
				keep = "password_pbkdf2 " + f[1] + " " + GrubPBKDF2Hash
			default:
				keep = "password_pbkdf2 " + f[1] + " " + GrubNotPBKDF2
			}
		case "password":
			if len(f) < 3 {
				keep = "password " + userOf(f) + " " + GrubMissingHash
			} else {
				keep = "password " + f[1] + " " + GrubPlainText
			}
		case "linux", "linux16", "linuxefi":
			keep = strings.Join(f, " ")
		}
		if keep != "" {
			out = append(out, host.ConfigLine{N: l.N, Text: keep})
		}
	}
	return out
}

func userOf(f []string) string {
	if len(f) >= 2 {
		return f[1]
	}
	return "<no user>"
}
