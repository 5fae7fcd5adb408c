package elfsec

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func analyzeBytes(t testing.TB, b []byte) *Result {
	t.Helper()
	r, err := Analyze(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	return r
}

type want struct {
	kind                    Kind
	nx, canary, pie, fortif Status
	relro                   RELROLevel
	relroStatus             Status
	lang                    Language
	static                  bool
	reasons                 map[string]string // property → substring of its reason
}

func check(t *testing.T, r *Result, w want) {
	t.Helper()
	got := want{r.Kind, r.NX.Status, r.StackProtector.Status, r.PIE.Status, r.Fortify.Status, r.RELRO.Level, r.RELRO.Status, r.Toolchain.Language, r.Toolchain.Static, w.reasons}
	if !reflect.DeepEqual(got, w) {
		b, _ := json.MarshalIndent(r, "", "  ")
		t.Errorf("got  %+v\nwant %+v\n%s", got, w, b)
	}
	reasons := map[string]string{"nx": r.NX.Reason, "canary": r.StackProtector.Reason, "pie": r.PIE.Reason, "relro": r.RELRO.Reason, "fortify": r.Fortify.Reason, "toolchain": r.Toolchain.Reason}
	for k, sub := range w.reasons {
		if !strings.Contains(reasons[k], sub) {
			t.Errorf("%s reason %q does not contain %q", k, reasons[k], sub)
		}
	}
}

// TestRules covers each rule on synthetic files, one change at a time from
// a fully hardened PIE.
func TestRules(t *testing.T) {
	dyn := func(tag elf.DynTag, v uint64) [2]uint64 { return [2]uint64{uint64(tag), v} }
	cases := []struct {
		name string
		mod  func(*spec)
		w    want
	}{
		{"hardened PIE", func(*spec) {}, want{Executable, Pass, Pass, Pass, Pass, RELROFull, Pass, LangUnknown, false, map[string]string{
			"nx": "not executable (RW-)", "canary": "imports __stack_chk_fail (dynsym)", "pie": "DF_1_PIE", "relro": "DF_BIND_NOW", "fortify": "imports 1 fortified functions (__memcpy_chk); 1 fortifiable"}}},
		{"executable stack", func(s *spec) { s.stack = elf.PF_R | elf.PF_W | elf.PF_X }, want{Executable, Fail, Pass, Pass, Pass, RELROFull, Pass, LangUnknown, false, map[string]string{"nx": "executable (RWE)"}}},
		{"no PT_GNU_STACK", func(s *spec) { s.stack = 0 }, want{Executable, Fail, Pass, Pass, Pass, RELROFull, Pass, LangUnknown, false, map[string]string{"nx": "no PT_GNU_STACK: the stack is executable on most architectures"}}},
		{"no canary", func(s *spec) { s.imports = []string{"strcpy", "puts"} }, want{Executable, Pass, Fail, Pass, Fail, RELROFull, Pass, LangUnknown, false, map[string]string{"canary": "no __stack_chk_fail", "fortify": "imports no __*_chk function but 1 fortifiable ones (strcpy)"}}},
		{"canary guard defined", func(s *spec) { s.imports = nil; s.defines = []string{"__stack_chk_guard"} }, want{Executable, Pass, Pass, Pass, NotApplicable, RELROFull, Pass, LangUnknown, false, map[string]string{"canary": "defines __stack_chk_guard", "fortify": "imports no function FORTIFY_SOURCE could check"}}},
		{"ET_EXEC", func(s *spec) { s.typ = elf.ET_EXEC; s.dyn = s.dyn[:2] }, want{Executable, Pass, Pass, Fail, Pass, RELROFull, Pass, LangUnknown, false, map[string]string{"pie": "ET_EXEC"}}},
		{"PIE by PT_INTERP without DF_1_PIE", func(s *spec) { s.dyn = s.dyn[:2] }, want{Executable, Pass, Pass, Pass, Pass, RELROFull, Pass, LangUnknown, false, map[string]string{"pie": "PT_INTERP and no DT_SONAME"}}},
		{"DSO", func(s *spec) { s.interp = false; s.dyn = [][2]uint64{dyn(elf.DT_NEEDED, 1), dyn(elf.DT_SONAME, 1)} },
			want{SharedObject, Pass, Pass, NotApplicable, Pass, RELROPartial, Fail, LangUnknown, false, map[string]string{"pie": "shared object (DSO)", "relro": "partial"}}},
		{"runnable DSO (libc.so.6)", func(s *spec) { s.dyn = [][2]uint64{dyn(elf.DT_SONAME, 1), dyn(elf.DT_BIND_NOW, 0)} },
			want{SharedObject, Pass, Pass, NotApplicable, Pass, RELROFull, Pass, LangUnknown, false, map[string]string{"pie": "can also run", "relro": "DT_BIND_NOW"}}},
		{"plug-in without DT_NEEDED is not static", func(s *spec) { s.interp = false; s.dyn = [][2]uint64{dyn(elf.DT_SONAME, 1)} },
			want{SharedObject, Pass, Pass, NotApplicable, Pass, RELROPartial, Fail, LangUnknown, false, map[string]string{"toolchain": "a plug-in"}}},
		{"partial RELRO", func(s *spec) { s.dyn = [][2]uint64{dyn(elf.DT_NEEDED, 1), dyn(elf.DT_FLAGS_1, uint64(elf.DF_1_PIE))} },
			want{Executable, Pass, Pass, Pass, Pass, RELROPartial, Fail, LangUnknown, false, map[string]string{"relro": "without DT_BIND_NOW"}}},
		{"DF_1_NOW alone is full RELRO", func(s *spec) {
			s.dyn = [][2]uint64{dyn(elf.DT_NEEDED, 1), dyn(elf.DT_FLAGS_1, uint64(elf.DF_1_PIE|elf.DF_1_NOW))}
		},
			want{Executable, Pass, Pass, Pass, Pass, RELROFull, Pass, LangUnknown, false, map[string]string{"relro": "DT_FLAGS_1 has DF_1_NOW"}}},
		{"no RELRO", func(s *spec) { s.relro = false }, want{Executable, Pass, Pass, Pass, Pass, RELRONone, Fail, LangUnknown, false, map[string]string{"relro": "no PT_GNU_RELRO"}}},
		{"static executable", func(s *spec) { s.typ = elf.ET_EXEC; s.interp = false; s.relro = false; s.dyn = nil; s.imports = nil },
			want{Executable, Pass, NotApplicable, Fail, NotApplicable, RELRONone, NotApplicable, LangUnknown, true, map[string]string{"canary": "static binary", "relro": "no dynamic section", "toolchain": "no PT_INTERP and no DT_NEEDED"}}},
		{"Go", func(s *spec) {
			s.typ = elf.ET_EXEC
			s.interp = false
			s.relro = false
			s.dyn = nil
			s.imports = nil
			s.sections = []string{".go.buildinfo"}
		},
			want{Executable, Pass, NotApplicable, Fail, NotApplicable, RELRONone, NotApplicable, LangGo, true, map[string]string{"canary": "Go binary", "fortify": "Go binary", "toolchain": ".go.buildinfo"}}},
		{"Go with cgo imports __stack_chk_fail", func(s *spec) { s.sections = []string{".go.buildinfo"} },
			want{Executable, Pass, Pass, Pass, Pass, RELROFull, Pass, LangGo, false, nil}},
		{"Rust by symbol", func(s *spec) { s.imports = []string{"puts"}; s.defines = []string{"rust_eh_personality"} },
			want{Executable, Pass, NotApplicable, Pass, NotApplicable, RELROFull, Pass, LangRust, false, map[string]string{"canary": "Rust binary", "toolchain": "symbol rust_eh_personality (dynsym)"}}},
		{"Rust by .rustc", func(s *spec) { s.imports = []string{"puts"}; s.sections = []string{".rustc"} },
			want{Executable, Pass, NotApplicable, Pass, NotApplicable, RELROFull, Pass, LangRust, false, nil}},
		{"relocatable object", func(s *spec) { s.typ = elf.ET_REL; s.interp = false; s.stack = 0; s.relro = false; s.dyn = nil },
			want{Other, NotApplicable, Pass, NotApplicable, Pass, RELRONone, NotApplicable, LangUnknown, false, nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := hardenedPIE()
			c.mod(&s)
			check(t, analyzeBytes(t, s.build()), c.w)
		})
	}
}

func TestFortifyListCapped(t *testing.T) {
	s := hardenedPIE()
	s.imports = nil
	for range MaxListed + 10 {
		s.imports = append(s.imports, "__printf_chk", "memcpy")
	}
	r := analyzeBytes(t, s.build())
	if r.Fortify.FortifiedCount != MaxListed+10 || len(r.Fortify.Fortified) != MaxListed ||
		r.Fortify.UnfortifiedCount != MaxListed+10 || len(r.Fortify.Unfortified) != MaxListed {
		t.Errorf("counts %d/%d listed %d/%d", r.Fortify.FortifiedCount, r.Fortify.UnfortifiedCount, len(r.Fortify.Fortified), len(r.Fortify.Unfortified))
	}
	if !strings.Contains(r.Fortify.Reason, "and 66 more") {
		t.Errorf("reason %q", r.Fortify.Reason)
	}
}

func TestJSON(t *testing.T) {
	r := analyzeBytes(t, hardenedPIE().build())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"kind":"executable"`, `"nx":{"status":"pass"`, `"relro":{"status":"pass","reason":"PT_GNU_RELRO and DT_FLAGS has DF_BIND_NOW","level":"full"}`, `"fortified":["__memcpy_chk"]`} {
		if !bytes.Contains(b, []byte(k)) {
			t.Errorf("JSON lacks %s: %s", k, b)
		}
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(&back, r) {
		t.Errorf("round trip: %v\n%+v\n%+v", err, back, *r)
	}
}

func TestNotELF(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("\x7fEL"), []byte("#!/bin/sh\necho hi\n")} {
		if _, err := Analyze(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrNotELF) {
			t.Errorf("%q: %v, want ErrNotELF", b, err)
		}
	}
}

// TestHostile feeds the committed hostile inputs (testdata/hostile, made by
// hostileInputs below): each must be refused or analysed, without a panic
// and without believing a size the file does not hold.
func TestHostile(t *testing.T) {
	files, _ := filepath.Glob("testdata/hostile/*")
	if len(files) < len(hostileInputs()) {
		t.Fatalf("testdata/hostile has %d files, want %d (KENSA_ELFSEC_WRITE_HOSTILE=1 go test -run TestWriteHostile)", len(files), len(hostileInputs()))
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Analyze(bytes.NewReader(b), int64(len(b)))
		name := filepath.Base(p)
		t.Logf("%s: err=%v", name, err)
		switch name {
		case "dynsym-huge-size.elf", "dynsym-bad-link.elf":
			if err != nil || r.StackProtector.Status != Unknown || r.Fortify.Status != Unknown || len(r.Notes) == 0 {
				t.Errorf("%s: %v %+v", name, err, r)
			}
		case "dynamic-huge.elf":
			if err != nil || r.RELRO.Status != Unknown || len(r.Notes) == 0 {
				t.Errorf("%s: %v %+v", name, err, r)
			}
		case "no-section-headers.elf":
			if err != nil || r.StackProtector.Status != Unknown || r.Fortify.Status != Unknown ||
				r.NX.Status != Pass || r.PIE.Status != Pass || r.RELRO.Status != Pass {
				t.Errorf("%s: %v %+v", name, err, r)
			} else if !strings.Contains(r.StackProtector.Reason, "no section headers") {
				t.Errorf("%s: canary reason %q", name, r.StackProtector.Reason)
			}
		case "text-nobits-execstack.elf":
			if err != nil || r.DebugInfo || r.Kind != Executable || r.NX.Status != Fail || r.PIE.Status != Pass || r.RELRO.Status != Pass {
				t.Errorf("%s: %v %+v", name, err, r)
			}
		case "names-past-strtab.elf", "interp-huge.elf", "many-interp.elf", "overlapping-symtabs.elf":
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		default:
			if err == nil {
				t.Errorf("%s: no error", name)
			}
		}
	}
}

// hostileInputs are small files that claim what they do not hold.
func hostileInputs() map[string][]byte {
	good := hardenedPIE().build()
	shoff := le.Uint64(good[40:])
	sh := func(i int) int { return int(shoff) + 64*i } // section header i
	mut := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	return map[string][]byte{
		"truncated-ident.elf":  good[:10],
		"truncated-header.elf": good[:40],
		"truncated-phdrs.elf":  good[:100],
		"bad-class.elf":        mut(func(b []byte) { b[elf.EI_CLASS] = 9 }),
		"huge-shnum-extended.elf": mut(func(b []byte) {
			le.PutUint16(b[60:], 0)
			le.PutUint64(b[sh(0)+32:], 1<<40) // section 0's sh_size holds the count
		}),
		"huge-phnum.elf":            mut(func(b []byte) { le.PutUint16(b[56:], 0xffff) }),
		"phoff-past-end.elf":        mut(func(b []byte) { le.PutUint64(b[32:], 1<<62) }),
		"shstrndx-out-of-range.elf": mut(func(b []byte) { le.PutUint16(b[62:], 999) }),
		"dynsym-huge-size.elf":      mut(func(b []byte) { le.PutUint64(b[sh(2)+32:], 1<<40) }),
		"dynsym-bad-link.elf":       mut(func(b []byte) { le.PutUint32(b[sh(2)+40:], 200) }),
		"dynamic-huge.elf": mut(func(b []byte) {
			// PT_DYNAMIC is the last of four program headers; its filesz.
			le.PutUint64(b[64+56*3+32:], 1<<40)
		}),
		"interp-huge.elf": mut(func(b []byte) { le.PutUint64(b[64+32:], 1<<40) }),
		// The reviewer's big inputs, small (TestAllocationBounded makes
		// them full size).
		"many-interp.elf": manyInterp(64),
		"overlapping-symtabs.elf": func() []byte {
			f := overlapping(4096)
			b := make([]byte, f.size)
			f.ReadAt(b, 0)
			return b
		}(),
		// Section headers stripped (sstrip): the program headers still
		// decide NX, PIE and RELRO; the symbols cannot be found.
		"no-section-headers.elf": mut(func(b []byte) {
			le.PutUint64(b[40:], 0) // e_shoff
			le.PutUint16(b[60:], 0) // e_shnum
			le.PutUint16(b[62:], 0) // e_shstrndx
		}),
		// A runnable PIE (its R E PT_LOAD maps file bytes) with an RWE
		// stack whose .text section header claims SHT_NOBITS, as a
		// separate debug file's does: the forged section header must not
		// hide the executable stack.
		"text-nobits-execstack.elf": func() []byte {
			s := hardenedPIE()
			s.stack = elf.PF_R | elf.PF_W | elf.PF_X
			s.loads = []load{{elf.PF_R | elf.PF_X, 0x200, 0x200}}
			s.nobitsText = true
			return s.build()
		}(),
		"names-past-strtab.elf": mut(func(b []byte) {
			off, size := le.Uint64(b[sh(2)+24:]), le.Uint64(b[sh(2)+32:])
			for i := off + 24; i+24 <= off+size; i += 24 {
				le.PutUint32(b[i:], 0xffffffff)
			}
		}),
	}
}

func TestWriteHostile(t *testing.T) {
	if os.Getenv("KENSA_ELFSEC_WRITE_HOSTILE") == "" {
		t.Skip("set KENSA_ELFSEC_WRITE_HOSTILE=1 to rewrite testdata/hostile")
	}
	if err := os.MkdirAll("testdata/hostile", 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range hostileInputs() {
		if err := os.WriteFile(filepath.Join("testdata/hostile", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestChkFunctionsMatchLibc compares the embedded list of checked
// functions with the running system's glibc (the list checksec reads).
func TestChkFunctionsMatchLibc(t *testing.T) {
	host := hostLibcChk(t)
	for n := range host {
		if _, ok := chkFunctions[n]; !ok {
			t.Errorf("host libc has __%s; the embedded list does not", n)
		}
	}
	for n := range chkFunctions {
		if !host[n] {
			t.Logf("embedded __%s is not in the host libc (an older glibc?)", n)
		}
	}
}

func gccBuild(t *testing.T, src string, args ...string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed: the compiled C cases need it (apt-get install gcc)")
	}
	dir := t.TempDir()
	c := filepath.Join(dir, "t.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "t.out")
	cmd := exec.Command(gcc, append(append([]string{"-o", out}, args...), c)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", args, err, b)
	}
	return out
}

const cSource = `#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
	char buf[16];
	strcpy(buf, argv[0]);
	printf("%s %d\n", buf, argc);
	return 0;
}
`

func TestGCC(t *testing.T) {
	t.Run("weak", func(t *testing.T) {
		p := gccBuild(t, cSource, "-z", "execstack", "-fno-stack-protector", "-no-pie", "-Wl,-z,norelro", "-O0")
		r, err := analyzeFile(p)
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, want{Executable, Fail, Fail, Fail, Fail, RELRONone, Fail, LangUnknown, false, map[string]string{
			"nx": "PT_GNU_STACK is executable", "pie": "ET_EXEC", "relro": "no PT_GNU_RELRO", "fortify": "strcpy"}})
	})
	t.Run("hardened", func(t *testing.T) {
		p := gccBuild(t, cSource, "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-O2", "-fPIE", "-pie", "-Wl,-z,relro,-z,now")
		r, err := analyzeFile(p)
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, want{Executable, Pass, Pass, Pass, Pass, RELROFull, Pass, LangUnknown, false, map[string]string{
			"canary": "imports __stack_chk_fail", "pie": "DF_1_PIE", "fortify": "__strcpy_chk"}})
	})
	t.Run("shared object", func(t *testing.T) {
		p := gccBuild(t, "int f(int x) { return x + 1; }\n", "-shared", "-fPIC", "-Wl,-z,relro", "-Wl,-z,lazy", "-Wl,-soname,libt.so.1")
		r, err := analyzeFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != SharedObject || r.PIE.Status != NotApplicable || r.RELRO.Level != RELROPartial || r.NX.Status != Pass {
			t.Errorf("%+v", r)
		}
	})
}

func TestGoBinary(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/hello\n\ngo 1.21\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n"), 0o644)
	for _, stripped := range []bool{false, true} {
		out := filepath.Join(dir, "hello")
		args := []string{"build", "-o", out}
		if stripped {
			args = append(args, "-ldflags=-s -w")
		}
		cmd := exec.Command(goTool, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOOS=linux")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, b)
		}
		r, err := analyzeFile(out)
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, want{Executable, Pass, NotApplicable, Fail, NotApplicable, RELRONone, NotApplicable, LangGo, true, map[string]string{
			"canary": "Go binary: Go checks stack bounds", "toolchain": ".go.buildinfo"}})
	}
}

// TestDebugFile: a separate debug file is recognised by its program
// headers (executable PT_LOAD with p_filesz 0), with or without a NOBITS
// .text; a NOBITS .text alone does not make one.
func TestDebugFile(t *testing.T) {
	for _, c := range []struct {
		name   string
		loads  []load
		nobits bool
		debug  bool
	}{
		{"objcopy --only-keep-debug", []load{{elf.PF_R, 0x100, 0x100}, {elf.PF_R | elf.PF_X, 0, 0x1000}}, true, true},
		{"exec PT_LOAD without file bytes, no section hint", []load{{elf.PF_R | elf.PF_X, 0, 0x1000}}, false, true},
		{"NOBITS .text, code in the file", []load{{elf.PF_R | elf.PF_X, 0x200, 0x200}}, true, false},
		{"one exec PT_LOAD empty, another with code", []load{{elf.PF_R | elf.PF_X, 0, 0x1000}, {elf.PF_R | elf.PF_X, 0x200, 0x200}}, true, false},
		{"no PT_LOAD", nil, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := hardenedPIE()
			s.stack = elf.PF_R | elf.PF_W | elf.PF_X
			s.loads, s.nobitsText = c.loads, c.nobits
			r := analyzeBytes(t, s.build())
			if r.DebugInfo != c.debug {
				t.Fatalf("DebugInfo %v, want %v", r.DebugInfo, c.debug)
			}
			if c.debug && (r.Kind != Other || r.NX.Status != NotApplicable) {
				t.Errorf("debug file: %+v", r)
			}
			if !c.debug && (r.Kind != Executable || r.NX.Status != Fail) {
				t.Errorf("runnable file: kind %s NX %s", r.Kind, r.NX.Status)
			}
		})
	}
}
