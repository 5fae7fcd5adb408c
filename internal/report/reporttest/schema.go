package reporttest

import (
	"encoding/json"
	"strings"
	"testing"
)

// Mutation breaks one rule of a document's schema: Mutate edits the
// decoded document, Where is a fragment of the error the validator must
// give for it.
type Mutation struct {
	Name, Where string
	Mutate      func(m map[string]any)
}

// Rejects proves that a schema validation can fail: validate accepts doc,
// and rejects every mutation of it for the reason its Where names.
func Rejects(t *testing.T, doc []byte, validate func([]byte) error, mutations []Mutation) {
	t.Helper()
	if err := validate(doc); err != nil {
		t.Fatalf("the unmodified document is invalid: %v", err)
	}
	for _, mu := range mutations {
		t.Run(mu.Name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(doc, &m); err != nil {
				t.Fatal(err)
			}
			mu.Mutate(m)
			bad, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			err = validate(bad)
			if err == nil {
				t.Fatal("the invalid document was accepted")
			}
			if !strings.Contains(err.Error(), mu.Where) {
				t.Errorf("rejected for another reason than %s: %v", mu.Where, err)
			}
		})
	}
}
