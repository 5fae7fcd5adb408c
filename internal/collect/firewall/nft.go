package firewall

import (
	"fmt"
	"slices"
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

// nftBuilder collects the chains of one or more files, applying their
// statements in order as nft -f does.
type nftBuilder struct {
	chains []host.FirewallChain
	index  map[string]int
	// tables are the tables defined so far, "family name".
	tables map[string]bool
	// resolve reads an include in place (where the statement is, so a
	// later flush or delete applies to what it defined); nil collects the
	// includes met in includes instead.
	resolve  func(include)
	includes []include
	// truncated and incomplete say the ruleset is not fully known;
	// loadError that nft -f would refuse it and load nothing.
	truncated  bool
	incomplete []string
	loadError  string
}

type include struct {
	pattern string
	file    string
	line    int
}

func newBuilder() *nftBuilder { return &nftBuilder{index: map[string]int{}, tables: map[string]bool{}} }

func (b *nftBuilder) chain(family, table, name, file string, line int) *host.FirewallChain {
	b.tables[family+" "+table] = true
	key := family + " " + table + " " + name
	if i, ok := b.index[key]; ok {
		return &b.chains[i]
	}
	b.index[key] = len(b.chains)
	b.chains = append(b.chains, host.FirewallChain{Family: family, Table: table, Name: name, File: file, Line: line})
	return &b.chains[len(b.chains)-1]
}

// remove forgets the chains for which drop is true.
func (b *nftBuilder) remove(drop func(host.FirewallChain) bool) {
	b.chains = slices.DeleteFunc(b.chains, drop)
	b.index = map[string]int{}
	for i, c := range b.chains {
		b.index[c.Family+" "+c.Table+" "+c.Name] = i
	}
}

// unknown records a statement whose effect is not modelled.
func (b *nftBuilder) unknown(file string, line int, why string) {
	b.truncated = true
	if len(b.incomplete) < 20 {
		b.incomplete = append(b.incomplete, fmt.Sprintf("%s:%d: %s", file, line, why))
	}
}

// refuse records the first reason nft -f would load nothing.
func (b *nftBuilder) refuse(file string, line int, why string) {
	if b.loadError == "" {
		b.loadError = fmt.Sprintf("%s:%d: %s", file, line, why)
	}
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
// caller to resolve. Statements that remove what was defined before take
// effect in order: "flush ruleset [family]", "delete|destroy table",
// "flush table", "delete|destroy chain", "flush chain"; deleting or
// flushing a table or chain that does not exist makes nft -f fail as a
// whole (LoadError; destroy is the form that does not fail), and a
// delete or replace by handle is not modelled (Incomplete). The starting
// ruleset is empty, as at boot. Never panics; bounded by MaxTokens and
// MaxDepth.
func ParseNFT(text, file string) (*host.FirewallRuleset, []include) {
	b := newBuilder()
	b.parse(text, file)
	return b.ruleset([]string{file}), b.includes
}

func (b *nftBuilder) ruleset(files []string) *host.FirewallRuleset {
	return &host.FirewallRuleset{Files: files, Chains: b.chains, Truncated: b.truncated, Incomplete: b.incomplete, LoadError: b.loadError}
}

func (b *nftBuilder) parse(text, file string) {
	toks, complete := tokenize(text)
	if !complete {
		b.unknown(file, 0, fmt.Sprintf("more than %d tokens, the rest is not read", MaxTokens))
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
			in := include{pattern: w[1], file: file, line: s.line}
			if b.resolve != nil {
				b.resolve(in)
			} else {
				b.includes = append(b.includes, in)
			}
		}
	case "flush", "delete", "destroy":
		b.remove1(w, file, s.line)
	case "replace":
		if len(w) > 1 && w[1] == "rule" {
			b.unknown(file, s.line, "replace rule by handle: which rule is replaced is not known")
		}
	case "table":
		fam, name, _, ok := familyName(w[1:])
		if !ok {
			return
		}
		b.tables[fam+" "+name] = true
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

// remove1 applies a flush, delete or destroy statement (w[0]) to the
// chains read so far.
func (b *nftBuilder) remove1(w []string, file string, line int) {
	verb := w[0]
	if len(w) < 2 {
		return
	}
	what := w[1]
	if verb == "flush" && what == "ruleset" {
		if len(w) > 2 && nftFamilies[w[2]] {
			fam := w[2]
			b.remove(func(c host.FirewallChain) bool { return c.Family == fam })
			for k := range b.tables {
				if strings.HasPrefix(k, fam+" ") {
					delete(b.tables, k)
				}
			}
			return
		}
		b.remove(func(host.FirewallChain) bool { return true })
		b.tables = map[string]bool{}
		return
	}
	if what != "table" && what != "chain" && what != "rule" {
		// Sets, maps, elements and other objects do not change the
		// chains the rules look at.
		return
	}
	fam, table, rest, ok := familyName(w[2:])
	if !ok {
		return
	}
	stmtText := strings.Join(w, " ")
	if table == "handle" || slices.Contains(rest, "handle") {
		if verb != "flush" {
			b.unknown(file, line, fmt.Sprintf("%q: what a handle names is not known, the ruleset may differ", shorten(stmtText)))
		}
		return
	}
	switch what {
	case "table":
		if !b.tables[fam+" "+table] {
			if verb != "destroy" {
				b.refuse(file, line, fmt.Sprintf("%q: table %s %s does not exist, nft -f fails and loads nothing", shorten(stmtText), fam, table))
			}
			return
		}
		in := func(c host.FirewallChain) bool { return c.Family == fam && c.Table == table }
		if verb == "flush" {
			for i := range b.chains {
				if in(b.chains[i]) {
					b.chains[i].Rules = nil
				}
			}
			return
		}
		b.remove(in)
		delete(b.tables, fam+" "+table)
	case "chain":
		if len(rest) == 0 {
			return
		}
		i, ok := b.index[fam+" "+table+" "+rest[0]]
		if !ok {
			if verb != "destroy" {
				b.refuse(file, line, fmt.Sprintf("%q: chain %s %s %s does not exist, nft -f fails and loads nothing", shorten(stmtText), fam, table, rest[0]))
			}
			return
		}
		if verb == "flush" {
			b.chains[i].Rules = nil
			return
		}
		name := rest[0]
		b.remove(func(c host.FirewallChain) bool { return c.Family == fam && c.Table == table && c.Name == name })
	case "rule":
		if verb != "flush" {
			b.unknown(file, line, fmt.Sprintf("%q: which rule is deleted is not known", shorten(stmtText)))
		}
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
// the last one written decides). Statements that do not narrow what the
// rule matches (counter, log, comment, reject's "with" clause) are
// skipped; the first other word is kept in Other, as the rule then
// matches on something else too (a port, a protocol, a state...).
func NFTRule(w []string) host.FirewallRule {
	var r host.FirewallRule
	other := func(i int) {
		if r.Other == "" {
			r.Other = w[i]
			if i+1 < len(w) {
				r.Other += " " + w[i+1]
			}
		}
	}
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
	// skip returns the index of the last word of a keyword's options.
	skip := func(i int, opts map[string]int) int {
		for i+1 < len(w) {
			n, ok := opts[w[i+1]]
			if !ok {
				break
			}
			i += 1 + n
		}
		return min(i, len(w)-1)
	}
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case "meta":
			if i+1 < len(w) && (w[i+1] == "iif" || w[i+1] == "iifname") {
				continue
			}
			other(i)
		case "iif", "iifname":
			// "fib saddr . iif" is a lookup key (of a fib match, which
			// is Other), not a match of its own.
			if i == 0 || w[i-1] != "." {
				r.InIface, i = value(i + 1)
			}
		case "ip", "ip6":
			if i+1 < len(w) && w[i+1] == "saddr" {
				r.Source, i = value(i + 2)
				continue
			}
			other(i)
		case "accept", "drop", "return", "continue":
			r.Verdict, r.Target = w[i], ""
		case "reject":
			r.Verdict, r.Target = w[i], ""
			// "reject with icmp type admin-prohibited", "with tcp reset".
			if i+2 < len(w) && w[i+1] == "with" {
				i += 2
				if i+1 < len(w) && w[i+1] == "type" {
					i++
				}
				if i+1 < len(w) {
					i++
				}
			}
		case "jump", "goto":
			if i+1 < len(w) {
				r.Verdict, r.Target = w[i], w[i+1]
				i++
			}
		case "counter":
			i = skip(i, map[string]int{"packets": 1, "bytes": 1})
		case "log":
			i = skip(i, map[string]int{"prefix": 1, "level": 1, "group": 1, "snaplen": 1, "queue-threshold": 1, "flags": 1})
			// "flags tcp sequence,options", "flags ip options".
			if i+1 < len(w) && (w[i] == "tcp" || w[i] == "ip") && w[i-1] == "flags" {
				i++
			}
		case "comment":
			i++
		default:
			other(i)
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
