package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// The official schemas, kept as test data; testdata/README.md says where
// each comes from.
const (
	cycloneDXSchemaPath = "testdata/bom-1.6.schema.json"
	spdxSchemaPath      = "testdata/spdx-schema-2.3.json"
)

// cycloneDXSchema compiles the CycloneDX 1.6 schema with the two schemas it
// references (spdx.schema.json for licence ids, jsf-0.82.schema.json for
// signatures), each registered under its own $id so that no reference
// reaches the network. Formats are asserted: a timestamp that is not a
// date-time, or an advisory URL that is not an IRI reference, fails.
var cycloneDXSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	return compileSchema(cycloneDXSchemaPath, "testdata/spdx.schema.json", "testdata/jsf-0.82.schema.json")
})

// spdxSchema compiles the SPDX 2.3 schema. It declares no formats and no
// patterns; spdxChecks tests what the specification requires of the
// values.
var spdxSchema = sync.OnceValues(func() (*jsonschema.Schema, error) { return compileSchema(spdxSchemaPath) })

// compileSchema compiles the schema of the first path, with the others
// available under their $id.
func compileSchema(paths ...string) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	var root string
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			return nil, fmt.Errorf("%s has no $id", p)
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, err
		}
		if i == 0 {
			root = id
		}
	}
	return c.Compile(root)
}

func validateWith(t *testing.T, schema func() (*jsonschema.Schema, error), doc []byte) error {
	t.Helper()
	s, err := schema()
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// validateCycloneDX checks doc against the CycloneDX 1.6 schema.
func validateCycloneDX(t *testing.T, doc []byte) error {
	t.Helper()
	return validateWith(t, cycloneDXSchema, doc)
}

// validateSPDX checks doc against the SPDX 2.3 schema, then what the
// specification requires and the schema does not check (spdxChecks).
func validateSPDX(t *testing.T, doc []byte) error {
	t.Helper()
	if err := validateWith(t, spdxSchema, doc); err != nil {
		return err
	}
	return spdxChecks(doc)
}

var (
	spdxIDPattern  = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
	spdxTimeFormat = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)
)

// spdxChecks tests the rules of SPDX 2.3 that its JSON schema leaves to
// prose: identifiers of the idstring alphabet, unique, and every
// relationship between existing elements; created as YYYY-MM-DDThh:mm:ssZ;
// a namespace that is an absolute URI without "#"; purl locators that
// parse and hold no white space.
func spdxChecks(doc []byte) error {
	var d struct {
		SPDXID            string `json:"SPDXID"`
		DocumentNamespace string `json:"documentNamespace"`
		CreationInfo      struct {
			Created  string   `json:"created"`
			Creators []string `json:"creators"`
		} `json:"creationInfo"`
		Packages []struct {
			SPDXID       string `json:"SPDXID"`
			ExternalRefs []struct {
				ReferenceCategory, ReferenceType, ReferenceLocator string
			} `json:"externalRefs"`
		} `json:"packages"`
		Relationships []struct {
			SpdxElementID      string `json:"spdxElementId"`
			RelatedSpdxElement string `json:"relatedSpdxElement"`
		} `json:"relationships"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return err
	}
	if d.SPDXID != "SPDXRef-DOCUMENT" {
		return fmt.Errorf("document SPDXID %q, want SPDXRef-DOCUMENT", d.SPDXID)
	}
	if !spdxTimeFormat.MatchString(d.CreationInfo.Created) {
		return fmt.Errorf("creationInfo.created %q is not YYYY-MM-DDThh:mm:ssZ", d.CreationInfo.Created)
	}
	for _, c := range d.CreationInfo.Creators {
		if typ, _, ok := strings.Cut(c, ": "); !ok || (typ != "Tool" && typ != "Person" && typ != "Organization") {
			return fmt.Errorf("creator %q is not Tool:, Person: or Organization:", c)
		}
	}
	if u, err := url.Parse(d.DocumentNamespace); err != nil || !u.IsAbs() || strings.Contains(d.DocumentNamespace, "#") {
		return fmt.Errorf("documentNamespace %q is not an absolute URI without #", d.DocumentNamespace)
	}
	ids := map[string]bool{d.SPDXID: true}
	for _, p := range d.Packages {
		if !spdxIDPattern.MatchString(p.SPDXID) {
			return fmt.Errorf("SPDXID %q is not SPDXRef-[A-Za-z0-9.-]+", p.SPDXID)
		}
		if ids[p.SPDXID] {
			return fmt.Errorf("SPDXID %q is not unique", p.SPDXID)
		}
		ids[p.SPDXID] = true
		for _, r := range p.ExternalRefs {
			if r.ReferenceType != "purl" {
				continue
			}
			if _, err := packageurl.FromString(r.ReferenceLocator); err != nil || strings.ContainsAny(r.ReferenceLocator, " \t\n") {
				return fmt.Errorf("package %s: purl %q does not parse or holds white space", p.SPDXID, r.ReferenceLocator)
			}
		}
	}
	for _, r := range d.Relationships {
		if !ids[r.SpdxElementID] || !ids[r.RelatedSpdxElement] {
			return fmt.Errorf("relationship %s -> %s names an element that does not exist", r.SpdxElementID, r.RelatedSpdxElement)
		}
	}
	return nil
}

func renderCycloneDX(t testing.TB, r *report.Report, vulns bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCycloneDX(&buf, r, CycloneDXOptions{Vulnerabilities: vulns}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func renderSPDX(t testing.TB, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSPDX(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeBOM(t *testing.T, doc []byte) cdx.BOM {
	t.Helper()
	var b cdx.BOM
	if err := json.Unmarshal(doc, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// spdxDoc is the part of an SPDX document the tests read.
type spdxDoc struct {
	DocumentNamespace string `json:"documentNamespace"`
	CreationInfo      struct {
		Created  string   `json:"created"`
		Creators []string `json:"creators"`
		Comment  string   `json:"comment"`
	} `json:"creationInfo"`
	Packages []struct {
		SPDXID                string `json:"SPDXID"`
		Name                  string `json:"name"`
		VersionInfo           string `json:"versionInfo"`
		DownloadLocation      string `json:"downloadLocation"`
		FilesAnalyzed         *bool  `json:"filesAnalyzed"`
		LicenseConcluded      string `json:"licenseConcluded"`
		LicenseDeclared       string `json:"licenseDeclared"`
		PrimaryPackagePurpose string `json:"primaryPackagePurpose"`
		Comment               string `json:"comment"`
		ExternalRefs          []struct {
			ReferenceCategory string `json:"referenceCategory"`
			ReferenceType     string `json:"referenceType"`
			ReferenceLocator  string `json:"referenceLocator"`
		} `json:"externalRefs"`
	} `json:"packages"`
	Relationships []struct {
		SpdxElementID      string `json:"spdxElementId"`
		RelatedSpdxElement string `json:"relatedSpdxElement"`
		RelationshipType   string `json:"relationshipType"`
	} `json:"relationships"`
}

func decodeSPDX(t *testing.T, doc []byte) spdxDoc {
	t.Helper()
	var d spdxDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// withInventory are the shared fixtures that have an inventory, and a
// large one (every component name distinct, several sharing a purl, no
// finding matching a component).
var withInventory = []reporttest.Fixture{
	{Name: "cve", Build: reporttest.CVE},
	{Name: "all", Build: reporttest.All},
	{Name: "large500", Build: func() *report.Report { return reporttest.Large(500) }},
}

func TestFixturesWithInventory(t *testing.T) {
	// Every shared fixture that has an inventory is tested here.
	names := map[string]bool{}
	for _, fx := range withInventory {
		names[fx.Name] = true
	}
	for _, fx := range reporttest.Fixtures {
		if fx.Build().Inventory != nil && !names[fx.Name] {
			t.Errorf("fixture %s has an inventory but is not in withInventory", fx.Name)
		}
	}
}

// The output of every fixture with an inventory is valid against the
// official schemas, in all three forms.
func TestSchemaValid(t *testing.T) {
	for _, fx := range withInventory {
		t.Run(fx.Name, func(t *testing.T) {
			r := fx.Build()
			for _, vulns := range []bool{false, true} {
				if err := validateCycloneDX(t, renderCycloneDX(t, r, vulns)); err != nil {
					t.Errorf("vulnerabilities %v: not valid CycloneDX 1.6: %v", vulns, err)
				}
			}
			if err := validateSPDX(t, renderSPDX(t, r)); err != nil {
				t.Errorf("not valid SPDX 2.3: %v", err)
			}
		})
	}
}

func TestGolden(t *testing.T) {
	r := reporttest.CVE()
	reporttest.Golden(t, "cve.cdx.json", renderCycloneDX(t, r, false))
	reporttest.Golden(t, "cve-vulnerabilities.cdx.json", renderCycloneDX(t, r, true))
	reporttest.Golden(t, "cve.spdx.json", renderSPDX(t, r))
}

// The validation must be able to fail: each mutation of a valid document
// breaks one rule, and is rejected for that rule.
func TestSchemaRejectsInvalidDocuments(t *testing.T) {
	run := func(t *testing.T, doc []byte, validate func(*testing.T, []byte) error, mutations []reporttest.Mutation) {
		reporttest.Rejects(t, doc, func(b []byte) error { return validate(t, b) }, mutations)
	}

	first := func(m map[string]any, key string) map[string]any { return m[key].([]any)[0].(map[string]any) }

	t.Run("cyclonedx", func(t *testing.T) {
		run(t, renderCycloneDX(t, reporttest.CVE(), true), validateCycloneDX, []reporttest.Mutation{
			{Name: "serial number not a UUID URN", Where: "'/serialNumber'", Mutate: func(m map[string]any) { m["serialNumber"] = "kensa-1" }},
			{Name: "timestamp not a date-time", Where: "'/metadata/timestamp'", Mutate: func(m map[string]any) {
				m["metadata"].(map[string]any)["timestamp"] = "2025-04-02 08:30"
			}},
			{Name: "component without name", Where: "'/components/0'", Mutate: func(m map[string]any) { delete(first(m, "components"), "name") }},
			{Name: "unknown component type", Where: "'/components/0/type'", Mutate: func(m map[string]any) { first(m, "components")["type"] = "package" }},
			{Name: "unknown component field", Where: "'arch' not allowed", Mutate: func(m map[string]any) { first(m, "components")["arch"] = "amd64" }},
			{Name: "unknown severity", Where: "'/vulnerabilities/0/ratings/0/severity'", Mutate: func(m map[string]any) {
				first(first(m, "vulnerabilities"), "ratings")["severity"] = "critical!"
			}},
			{Name: "advisory URL not an IRI reference", Where: "'/vulnerabilities/0/advisories/0/url'", Mutate: func(m map[string]any) {
				first(first(m, "vulnerabilities"), "advisories")["url"] = "https://example.com/%zz"
			}},
			{Name: "reference without source", Where: "'/vulnerabilities/0/references/0'", Mutate: func(m map[string]any) {
				delete(first(first(m, "vulnerabilities"), "references"), "source")
			}},
			{Name: "unknown analysis state", Where: "'/vulnerabilities/0/analysis/state'", Mutate: func(m map[string]any) {
				first(m, "vulnerabilities")["analysis"] = map[string]any{"state": "accepted"}
			}},
			{Name: "not CycloneDX", Where: "'/bomFormat'", Mutate: func(m map[string]any) { m["bomFormat"] = "SPDX" }},
		})
	})
	t.Run("spdx", func(t *testing.T) {
		run(t, renderSPDX(t, reporttest.CVE()), validateSPDX, []reporttest.Mutation{
			{Name: "package without downloadLocation", Where: "missing property 'downloadLocation'", Mutate: func(m map[string]any) {
				delete(first(m, "packages"), "downloadLocation")
			}},
			{Name: "unknown relationship type", Where: "'/relationships/0/relationshipType'", Mutate: func(m map[string]any) {
				first(m, "relationships")["relationshipType"] = "HOSTS"
			}},
			{Name: "unknown purpose", Where: "'/packages/0/primaryPackagePurpose'", Mutate: func(m map[string]any) {
				first(m, "packages")["primaryPackagePurpose"] = "OPERATING-SYSTEM"
			}},
			{Name: "no creators", Where: "'/creationInfo/creators'", Mutate: func(m map[string]any) {
				m["creationInfo"].(map[string]any)["creators"] = []any{}
			}},
			{Name: "unknown document field", Where: "'vulnerabilities' not allowed", Mutate: func(m map[string]any) { m["vulnerabilities"] = []any{} }},
			// What the schema leaves to the specification's prose.
			{Name: "SPDXID outside the idstring alphabet", Where: "is not SPDXRef-", Mutate: func(m map[string]any) { first(m, "packages")["SPDXID"] = "SPDXRef-a_b" }},
			{Name: "created with fractions", Where: "is not YYYY-MM-DDThh:mm:ssZ", Mutate: func(m map[string]any) {
				m["creationInfo"].(map[string]any)["created"] = "2025-04-02T08:30:07.25Z"
			}},
			{Name: "namespace with a fragment", Where: "documentNamespace", Mutate: func(m map[string]any) { m["documentNamespace"] = "https://example.com/a#b" }},
			{Name: "relationship to nothing", Where: "does not exist", Mutate: func(m map[string]any) { first(m, "relationships")["relatedSpdxElement"] = "SPDXRef-nothing" }},
			{Name: "purl with a space", Where: "does not parse", Mutate: func(m map[string]any) {
				pkgs := m["packages"].([]any)
				first(pkgs[1].(map[string]any), "externalRefs")["referenceLocator"] = "pkg:deb/debian/a b@1"
			}},
		})
	})
}

// A report without an inventory, or whose component list does not add up
// to its counts (made before schema 1.6), is refused with an error naming
// the problem and the fix, and nothing is written.
func TestRefusesIncompleteInventory(t *testing.T) {
	noInventory := reporttest.Config()
	old := reporttest.CVE()
	old.SchemaVersion = "1.5"
	old.Inventory.Components = nil
	short := reporttest.CVE()
	short.Inventory.Components = short.Inventory.Components[1:]
	tests := []struct {
		name  string
		r     *report.Report
		err   error
		words []string
	}{
		{"no inventory", noInventory, ErrNoInventory, []string{"would list nothing", "scan the host again"}},
		{"made before 1.6", old, ErrIncompleteInventory, []string{"counts 5 packages and 5 components", "lists 0", `"1.5"`, "scan the host again"}},
		{"one component missing", short, ErrIncompleteInventory, []string{"lists 9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writers := map[string]func(*bytes.Buffer) error{
				"cyclonedx": func(b *bytes.Buffer) error { return WriteCycloneDX(b, tt.r, CycloneDXOptions{}) },
				"cyclonedx+vulnerabilities": func(b *bytes.Buffer) error {
					return WriteCycloneDX(b, tt.r, CycloneDXOptions{Vulnerabilities: true})
				},
				"spdx": func(b *bytes.Buffer) error { return WriteSPDX(b, tt.r) },
			}
			for format, write := range writers {
				var buf bytes.Buffer
				err := write(&buf)
				if !errors.Is(err, tt.err) {
					t.Fatalf("%s: error %v, want %v", format, err, tt.err)
				}
				for _, w := range tt.words {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: error %q lacks %q", format, err, w)
					}
				}
				if buf.Len() != 0 {
					t.Errorf("%s: wrote %d bytes for a refused report", format, buf.Len())
				}
			}
		})
	}
	// An inventory that is empty and says so is an SBOM of the host
	// alone, not a refusal.
	empty := reporttest.CVE()
	empty.Inventory = &report.Inventory{}
	if err := WriteSPDX(&bytes.Buffer{}, empty); err != nil {
		t.Errorf("empty inventory: %v", err)
	}
}

// RFC 4122 name-based UUIDs: the example of Python's uuid documentation
// (uuid5(NAMESPACE_DNS, "python.org")).
func TestUUIDv5(t *testing.T) {
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	if got, want := uuidV5(dns, "python.org"), "886313e1-3b8a-5372-9b90-0c9aee199e5d"; got != want {
		t.Errorf("uuidV5 = %s, want %s", got, want)
	}
}

// A document's identity is a function of the scan and the variant: the
// same report gives the same one, another scan or another format another.
func TestDocumentIdentity(t *testing.T) {
	r := reporttest.CVE()
	ids := map[string]string{}
	add := func(what, id string) {
		for w, other := range ids {
			if other == id {
				t.Errorf("%s and %s share the identity %s", what, w, id)
			}
		}
		ids[what] = id
	}
	add("cyclonedx", decodeBOM(t, renderCycloneDX(t, r, false)).SerialNumber)
	add("cyclonedx+vulnerabilities", decodeBOM(t, renderCycloneDX(t, r, true)).SerialNumber)
	add("spdx", decodeSPDX(t, renderSPDX(t, r)).DocumentNamespace)
	later := reporttest.CVE()
	later.StartedAt = later.StartedAt.Add(24 * 3600e9)
	add("cyclonedx of a later scan", decodeBOM(t, renderCycloneDX(t, later, false)).SerialNumber)
	add("spdx of a later scan", decodeSPDX(t, renderSPDX(t, later)).DocumentNamespace)
	other := reporttest.CVE()
	other.Host.MachineID = "0123456789abcdef0123456789abcdef"
	add("cyclonedx of another host", decodeBOM(t, renderCycloneDX(t, other, false)).SerialNumber)
}

// The output is a function of the report's content, not of the order of
// its lists, and writing leaves the report as it was.
func TestDeterministic(t *testing.T) {
	writers := map[string]func(testing.TB, *report.Report) []byte{
		"cyclonedx":                 func(t testing.TB, r *report.Report) []byte { return renderCycloneDX(t, r, false) },
		"cyclonedx+vulnerabilities": func(t testing.TB, r *report.Report) []byte { return renderCycloneDX(t, r, true) },
		"spdx":                      renderSPDX,
	}
	for _, fx := range withInventory {
		for format, write := range writers {
			t.Run(fx.Name+"/"+format, func(t *testing.T) {
				reporttest.Deterministic(t, fx.Build, func(r *report.Report) []byte { return write(t, r) })
			})
		}
	}
}
