package files_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect/files"
)

// FuzzParseSudoers: any input parses without panicking into lines with
// real line numbers, one line each, a Defaults line per parameter and an
// include only with a path.
func FuzzParseSudoers(f *testing.F) {
	for _, s := range []string{
		"Defaults\tenv_reset\nDefaults use_pty\n@includedir /etc/sudoers.d\n",
		"Defaults:%admin, bob   !authenticate, timestamp_timeout = 20\n",
		"Defaults logfile=\"/var/log/sudo \\\" log\", !lecture # comment\n",
		"Defaults>root,\\\n  op !use_pty\n#include \"/etc/sudo ers\"\n#1000 ALL=(ALL) ALL\n",
		"Defaults!/usr/bin/less noexec\nDefaults@host1 , host2 env_keep+=\"A B\"\n",
		"Defaults\n\"\\\n#includedir\n@include \"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lines := strings.Count(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") + 1
		prev := 0
		for _, l := range files.ParseSudoers(b) {
			if l.Line.N < 1 || l.Line.N > lines || l.Line.N < prev {
				t.Fatalf("line number %d of %d (previous %d)", l.Line.N, lines, prev)
			}
			prev = l.Line.N
			if strings.ContainsAny(l.Line.Text, "\n") || l.Line.Text != strings.TrimSpace(l.Line.Text) || l.Line.Text == "" {
				t.Fatalf("line %q", l.Line.Text)
			}
			if l.Include != "" && !strings.HasPrefix(l.Line.Text, "@include") {
				t.Fatalf("include %q on line %q", l.Include, l.Line.Text)
			}
			if (strings.HasPrefix(l.Line.Text, "@include ") || strings.HasPrefix(l.Line.Text, "@includedir ")) && l.Include == "" {
				t.Fatalf("directive without a path: %q", l.Line.Text)
			}
			if rest, ok := strings.CutPrefix(l.Line.Text, "Defaults"); ok && rest != "" && strings.ContainsRune(" :@!>", rune(rest[0])) {
				if _, param, ok := strings.Cut(l.Line.Text, " "); !ok || param == "" {
					t.Fatalf("Defaults line without a parameter: %q", l.Line.Text)
				}
			}
		}
	})
}

// FuzzExtractGrub: any input yields only the kept kinds of lines, and a
// password line never keeps what followed the user name.
func FuzzExtractGrub(f *testing.F) {
	for _, s := range []string{
		"set superusers=\"root\"\npassword_pbkdf2 root grub.pbkdf2.sha512.10000.AA.BB\n",
		"menuentry 'x' {\n\tlinux /vmlinuz root=/dev/sda1 ro \\\n apparmor=1\n}\n",
		"password root plain\npassword_pbkdf2\npassword_pbkdf2 root\n# password root x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, l := range files.ExtractGrub(b) {
			fl := strings.Fields(l.Text)
			if len(fl) == 0 {
				t.Fatalf("empty line kept")
			}
			switch fl[0] {
			case "set", "linux", "linux16", "linuxefi":
			case "password", "password_pbkdf2":
				// The keyword, the user name (one field) and a placeholder.
				rest := strings.TrimPrefix(strings.TrimPrefix(l.Text, fl[0]+" "), fl[1]+" ")
				switch rest {
				case files.GrubPBKDF2Hash, files.GrubNotPBKDF2, files.GrubPlainText, files.GrubMissingHash:
				default:
					if !(fl[1] == "<no" && rest == "user> "+files.GrubMissingHash) {
						t.Fatalf("password line keeps more than a placeholder: %q", l.Text)
					}
				}
			default:
				t.Fatalf("kept %q", l.Text)
			}
		}
	})
}
