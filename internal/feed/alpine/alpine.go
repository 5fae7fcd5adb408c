// Package alpine reads Alpine Linux's security database (secdb), one file
// per release and repository ("v3.11/main.yaml", "v3.18/main.json"), into
// normalised advisories. The YAML of the old alpine-secdb repository and
// the JSON secdb.alpinelinux.org publishes have the same structure:
//
//	distroversion: v3.11
//	reponame: main
//	packages:
//	  - pkg:
//	      name: ansible
//	      secfixes:
//	        2.9.3-r0:
//	          - CVE-2019-14904
//
// secdb is keyed by fixed version: it lists, per origin (source) package,
// the versions that fixed something and what they fixed, and nothing about
// what is still open. Parse turns it around into one advisory per
// vulnerability id of the file, with one Affected per package it names:
// ecosystem "Alpine:v3.11", status affected, range introduced "0", fixed
// <version>. A fixed version "0" is secdb's way of saying the package was
// never affected (Alpine's build was not vulnerable), and becomes
// StatusNotAffected.
//
// When one package lists the same id under several fixed versions (a fix
// carried on an older branch and again on a newer one; 218 times in the
// 2020 snapshot, e.g. busybox CVE-2019-5747 in 1.29.3-r10 and 1.30.1-r2),
// each version becomes its own range of the Affected. OSV ranges of one
// Affected are a union, so a version is vulnerable below the highest fix,
// which is the safe reading, and no version comparison is needed here.
//
// The id lists are free text written by hand, and the parser has to read
// them as such; see ids for the forms met in the real files.
package alpine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/kensa-dev/kensa/internal/advisory"
)

// Format is the advisory.Feed format name of this parser.
const Format = "alpine-secdb"

// Input bounds. The largest file of the 2020 snapshot is 50 KB of YAML;
// the bounds leave room for releases with many times more fixes. JSON is
// read in linear time; the YAML parser is slower and holds the document
// as a tree several times its size, so YAML gets the tighter bound (see
// checkTokens).
const (
	maxJSON = 16 << 20
	maxYAML = 4 << 20
)

// db is one secdb file, read from YAML or JSON.
type db struct {
	distroVersion string
	repoName      string
	pkgs          []pkg
}

type pkg struct {
	name  string
	fixes []fix
}

// fix is one secfixes entry: a fixed version and its list, as written.
type fix struct {
	version string
	entries []string
}

var (
	distroRe = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
	repoRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// Parse reads one secdb file (YAML or JSON, told apart by the first
// character: JSON starts with "{") and calls emit with each advisory,
// sorted by id. The whole file is read and checked before the first call,
// so an error means nothing was emitted, unless it came from emit itself.
func Parse(r io.Reader, emit func(*advisory.Advisory) error) (advisory.Feed, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxJSON+1))
	if err != nil {
		return advisory.Feed{}, fmt.Errorf("alpine: read: %w", err)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	var d *db
	switch {
	case isJSON(b) && len(b) > maxJSON:
		return advisory.Feed{}, fmt.Errorf("alpine: json larger than %d bytes", maxJSON)
	case isJSON(b):
		d, err = parseJSON(b)
	case len(b) > maxYAML:
		return advisory.Feed{}, fmt.Errorf("alpine: yaml larger than %d bytes", maxYAML)
	default:
		d, err = parseYAML(b)
	}
	if err != nil {
		return advisory.Feed{}, fmt.Errorf("alpine: %w", err)
	}
	advs, err := d.advisories()
	if err != nil {
		return advisory.Feed{}, fmt.Errorf("alpine: %s/%s: %w", d.distroVersion, d.repoName, err)
	}
	for _, a := range advs {
		if err := emit(a); err != nil {
			return advisory.Feed{}, fmt.Errorf("alpine: %s: %w", a.ID, err)
		}
	}
	return advisory.Feed{Name: "alpine-secdb/" + d.distroVersion + "/" + d.repoName, Format: Format}, nil
}

func isJSON(b []byte) bool {
	b = bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// check validates the header fields, which name the feed and ecosystem.
func (d *db) check() error {
	if !distroRe.MatchString(d.distroVersion) {
		return fmt.Errorf("distroversion %q is not of the form v3.18", d.distroVersion)
	}
	if !repoRe.MatchString(d.repoName) {
		return fmt.Errorf("reponame %q is not a repository name", d.repoName)
	}
	return nil
}

// affectedAcc gathers one package's fixes of one id.
type affectedAcc struct {
	fixed []string // distinct, in file order
	seen  map[string]struct{}
	zero  bool // listed under version "0"
}

type advisoryAcc struct {
	aliases map[string]struct{}
	pkgs    map[string]*affectedAcc
}

// advisories inverts the file: from package → version → ids to id →
// package → versions.
func (d *db) advisories() ([]*advisory.Advisory, error) {
	eco := "Alpine:" + d.distroVersion
	byID := map[string]*advisoryAcc{}
	for _, p := range d.pkgs {
		if p.name == "" || strings.ContainsAny(p.name, " \t\r\n") {
			return nil, fmt.Errorf("package name %q", p.name)
		}
		for _, f := range p.fixes {
			if f.version == "" || strings.ContainsAny(f.version, " \t\r\n") {
				return nil, fmt.Errorf("%s: fixed version %q", p.name, f.version)
			}
			for _, e := range f.entries {
				list, err := ids(e)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", p.name, f.version, err)
				}
				for _, id := range list {
					acc := byID[id]
					if acc == nil {
						acc = &advisoryAcc{aliases: map[string]struct{}{}, pkgs: map[string]*affectedAcc{}}
						byID[id] = acc
					}
					for _, other := range list {
						// A CVE's aliases are the other trackers' ids
						// beside it (XSA-254 for CVE-2017-5754), not the
						// other CVEs of the same line, which are distinct
						// vulnerabilities fixed together.
						if other != id && !(isCVE(id) && isCVE(other)) {
							acc.aliases[other] = struct{}{}
						}
					}
					pa := acc.pkgs[p.name]
					if pa == nil {
						pa = &affectedAcc{seen: map[string]struct{}{}}
						acc.pkgs[p.name] = pa
					}
					if _, dup := pa.seen[f.version]; dup {
						continue
					}
					pa.seen[f.version] = struct{}{}
					if f.version == "0" {
						pa.zero = true
					} else {
						pa.fixed = append(pa.fixed, f.version)
					}
				}
			}
		}
	}
	advs := make([]*advisory.Advisory, 0, len(byID))
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		acc := byID[id]
		a := &advisory.Advisory{ID: id, Kind: advisory.KindSecurity, Affected: []advisory.Affected{}}
		if len(acc.aliases) > 0 {
			a.Aliases = slices.Sorted(maps.Keys(acc.aliases))
		}
		if isCVE(id) {
			a.References = []string{"https://security.alpinelinux.org/vuln/" + id}
		}
		for _, name := range slices.Sorted(maps.Keys(acc.pkgs)) {
			pa := acc.pkgs[name]
			af := advisory.Affected{Ecosystem: eco, Package: name}
			if len(pa.fixed) == 0 {
				// Only "0": never affected. A "0" beside a real fix is
				// contradictory; the real fix wins, as the cautious
				// reading.
				af.Status = advisory.StatusNotAffected
			} else {
				af.Status = advisory.StatusAffected
				for _, v := range pa.fixed {
					af.Ranges = append(af.Ranges, advisory.Range{Type: advisory.RangeEcosystem, Events: []advisory.Event{{Introduced: "0"}, {Fixed: v}}})
				}
			}
			a.Affected = append(a.Affected, af)
		}
		advs = append(advs, a)
	}
	return advs, nil
}

var (
	cveRe       = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)
	cvePartRe   = regexp.MustCompile(`^(CVE-[0-9]{4}-[0-9]{4,})-[0-9]{1,3}$`)
	yearNumRe   = regexp.MustCompile(`^[0-9]{4}-[0-9]{4,}$`)
	otherIDRe   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)+$`)
	hasDigitsRe = regexp.MustCompile(`[0-9]`)
)

func isCVE(id string) bool { return strings.HasPrefix(id, "CVE-") }

// maxIDs bounds the ids of one list entry. The most in a real one is four;
// the ids of an entry become each other's aliases, pairwise.
const maxIDs = 32

// ids reads the vulnerability ids of one secfixes list entry. Most entries
// are one CVE id, but the lists are hand-written, and the 2020 snapshot
// holds these forms, each handled here:
//
//   - several ids of one vulnerability: "CVE-2016-6258 XSA-182",
//     "CVE-2019-5060 TALOS-2019-0844", "CVE-2016-10134 ZBX-11023", with
//     one or more spaces; each id is kept (and the others become its
//     aliases);
//   - other trackers' ids alone: "XSA-284", "wnpa-sec-2017-18";
//   - a note in parentheses: "CVE-2018-14881 (BGP)",
//     "CVE-2017-2616 (+ regression fix)"; the note is dropped;
//   - typos of a CVE id: "CVE_2019-2426", "CVE 2018-16859",
//     "CVE-2017-8073.patch", and one CVE split in parts
//     "CVE-2017-17434-1"; each is read as the CVE id it names;
//   - placeholders "CVE-????-?????" and plain words ("XPTI"), which name
//     nothing and are dropped.
//
// Anything else that starts with CVE but is not a CVE id, or a token that
// is neither an id nor a word, is an error, and so is an entry that names
// no id at all: an entry Kensa cannot read is not silently skipped. So is
// an entry of more than maxIDs ids.
func ids(entry string) ([]string, error) {
	text := entry
	if i := strings.IndexByte(text, '('); i >= 0 {
		text = text[:i]
	}
	fields := strings.Fields(text)
	var out []string
	seen := map[string]struct{}{}
	for i := 0; i < len(fields); i++ {
		tok := fields[i]
		if len(tok) >= 4 && strings.EqualFold(tok[:3], "CVE") && (tok[3] == '-' || tok[3] == '_') {
			tok = "CVE-" + tok[4:]
		}
		if strings.EqualFold(tok, "CVE") && i+1 < len(fields) && yearNumRe.MatchString(fields[i+1]) {
			i++
			tok = "CVE-" + fields[i]
		}
		tok = strings.TrimSuffix(tok, ".patch")
		if m := cvePartRe.FindStringSubmatch(tok); m != nil {
			tok = m[1]
		}
		switch {
		case strings.Contains(tok, "?"):
			continue
		case isCVE(tok):
			if !cveRe.MatchString(tok) {
				return nil, fmt.Errorf("malformed cve id %q in %q", tok, entry)
			}
		case otherIDRe.MatchString(tok) && hasDigitsRe.MatchString(tok):
		case !hasDigitsRe.MatchString(tok):
			continue
		default:
			return nil, fmt.Errorf("unrecognised id %q in %q", tok, entry)
		}
		if _, dup := seen[tok]; dup {
			continue
		}
		seen[tok] = struct{}{}
		if out = append(out, tok); len(out) > maxIDs {
			return nil, fmt.Errorf("more than %d ids in %.80q", maxIDs, entry)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no vulnerability id in %q", entry)
	}
	return out, nil
}

// jsonDB is the JSON form. Secfixes keeps the file's order and refuses
// duplicate versions, as the YAML reader does.
type jsonDB struct {
	DistroVersion string `json:"distroversion"`
	RepoName      string `json:"reponame"`
	Packages      []struct {
		Pkg struct {
			Name     string    `json:"name"`
			Secfixes jsonFixes `json:"secfixes"`
		} `json:"pkg"`
	} `json:"packages"`
}

type jsonFixes []fix

func (fs *jsonFixes) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("secfixes: got %v, want an object", tok)
	}
	seen := map[string]struct{}{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		version, _ := tok.(string)
		if _, dup := seen[version]; dup {
			return fmt.Errorf("secfixes: version %q listed twice", version)
		}
		seen[version] = struct{}{}
		var list []*string
		if err := dec.Decode(&list); err != nil {
			return fmt.Errorf("secfixes %s: %w", version, err)
		}
		f := fix{version: version}
		for _, s := range list {
			if s == nil {
				return fmt.Errorf("secfixes %s: null entry", version)
			}
			f.entries = append(f.entries, *s)
		}
		*fs = append(*fs, f)
	}
	return nil
}

func parseJSON(b []byte) (*db, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var j jsonDB
	if err := dec.Decode(&j); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("json: truncated: %w", err)
		case errors.As(err, &te):
			return nil, err // "json: cannot unmarshal ..."
		}
		return nil, fmt.Errorf("json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("json: data after the database object")
	}
	d := &db{distroVersion: j.DistroVersion, repoName: j.RepoName}
	for _, p := range j.Packages {
		d.pkgs = append(d.pkgs, pkg{name: p.Pkg.Name, fixes: p.Pkg.Secfixes})
	}
	return d, d.check()
}

// parseYAML walks the YAML syntax tree rather than decoding into Go
// types: decoding turns an unquoted key "1.10" into the float 1.1 and a
// distroversion 3.10 into "3.1", and a version must keep its spelling.
// Duplicate keys are a parse error. The tokens are checked by checkTokens
// before they are parsed.
func parseYAML(b []byte) (*db, error) {
	tokens := lexer.Tokenize(string(b))
	if err := checkTokens(tokens); err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, fmt.Errorf("yaml: %w", plainError(err))
	}
	var body ast.Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			return nil, errors.New("yaml: more than one document")
		}
		body = doc.Body
	}
	if body == nil {
		return nil, errors.New("yaml: empty document")
	}
	top, err := mapping(body, "database")
	if err != nil {
		return nil, err
	}
	d := &db{}
	for _, kv := range top {
		key, err := keyText(kv)
		if err != nil {
			return nil, err
		}
		switch key {
		case "distroversion":
			d.distroVersion, err = text(kv.Value, "distroversion")
		case "reponame":
			d.repoName, err = text(kv.Value, "reponame")
		case "packages":
			d.pkgs, err = packages(kv.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	return d, d.check()
}

// plainError returns goccy/go-yaml's error as "line N: message". Its own
// Error method prints the offending source line with every token on it
// annotated, in time quadratic in the line's length (seconds for a 100 KB
// line), and over several lines, which does not suit a one-line error.
func plainError(err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return err
	}
	if tk := ye.GetToken(); tk != nil && tk.Position != nil {
		return fmt.Errorf("line %d: %s", tk.Position.Line, ye.GetMessage())
	}
	return errors.New(ye.GetMessage())
}

// Bounds on the shape of a YAML secdb file. Real files nest six levels
// deep (counted as checkTokens does), hold about 10,000 tokens per 50 KB,
// and their largest mapping is one package's secfixes, a few hundred
// versions at most.
const (
	maxDepth  = 10
	maxKeys   = 1000
	maxTokens = 1 << 20
	maxEmpty  = 1000
)

// checkTokens refuses, before parsing, the YAML that secdb never uses and
// that makes the parser slow or worse. goccy/go-yaml parses a block
// mapping by recursing once per key and copying the keys parsed so far at
// every level, so a mapping of n keys costs O(n²) time and n stack frames
// (a 1 MB mapping took seconds; a larger one can exhaust the stack, which
// is fatal, not a panic). It splits documents recursively, one frame per
// "---" or "..." (a file of "...\n" lines overflowed the stack). It
// inserts a token for every empty value ("key:", a bare "-") by copying
// all the tokens after it, and deep nesting is super-linear too. So the
// keys of a block mapping (counted by column), the nesting of blocks and
// flow collections, empty values and tags, and the number of tokens are
// bounded; only one document is allowed; anchors and aliases are refused
// outright (secdb has none, and refusing them rules out alias expansion).
// The lexer that produced the tokens runs in linear time.
func checkTokens(tokens token.Tokens) error {
	if len(tokens) > maxTokens {
		return fmt.Errorf("more than %d tokens", maxTokens)
	}
	var tks []*token.Token // without comments
	for _, tk := range tokens {
		if tk.Type != token.CommentType {
			tks = append(tks, tk)
		}
	}
	type level struct{ col, keys int }
	var stack []level
	enter := func(col int) *level {
		for len(stack) > 0 && stack[len(stack)-1].col > col {
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 || stack[len(stack)-1].col != col {
			stack = append(stack, level{col: col})
		}
		return &stack[len(stack)-1]
	}
	flow, docs, empty := 0, 0, 0
	for i, tk := range tks {
		var prev, next *token.Token
		if i > 0 {
			prev = tks[i-1]
		}
		if i+1 < len(tks) {
			next = tks[i+1]
		}
		switch tk.Type {
		case token.AnchorType, token.AliasType:
			return fmt.Errorf("line %d: anchors and aliases are not supported", lineOf(tk))
		case token.DocumentHeaderType, token.DocumentEndType:
			// Up to one "---" and one "...": the parser splits
			// documents recursively, one frame per marker.
			if docs++; docs > 2 {
				return errors.New("more than one document")
			}
		case token.SequenceStartType, token.MappingStartType:
			if flow++; flow > maxDepth {
				return fmt.Errorf("line %d: nested more than %d levels deep", lineOf(tk), maxDepth)
			}
		case token.SequenceEndType, token.MappingEndType:
			flow--
		case token.TagType:
			empty++ // a tag may make the parser insert a token
		case token.SequenceEntryType, token.MappingKeyType:
			if flow == 0 {
				enter(colOf(tk))
				// "-" with nothing after it: a null item.
				if next == nil || lineOf(next) > lineOf(tk) && colOf(next) <= colOf(tk) {
					empty++
				}
			}
		case token.MappingValueType:
			if prev == nil {
				break
			}
			// The key is the token before the colon; its column tells
			// which mapping it belongs to.
			keyCol := colOf(prev)
			if flow > 0 {
				if next == nil || next.Type == token.CollectEntryType || next.Type == token.MappingEndType || next.Type == token.SequenceEndType {
					empty++
				}
				break
			}
			if l := enter(keyCol); l.keys+1 > maxKeys {
				return fmt.Errorf("line %d: mapping with more than %d keys", lineOf(tk), maxKeys)
			} else {
				l.keys++
			}
			// "key:" with nothing after it: a null value.
			if next == nil || lineOf(next) > lineOf(tk) && (colOf(next) < keyCol || colOf(next) == keyCol && next.Type != token.SequenceEntryType) {
				empty++
			}
		}
		if len(stack) > maxDepth {
			return fmt.Errorf("line %d: nested more than %d levels deep", lineOf(tk), maxDepth)
		}
		if empty > maxEmpty {
			return fmt.Errorf("line %d: more than %d empty values", lineOf(tk), maxEmpty)
		}
	}
	return nil
}

func lineOf(tk *token.Token) int {
	if tk.Position == nil {
		return 0
	}
	return tk.Position.Line
}

func colOf(tk *token.Token) int {
	if tk.Position == nil {
		return 0
	}
	return tk.Position.Column
}

func packages(n ast.Node) ([]pkg, error) {
	items, err := sequence(n, "packages")
	if err != nil {
		return nil, err
	}
	pkgs := make([]pkg, 0, len(items))
	for _, item := range items {
		outer, err := mapping(item, "package entry")
		if err != nil {
			return nil, err
		}
		var p pkg
		var sawPkg bool
		for _, kv := range outer {
			key, err := keyText(kv)
			if err != nil {
				return nil, err
			}
			if key != "pkg" {
				continue
			}
			sawPkg = true
			fields, err := mapping(kv.Value, "pkg")
			if err != nil {
				return nil, err
			}
			for _, kv := range fields {
				key, err := keyText(kv)
				if err != nil {
					return nil, err
				}
				switch key {
				case "name":
					p.name, err = text(kv.Value, "name")
				case "secfixes":
					p.fixes, err = secfixes(kv.Value)
				}
				if err != nil {
					return nil, err
				}
			}
		}
		if !sawPkg {
			return nil, fmt.Errorf("%s: package entry without pkg", pos(item))
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

func secfixes(n ast.Node) ([]fix, error) {
	pairs, err := mapping(n, "secfixes")
	if err != nil {
		return nil, err
	}
	fixes := make([]fix, 0, len(pairs))
	for _, kv := range pairs {
		version, err := keyText(kv)
		if err != nil {
			return nil, err
		}
		list, err := sequence(kv.Value, "secfixes "+version)
		if err != nil {
			return nil, err
		}
		f := fix{version: version}
		for _, e := range list {
			s, err := text(e, "secfixes "+version)
			if err != nil {
				return nil, err
			}
			f.entries = append(f.entries, s)
		}
		fixes = append(fixes, f)
	}
	return fixes, nil
}

// unwrap follows tags and anchors to the node they mark.
func unwrap(n ast.Node) (ast.Node, error) {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		case *ast.MappingKeyNode:
			n = v.Value
		case *ast.AliasNode:
			return nil, fmt.Errorf("%s: yaml aliases are not supported", pos(n))
		default:
			return n, nil
		}
	}
}

// mapping returns the pairs of a mapping node; null is an empty mapping.
func mapping(n ast.Node, what string) ([]*ast.MappingValueNode, error) {
	n, err := unwrap(n)
	if err != nil {
		return nil, err
	}
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return nil, nil
	case *ast.MappingNode:
		return v.Values, nil
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, nil
	}
	return nil, fmt.Errorf("%s: %s is a %s, want a mapping", pos(n), what, n.Type())
}

// sequence returns the items of a sequence node; null is empty.
func sequence(n ast.Node, what string) ([]ast.Node, error) {
	n, err := unwrap(n)
	if err != nil {
		return nil, err
	}
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return nil, nil
	case *ast.SequenceNode:
		return v.Values, nil
	}
	return nil, fmt.Errorf("%s: %s is a %s, want a list", pos(n), what, n.Type())
}

// text returns a scalar as written: numbers and booleans keep their
// spelling ("1.10", not 1.1).
func text(n ast.Node, what string) (string, error) {
	n, err := unwrap(n)
	if err != nil {
		return "", err
	}
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, nil
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value, nil
		}
		return "", nil
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		if tk := v.GetToken(); tk != nil {
			return tk.Value, nil
		}
	}
	if n == nil {
		return "", fmt.Errorf("%s is missing", what)
	}
	return "", fmt.Errorf("%s: %s is a %s, want a scalar", pos(n), what, n.Type())
}

func keyText(kv *ast.MappingValueNode) (string, error) {
	if kv.Key == nil {
		return "", fmt.Errorf("%s: mapping entry without a key", pos(kv))
	}
	if kv.Key.IsMergeKey() {
		return "", fmt.Errorf("%s: yaml merge keys are not supported", pos(kv))
	}
	return text(kv.Key, "key")
}

func pos(n ast.Node) string {
	if n == nil {
		return "yaml"
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return fmt.Sprintf("line %d", tk.Position.Line)
	}
	return "yaml"
}

// Detect reports whether head, the first bytes (4 KiB) of a file, is a
// secdb file: YAML with top-level distroversion and reponame or packages
// keys, or a JSON object whose top-level keys include those. The name is
// not consulted; secdb files are named only after their repository
// ("main.yaml"), which says nothing.
func Detect(name string, head []byte) bool {
	if isJSON(head) {
		return detectJSON(head)
	}
	var distro, other bool
	for line := range bytes.Lines(head) {
		switch {
		case bytes.HasPrefix(line, []byte("distroversion:")):
			distro = true
		case bytes.HasPrefix(line, []byte("reponame:")), bytes.HasPrefix(line, []byte("packages:")):
			other = true
		}
	}
	return distro && other
}

// detectJSON reads the top-level keys of the object in head, skipping
// their values, until head ends.
func detectJSON(head []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	var distro, other bool
	depth := 0
	for !(distro && other) {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
			continue
		}
		if depth != 0 {
			continue
		}
		key, ok := tok.(string)
		if !ok {
			return false
		}
		switch key {
		case "distroversion":
			distro = true
		case "reponame", "packages":
			other = true
		}
		// The value: a scalar is one token; an array or object opens a
		// level that the loop skips.
		tok, err = dec.Token()
		if err != nil {
			return distro && other
		}
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			depth++
		}
	}
	return true
}
