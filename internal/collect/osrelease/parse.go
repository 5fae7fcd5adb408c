// Package osrelease identifies the operating system of a host or image from
// its release files: os-release first (etc/, then usr/lib/), refined and
// backed up by the distro-specific files (debian_version, redhat-release,
// system-release, alpine-release) that older systems and minimal images
// may have alone.
//
// The identity decides which advisories and which benchmarks apply, so it
// must be exact: "almalinux 8.8" selects AlmaLinux:8 advisories, "ubuntu
// 20.04" the focal feed.
package osrelease

import (
	"bufio"
	"bytes"
	"strings"
	"unicode/utf8"
)

// maxLine bounds one os-release line; real ones are under 200 bytes.
const maxLine = 4096

// Parse reads an os-release(5) file: KEY=VALUE lines, values optionally
// quoted with shell quoting rules ('…' literal; "…" with \", \\, \$, \`
// escapes). Comments, blank lines, malformed lines and non-UTF-8 values are
// ignored, as systemd does, rather than failing the whole file.
func Parse(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 256), maxLine)
	sc.Split(scanLinesLenient)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !validKey(k) {
			continue
		}
		val, ok := unquote(strings.TrimSpace(v))
		if !ok || !utf8.ValidString(val) {
			continue
		}
		out[k] = val
	}
	return out
}

// scanLinesLenient is bufio.ScanLines, but drops a line longer than the
// buffer instead of stopping the scan.
func scanLinesLenient(data []byte, atEOF bool) (int, []byte, error) {
	adv, tok, err := bufio.ScanLines(data, atEOF)
	if adv == 0 && tok == nil && err == nil && len(data) >= maxLine {
		// No newline within maxLine bytes: skip up to the next newline.
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			return i + 1, []byte{}, nil
		}
		return len(data), []byte{}, nil
	}
	return adv, tok, err
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		switch {
		case r >= 'A' && r <= 'Z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		case r >= 'a' && r <= 'z':
		default:
			return false
		}
	}
	return true
}

func unquote(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	switch v[0] {
	case '\'':
		if len(v) < 2 || v[len(v)-1] != '\'' {
			return "", false
		}
		return v[1 : len(v)-1], true
	case '"':
		if len(v) < 2 || v[len(v)-1] != '"' {
			return "", false
		}
		var sb strings.Builder
		in := v[1 : len(v)-1]
		for i := 0; i < len(in); i++ {
			c := in[i]
			if c == '\\' && i+1 < len(in) && strings.IndexByte("\"\\$`", in[i+1]) >= 0 {
				i++
				c = in[i]
			}
			sb.WriteByte(c)
		}
		return sb.String(), true
	}
	// Unquoted values may not contain spaces in the spec; be lenient and
	// keep the first word, which is what a shell would assign.
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		v = v[:i]
	}
	return v, true
}
