package elfsec

// The oracle test: Debian's checksec 2.6.0 over every ELF file in /usr/bin
// and /usr/lib, property by property. A disagreement fails the test unless
// a rule below explains it; each rule is documented in docs/elfsec.md and
// checked on the file itself (not assumed).
//
// Environment:
//
//	KENSA_ELFSEC_ORACLE=all        every file (default: a deterministic quarter
//	                               of them, to stay near 30 s on 2 CPUs)
//	KENSA_CHECKSEC_RESULTS=FILE    checksec's JSON lines, one file per line,
//	                               from bench/elfsec-checksec.sh, instead of
//	                               running checksec here

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var oracleRoots = []string{"/usr/bin", "/usr/lib"}

// checksecResult is one file's line of `checksec --format=json --file=F`.
type checksecResult struct {
	RELRO       string `json:"relro"`
	Canary      string `json:"canary"`
	NX          string `json:"nx"`
	PIE         string `json:"pie"`
	Fortify     string `json:"fortify_source"`
	Fortified   string `json:"fortified"`
	Fortifiable string `json:"fortify-able"`
}

// elfFiles lists the regular files under roots that start with the ELF
// magic, without following links.
func elfFiles(t testing.TB, roots ...string) []string {
	var files []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return nil
			}
			var magic [4]byte
			n, _ := f.Read(magic[:])
			f.Close()
			if n == 4 && string(magic[:]) == elf.ELFMAG {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(files)
	return files
}

func parseChecksec(out []byte) (map[string]checksecResult, error) {
	m := map[string]checksecResult{}
	if err := json.Unmarshal(bytes.TrimSpace(out), &m); err != nil {
		return nil, fmt.Errorf("checksec output %q: %w", out, err)
	}
	return m, nil
}

func runChecksec(ctx context.Context, files []string) (map[string]checksecResult, map[string]error) {
	res := map[string]checksecResult{}
	errs := map[string]error{}
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for range max(runtime.NumCPU(), 2) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				out, err := exec.CommandContext(ctx, "checksec", "--format=json", "--file="+p).Output()
				var m map[string]checksecResult
				if err == nil {
					m, err = parseChecksec(out)
				}
				mu.Lock()
				if r, ok := m[p]; ok {
					res[p] = r
				} else if err != nil {
					errs[p] = err
				} else {
					errs[p] = fmt.Errorf("checksec output names no %s", p)
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range files {
		work <- p
	}
	close(work)
	wg.Wait()
	return res, errs
}

func loadChecksec(t *testing.T, name string) map[string]checksecResult {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res := map[string]checksecResult{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m, err := parseChecksec(sc.Bytes()); err == nil {
			for k, v := range m {
				res[k] = v
			}
		}
	}
	return res
}

func analyzeFile(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Analyze(f, fi.Size())
}

// tally counts agreement per property and each explained disagreement.
type tally struct {
	agree     map[string]int
	explained map[string]map[string][]string // property → class → files
}

func (ta *tally) add(prop, class, file string) {
	if class == "" {
		ta.agree[prop]++
		return
	}
	if ta.explained[prop] == nil {
		ta.explained[prop] = map[string][]string{}
	}
	ta.explained[prop][class] = append(ta.explained[prop][class], file)
}

func TestChecksecOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("the checksec oracle runs checksec over /usr; skipped in -short")
	}
	var cs map[string]checksecResult
	files := elfFiles(t, oracleRoots...)
	if len(files) == 0 {
		t.Skip("no ELF files under /usr/bin and /usr/lib")
	}
	all := os.Getenv("KENSA_ELFSEC_ORACLE") == "all"
	if !all {
		var sample []string
		for _, p := range files {
			h := fnv.New32a()
			h.Write([]byte(p))
			if h.Sum32()%4 == 0 {
				sample = append(sample, p)
			}
		}
		files = sample
	}
	if name := os.Getenv("KENSA_CHECKSEC_RESULTS"); name != "" {
		cs = loadChecksec(t, name)
	} else {
		if _, err := exec.LookPath("checksec"); err != nil {
			t.Skip("checksec not installed (apt-get install checksec; scripts/test.sh installs it as root)")
		}
		if _, err := exec.LookPath("readelf"); err != nil {
			t.Skip("readelf (binutils) not installed; checksec needs it")
		}
		start := time.Now()
		var errs map[string]error
		cs, errs = runChecksec(t.Context(), files)
		for p, err := range errs {
			t.Errorf("checksec %s: %v", p, err)
		}
		t.Logf("checksec over %d files took %v", len(files), time.Since(start).Round(time.Millisecond))
	}
	libcChk := hostLibcChk(t)

	ta := &tally{agree: map[string]int{}, explained: map[string]map[string][]string{}}
	compared := 0
	for _, p := range files {
		want, ok := cs[p]
		if !ok {
			if os.Getenv("KENSA_CHECKSEC_RESULTS") != "" {
				t.Errorf("%s: not in %s", p, os.Getenv("KENSA_CHECKSEC_RESULTS"))
			}
			continue
		}
		got, err := analyzeFile(p)
		if errors.Is(err, ErrTooLarge) {
			// Refused, with the cap named: not a wrong verdict.
			ta.add("analyze", "refused: past a documented cap", p)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		compared++
		facts, err := readFacts(p, libcChk)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		for _, c := range compareOne(got, want, facts) {
			if c.class == unexplained {
				t.Errorf("%s: %s: checksec says %q, we say %s (%s)", p, c.prop, c.checksec, c.ours, c.reason)
			}
			ta.add(c.prop, c.class, p)
		}
	}
	if compared == 0 {
		t.Fatal("no file compared")
	}
	t.Logf("compared %d ELF files (of %s)", compared, strings.Join(oracleRoots, ", "))
	for _, prop := range []string{"analyze", "relro", "canary", "nx", "pie", "fortify_source", "fortified", "fortify-able"} {
		n := 0
		for _, fs := range ta.explained[prop] {
			n += len(fs)
		}
		t.Logf("%-14s agree %d/%d (%.1f %%), explained disagreements %d", prop, ta.agree[prop], compared, 100*float64(ta.agree[prop])/float64(compared), n)
		var classes []string
		for c := range ta.explained[prop] {
			classes = append(classes, c)
		}
		sort.Strings(classes)
		for _, c := range classes {
			fs := ta.explained[prop][c]
			ex := fs[:min(3, len(fs))]
			t.Logf("    %-34s %5d  e.g. %s", c, len(fs), strings.Join(ex, " "))
		}
	}
}

// facts are what the explanations need to know about a file, read here with
// debug/elf independently of Analyze.
type facts struct {
	dtDebug bool
	// PT_GNU_STACK as checksec sees it: readelf -l | grep GNU_STACK |
	// grep RWE, so "no" only for a missing header or one (any one) whose
	// flags are exactly RWE. firstStack: the flags of the first one (the
	// kernel's), stacks: how many.
	csNX       string
	firstStack elf.ProgFlag
	stacks     int
	// checksec's FORTIFY model: every .dynsym name (defined or imported,
	// any type), leading underscores removed, matched against the host
	// libc's __*_chk@@ list.
	csFortified, csUnfortified int
	csAnyChk                   bool
	// The same counted over imported functions only, as Analyze does.
	imFortified, imUnfortified int
}

const unexplained = "UNEXPLAINED"

func hostLibcChk(t *testing.T) map[string]bool {
	for _, p := range []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6", "/lib/libc.so.6", "/lib64/libc.so.6"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		defer f.Close()
		syms, err := f.DynamicSymbols()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, s := range syms {
			// checksec: sed 's/.*__\(.*_chk\)@@.*/\1/p' over readelf -s, so the
			// default (@@) version of a name ending in _chk with "__" in it.
			if strings.HasSuffix(s.Name, "_chk") && strings.Contains(s.Name, "__") && s.Section != elf.SHN_UNDEF && !(s.HasVersion && s.VersionIndex.IsHidden()) {
				m[s.Name[strings.LastIndex(s.Name, "__")+2:]] = true
			}
		}
		return m
	}
	t.Skip("no glibc libc.so.6 found; checksec needs one")
	return nil
}

func readFacts(path string, libcChk map[string]bool) (facts, error) {
	var fa facts
	f, err := elf.Open(path)
	if err != nil {
		return fa, err
	}
	defer f.Close()
	if v, err := f.DynValue(elf.DT_DEBUG); err == nil && len(v) > 0 {
		fa.dtDebug = true
	}
	fa.csNX = "no"
	rwe := false
	for _, p := range f.Progs {
		if p.Type != elf.PT_GNU_STACK {
			continue
		}
		if fa.stacks == 0 {
			fa.firstStack = p.Flags
		}
		fa.stacks++
		if p.Flags&(elf.PF_R|elf.PF_W|elf.PF_X) == elf.PF_R|elf.PF_W|elf.PF_X {
			rwe = true
		}
	}
	if fa.stacks > 0 && !rwe {
		fa.csNX = "yes"
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return fa, nil // no .dynsym
	}
	for _, s := range syms {
		base := strings.TrimLeft(s.Name, "_")
		if strings.HasSuffix(base, "_chk") {
			fa.csAnyChk = true
		}
		imported := s.Section == elf.SHN_UNDEF && (elf.ST_TYPE(s.Info) == elf.STT_FUNC || elf.ST_TYPE(s.Info) == elf.STT_NOTYPE)
		if libcChk[base] {
			fa.csFortified++
			if imported {
				fa.imFortified++
			}
		} else if libcChk[base+"_chk"] {
			fa.csUnfortified++
			if imported {
				fa.imUnfortified++
			}
		}
	}
	return fa, nil
}

type comparison struct {
	prop, checksec, ours, reason, class string
}

// compareOne compares one file's results. class "" is agreement; an
// explained disagreement names its rule; unexplained fails the test.
func compareOne(got *Result, want checksecResult, fa facts) []comparison {
	var out []comparison
	add := func(prop, cs, ours, reason, class string, st Status) {
		if class == unexplained && st == Unknown {
			// checksec never says unknown: ours is Unknown only when a
			// table could not be read, and Notes says which and why.
			notes := strings.Join(got.Notes, "; ")
			switch {
			case strings.Contains(notes, "(cap "), strings.Contains(reason, "cap"):
				class = "unknown: a table past a documented cap"
			case strings.Contains(reason, "no section headers"):
				class = "unknown: no section headers"
			case len(got.Notes) > 0:
				class = "unknown: a table could not be read (noted)"
			}
		}
		if class == unexplained && got.Kind == Other && got.Type != elf.ET_REL.String() && (st == NotApplicable || prop == "relro") {
			// A core dump or other non-loadable type: checksec still
			// reads its headers (pie "not_elf").
			class = "not loaded: not applicable"
		}
		if class != "" && got.DebugInfo && got.NX.Status == NotApplicable && got.StackProtector.Status == NotApplicable &&
			got.PIE.Status == NotApplicable && got.RELRO.Status == NotApplicable && got.Fortify.Status == NotApplicable {
			// checksec judges /usr/lib/debug files by the headers they
			// keep; they are never run.
			class = "separate debug information file"
		}
		out = append(out, comparison{prop, cs, ours, reason, class})
	}
	lang, static := got.Toolchain.Language, got.Toolchain.Static

	// RELRO: checksec's level (no, partial, full) against ours.
	{
		cs := map[string]RELROLevel{"no": RELRONone, "partial": RELROPartial, "full": RELROFull}[want.RELRO]
		class := ""
		if cs != got.RELRO.Level {
			class = unexplained
			if cs == RELROPartial && got.RELRO.Level == RELROFull && strings.HasSuffix(got.RELRO.Reason, "DF_1_NOW") {
				// checksec greps readelf -d for "BIND_NOW", which DF_1_NOW
				// alone prints as "Flags: NOW".
				class = "DF_1_NOW alone is full"
			}
		}
		add("relro", want.RELRO, string(got.RELRO.Level), got.RELRO.Reason, class, got.RELRO.Status)
	}

	// Stack protector.
	{
		s := got.StackProtector.Status
		class := unexplained
		switch {
		case want.Canary == "yes" && s == Pass, want.Canary == "no" && s == Fail:
			class = ""
		case want.Canary == "no" && s == NotApplicable && lang == LangGo:
			class = "Go: not applicable"
		case want.Canary == "no" && s == NotApplicable && lang == LangRust:
			class = "Rust: not applicable"
		case want.Canary == "no" && s == NotApplicable && static:
			class = "static: not applicable"
		}
		add("canary", want.Canary, string(s), got.StackProtector.Reason, class, s)
	}

	// NX.
	{
		s := got.NX.Status
		class := unexplained
		switch {
		case want.NX == "yes" && s == Pass, want.NX == "no" && s == Fail:
			class = ""
		case want.NX == "no" && s == NotApplicable && got.Kind == Other && got.Type == elf.ET_REL.String():
			class = "object file: not applicable"
		case want.NX == "yes" && s == Fail && fa.csNX == "yes" && fa.firstStack&elf.PF_X != 0:
			// checksec greps for "RWE": an R E (or --E) stack is
			// executable all the same; we keep fail.
			class = "checksec only flags RWE stacks"
		case want.NX == "no" && s == Pass && fa.csNX == "no" && fa.stacks > 1 && fa.firstStack&elf.PF_X == 0:
			// The kernel (and we) use the first PT_GNU_STACK; checksec
			// flags an RWE one anywhere.
			class = "checksec reads a later PT_GNU_STACK"
		}
		add("nx", want.NX, string(s), got.NX.Reason, class, s)
	}

	// PIE: checksec yes/no/dso/rel.
	{
		s := got.PIE.Status
		class := unexplained
		switch {
		case want.PIE == "yes" && s == Pass,
			want.PIE == "no" && s == Fail,
			want.PIE == "dso" && s == NotApplicable && got.Kind == SharedObject,
			want.PIE == "rel" && s == NotApplicable && got.Kind == Other:
			class = ""
		case want.PIE == "dso" && s == Pass && !fa.dtDebug:
			// checksec calls ET_DYN a PIE only with DT_DEBUG.
			class = "PIE without DT_DEBUG"
		case want.PIE == "yes" && s == NotApplicable && got.Kind == SharedObject && fa.dtDebug:
			class = "library with DT_DEBUG"
		}
		add("pie", want.PIE, string(s)+"/"+string(got.Kind), got.PIE.Reason, class, s)
	}

	// FORTIFY: checksec's yes/no and its two counts.
	{
		s := got.Fortify.Status
		class := unexplained
		switch {
		case want.Fortify == "yes" && s == Pass, want.Fortify == "no" && s == Fail:
			class = ""
		case want.Fortify == "no" && s == NotApplicable:
			class = "nothing fortifiable imported"
			switch {
			case lang == LangGo:
				class = "Go: not applicable"
			case lang == LangRust:
				class = "Rust: not applicable"
			case static:
				class = "static: not applicable"
			case got.Kind == Other:
				class = "object file: not applicable"
			case got.Fortify.UnfortifiedCount != 0:
				class = unexplained
			}
		case want.Fortify == "yes" && s != Pass && fa.csAnyChk && fa.imFortified == 0:
			class = "checksec counts defined _chk symbols"
		}
		add("fortify_source", want.Fortify, string(s), got.Fortify.Reason, class, s)

		// Counts: checksec's model (every .dynsym name) must reproduce
		// checksec's numbers, and ours must equal the imports-only count.
		csF, _ := strconv.Atoi(want.Fortified)
		csT, _ := strconv.Atoi(want.Fortifiable)
		for _, c := range []struct {
			prop               string
			cs, model, im, got int
		}{
			{"fortified", csF, fa.csFortified, fa.imFortified, got.Fortify.FortifiedCount},
			{"fortify-able", csT, fa.csFortified + fa.csUnfortified, fa.imFortified + fa.imUnfortified, got.Fortify.FortifiedCount + got.Fortify.UnfortifiedCount},
		} {
			class := unexplained
			switch {
			case c.cs == c.got:
				class = ""
			case c.cs == c.model && c.im == c.got:
				class = "checksec counts defined symbols"
			}
			st := Status("")
			if class == unexplained && s == Unknown {
				st = Unknown // the counts are those of a table not read
			}
			add(c.prop, strconv.Itoa(c.cs), strconv.Itoa(c.got), fmt.Sprintf("checksec model %d, imports %d", c.model, c.im), class, st)
		}
	}
	return out
}

// TestOracleClasses checks the explained classes that /usr may not hold
// today but a CI machine with other packages could.
func TestOracleClasses(t *testing.T) {
	agreeing := func(*Result) checksecResult {
		return checksecResult{RELRO: "full", Canary: "yes", NX: "yes", PIE: "yes", Fortify: "yes", Fortified: "1", Fortifiable: "2"}
	}
	classOf := func(cs []comparison, prop string) string {
		for _, c := range cs {
			if c.prop == prop {
				return c.class
			}
		}
		return "missing"
	}
	fa := facts{dtDebug: true, csNX: "yes", firstStack: elf.PF_R | elf.PF_X, stacks: 1, csFortified: 1, csUnfortified: 1, csAnyChk: true, imFortified: 1, imUnfortified: 1}

	s := hardenedPIE()
	s.stack = elf.PF_R | elf.PF_X
	r := analyzeBytes(t, s.build())
	if r.NX.Status != Fail {
		t.Fatalf("R E stack: NX %s, want fail", r.NX.Status)
	}
	if c := classOf(compareOne(r, agreeing(r), fa), "nx"); c != "checksec only flags RWE stacks" {
		t.Errorf("R E stack: class %q", c)
	}
	// An RWE stack checksec did see as RWE stays unexplained if we passed.
	r2 := analyzeBytes(t, hardenedPIE().build())
	w := agreeing(r2)
	w.NX = "no"
	if c := classOf(compareOne(r2, w, facts{csNX: "no", firstStack: elf.PF_R | elf.PF_W | elf.PF_X, stacks: 1, csFortified: 1, csUnfortified: 1, csAnyChk: true, imFortified: 1, imUnfortified: 1}), "nx"); c != unexplained {
		t.Errorf("disagreement without a rule: class %q", c)
	}
	// Unknown because of a cap.
	b2, err := os.ReadFile("testdata/hostile/dynsym-huge-size.elf")
	if err != nil {
		t.Fatal(err)
	}
	r3 := analyzeBytes(t, b2)
	if c := classOf(compareOne(r3, agreeing(r3), fa), "canary"); c != "unknown: a table past a documented cap" {
		t.Errorf("canary unknown past a cap: class %q (%s; notes %v)", c, r3.StackProtector.Reason, r3.Notes)
	}
}
