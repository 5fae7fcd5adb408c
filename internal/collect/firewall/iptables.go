package firewall

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// MaxRules caps the rules kept of one ruleset.
const MaxRules = 100000

// builtinHooks are the built-in chains of iptables and the hook each
// sits on.
var builtinHooks = map[string]string{
	"INPUT": "input", "FORWARD": "forward", "OUTPUT": "output",
	"PREROUTING": "prerouting", "POSTROUTING": "postrouting",
}

// ParseIPTablesSave reads iptables-save (iptables-restore) text, as in
// /etc/iptables/rules.v4 and ufw's *.rules files, into chains of family
// (ip or ip6): "*table" starts a table, ":CHAIN POLICY [p:b]" declares a
// chain (a built-in chain's policy is ACCEPT or DROP, a user chain's "-"),
// "-A CHAIN args" appends a rule, "-I CHAIN [n] args" inserts one, "COMMIT"
// ends the table; "#" lines are comments. Arguments are split on blanks,
// with double quotes kept together as iptables-restore does. Never
// panics; at most MaxRules rules are kept.
func ParseIPTablesSave(text, file, family string) *host.FirewallRuleset {
	rs := &host.FirewallRuleset{Files: []string{file}}
	index := map[string]int{}
	table := ""
	chain := func(name string, line int) *host.FirewallChain {
		key := table + " " + name
		if i, ok := index[key]; ok {
			return &rs.Chains[i]
		}
		index[key] = len(rs.Chains)
		rs.Chains = append(rs.Chains, host.FirewallChain{Family: family, Table: table, Name: name, Hook: builtinHooks[name], File: file, Line: line})
		return &rs.Chains[len(rs.Chains)-1]
	}
	rules := 0
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		n := i + 1
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "*"):
			table = strings.TrimSpace(line[1:])
		case line == "COMMIT":
			table = ""
		case strings.HasPrefix(line, ":"):
			f := strings.Fields(line[1:])
			if len(f) == 0 {
				continue
			}
			c := chain(f[0], n)
			if c.Line == 0 || c.File == "" {
				c.File, c.Line = file, n
			}
			if len(f) > 1 && f[1] != "-" {
				c.Policy = &host.Setting{Value: strings.ToLower(f[1]), File: file, Line: n}
			}
		case strings.HasPrefix(line, "-A ") || strings.HasPrefix(line, "-I ") ||
			strings.HasPrefix(line, "--append ") || strings.HasPrefix(line, "--insert "):
			args := splitArgs(line)
			if len(args) < 2 {
				continue
			}
			if rules >= MaxRules {
				rs.Truncated = true
				continue
			}
			rules++
			c := chain(args[1], n)
			r := IPTablesRule(args[2:])
			r.Text = shorten(line)
			r.File, r.Line = file, n
			if args[0] == "-I" || args[0] == "--insert" {
				c.Rules = append([]host.FirewallRule{r}, c.Rules...)
			} else {
				c.Rules = append(c.Rules, r)
			}
		}
	}
	return rs
}

// splitArgs splits a rule line on blanks, keeping double-quoted parts
// together without their quotes.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	in, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			in = !in
			have = true
		case !in && (c == ' ' || c == '\t'):
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// IPTablesRule reads the arguments of a rule after its chain: -i
// (--in-interface), -s (--source, --src), -j (--jump) and -g (--goto),
// with a "!" before an option negating it. Options that do not narrow
// what the rule matches (-m loading a module, --comment, --reject-with,
// -c) are skipped; the first other one is kept in Other.
func IPTablesRule(args []string) host.FirewallRule {
	var r host.FirewallRule
	neg := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch a {
		case "!":
			neg = "!"
			continue
		case "-m", "--match", "--comment", "--reject-with":
			next()
		case "-c", "--set-counters":
			next()
			next()
		case "-i", "--in-interface":
			r.InIface = neg + next()
		case "-s", "--source", "--src":
			r.Source = neg + next()
		case "-j", "--jump", "-g", "--goto":
			t := next()
			switch strings.ToUpper(t) {
			case "":
				// "-j" without a target: iptables-restore refuses the line.
			case "ACCEPT", "DROP", "REJECT", "RETURN":
				r.Verdict, r.Target = strings.ToLower(t), ""
			default:
				r.Verdict = "jump"
				if a == "-g" || a == "--goto" {
					r.Verdict = "goto"
				}
				r.Target = t
			}
		default:
			if r.Other == "" {
				r.Other = strings.TrimSpace(neg + " " + a)
				if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
					r.Other += " " + args[i+1]
				}
			}
		}
		neg = ""
	}
	return r
}

// ParseNFTJSON reads the output of `nft -j list ruleset` (libnftables'
// JSON schema, nft 0.9 and later): chain objects give family, table,
// name, hook and policy; rule objects give expressions, of which the
// input interface match (meta iif/iifname), the source address match
// (payload ip/ip6 saddr) and the verdict are kept. Unknown objects are
// ignored. An error is returned when the text is not that JSON.
func ParseNFTJSON(b []byte, source string) (*host.FirewallRuleset, error) {
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	bl := newBuilder()
	rules := 0
	truncated := false
	for _, obj := range doc.Nftables {
		if raw, ok := obj["chain"]; ok {
			var c struct {
				Family, Table, Name, Type, Hook, Policy string
			}
			if json.Unmarshal(raw, &c) != nil {
				continue
			}
			ch := bl.chain(c.Family, c.Table, c.Name, source, 0)
			ch.Hook = c.Hook
			if c.Policy != "" {
				ch.Policy = &host.Setting{Value: strings.ToLower(c.Policy), File: source}
			}
		}
		if raw, ok := obj["rule"]; ok {
			var r struct {
				Family, Table, Chain string
				Expr                 []map[string]json.RawMessage
			}
			if json.Unmarshal(raw, &r) != nil {
				continue
			}
			if rules >= MaxRules {
				truncated = true
				continue
			}
			rules++
			ch := bl.chain(r.Family, r.Table, r.Chain, source, 0)
			fr := jsonRule(r.Expr)
			fr.File = source
			ch.Rules = append(ch.Rules, fr)
		}
	}
	return &host.FirewallRuleset{Files: []string{source}, Chains: bl.chains, Truncated: truncated}, nil
}

// jsonRule reads one rule's expressions.
func jsonRule(exprs []map[string]json.RawMessage) host.FirewallRule {
	var r host.FirewallRule
	var text []string
	for _, e := range exprs {
		for k, raw := range e {
			switch k {
			case "match":
				var m struct {
					Op    string          `json:"op"`
					Left  json.RawMessage `json:"left"`
					Right json.RawMessage `json:"right"`
				}
				if json.Unmarshal(raw, &m) != nil {
					continue
				}
				neg := ""
				if m.Op == "!=" {
					neg = "!"
				}
				var left struct {
					Meta    *struct{ Key string } `json:"meta"`
					Payload *struct {
						Protocol string `json:"protocol"`
						Field    string `json:"field"`
					} `json:"payload"`
				}
				if json.Unmarshal(m.Left, &left) != nil {
					continue
				}
				right := jsonValue(m.Right)
				switch {
				case left.Meta != nil && (left.Meta.Key == "iif" || left.Meta.Key == "iifname"):
					r.InIface = neg + right
					text = append(text, left.Meta.Key, m.Op, right)
				case left.Payload != nil && left.Payload.Field == "saddr" && (left.Payload.Protocol == "ip" || left.Payload.Protocol == "ip6"):
					r.Source = neg + right
					text = append(text, left.Payload.Protocol, "saddr", m.Op, right)
				default:
					o := shorten(string(m.Left))
					if left.Meta != nil {
						o = "meta " + left.Meta.Key
					} else if left.Payload != nil {
						o = left.Payload.Protocol + " " + left.Payload.Field
					}
					if r.Other == "" {
						r.Other = o
					}
					text = append(text, o, m.Op, right)
				}
			case "accept", "drop", "reject", "return", "continue":
				r.Verdict, r.Target = k, ""
				text = append(text, k)
			case "counter", "log":
				// Count or log, whatever the rule matches.
			default:
				// Any other statement (limit, fib, ct count, xt...)
				// narrows what the rule matches or is not modelled.
				if r.Other == "" {
					r.Other = k
				}
				text = append(text, k)
			case "jump", "goto":
				var t struct {
					Target string `json:"target"`
				}
				if json.Unmarshal(raw, &t) == nil {
					r.Verdict, r.Target = k, t.Target
					text = append(text, k, t.Target)
				}
			}
		}
	}
	r.Text = shorten(strings.Join(text, " "))
	return r
}

// jsonValue writes a match's right side: a string, a number, or a prefix
// {"prefix": {"addr": "127.0.0.0", "len": 8}}.
func jsonValue(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var p struct {
		Prefix *struct {
			Addr string `json:"addr"`
			Len  int    `json:"len"`
		} `json:"prefix"`
	}
	if json.Unmarshal(raw, &p) == nil && p.Prefix != nil {
		return p.Prefix.Addr + "/" + strconv.Itoa(p.Prefix.Len)
	}
	return shorten(string(raw))
}
