package files

import (
	"regexp"
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

// ExtractGrub keeps the grub.cfg commands the rules need, and nothing
// else:
//
//   - "set superusers=..." as written (the set command and that
//     argument only);
//   - "password_pbkdf2 <user> <hash>" as "password_pbkdf2 <user>
//     <grub.pbkdf2 hash>" (or "<not a grub.pbkdf2 hash>"): that a hash is
//     there, never the hash;
//   - "password <user> <password>" as "password <user> <plain-text
//     password>";
//   - the kernel commands (linux, linux16, linuxefi) with their arguments.
//
// A line ending in a backslash is joined with the next (grub's script
// reads it as one). Each line is then split into commands the way grub's
// lexer does (grubCommands): at ";", "|", "&", "{" and "}" outside quotes
// and ${...}, a "#" starting a word comments out the rest, and the
// reserved words that may open a command (then, else, do, ...) are set
// aside. Each command is judged on its own: a whole line kept because it
// starts with "set" or "linux" would carry anything written after a ";"
// on it, a password hash included. As a last guard every kept command has
// any grub.pbkdf2 token replaced by the placeholder.
func ExtractGrub(b []byte) []host.ConfigLine {
	var out []host.ConfigLine
	for _, l := range logical(b, true) {
		for _, f := range grubCommands(l.Text) {
			if keep := grubKeep(f); keep != "" {
				keep = pbkdf2Token.ReplaceAllString(keep, GrubPBKDF2Hash)
				out = append(out, host.ConfigLine{N: l.N, Text: keep})
			}
		}
	}
	return out
}

// pbkdf2Token is a grub.pbkdf2 hash wherever it appears, whatever its
// case (grub itself wants the lower-case prefix; the guard is broader).
var pbkdf2Token = regexp.MustCompile(`(?i)grub\.pbkdf2\.\S*`)

// grubReserved are the words of grub's script grammar that can stand
// before a command on the same line.
var grubReserved = map[string]bool{"then": true, "else": true, "elif": true, "if": true, "do": true, "while": true, "until": true, "!": true}

// grubKeep returns what is kept of one command (its words as written),
// "" for a command the rules do not need.
func grubKeep(f []string) string {
	for len(f) > 0 && grubReserved[f[0]] {
		f = f[1:]
	}
	if len(f) == 0 {
		return ""
	}
	switch f[0] {
	case "set":
		for _, a := range f[1:] {
			if strings.HasPrefix(a, "superusers=") {
				return "set " + a
			}
		}
	case "password_pbkdf2":
		switch {
		case len(f) < 3:
			return "password_pbkdf2 " + userOf(f) + " " + GrubMissingHash
		case strings.HasPrefix(strings.Trim(f[2], `"'`), "grub.pbkdf2."):
			return "password_pbkdf2 " + f[1] + " " + GrubPBKDF2Hash
		case grubVariable.MatchString(strings.Trim(f[2], `"`)):
			// The Red Hat family's 01_users: the hash is in the
			// variable user.cfg sets; a variable's name is kept.
			return "password_pbkdf2 " + f[1] + " " + strings.Trim(f[2], `"`)
		default:
			return "password_pbkdf2 " + f[1] + " " + GrubNotPBKDF2
		}
	case "password":
		if len(f) < 3 {
			return "password " + userOf(f) + " " + GrubMissingHash
		}
		return "password " + f[1] + " " + GrubPlainText
	case "linux", "linux16", "linuxefi":
		return strings.Join(f, " ")
	}
	return ""
}

// grubCommands splits one logical grub.cfg line into commands, each a list
// of words as written (quotes kept). It follows grub's script lexer:
// single quotes take everything literally up to the next one, double
// quotes up to the next unescaped one, a backslash escapes the next
// character, ${...} is one variable; outside those, blanks separate words
// and ";", "|", "&", "{" and "}" separate commands; a "#" at the start of
// a word starts a comment. An unclosed quote runs to the end of the line.
func grubCommands(line string) [][]string {
	var cmds [][]string
	var cur []string
	var w strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			cur = append(cur, w.String())
			w.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(cur) > 0 {
			cmds = append(cmds, cur)
			cur = nil
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\':
			inWord = true
			w.WriteByte(c)
			if i+1 < len(line) {
				i++
				w.WriteByte(line[i])
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				j = len(line) - i - 2
			}
			w.WriteString(line[i : i+j+2])
			i += j + 1
		case c == '"':
			inWord = true
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(line)-1)
			w.WriteString(line[i : j+1])
			i = j
		case c == '$' && i+1 < len(line) && line[i+1] == '{':
			inWord = true
			j := strings.IndexByte(line[i:], '}')
			if j < 0 {
				j = len(line) - i - 1
			}
			w.WriteString(line[i : i+j+1])
			i += j
		case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
			endWord()
		case c == '#' && !inWord:
			endCmd()
			return cmds
		case c == ';' || c == '|' || c == '&' || c == '{' || c == '}' || c == '\n':
			endCmd()
		default:
			inWord = true
			w.WriteByte(c)
		}
	}
	endCmd()
	return cmds
}

// grubVariable is a lone variable reference: ${NAME} or $NAME.
var grubVariable = regexp.MustCompile(`^\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$`)

// ExtractGrubUser keeps, of the Red Hat family's /boot/grub2/user.cfg
// (written by grub2-setpassword, sourced by grub.cfg), the assignments of
// GRUB2_PASSWORD with the value replaced by a placeholder: whether it is a
// grub.pbkdf2 hash ("GRUB2_PASSWORD=<grub.pbkdf2 hash>"), something else,
// or empty. Nothing else of the file is kept.
func ExtractGrubUser(b []byte) []host.ConfigLine {
	var out []host.ConfigLine
	for _, l := range logical(b, true) {
		name, val, ok := strings.Cut(strings.TrimSpace(l.Text), "=")
		if !ok || strings.TrimSpace(name) != "GRUB2_PASSWORD" {
			continue
		}
		val = strings.Trim(strings.TrimSpace(val), `"'`)
		text := "GRUB2_PASSWORD=" + GrubNotPBKDF2
		switch {
		case val == "":
			text = "GRUB2_PASSWORD=" + GrubMissingHash
		case strings.HasPrefix(val, "grub.pbkdf2.") && !strings.ContainsAny(val, " \t"):
			text = "GRUB2_PASSWORD=" + GrubPBKDF2Hash
		}
		out = append(out, host.ConfigLine{N: l.N, Text: text})
	}
	return out
}

func userOf(f []string) string {
	if len(f) >= 2 {
		return f[1]
	}
	return "<no user>"
}
