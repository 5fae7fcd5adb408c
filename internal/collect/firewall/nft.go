package firewall

import (
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// Bounds of the nftables parser.
const (
	// MaxTokens caps the tokens of one file.
	MaxTokens = 1 << 20
	// MaxDepth caps nested blocks.
	MaxDepth = 16
	// MaxRuleText caps the text kept of one rule.
	MaxRuleText = 200
)

// nftFamilies are nftables' address families.
var nftFamilies = map[string]bool{"ip": true, "ip6": true, "inet": true, "arp": true, "bridge": true, "netdev": true}

// token is a word, "{", "}", ";" or "\n" with its line.
type token struct {
	text string
	line int
}

// tokenize splits nftables text: "#" starts a comment to the end of the
// line (outside quotes), a backslash before a newline joins lines, quoted
// strings are one word without their quotes, and "{", "}", ";" and
// newlines are tokens of their own. At most MaxTokens tokens are returned.
func tokenize(s string) ([]token, bool) {
	var out []token
	line := 1
	var cur strings.Builder
	curLine := 0
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, token{cur.String(), curLine})
			cur.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		if len(out) >= MaxTokens {
			return out, false
		}
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			flush()
			i++
			line++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			i--
		case c == '"':
			if cur.Len() == 0 {
				curLine = line
			}
			j := i + 1
			for j < len(s) && s[j] != '"' && s[j] != '\n' {
				j++
			}
			cur.WriteString(s[i+1 : j])
			// An empty quoted string is still a word.
			if j == i+1 {
				cur.WriteString(`""`)
			}
			if j < len(s) && s[j] == '"' {
				i = j
			} else {
				i = j - 1
			}
		case c == '{' || c == '}' || c == ';' || c == '\n':
			flush()
			out = append(out, token{string(c), line})
			if c == '\n' {
				line++
			}
		case c == ' ' || c == '\t' || c == '\r' || c == ',':
			// Commas separate set elements; keeping them out makes
			// "127.0.0.0/8," and "127.0.0.0/8" the same word.
			flush()
		default:
			if cur.Len() == 0 {
				curLine = line
			}
			cur.WriteByte(c)
		}
	}
	flush()
	return out, true
}

// stmt is a statement: its words (an inline set is one word "{a b}") and
// the statements of its block, if it opens one.
type stmt struct {
	words []string
	line  int
	block []stmt
	// hasBlock is true when the statement opened a block.
	hasBlock bool
}

// parser builds statements from tokens.
type parser struct {
	toks []token
	pos  int
}

// blockOpener reports whether a statement with these words opens a block
// with "{" (table, chain and the named objects of a table) rather than an
// inline set or map of a rule.
func blockOpener(words []string, inChain bool) bool {
	if inChain || len(words) == 0 {
		return false
	}
	w := words[0]
	if (w == "add" || w == "create") && len(words) > 1 {
		w = words[1]
	}
	switch w {
	case "table", "chain", "set", "map", "flowtable", "counter", "quota", "limit", "ct", "secmark", "synproxy":
		return true
	}
	return false
}

// statements reads statements until a "}" (consumed) or the end. inChain
// is true in a chain's body, where braces belong to rules.
func (p *parser) statements(depth int, inChain bool) []stmt {
	var out []stmt
	var cur stmt
	end := func() {
		if len(cur.words) > 0 {
			out = append(out, cur)
		}
		cur = stmt{}
	}
	for p.pos < len(p.toks) {
		t := p.toks[p.pos]
		p.pos++
		switch t.text {
		case "\n", ";":
			end()
		case "}":
			end()
			return out
		case "{":
			if blockOpener(cur.words, inChain) && depth < MaxDepth {
				cur.hasBlock = true
				if cur.line == 0 {
					cur.line = t.line
				}
				isChain := cur.words[0] == "chain" || (len(cur.words) > 1 && cur.words[1] == "chain")
				cur.block = p.statements(depth+1, isChain)
				end()
				continue
			}
			// An inline set, map or verdict map: one word.
			cur.words = append(cur.words, p.inline())
		default:
			if len(cur.words) == 0 {
				cur.line = t.line
			}
			cur.words = append(cur.words, t.text)
		}
	}
	end()
	return out
}

// inline reads an inline "{ ... }" (the "{" consumed) as one word.
func (p *parser) inline() string {
	depth := 1
	var words []string
	for p.pos < len(p.toks) && depth > 0 {
		t := p.toks[p.pos]
		p.pos++
		switch t.text {
		case "{":
			depth++
			words = append(words, "{")
		case "}":
			depth--
			if depth > 0 {
				words = append(words, "}")
			}
		case "\n":
		default:
			words = append(words, t.text)
		}
	}
	return "{" + strings.Join(words, " ") + "}"
}

// nftBuilder collects the chains of one or more files.
type nftBuilder struct {
	chains []host.FirewallChain
	index  map[string]int
	// includes are the include statements met, with their file.
	includes  []include
	truncated bool
}

type include struct {
	pattern string
	file    string
	line    int
}

func newBuilder() *nftBuilder { return &nftBuilder{index: map[string]int{}} }

func (b *nftBuilder) chain(family, table, name, file string, line int) *host.FirewallChain {
	key := family + " " + table + " " + name
	if i, ok := b.index[key]; ok {
		return &b.chains[i]
	}
	b.index[key] = len(b.chains)
	b.chains = append(b.chains, host.FirewallChain{Family: family, Table: table, Name: name, File: file, Line: line})
	return &b.chains[len(b.chains)-1]
}

// familyName reads "[family] name" from words, nftables' default family
// being ip. It returns the words left.
func familyName(w []string) (string, string, []string, bool) {
	if len(w) >= 2 && nftFamilies[w[0]] {
		return w[0], w[1], w[2:], true
	}
	if len(w) >= 1 && !nftFamilies[w[0]] {
		return "ip", w[0], w[1:], true
	}
	return "", "", nil, false
}

// ParseNFT reads nftables text (nft -f syntax, as in /etc/nftables.conf)
// into chains: tables in block form ("table inet filter { chain input {
// type filter hook input priority 0; policy drop; iif lo accept } }") or
// command form ("add chain inet filter input { ... }", "add rule inet
// filter input iif lo accept"). Include statements are returned for the
// caller to resolve. "flush ruleset" forgets the chains read so far, as
// it empties the kernel's ruleset. Never panics; bounded by MaxTokens and
// MaxDepth.
func ParseNFT(text, file string) (*host.FirewallRuleset, []include) {
	b := newBuilder()
	b.parse(text, file)
	return &host.FirewallRuleset{Files: []string{file}, Chains: b.chains, Truncated: b.truncated}, b.includes
}

func (b *nftBuilder) parse(text, file string) {
	toks, complete := tokenize(text)
	if !complete {
		b.truncated = true
	}
	p := &parser{toks: toks}
	var top []stmt
	for p.pos < len(p.toks) {
		// A stray "}" at the top ends statements(); go on after it.
		top = append(top, p.statements(0, false)...)
	}
	for _, s := range top {
		b.top(s, file)
	}
}

func (b *nftBuilder) top(s stmt, file string) {
	w := s.words
	if len(w) == 0 {
		return
	}
	if w[0] == "add" || w[0] == "create" {
		w = w[1:]
	}
	if len(w) == 0 {
		return
	}
	switch w[0] {
	case "include":
		if len(w) > 1 {
			b.includes = append(b.includes, include{pattern: w[1], file: file, line: s.line})
		}
	case "flush":
		if len(w) > 1 && w[1] == "ruleset" {
			b.chains = nil
			b.index = map[string]int{}
		}
	case "table":
		fam, name, _, ok := familyName(w[1:])
		if !ok {
			return
		}
		for _, in := range s.block {
			iw := in.words
			if len(iw) >= 2 && iw[0] == "chain" {
				c := b.chain(fam, name, iw[1], file, in.line)
				b.body(c, in.block, file)
			}
		}
	case "chain":
		fam, table, rest, ok := familyName(w[1:])
		if !ok || len(rest) == 0 {
			return
		}
		c := b.chain(fam, table, rest[0], file, s.line)
		b.body(c, s.block, file)
	case "rule", "insert":
		fam, table, rest, ok := familyName(w[1:])
		if !ok || len(rest) == 0 {
			return
		}
		c := b.chain(fam, table, rest[0], file, s.line)
		r := rest[1:]
		// "add rule ip filter input position 4 ..." / "handle 4".
		if len(r) >= 2 && (r[0] == "position" || r[0] == "handle" || r[0] == "index") {
			r = r[2:]
		}
		b.rule(c, r, file, s.line)
	}
}

// body reads a chain's statements: its type, hook and policy, and rules.
func (b *nftBuilder) body(c *host.FirewallChain, block []stmt, file string) {
	for _, s := range block {
		w := s.words
		switch {
		case len(w) >= 2 && w[0] == "type":
			for i := 1; i+1 < len(w); i++ {
				if w[i] == "hook" {
					c.Hook = w[i+1]
				}
			}
		case len(w) >= 2 && w[0] == "policy":
			c.Policy = &host.Setting{Value: strings.ToLower(w[1]), File: file, Line: s.line}
		case len(w) >= 1 && (w[0] == "comment" || w[0] == "devices" || w[0] == "device"):
		default:
			b.rule(c, w, file, s.line)
		}
	}
}

// rule reads the matches and verdict of a rule.
func (b *nftBuilder) rule(c *host.FirewallChain, w []string, file string, line int) {
	if len(w) == 0 {
		return
	}
	r := NFTRule(w)
	r.File, r.Line = file, line
	c.Rules = append(c.Rules, r)
}

// NFTRule reads the words of an nftables rule: the input interface
// (iif, iifname, meta iif, meta iifname), the source address (ip saddr,
// ip6 saddr) and the verdict (accept, drop, reject, return, jump, goto;
// the last one written decides).
func NFTRule(w []string) host.FirewallRule {
	var r host.FirewallRule
	value := func(i int) (string, int) {
		neg := ""
		if i < len(w) && (w[i] == "==" || w[i] == "eq") {
			i++
		} else if i < len(w) && (w[i] == "!=" || w[i] == "ne") {
			neg = "!"
			i++
		}
		if i < len(w) {
			return neg + w[i], i
		}
		return "", i
	}
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case "iif", "iifname":
			// "fib saddr . iif" is a lookup key, not a match.
			if i == 0 || w[i-1] != "." {
				r.InIface, i = value(i + 1)
			}
		case "saddr":
			if i > 0 && (w[i-1] == "ip" || w[i-1] == "ip6") {
				r.Source, i = value(i + 1)
			}
		case "accept", "drop", "reject", "return":
			r.Verdict, r.Target = w[i], ""
		case "jump", "goto":
			if i+1 < len(w) {
				r.Verdict, r.Target = w[i], w[i+1]
				i++
			}
		}
	}
	r.Text = shorten(strings.Join(w, " "))
	return r
}

func shorten(s string) string {
	if len(s) > MaxRuleText {
		return s[:MaxRuleText] + "..."
	}
	return s
}
