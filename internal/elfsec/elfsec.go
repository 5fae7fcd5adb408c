// Package elfsec judges the exploit mitigations of one ELF file: NX, stack
// protector, PIE, RELRO and FORTIFY, with the toolchain facts (Go, Rust,
// static) that decide whether a property applies at all.
//
// Analyze is pure: it reads only the io.ReaderAt it is given (so a file can
// come through internal/hostfs), follows nothing, and reads every table with
// a cap (Max* below) and at most MaxReadBytes in all per call; a hostile
// file is refused or reported as incomplete rather than believed. Each
// property carries the evidence that decided it.
//
// The rules are those of Debian's checksec 2.6.0 (its test oracle), with
// documented differences where checksec's answer is misleading: Go, Rust and
// static binaries are not_applicable for stack cookies instead of "No canary
// found", DF_1_NOW alone is full RELRO, and FORTIFY counts imports only.
package elfsec

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Caps on what Analyze reads from a file. A table larger than its cap is
// not read; the properties it would decide become unknown, with the reason.
const (
	// MaxSections is the most section headers read (relocatable objects
	// with -ffunction-sections have tens of thousands; linked files, few).
	MaxSections = 1 << 17
	// MaxHeaderBytes is the most the ELF reader itself may read (program
	// and section headers and the section name table).
	MaxHeaderBytes = 32 << 20
	// MaxSymbolTableBytes caps one symbol table (.dynsym or .symtab).
	MaxSymbolTableBytes = 64 << 20
	// MaxStringTableBytes caps the string table of one symbol table.
	MaxStringTableBytes = 64 << 20
	// MaxDynamicBytes caps the dynamic section (a few hundred bytes in
	// practice).
	MaxDynamicBytes = 1 << 20
	// MaxCommentBytes caps the .comment section read for toolchain names.
	MaxCommentBytes = 64 << 10
	// MaxInterpBytes caps the PT_INTERP path.
	MaxInterpBytes = 4096
	// MaxReadBytes is the most one Analyze call reads into memory in all:
	// headers and every table together (each also under its own cap), so
	// a file whose tables overlap or repeat cannot multiply the cost.
	MaxReadBytes = 128 << 20
	// MaxListed is the most function names listed per FORTIFY list (the
	// counts are always complete).
	MaxListed = 64
)

// ErrNotELF is returned for input that does not start with the ELF magic.
var ErrNotELF = errors.New("elfsec: not an ELF file")

// ErrTooLarge is wrapped by the error for a file whose headers are past one
// of the caps above (MaxSections, MaxHeaderBytes): it is refused, not
// misjudged.
var ErrTooLarge = errors.New("past a documented cap")

// Status is the verdict on one property.
type Status string

const (
	Pass          Status = "pass"
	Fail          Status = "fail"
	NotApplicable Status = "not_applicable"
	Unknown       Status = "unknown"
)

// Kind says what the file is for.
type Kind string

const (
	Executable   Kind = "executable"    // ET_EXEC, or a PIE
	SharedObject Kind = "shared_object" // ET_DYN that is not a PIE
	Other        Kind = "other"         // relocatable object, core dump, ...
)

// Language is the toolchain detected, when it changes what applies.
type Language string

const (
	LangGo      Language = "go"
	LangRust    Language = "rust"
	LangUnknown Language = "unknown" // C, C++ or anything not recognised
)

// RELROLevel is checksec's RELRO answer.
type RELROLevel string

const (
	RELRONone    RELROLevel = "none"
	RELROPartial RELROLevel = "partial"
	RELROFull    RELROLevel = "full"
)

// Check is one property's verdict and the evidence that decided it.
type Check struct {
	Status Status `json:"status"`
	Reason string `json:"reason"`
}

// RELRO adds the level to the verdict.
type RELRO struct {
	Check
	Level RELROLevel `json:"level"`
}

// Fortify adds what was counted. Fortified are the imported __*_chk
// functions of glibc; Unfortified the imported plain functions glibc has a
// checked variant of (a fortified build still calls some of them where the
// compiler proved the size safe).
type Fortify struct {
	Check
	Fortified        []string `json:"fortified,omitempty"`
	FortifiedCount   int      `json:"fortified_count"`
	Unfortified      []string `json:"unfortified,omitempty"`
	UnfortifiedCount int      `json:"unfortified_count"`
}

// Toolchain is what the file was built with, as far as it decides which
// properties apply.
type Toolchain struct {
	Language Language `json:"language"`
	// Static: no PT_INTERP and no DT_NEEDED (nothing is dynamically linked).
	Static bool   `json:"static"`
	Reason string `json:"reason"`
}

// Result is the analysis of one ELF file. It is plain data, JSON-serialisable.
type Result struct {
	Kind        Kind      `json:"kind"`
	Type        string    `json:"elf_type"` // ET_EXEC, ET_DYN, ...
	Class       string    `json:"class"`    // ELFCLASS32, ELFCLASS64
	Machine     string    `json:"machine"`  // EM_X86_64, ...
	Interpreter string    `json:"interpreter,omitempty"`
	Toolchain   Toolchain `json:"toolchain"`

	NX             Check   `json:"nx"`
	StackProtector Check   `json:"stack_protector"`
	PIE            Check   `json:"pie"`
	RELRO          RELRO   `json:"relro"`
	Fortify        Fortify `json:"fortify"`

	// DebugInfo: a separate debug information file (its executable
	// PT_LOAD segments all have p_filesz 0: no code is in the file); Kind
	// is other and nothing applies.
	DebugInfo bool `json:"debug_info,omitempty"`

	// Notes records what could not be read (a table past its cap, a
	// malformed section) and so made a property less certain.
	Notes []string `json:"notes,omitempty"`
}

// Analyze judges the ELF file of size bytes behind r.
func Analyze(r io.ReaderAt, size int64) (res *Result, err error) {
	if size < 0 {
		return nil, fmt.Errorf("elfsec: negative size %d", size)
	}
	defer func() {
		// debug/elf is hardened, but a parser bug must not take a scan down.
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("elfsec: malformed ELF file (parser panic: %v)", p)
		}
	}()
	sr := io.NewSectionReader(r, 0, size)
	if err := precheck(sr); err != nil {
		return nil, err
	}
	br := &budgetReader{r: sr, left: MaxHeaderBytes}
	f, err := elf.NewFile(br)
	if err != nil {
		if br.exceeded {
			return nil, fmt.Errorf("elfsec: headers larger than the cap of %d bytes: %w", MaxHeaderBytes, ErrTooLarge)
		}
		return nil, fmt.Errorf("elfsec: %w", err)
	}
	a := &analysis{f: f, sr: sr, left: MaxReadBytes - (MaxHeaderBytes - br.left), strIdx: -1, res: &Result{
		Type:    f.Type.String(),
		Class:   f.Class.String(),
		Machine: f.Machine.String(),
	}}
	a.run()
	return a.res, nil
}

// precheck reads the ELF header itself and refuses what debug/elf would
// allocate too much for: more than MaxSections section headers (counting
// the extended count held in section 0).
func precheck(sr *io.SectionReader) error {
	var ident [elf.EI_NIDENT]byte
	if _, err := sr.ReadAt(ident[:], 0); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if bytes.HasPrefix([]byte(elf.ELFMAG), ident[:min(int(sr.Size()), 4)]) && sr.Size() >= 4 {
				return errors.New("elfsec: truncated ELF header")
			}
			return ErrNotELF
		}
		return fmt.Errorf("elfsec: read header: %w", err)
	}
	if string(ident[:4]) != elf.ELFMAG {
		return ErrNotELF
	}
	var bo binary.ByteOrder
	switch elf.Data(ident[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		bo = binary.BigEndian
	default:
		return fmt.Errorf("elfsec: unknown ELF data encoding %d", ident[elf.EI_DATA])
	}
	var shoff uint64
	var shnum int
	var hdr [64]byte
	switch elf.Class(ident[elf.EI_CLASS]) {
	case elf.ELFCLASS32:
		if _, err := sr.ReadAt(hdr[:52], 0); err != nil {
			return errors.New("elfsec: truncated ELF header")
		}
		shoff = uint64(bo.Uint32(hdr[32:]))
		shnum = int(bo.Uint16(hdr[48:]))
	case elf.ELFCLASS64:
		if _, err := sr.ReadAt(hdr[:64], 0); err != nil {
			return errors.New("elfsec: truncated ELF header")
		}
		shoff = bo.Uint64(hdr[40:])
		shnum = int(bo.Uint16(hdr[60:]))
	default:
		return fmt.Errorf("elfsec: unknown ELF class %d", ident[elf.EI_CLASS])
	}
	if shoff > 0 && shnum == 0 {
		// Extended numbering: the count is section 0's sh_size.
		var n uint64
		if elf.Class(ident[elf.EI_CLASS]) == elf.ELFCLASS32 {
			var b [4]byte
			if _, err := sr.ReadAt(b[:], int64(shoff)+20); err == nil && shoff < 1<<62 {
				n = uint64(bo.Uint32(b[:]))
			}
		} else {
			var b [8]byte
			if _, err := sr.ReadAt(b[:], int64(shoff)+32); err == nil && shoff < 1<<62 {
				n = bo.Uint64(b[:])
			}
		}
		if n > MaxSections {
			return fmt.Errorf("elfsec: %d section headers, more than the cap of %d: %w", n, MaxSections, ErrTooLarge)
		}
	}
	return nil
}

// budgetReader fails once more than left bytes have been read through it.
type budgetReader struct {
	r        io.ReaderAt
	left     int64
	exceeded bool
}

func (b *budgetReader) ReadAt(p []byte, off int64) (int, error) {
	if int64(len(p)) > b.left {
		b.exceeded = true
		return 0, fmt.Errorf("headers larger than the cap of %d bytes", MaxHeaderBytes)
	}
	n, err := b.r.ReadAt(p, off)
	b.left -= int64(n)
	return n, err
}

type analysis struct {
	f   *elf.File
	sr  *io.SectionReader
	res *Result

	// left is what remains of MaxReadBytes for this call.
	left int64
	// The string table last read (section strIdx): .dynsym and .symtab
	// may share one (a hostile file makes them), read once.
	strIdx int
	strtab []byte

	// debugInfo: a separate debug information file (objcopy
	// --only-keep-debug): see debugFile.
	debugInfo bool

	// From the program headers.
	hasInterp, hasStack, hasRelro, hasDynamic bool
	stackFlags                                elf.ProgFlag

	// From the dynamic section.
	dynamicRead                    bool
	needed, soname, debug, bindNow bool
	flags, flags1                  uint64
	hasFlags, hasFlags1            bool
	bindNowWhy                     string

	// From the symbol tables.
	dynsymRead, symtabRead, hasSymtab bool
	imports                           int    // undefined symbols in .dynsym
	canary                            string // name and table of the first stack protector symbol
	goSym, rustSym                    string
	fortified, unfortified            []string
	fortifiedN, unfortifiedN          int
}

func (a *analysis) note(format string, args ...any) {
	if len(a.res.Notes) < 32 {
		a.res.Notes = append(a.res.Notes, fmt.Sprintf(format, args...))
	}
}

func (a *analysis) run() {
	a.debugInfo = debugFile(a.f.Progs)
	a.res.DebugInfo = a.debugInfo
	a.progs()
	a.dynamic()
	a.symbols()
	a.kind()
	a.toolchain()
	if a.debugInfo {
		c := Check{NotApplicable, "separate debug information file (its executable PT_LOAD segments hold no bytes of the file): it is never run; judge the binary it belongs to"}
		a.res.NX, a.res.StackProtector, a.res.PIE = c, c, c
		a.res.RELRO = RELRO{c, RELRONone}
		a.res.Fortify.Check = c
		return
	}
	a.nx()
	a.pie()
	a.relro()
	a.stackProtector()
	a.fortify()
}

// debugFile says whether the program headers are those of a separate debug
// information file (objcopy --only-keep-debug): it has executable PT_LOAD
// segments, and every one of them maps nothing of the file (p_filesz 0, so
// the code would be zeroes). It is decided from the program headers only,
// the ones the kernel reads: a section header (a .text marked SHT_NOBITS)
// costs nothing to forge and must not hide the NX, PIE or RELRO of a file
// that runs.
func debugFile(progs []*elf.Prog) bool {
	exec := false
	for _, p := range progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 {
			continue
		}
		if p.Filesz != 0 || p.Memsz == 0 {
			return false
		}
		exec = true
	}
	return exec
}

func (a *analysis) progs() {
	for _, p := range a.f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			// Only the first PT_INTERP is read (the kernel refuses more
			// than one): 65,535 of them cost one read, not 65,535.
			if !a.hasInterp && p.Filesz > 0 && p.Filesz <= MaxInterpBytes {
				if b, err := a.read(p.Off, p.Filesz); err == nil {
					a.res.Interpreter = strings.ToValidUTF8(string(bytes.TrimRight(b, "\x00")), "\uFFFD")
				}
			}
			a.hasInterp = true
		case elf.PT_GNU_STACK:
			if !a.hasStack { // the kernel and readelf use the first
				a.hasStack, a.stackFlags = true, p.Flags
			}
		case elf.PT_GNU_RELRO:
			a.hasRelro = true
		case elf.PT_DYNAMIC:
			a.hasDynamic = true
		}
	}
}

// dynamic reads the dynamic array from PT_DYNAMIC (as the loader and
// readelf do), or from the SHT_DYNAMIC section when there is no segment.
func (a *analysis) dynamic() {
	var off, n uint64
	found := false
	for _, p := range a.f.Progs {
		if p.Type == elf.PT_DYNAMIC {
			off, n, found = p.Off, p.Filesz, true
			break
		}
	}
	if !found {
		if s := a.f.SectionByType(elf.SHT_DYNAMIC); s != nil && s.Type != elf.SHT_NOBITS {
			off, n, found = s.Offset, s.Size, true
		}
	}
	if !found {
		return
	}
	a.hasDynamic = true
	if n > MaxDynamicBytes {
		a.note("dynamic section of %d bytes not read (cap %d)", n, MaxDynamicBytes)
		return
	}
	b, err := a.read(off, n)
	if err != nil {
		a.note("dynamic section: %v", err)
		return
	}
	a.dynamicRead = true
	bo := a.f.ByteOrder
	entsz := 16
	if a.f.Class == elf.ELFCLASS32 {
		entsz = 8
	}
	for i := 0; i+entsz <= len(b); i += entsz {
		var tag elf.DynTag
		var val uint64
		if entsz == 16 {
			tag, val = elf.DynTag(int64(bo.Uint64(b[i:]))), bo.Uint64(b[i+8:])
		} else {
			tag, val = elf.DynTag(int32(bo.Uint32(b[i:]))), uint64(bo.Uint32(b[i+4:]))
		}
		switch tag {
		case elf.DT_NULL:
			return
		case elf.DT_NEEDED:
			a.needed = true
		case elf.DT_SONAME:
			a.soname = true
		case elf.DT_DEBUG:
			a.debug = true
		case elf.DT_BIND_NOW:
			a.bindNow = true
			if a.bindNowWhy == "" {
				a.bindNowWhy = "DT_BIND_NOW"
			}
		case elf.DT_FLAGS:
			a.hasFlags, a.flags = true, a.flags|val
			if val&uint64(elf.DF_BIND_NOW) != 0 && a.bindNowWhy == "" {
				a.bindNow, a.bindNowWhy = true, "DT_FLAGS has DF_BIND_NOW"
			}
		case elf.DT_FLAGS_1:
			a.hasFlags1, a.flags1 = true, a.flags1|val
			if val&uint64(elf.DF_1_NOW) != 0 && a.bindNowWhy == "" {
				a.bindNow, a.bindNowWhy = true, "DT_FLAGS_1 has DF_1_NOW"
			}
		}
	}
}

// read reads n bytes at off, within the file and within what is left of
// MaxReadBytes for this call.
func (a *analysis) read(off, n uint64) ([]byte, error) {
	sr := a.sr
	if off > uint64(sr.Size()) || n > uint64(sr.Size())-off {
		return nil, fmt.Errorf("%d bytes at offset %d are past the end of the file (%d bytes)", n, off, sr.Size())
	}
	if n > uint64(max(a.left, 0)) {
		return nil, fmt.Errorf("%d bytes not read: past the read budget of one file (cap %d bytes in all)", n, MaxReadBytes)
	}
	a.left -= int64(n)
	b := make([]byte, n)
	if _, err := sr.ReadAt(b, int64(off)); err != nil {
		return nil, err
	}
	return b, nil
}

func (a *analysis) pieFlag() bool { return a.hasFlags1 && a.flags1&uint64(elf.DF_1_PIE) != 0 }

func (a *analysis) kind() {
	if a.debugInfo {
		a.res.Kind = Other
		return
	}
	switch a.f.Type {
	case elf.ET_EXEC:
		a.res.Kind = Executable
	case elf.ET_DYN:
		if a.pieFlag() || (a.hasInterp && !a.soname) {
			a.res.Kind = Executable
		} else {
			a.res.Kind = SharedObject
		}
	default:
		a.res.Kind = Other
	}
}

func (a *analysis) nx() {
	r := &a.res.NX
	switch {
	case a.res.Kind == Other:
		*r = Check{NotApplicable, fmt.Sprintf("%s is not loaded as a program or library", a.f.Type)}
	case !a.hasStack:
		*r = Check{Fail, "no PT_GNU_STACK: the stack is executable on most architectures (x86-64 Linux 5.8 and later is an exception for executables)"}
	case a.stackFlags&elf.PF_X != 0:
		*r = Check{Fail, fmt.Sprintf("PT_GNU_STACK is executable (%s)", progFlags(a.stackFlags))}
	default:
		*r = Check{Pass, fmt.Sprintf("PT_GNU_STACK is not executable (%s)", progFlags(a.stackFlags))}
	}
}

func progFlags(f elf.ProgFlag) string {
	s := []byte("---")
	if f&elf.PF_R != 0 {
		s[0] = 'R'
	}
	if f&elf.PF_W != 0 {
		s[1] = 'W'
	}
	if f&elf.PF_X != 0 {
		s[2] = 'E'
	}
	return string(s)
}

func (a *analysis) pie() {
	r := &a.res.PIE
	switch a.f.Type {
	case elf.ET_EXEC:
		*r = Check{Fail, "ET_EXEC: loaded at a fixed address"}
	case elf.ET_DYN:
		switch {
		case a.pieFlag():
			*r = Check{Pass, "ET_DYN with DT_FLAGS_1 DF_1_PIE"}
		case a.hasInterp && !a.soname:
			*r = Check{Pass, "ET_DYN with PT_INTERP and no DT_SONAME"}
		case a.hasInterp:
			*r = Check{NotApplicable, "shared object (DSO) that can also run: ET_DYN with PT_INTERP and a DT_SONAME, no DF_1_PIE"}
		default:
			*r = Check{NotApplicable, "shared object (DSO): ET_DYN without PT_INTERP or DF_1_PIE; position independence is not a question for a library"}
		}
	default:
		*r = Check{NotApplicable, fmt.Sprintf("%s is not loaded as a program", a.f.Type)}
	}
}

func (a *analysis) relro() {
	r := &a.res.RELRO
	switch {
	case a.res.Kind == Other:
		*r = RELRO{Check{NotApplicable, fmt.Sprintf("%s is not loaded as a program or library", a.f.Type)}, RELRONone}
	case a.hasRelro && a.bindNow:
		*r = RELRO{Check{Pass, "PT_GNU_RELRO and " + a.bindNowWhy}, RELROFull}
	case a.hasRelro && a.hasDynamic && !a.dynamicRead:
		*r = RELRO{Check{Unknown, "PT_GNU_RELRO, but the dynamic section could not be read to look for BIND_NOW"}, RELROPartial}
	case a.hasRelro:
		*r = RELRO{Check{Fail, "partial: PT_GNU_RELRO without DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW (the GOT stays writable for lazy binding)"}, RELROPartial}
	case !a.hasDynamic:
		*r = RELRO{Check{NotApplicable, "no PT_GNU_RELRO, but no dynamic section either: nothing for the dynamic linker to relocate and protect"}, RELRONone}
	default:
		*r = RELRO{Check{Fail, "no PT_GNU_RELRO"}, RELRONone}
	}
}

// Symbol names that show a stack protector (checksec matches them as
// substrings of symbol names, so __stack_chk_fail_local counts).
var canaryNames = []string{"__stack_chk_fail", "__stack_chk_guard", "__intel_security_cookie"}

func (a *analysis) symbols() {
	if s := a.f.SectionByType(elf.SHT_DYNSYM); s != nil {
		a.dynsymRead = a.scan(s, "dynsym", true)
	}
	if s := a.f.SectionByType(elf.SHT_SYMTAB); s != nil {
		a.hasSymtab = true
		// The full symbol table only adds evidence the dynamic one lacks.
		if a.canary == "" || (a.goSym == "" && a.rustSym == "") {
			a.symtabRead = a.scan(s, "symtab", false)
		}
	}
	if len(a.f.Sections) == 0 && a.f.Type != elf.ET_REL {
		a.note("no section headers: symbols were not read")
	}
}

func (a *analysis) symbolTables() bool {
	return a.f.SectionByType(elf.SHT_DYNSYM) != nil || a.f.SectionByType(elf.SHT_SYMTAB) != nil
}

// scan walks one symbol table. dyn: count FORTIFY imports too.
func (a *analysis) scan(s *elf.Section, table string, dyn bool) bool {
	if s.Type == elf.SHT_NOBITS {
		return false
	}
	if s.Size > MaxSymbolTableBytes {
		a.note("%s (%s) of %d bytes not read (cap %d)", s.Name, table, s.Size, MaxSymbolTableBytes)
		return false
	}
	if s.Link == 0 || int(s.Link) >= len(a.f.Sections) {
		a.note("%s (%s) has no string table (link %d)", s.Name, table, s.Link)
		return false
	}
	strs := a.f.Sections[s.Link]
	if strs.Type == elf.SHT_NOBITS || strs.Size > MaxStringTableBytes {
		a.note("string table %s of %s not read (%d bytes, cap %d)", strs.Name, s.Name, strs.Size, MaxStringTableBytes)
		return false
	}
	syms, err := a.read(s.Offset, s.Size)
	if err != nil {
		a.note("%s (%s): %v", s.Name, table, err)
		return false
	}
	strtab := a.strtab
	if a.strIdx != int(s.Link) {
		a.strtab, a.strIdx = nil, -1 // one string table held at a time
		strtab, err = a.read(strs.Offset, strs.Size)
		if err != nil {
			a.note("string table %s of %s: %v", strs.Name, s.Name, err)
			return false
		}
		a.strtab, a.strIdx = strtab, int(s.Link)
	}
	bo := a.f.ByteOrder
	entsz, infoOff, shndxOff := 24, 4, 6
	if a.f.Class == elf.ELFCLASS32 {
		entsz, infoOff, shndxOff = 16, 12, 14
	}
	for i := entsz; i+entsz <= len(syms); i += entsz { // entry 0 is the null symbol
		nameOff := bo.Uint32(syms[i:])
		if uint64(nameOff) >= uint64(len(strtab)) {
			continue
		}
		name := strtab[nameOff:]
		if j := bytes.IndexByte(name, 0); j >= 0 {
			name = name[:j]
		}
		if len(name) == 0 {
			continue
		}
		undef := bo.Uint16(syms[i+shndxOff:]) == uint16(elf.SHN_UNDEF)
		typ := elf.ST_TYPE(syms[i+infoOff])
		if a.canary == "" && (bytes.Contains(name, []byte("__stack_chk_")) || bytes.Contains(name, []byte("__intel_security_cookie"))) {
			for _, c := range canaryNames {
				if a.canary == "" && bytes.Contains(name, []byte(c)) {
					verb := "defines"
					if undef {
						verb = "imports"
					}
					a.canary = fmt.Sprintf("%s %s (%s)", verb, name, table)
				}
			}
		}
		if a.goSym == "" && string(name) == "runtime.buildVersion" {
			a.goSym = fmt.Sprintf("symbol runtime.buildVersion (%s)", table)
		}
		if a.rustSym == "" && (string(name) == "rust_eh_personality" || bytes.HasPrefix(name, []byte("__rust_")) || bytes.HasPrefix(name, []byte("__rustc"))) {
			a.rustSym = fmt.Sprintf("symbol %s (%s)", name, table)
		}
		if dyn && undef {
			a.imports++
			if typ == elf.STT_FUNC || typ == elf.STT_NOTYPE {
				a.countFortify(name)
			}
		}
	}
	return true
}

// countFortify counts one imported function: a glibc __*_chk function, or
// a plain function glibc has a checked variant of. Names are matched as
// checksec does, with leading underscores removed (_longjmp is longjmp).
func (a *analysis) countFortify(name []byte) {
	base := string(bytes.TrimLeft(name, "_"))
	if base == "" {
		return
	}
	if _, ok := chkFunctions[base]; ok {
		a.fortifiedN++
		if len(a.fortified) < MaxListed {
			a.fortified = append(a.fortified, string(name))
		}
		return
	}
	if _, ok := chkFunctions[base+"_chk"]; ok {
		a.unfortifiedN++
		if len(a.unfortified) < MaxListed {
			a.unfortified = append(a.unfortified, string(name))
		}
	}
}

func (a *analysis) toolchain() {
	t := &a.res.Toolchain
	t.Language = LangUnknown
	var why []string
	if s := a.f.Section(".go.buildinfo"); s != nil {
		t.Language = LangGo
		why = append(why, "section .go.buildinfo")
	} else if a.goSym != "" {
		t.Language = LangGo
		why = append(why, a.goSym)
	} else if s := a.f.Section(".rustc"); s != nil {
		t.Language = LangRust
		why = append(why, "section .rustc")
	} else if a.rustSym != "" {
		t.Language = LangRust
		why = append(why, a.rustSym)
	} else if c := a.comment(); strings.Contains(c, "rustc version") {
		t.Language = LangRust
		why = append(why, ".comment names rustc")
	}
	switch {
	case a.debugInfo:
	case a.res.Kind == Executable:
		t.Static = !a.hasInterp && !a.needed
		switch {
		case t.Static:
			why = append(why, "static: no PT_INTERP and no DT_NEEDED")
		case a.hasInterp:
			why = append(why, "dynamically linked: PT_INTERP")
		default:
			why = append(why, "dynamically linked: DT_NEEDED")
		}
	case a.res.Kind == SharedObject:
		// A plug-in (a Python or PostgreSQL module) has no DT_NEEDED
		// either, but imports from the process that loads it.
		t.Static = !a.needed && a.dynsymRead && a.imports == 0
		switch {
		case t.Static:
			why = append(why, "self-contained: no DT_NEEDED and no undefined dynamic symbol")
		case a.needed:
			why = append(why, "dynamically linked: DT_NEEDED")
		default:
			why = append(why, fmt.Sprintf("dynamically linked: %d undefined dynamic symbols (no DT_NEEDED: a plug-in)", a.imports))
		}
	}
	if len(why) == 0 {
		why = append(why, "no toolchain marker")
	}
	t.Reason = strings.Join(why, "; ")
}

func (a *analysis) comment() string {
	s := a.f.Section(".comment")
	if s == nil || s.Type == elf.SHT_NOBITS || s.Size > MaxCommentBytes {
		return ""
	}
	b, err := a.read(s.Offset, s.Size)
	if err != nil {
		return ""
	}
	return string(b)
}

func (a *analysis) stackProtector() {
	r := &a.res.StackProtector
	t := a.res.Toolchain
	switch {
	case a.canary != "":
		*r = Check{Pass, a.canary}
	case a.res.Kind == Other && a.f.Type != elf.ET_REL:
		*r = Check{NotApplicable, fmt.Sprintf("%s holds no code to protect", a.f.Type)}
	case t.Language == LangGo:
		*r = Check{NotApplicable, "Go binary: Go checks stack bounds in every function prologue and bounds-checks slices; it never uses stack cookies"}
	case t.Language == LangRust:
		*r = Check{NotApplicable, "Rust binary: safe Rust is memory safe and rustc does not emit stack cookies by default"}
	case t.Static && !a.hasSymtab:
		*r = Check{NotApplicable, "static binary without a symbol table: no import of __stack_chk_fail can show a stack protector either way"}
	case t.Static:
		*r = Check{NotApplicable, "static binary: no __stack_chk_fail in its symbol table, and nothing is imported at run time"}
	case len(a.f.Sections) == 0:
		// The symbol tables are located by section headers; without them
		// nothing was read, which is not evidence of no stack protector
		// (as FORTIFY is unknown for the same reason).
		*r = Check{Unknown, "no section headers: the symbol tables could not be located, so no __stack_chk_fail could be looked for"}
	case !a.dynsymRead && !a.symtabRead && a.symbolTables():
		*r = Check{Unknown, "no symbol table could be read"}
	case !a.dynsymRead && !a.symtabRead:
		*r = Check{Fail, "no symbol table: nothing references __stack_chk_fail"}
	default:
		tables := "dynsym"
		if a.symtabRead {
			tables = "dynsym and symtab"
		} else if !a.dynsymRead {
			tables = "symtab"
		}
		*r = Check{Fail, fmt.Sprintf("no __stack_chk_fail, __stack_chk_guard or __intel_security_cookie in %s", tables)}
	}
}

func (a *analysis) fortify() {
	r := &a.res.Fortify
	t := a.res.Toolchain
	r.Fortified, r.FortifiedCount = a.fortified, a.fortifiedN
	r.Unfortified, r.UnfortifiedCount = a.unfortified, a.unfortifiedN
	sort.Strings(r.Fortified)
	sort.Strings(r.Unfortified)
	switch {
	case a.fortifiedN > 0:
		r.Check = Check{Pass, fmt.Sprintf("imports %d fortified functions (%s); %d fortifiable functions imported unfortified", a.fortifiedN, list(r.Fortified, a.fortifiedN), a.unfortifiedN)}
	case a.res.Kind == Other:
		r.Check = Check{NotApplicable, fmt.Sprintf("%s imports nothing at run time", a.f.Type)}
	case t.Language == LangGo:
		r.Check = Check{NotApplicable, "Go binary: FORTIFY_SOURCE is a C library feature; Go's own calls are bounds-checked"}
	case t.Language == LangRust:
		r.Check = Check{NotApplicable, "Rust binary: FORTIFY_SOURCE is a C compiler feature; Rust's own calls are bounds-checked"}
	case t.Static:
		r.Check = Check{NotApplicable, "static binary: no imports show whether FORTIFY_SOURCE was used"}
	case !a.dynsymRead:
		r.Check = Check{Unknown, "the dynamic symbol table could not be read"}
	case a.unfortifiedN == 0:
		r.Check = Check{NotApplicable, "imports no function FORTIFY_SOURCE could check"}
	default:
		r.Check = Check{Fail, fmt.Sprintf("imports no __*_chk function but %d fortifiable ones (%s)", a.unfortifiedN, list(r.Unfortified, a.unfortifiedN))}
	}
}

func list(names []string, n int) string {
	const show = 8
	s := strings.Join(names[:min(len(names), show)], ", ")
	if n > show {
		s += fmt.Sprintf(", and %d more", n-show)
	}
	return s
}
