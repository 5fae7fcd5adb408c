package rules

import (
	"reflect"
	"testing"
)

// Every kind field of Check implements kind: a field that did not would
// load and then evaluate as "empty check" on every host.
func TestEveryKindFieldImplementsKind(t *testing.T) {
	iface := reflect.TypeFor[kind]()
	ct := reflect.TypeFor[Check]()
	for i := range ct.NumField() {
		f := ct.Field(i)
		if f.Type.Kind() != reflect.Pointer {
			continue
		}
		if !f.Type.Implements(iface) {
			t.Errorf("Check.%s (%s) does not implement validate and evaluate", f.Name, f.Type)
		}
	}
}
