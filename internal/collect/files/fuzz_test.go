package files_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect/files"
	"github.com/kensa-dev/kensa/internal/testfixture"
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
		"Defaults:%\"domain admins\" !authenticate\nDefaults:a\\ b,\"c\td\" !use_pty\n",
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
				binding, param, ok := strings.Cut(l.Line.Text, " ")
				if !ok || param == "" {
					t.Fatalf("Defaults line without a parameter: %q", l.Line.Text)
				}
				// The binding is one word: the first blank is not inside
				// its quotes, and it holds no other blank.
				if quotes := strings.Count(strings.ReplaceAll(binding, `\"`, ""), `"`); quotes%2 != 0 || strings.ContainsAny(binding, "\t\r\f") {
					t.Fatalf("binding of %q is not one word", l.Line.Text)
				}
			}
		}
	})
}

// FuzzExtractGrub: any input yields only the kept kinds of commands, a
// password command never keeps what followed the user name, a set command
// keeps only superusers=, and no grub.pbkdf2 hash survives anywhere (in
// any case, after ";", "&&", "{", inside quotes or arguments).
func FuzzExtractGrub(f *testing.F) {
	for _, s := range []string{
		"set superusers=\"root\"\npassword_pbkdf2 root grub.pbkdf2.sha512.10000.AA.BB\n",
		"menuentry 'x' {\n\tlinux /vmlinuz root=/dev/sda1 ro \\\n apparmor=1\n}\n",
		"password root plain\npassword_pbkdf2\npassword_pbkdf2 root\n# password root x\n",
		"set superusers=\"root\"; password_pbkdf2 root grub.pbkdf2.sha512.10000.SALT.HASH\n",
		"menuentry 'x' { linux /vmlinuz ${extra} apparmor=1; password root s; }\n",
		"if x; then linux /v a=1 && password_pbkdf2 r GRUB.pbkdf2.X || set superusers='a;b' x=grub.pbkdf2.Y\nfi\n",
		"linux /v \"unclosed grub.pbkdf2.sha512.1.A.B\nset superusers=\\\n\"r\" 'grub.pbkdf2.sha512.1.C.D'\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, l := range files.ExtractGrub(b) {
			if strings.Contains(strings.ToLower(l.Text), "grub.pbkdf2.") {
				t.Fatalf("a grub.pbkdf2 hash kept: %q", l.Text)
			}
			fl := strings.Fields(l.Text)
			if len(fl) == 0 {
				t.Fatalf("empty line kept")
			}
			switch fl[0] {
			case "linux", "linux16", "linuxefi":
			case "set":
				if !strings.HasPrefix(l.Text, "set superusers=") {
					t.Fatalf("set line other than superusers: %q", l.Text)
				}
			case "password", "password_pbkdf2":
				// The keyword, the user name and a placeholder.
				ok := false
				for _, p := range []string{files.GrubPBKDF2Hash, files.GrubNotPBKDF2, files.GrubPlainText, files.GrubMissingHash} {
					if user, found := strings.CutSuffix(strings.TrimPrefix(l.Text, fl[0]+" "), " "+p); found && user != "" {
						ok = true
					}
				}
				if !ok {
					t.Fatalf("password line keeps more than a placeholder: %q", l.Text)
				}
			default:
				t.Fatalf("kept %q", l.Text)
			}
		}
	})
}

// FuzzAIDEConf: AIDE's configuration never panics the collector, and
// every line kept is one line, trimmed.
func FuzzAIDEConf(f *testing.F) {
	for _, s := range []string{
		"@@define X /usr\n@@{X}/sbin/auditctl NORMAL\nNORMAL = p+i\n",
		"@@{UNDEFINED}\n@@ifdef\n@@else\n@@endif\n@@endif\n@@else\n",
		"G = -+-+\n/x +\n/y G-G+?\n=/z$ f,d R+L->-E\n!/w\n@@include\n@@include /etc/aide.conf.d [\n",
		"A=B\n/a A\n@@undef\n@@define\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, conf string) {
		root := t.TempDir()
		write(t, root, "etc/aide.conf", conf)
		inv := testfixture.Collect(t, root, files.New())
		if inv.Config == nil || inv.Config.Files == nil {
			return
		}
		for _, cf := range inv.Config.Files.Files {
			for _, l := range cf.Lines {
				if l.Text == "" || strings.Contains(l.Text, "\n") || l.Text != strings.TrimSpace(l.Text) {
					t.Fatalf("line %q", l.Text)
				}
			}
		}
	})
}
