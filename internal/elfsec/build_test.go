package elfsec

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// spec describes a small ELF64 little-endian x86-64 file for tests: the
// program headers and dynamic entries that decide each property, and a
// .dynsym of the names given.
type spec struct {
	typ      elf.Type
	interp   bool
	stack    elf.ProgFlag // PT_GNU_STACK flags; 0 means no PT_GNU_STACK
	relro    bool
	dyn      [][2]uint64 // tag, value (DT_NULL is appended)
	imports  []string    // undefined functions in .dynsym
	defines  []string    // defined functions in .dynsym
	sections []string    // extra empty PROGBITS sections (".go.buildinfo")
	// loads are PT_LOAD segments (flags; filesz 0 maps none of the file,
	// as in a separate debug file); nobitsText adds a ".text" section of
	// type SHT_NOBITS with SHF_ALLOC|SHF_EXECINSTR.
	loads      []load
	nobitsText bool
}

type load struct {
	flags         elf.ProgFlag
	filesz, memsz uint64
}

var le = binary.LittleEndian

// build lays out: ELF header | program headers | interp | dynamic |
// dynstr | dynsym | shstrtab | section headers.
func (s spec) build() []byte {
	type seg struct {
		typ         elf.ProgType
		flags       elf.ProgFlag
		off, filesz uint64
		memsz       uint64
	}
	var body bytes.Buffer
	var segs []seg
	nph := len(s.loads)
	if s.interp {
		nph++
	}
	if s.stack != 0 {
		nph++
	}
	if s.relro {
		nph++
	}
	if s.dyn != nil {
		nph++
	}
	base := uint64(64 + 56*nph)
	put := func(b []byte) (off, n uint64) {
		off = base + uint64(body.Len())
		body.Write(b)
		for body.Len()%8 != 0 {
			body.WriteByte(0)
		}
		return off, uint64(len(b))
	}
	for _, l := range s.loads {
		segs = append(segs, seg{elf.PT_LOAD, l.flags, 0, l.filesz, l.memsz})
	}
	if s.interp {
		off, n := put([]byte("/lib64/ld-linux-x86-64.so.2\x00"))
		segs = append(segs, seg{elf.PT_INTERP, elf.PF_R, off, n, n})
	}
	if s.stack != 0 {
		segs = append(segs, seg{elf.PT_GNU_STACK, s.stack, 0, 0, 0})
	}
	if s.relro {
		segs = append(segs, seg{elf.PT_GNU_RELRO, elf.PF_R, 0, 0, 0})
	}
	var dynOff, dynN uint64
	if s.dyn != nil {
		var d []byte
		for _, e := range append(s.dyn, [2]uint64{0, 0}) {
			d = le.AppendUint64(d, e[0])
			d = le.AppendUint64(d, e[1])
		}
		dynOff, dynN = put(d)
		segs = append(segs, seg{elf.PT_DYNAMIC, elf.PF_R | elf.PF_W, dynOff, dynN, dynN})
	}
	// .dynstr and .dynsym.
	strtab := []byte{0}
	var syms []byte
	syms = append(syms, make([]byte, 24)...)
	sym := func(name string, shndx uint16) {
		e := make([]byte, 24)
		le.PutUint32(e, uint32(len(strtab)))
		e[4] = byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_FUNC)
		le.PutUint16(e[6:], shndx)
		syms = append(syms, e...)
		strtab = append(append(strtab, name...), 0)
	}
	for _, n := range s.imports {
		sym(n, 0)
	}
	for _, n := range s.defines {
		sym(n, 1)
	}
	strOff, strN := put(strtab)
	symOff, symN := put(syms)
	type sec struct {
		name      string
		typ       elf.SectionType
		link      uint32
		off, size uint64
		entsize   uint64
		flags     elf.SectionFlag // SHF_ALLOC when 0
	}
	secs := []sec{{}, {".dynstr", elf.SHT_STRTAB, 0, strOff, strN, 0, 0}, {".dynsym", elf.SHT_DYNSYM, 1, symOff, symN, 24, 0}}
	if s.dyn != nil {
		secs = append(secs, sec{".dynamic", elf.SHT_DYNAMIC, 1, dynOff, dynN, 16, 0})
	}
	for _, n := range s.sections {
		secs = append(secs, sec{n, elf.SHT_PROGBITS, 0, strOff, 0, 0, 0})
	}
	if s.nobitsText {
		secs = append(secs, sec{".text", elf.SHT_NOBITS, 0, strOff, 0x1000, 0, elf.SHF_ALLOC | elf.SHF_EXECINSTR})
	}
	shstr := []byte{0}
	nameOff := make([]uint32, len(secs)+1)
	for i, x := range secs {
		if i > 0 {
			nameOff[i] = uint32(len(shstr))
			shstr = append(append(shstr, x.name...), 0)
		}
	}
	nameOff[len(secs)] = uint32(len(shstr))
	shstr = append(shstr, ".shstrtab\x00"...)
	shOff, shN := put(shstr)
	secs = append(secs, sec{".shstrtab", elf.SHT_STRTAB, 0, shOff, shN, 0, 0})
	shoff := base + uint64(body.Len())

	var out []byte
	ident := [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	out = append(out, ident[:]...)
	out = le.AppendUint16(out, uint16(s.typ))
	out = le.AppendUint16(out, uint16(elf.EM_X86_64))
	out = le.AppendUint32(out, uint32(elf.EV_CURRENT))
	out = le.AppendUint64(out, 0)     // entry
	out = le.AppendUint64(out, 64)    // phoff
	out = le.AppendUint64(out, shoff) // shoff
	out = le.AppendUint32(out, 0)     // flags
	out = le.AppendUint16(out, 64)    // ehsize
	out = le.AppendUint16(out, 56)    // phentsize
	out = le.AppendUint16(out, uint16(len(segs)))
	out = le.AppendUint16(out, 64) // shentsize
	out = le.AppendUint16(out, uint16(len(secs)))
	out = le.AppendUint16(out, uint16(len(secs)-1))
	for _, p := range segs {
		out = le.AppendUint32(out, uint32(p.typ))
		out = le.AppendUint32(out, uint32(p.flags))
		out = le.AppendUint64(out, p.off)
		out = le.AppendUint64(out, p.off) // vaddr
		out = le.AppendUint64(out, p.off) // paddr
		out = le.AppendUint64(out, p.filesz)
		out = le.AppendUint64(out, p.memsz)
		out = le.AppendUint64(out, 8)
	}
	out = append(out, body.Bytes()...)
	for i, x := range secs {
		out = le.AppendUint32(out, nameOff[i])
		out = le.AppendUint32(out, uint32(x.typ))
		if x.flags == 0 {
			x.flags = elf.SHF_ALLOC
		}
		out = le.AppendUint64(out, uint64(x.flags))
		out = le.AppendUint64(out, x.off) // addr
		out = le.AppendUint64(out, x.off)
		out = le.AppendUint64(out, x.size)
		out = le.AppendUint32(out, x.link)
		out = le.AppendUint32(out, 1) // info
		out = le.AppendUint64(out, 8)
		out = le.AppendUint64(out, x.entsize)
	}
	return out
}

// hardenedPIE is a spec of a fully hardened dynamically linked PIE.
func hardenedPIE() spec {
	return spec{
		typ: elf.ET_DYN, interp: true, stack: elf.PF_R | elf.PF_W, relro: true,
		dyn:     [][2]uint64{{uint64(elf.DT_NEEDED), 1}, {uint64(elf.DT_FLAGS), uint64(elf.DF_BIND_NOW)}, {uint64(elf.DT_FLAGS_1), uint64(elf.DF_1_NOW | elf.DF_1_PIE)}},
		imports: []string{"__stack_chk_fail", "__memcpy_chk", "strcpy", "puts"},
	}
}
