package java

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseProperties parses a Java .properties file (pom.properties): "key=value",
// "key: value" or "key value" lines, "#" and "!" comments, a trailing
// backslash continuing a line, backslash escapes including \uXXXX. The first
// occurrence of a key wins. It never fails: garbage gives no useful keys.
func ParseProperties(b []byte) map[string]string {
	out := map[string]string{}
	lines := bytes.Split(b, []byte("\n"))
	for i := 0; i < len(lines); i++ {
		line := trimLeftSpace(bytes.TrimRight(lines[i], "\r"))
		if len(line) == 0 || line[0] == '#' || line[0] == '!' {
			continue
		}
		// Join continuation lines.
		logical := append([]byte(nil), line...)
		for endsWithOddBackslashes(logical) && i+1 < len(lines) {
			logical = logical[:len(logical)-1]
			i++
			logical = append(logical, trimLeftSpace(bytes.TrimRight(lines[i], "\r"))...)
		}
		key, value := splitProperty(logical)
		k := unescape(key)
		if _, ok := out[k]; !ok {
			out[k] = unescape(value)
		}
	}
	return out
}

func trimLeftSpace(b []byte) []byte {
	return bytes.TrimLeft(b, " \t\f")
}

func endsWithOddBackslashes(b []byte) bool {
	n := 0
	for i := len(b) - 1; i >= 0 && b[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitProperty splits a logical line at the first unescaped separator.
func splitProperty(b []byte) (key, value []byte) {
	i := 0
	for i < len(b) {
		c := b[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			break
		}
		i++
	}
	if i >= len(b) {
		return b, nil
	}
	key = b[:i]
	rest := trimLeftSpace(b[i:])
	if len(rest) > 0 && (rest[0] == '=' || rest[0] == ':') {
		rest = trimLeftSpace(rest[1:])
	}
	return key, bytes.TrimRight(rest, " \t\f")
}

func unescape(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			sb.WriteByte(c)
			continue
		}
		i++
		switch b[i] {
		case 't':
			sb.WriteByte('\t')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 'f':
			sb.WriteByte('\f')
		case 'u':
			if i+4 < len(b) {
				if r, err := strconv.ParseUint(string(b[i+1:i+5]), 16, 32); err == nil {
					sb.WriteRune(rune(r))
					i += 4
					continue
				}
			}
			sb.WriteByte('u')
		default:
			sb.WriteByte(b[i])
		}
	}
	return sb.String()
}

// ParseManifest parses the main section of a JAR manifest
// (META-INF/MANIFEST.MF): "Name: value" headers up to the first empty line,
// a line starting with one space continuing the previous value. Names are
// case-insensitive; they are returned as first written. It never fails.
func ParseManifest(b []byte) map[string]string {
	out := map[string]string{}
	lower := map[string]string{}
	var key string
	var val []byte
	flush := func() {
		if key == "" {
			return
		}
		if _, ok := lower[strings.ToLower(key)]; !ok {
			lower[strings.ToLower(key)] = key
			out[key] = strings.TrimSpace(toValidUTF8(val))
		}
		key, val = "", nil
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break // end of the main section
		}
		if line[0] == ' ' {
			if key != "" {
				val = append(val, line[1:]...)
			}
			continue
		}
		flush()
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		key = strings.TrimSpace(toValidUTF8(k))
		val = append([]byte(nil), bytes.TrimLeft(v, " ")...)
	}
	flush()
	return out
}

// header returns the manifest value of name, whatever its case.
func header(m map[string]string, name string) string {
	if v, ok := m[name]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
