package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// evil is a name a hostile host can give a package: terminal escape
// sequences (7-bit ESC and 8-bit CSI), a right-to-left override, DEL,
// markup, quotes, a newline and a NUL.
const evil = "pkg\x1b[2J\u009b31m\u202egnp.exe\x7f<script>alert(1)</script>&\"'\n\x00end"

// hostile is the CVE report with hostile strings wherever the host
// supplies them: hostname, OS name, a component's name, version, purl
// (which then does not parse), location and owner, and a finding on it.
func hostile() *report.Report {
	r := reporttest.CVE()
	r.Host.Hostname = "db\u202e-02\x1b]0;pwned\x07"
	r.Host.OS.PrettyName = evil
	r.Inventory.Components = append(r.Inventory.Components, report.Component{
		Type: report.ComponentSoftware, Ecosystem: "npm", Name: evil, Version: "1.0\u0085", PURL: "pkg:npm/" + evil + "@1.0",
		Kind: "npm", Location: "/srv/app/node_modules/\x1b[31m/package.json", OwnedBy: evil,
	})
	r.Inventory.Software["npm"] = 1
	f := r.Findings[2]
	v := *f.Vulnerability
	v.Ecosystem, v.Package, v.InstalledVersion, v.Location = "npm", evil, "1.0\u0085", "/srv/app/node_modules/\x1b[31m/package.json"
	v.References = []string{"javascript:alert(1)", "https://example.com/\u202eevil"}
	f.Vulnerability, f.ID, f.Title = &v, "hostile", evil
	r.Findings = append(r.Findings, f)
	return r
}

// Hostile strings leave no raw control, bidi or escape character in the
// output, decode to exactly what the host gave, and break no identifier
// or schema rule.
func TestHostileStrings(t *testing.T) {
	r := hostile()
	docs := map[string][]byte{
		"cyclonedx": renderCycloneDX(t, r, true),
		"spdx":      renderSPDX(t, r),
	}
	if err := validateCycloneDX(t, docs["cyclonedx"]); err != nil {
		t.Errorf("cyclonedx: %v", err)
	}
	if err := validateSPDX(t, docs["spdx"]); err != nil {
		t.Errorf("spdx: %v", err)
	}
	for format, doc := range docs {
		for _, raw := range []string{"\x1b", "\x00", "\x07", "\x7f", "\u009b", "\u0085", "\u202e"} {
			if bytes.Contains(doc, []byte(raw)) {
				t.Errorf("%s: the output holds a raw %q", format, raw)
			}
		}
		if !bytes.Contains(doc, []byte(`\u009b31m\u202egnp.exe\u007f<script>`)) {
			t.Errorf("%s: the escapes are not where expected", format)
		}
		// Decoding gives the host's strings back, whole.
		var anyDoc any
		if err := json.Unmarshal(doc, &anyDoc); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if !containsString(anyDoc, evil) {
			t.Errorf("%s: the hostile name does not decode back to itself", format)
		}
	}

	b := decodeBOM(t, docs["cyclonedx"])
	for _, c := range *b.Components {
		if c.Name != evil {
			continue
		}
		if c.PackageURL != "" || prop1(c.Properties, "kensa:purl") != "pkg:npm/"+evil+"@1.0" {
			t.Errorf("a purl that does not parse is offered as one: %q", c.PackageURL)
		}
	}
	for _, v := range *b.Vulnerabilities {
		if prop1(v.Properties, "kensa:finding_id") != "hostile" {
			continue
		}
		if (*v.Affects)[0].Ref == hostRef {
			t.Error("the finding on the hostile component does not affect it")
		}
		if v.Advisories == nil || len(*v.Advisories) != 1 || (*v.Advisories)[0].URL != "https://example.com/\u202eevil" ||
			prop1(v.Properties, "kensa:reference") != "javascript:alert(1)" {
			t.Errorf("advisories %+v: only http(s) URLs are advisories", v.Advisories)
		}
	}
	d := decodeSPDX(t, docs["spdx"])
	if !strings.HasPrefix(d.DocumentNamespace, InformationURI+"/spdx/db----02--0-pwned--") {
		t.Errorf("namespace %q", d.DocumentNamespace)
	}
}

func containsString(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return x == s
	case []any:
		for _, e := range x {
			if containsString(e, s) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if containsString(e, s) {
				return true
			}
		}
	}
	return false
}

// safeWriter escapes the same whatever the writes are cut into: a
// character split across two writes is escaped, or passed, whole.
func TestSafeWriter(t *testing.T) {
	in := []byte(`{"a":"x` + "\x7f\u0080\u009fé\u200e\u200f\u202a\u202e\u2066\u2069\u2028ok\u00a0\u2030" + `"}`)
	want := `{"a":"x\u007f\u0080\u009fé\u200e\u200f\u202a\u202e\u2066\u2069` + "\u2028ok\u00a0\u2030" + `"}`
	for _, size := range []int{1, 2, 3, 5, len(in)} {
		var out bytes.Buffer
		w := &safeWriter{w: &out}
		for i := 0; i < len(in); i += size {
			n, err := w.Write(in[i:min(i+size, len(in))])
			if err != nil || n != min(size, len(in)-i) {
				t.Fatalf("write: %d, %v", n, err)
			}
		}
		if err := w.flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("writes of %d bytes: %q, want %q", size, out.String(), want)
		}
	}
	// A character cut at the very end is written as it is by flush.
	var out bytes.Buffer
	w := &safeWriter{w: &out}
	w.Write([]byte("a\xe2\x80"))
	if out.String() != "a" {
		t.Errorf("before flush: %q", out.String())
	}
	w.flush()
	if out.String() != "a\xe2\x80" {
		t.Errorf("after flush: %q", out.String())
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n += len(p); f.n > 100 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// A failing writer's error is returned.
func TestWriteError(t *testing.T) {
	r := reporttest.CVE()
	if err := WriteCycloneDX(&failingWriter{}, r, CycloneDXOptions{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("cyclonedx: %v", err)
	}
	if err := WriteSPDX(&failingWriter{}, r); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("spdx: %v", err)
	}
}
