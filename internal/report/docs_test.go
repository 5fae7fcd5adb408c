package report

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/finding"
)

const docPath = "../../docs/report.md"

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fencedBlocks returns the bodies of the ``` blocks of doc tagged lang.
func fencedBlocks(doc, lang string) []string {
	var blocks []string
	var cur *strings.Builder
	sc := bufio.NewScanner(strings.NewReader(doc))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && line == "```"+lang:
			cur = &strings.Builder{}
		case cur != nil && line == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}

// TestDocExample: every ```json block of docs/report.md is a complete,
// valid report in canonical form, and its finding ids are the fingerprints
// the page defines.
func TestDocExample(t *testing.T) {
	blocks := fencedBlocks(readDoc(t), "json")
	if len(blocks) == 0 {
		t.Fatal("docs/report.md has no ```json example")
	}
	for i, b := range blocks {
		doc := []byte(b)
		if err := Validate(doc); err != nil {
			t.Fatalf("json block %d of docs/report.md is not a valid report: %v", i, err)
		}
		r, err := ReadJSON(bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if again := mustJSON(t, r); !bytes.Equal(again, doc) {
			t.Errorf("json block %d is not in canonical form; WriteJSON gives:\n%s", i, again)
		}
		for _, f := range r.Findings {
			if want := finding.Fingerprint(docSubject(r, f)); f.ID != want {
				t.Errorf("example finding %s %s: id %s, but the documented fingerprint is %s", f.RulesPackage, f.RuleID, f.ID, want)
			}
		}
	}
}

// TestDocTableExample: the table the page shows is what WriteTable
// prints of the page's example report.
func TestDocTableExample(t *testing.T) {
	doc := readDoc(t)
	jsonBlocks, textBlocks := fencedBlocks(doc, "json"), fencedBlocks(doc, "text")
	if len(jsonBlocks) == 0 || len(textBlocks) == 0 {
		t.Fatal("docs/report.md lacks the example report or its table")
	}
	r, err := ReadJSON(strings.NewReader(jsonBlocks[len(jsonBlocks)-1]))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, r, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(textBlocks[len(textBlocks)-1], buf.String()); diff != "" {
		t.Errorf("the last ```text block of docs/report.md is not the table of the example (-doc +WriteTable):\n%s", diff)
	}
}

// docSubject is the Subject as docs/report.md defines it.
func docSubject(r *Report, f finding.Finding) finding.Subject {
	s := finding.Subject{Host: r.Host.MachineID, RulesPackage: f.RulesPackage, RuleID: f.RuleID}
	if s.Host == "" {
		s.Host = r.Host.Hostname
	}
	if s.Host == "" {
		s.Host = r.Host.Root
	}
	a := f.Attributes
	// Vulnerability findings. The CVE package's other findings
	// (os-end-of-life, kernel-reboot-required) have the targets the page
	// gives them, which the report does not hold in full (the OS's major
	// release): the example has none of them, and the target attribute
	// below would not give their ids.
	if f.RulesPackage == finding.PackageCVE && strings.HasPrefix(f.RuleID, "cve/") {
		s.VulnerabilityID = a["vulnerability_id"]
		s.Target = a["package_name"]
		if a["source_package"] == "" {
			s.Target = a["ecosystem"] + ":" + a["package_name"] + "@" + a["location"]
		}
	} else {
		s.Target = a["target"]
	}
	return s
}

// TestDocFingerprintExample: the byte string and id the page shows are
// what finding.Fingerprint computes.
func TestDocFingerprintExample(t *testing.T) {
	doc := readDoc(t)
	line := regexp.MustCompile(`(?m)^16:kensa-finding-v1;.*;$`).FindString(doc)
	id := regexp.MustCompile(`id = ([0-9a-f]{32})`).FindStringSubmatch(doc)
	if line == "" || id == nil {
		t.Fatal("docs/report.md lacks the fingerprint example")
	}
	sum := sha256.Sum256([]byte(line))
	if got := hex.EncodeToString(sum[:])[:32]; got != id[1] {
		t.Errorf("sha256 of the documented input is %s, the page says %s", got, id[1])
	}
	// Parse the length-prefixed fields back and hash them with Go.
	var fields []string
	for rest := line; rest != ""; {
		n, after, ok := strings.Cut(rest, ":")
		size, err := strconv.Atoi(n)
		if !ok || err != nil || len(after) < size+1 || after[size] != ';' {
			t.Fatalf("malformed fingerprint input %q", line)
		}
		fields = append(fields, after[:size])
		rest = after[size+1:]
	}
	if len(fields) != 6 || fields[0] != "kensa-finding-v1" {
		t.Fatalf("fingerprint input has fields %q", fields)
	}
	s := finding.Subject{Host: fields[1], RulesPackage: fields[2], RuleID: fields[3], Target: fields[4], VulnerabilityID: fields[5]}
	if got := finding.Fingerprint(s); got != id[1] {
		t.Errorf("finding.Fingerprint(%+v) = %s, the page says %s", s, got, id[1])
	}
}

// TestDocNamesEveryField: every property the schema defines is named, in
// backquotes, on the page.
func TestDocNamesEveryField(t *testing.T) {
	doc := readDoc(t)
	var schema any
	if err := json.Unmarshal(Schema(), &schema); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				for name := range props {
					names[name] = true
				}
			}
			if req, ok := v["required"].([]any); ok {
				for _, name := range req {
					names[name.(string)] = true
				}
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(schema)
	if len(names) < 40 {
		t.Fatalf("found only %d field names in the schema", len(names))
	}
	for name := range names {
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("docs/report.md does not document the field `%s`", name)
		}
	}
}
