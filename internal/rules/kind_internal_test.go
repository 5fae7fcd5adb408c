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

// Kinds repeated in nested combinations are named in the order the rule
// writes them, the same every time (a map's order must not leak into the
// prose or into what a tailoring file changes).
func TestKindValuesNaming(t *testing.T) {
	sc := func(k string) Check { return Check{Sysctl: &SysctlKey{Key: k, Equals: "0"}} }
	c := Check{All: []Check{sc("a"), {Any: []Check{sc("b"), {All: []Check{sc("c"), sc("d")}}}}, {None: []Check{sc("e")}}}}
	want := map[string]string{"sysctl": "a", "sysctl_1": "b", "sysctl_2": "c", "sysctl_3": "d", "sysctl_4": "e"}
	for range 50 {
		got := c.kindValues()
		if len(got) != len(want) {
			t.Fatalf("names %v", got)
		}
		for name, key := range want {
			if v, ok := got[name]; !ok || v.Interface().(*SysctlKey).Key != key {
				t.Fatalf("%s: %v, want key %s", name, got[name], key)
			}
		}
	}
}
