// Package golang finds Go binaries among the executables discovered on a
// host and reads their build information (debug/buildinfo): the main
// module, every module linked in, and the Go toolchain, whose standard
// library is itself a component with vulnerabilities ("stdlib" in OSV).
package golang

import (
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"runtime/debug"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/discover"
	"github.com/kensa-dev/kensa/internal/collect/lang"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// Name is the collector's name.
const Name = "lang/go"

// readBudget bounds what is read from one binary. The build information
// of a Go binary takes a few KiB; ELF headers a little more. The budget
// stops a forged header from making debug/elf read a huge section.
const readBudget = 16 << 20

// Collector reads Go binaries.
type Collector struct {
	w *discover.Walker
}

// New returns the collector, reading the candidates of w.
func New(w *discover.Walker) *Collector { return &Collector{w: w} }

// Name implements collect.Collector.
func (*Collector) Name() string { return Name }

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	// Build info is read with a fixed budget of small reads, so binaries of
	// any size are read; MaxFileSize bounds archives, which are inflated.
	const maxSize = math.MaxInt64
	return c.w.Each(ctx, env, inv, func(cs *discover.Candidates) []string { return cs.Go }, func(f discover.File) {
		bi, err := Read(env.FS, f.Path, maxSize)
		switch {
		case err != nil:
			env.Errorf("%s: %v", f.Location, err)
			return
		case bi == nil:
			return
		}
		sw := Software(bi, f.Location, f.OwnedBy)
		inv.Software = append(inv.Software, sw...)
		env.Count(len(sw))
	})
}

// Read returns the build information of the Go binary name, nil if it is
// not a Go binary (a script, a C program, garbage), or an error if it is
// one that cannot be read.
func Read(fsys hostfs.FS, name string, maxSize int64) (*debug.BuildInfo, error) {
	ra, _, closer, err := hostfs.OpenAt(fsys, name, maxSize)
	if err != nil {
		// Replaced by something else, or gone, since the walk.
		if errors.Is(err, hostfs.ErrNotRegular) || errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	defer closer.Close()
	return ReadAt(ra)
}

// ReadAt is Read on an open file.
func ReadAt(ra io.ReaderAt) (*debug.BuildInfo, error) {
	// Most executables are not Go: tell by the section table, which takes
	// three small reads, before debug/buildinfo parses the file and
	// searches its data for the build information.
	kind := goSection(ra)
	if kind == notELF || kind == notGo {
		return nil, nil
	}
	bi, err := buildinfo.Read(&lang.BudgetReaderAt{R: ra, N: readBudget})
	if err != nil {
		// Without a readable section table this is most likely not Go,
		// or garbage: nothing worth reporting.
		if kind == unknown {
			return nil, nil
		}
		return nil, fmt.Errorf("go build info: %w", err)
	}
	return bi, nil
}

// Results of goSection.
const (
	notELF = iota
	notGo
	isGo
	// unknown: an ELF file without a readable section table (stripped of
	// it, or damaged); debug/buildinfo looks for itself.
	unknown
)

// goSection reports whether ra is an ELF file with a .go.buildinfo
// section, which every Go binary since Go 1.13 has, reading only the ELF
// header, the section headers and the section names.
func goSection(ra io.ReaderAt) int {
	var hdr [64]byte
	if n, _ := ra.ReadAt(hdr[:], 0); n < 52 || string(hdr[:4]) != elf.ELFMAG {
		return notELF
	}
	var bo binary.ByteOrder
	switch elf.Data(hdr[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		bo = binary.BigEndian
	default:
		return notELF
	}
	var phoff, phentsize, phnum, shoff, entsize, shnum, shstrndx uint64
	is64 := elf.Class(hdr[elf.EI_CLASS]) == elf.ELFCLASS64
	switch {
	case is64:
		phoff, shoff = bo.Uint64(hdr[0x20:]), bo.Uint64(hdr[0x28:])
		phentsize, phnum = uint64(bo.Uint16(hdr[0x36:])), uint64(bo.Uint16(hdr[0x38:]))
		entsize, shnum, shstrndx = uint64(bo.Uint16(hdr[0x3a:])), uint64(bo.Uint16(hdr[0x3c:])), uint64(bo.Uint16(hdr[0x3e:]))
	case elf.Class(hdr[elf.EI_CLASS]) == elf.ELFCLASS32:
		phoff, shoff = uint64(bo.Uint32(hdr[0x1c:])), uint64(bo.Uint32(hdr[0x20:]))
		phentsize, phnum = uint64(bo.Uint16(hdr[0x2a:])), uint64(bo.Uint16(hdr[0x2c:]))
		entsize, shnum, shstrndx = uint64(bo.Uint16(hdr[0x2e:])), uint64(bo.Uint16(hdr[0x30:])), uint64(bo.Uint16(hdr[0x32:]))
	default:
		return notELF
	}
	minEnt, phEnt := uint64(40), uint64(32)
	if is64 {
		minEnt, phEnt = 64, 56
	}
	// An executable has a few program headers (a Go binary about ten): a
	// file without them, or claiming thousands, is no Go binary, and is
	// not worth debug/elf's allocations.
	if phentsize != phEnt || phnum == 0 || phnum > 256 || !has(ra, phoff, phnum*phentsize) {
		return notGo
	}
	// More than 0xff00 sections, or an odd layout: let buildinfo decide.
	if shoff == 0 || shnum == 0 || shnum >= 0xff00 || shstrndx >= shnum || entsize != minEnt {
		return unknown
	}
	// Allocate only what the file has: probe the last byte first.
	if !has(ra, shoff, shnum*entsize) {
		return unknown
	}
	shdrs := make([]byte, shnum*entsize)
	if n, _ := ra.ReadAt(shdrs, int64(shoff)); uint64(n) != shnum*entsize {
		return unknown
	}
	// name offset, file offset and size of section i.
	section := func(i uint64) (name uint32, off, size uint64) {
		h := shdrs[i*entsize:]
		if is64 {
			return bo.Uint32(h), bo.Uint64(h[0x18:]), bo.Uint64(h[0x20:])
		}
		return bo.Uint32(h), uint64(bo.Uint32(h[0x10:])), uint64(bo.Uint32(h[0x14:]))
	}
	_, stroff, strsize := section(shstrndx)
	if strsize == 0 || strsize > 1<<20 || !has(ra, stroff, strsize) {
		return unknown
	}
	strtab := make([]byte, strsize)
	if n, _ := ra.ReadAt(strtab, int64(stroff)); uint64(n) != strsize {
		return unknown
	}
	const want = ".go.buildinfo\x00"
	for i := uint64(0); i < shnum; i++ {
		name, _, _ := section(i)
		if uint64(name)+uint64(len(want)) <= strsize && string(strtab[name:uint64(name)+uint64(len(want))]) == want {
			return isGo
		}
	}
	return notGo
}

// has reports whether ra holds n > 0 bytes at off.
func has(ra io.ReaderAt, off, n uint64) bool {
	end := off + n - 1
	if n == 0 || end < off || end > math.MaxInt64 {
		return false
	}
	var b [1]byte
	k, _ := ra.ReadAt(b[:], int64(end))
	return k == 1
}

// Pseudo-module paths of the Go vulnerability database: the standard
// library, and the toolchain's commands (cmd/go, cmd/compile, ...).
const (
	StdlibModule    = "stdlib"
	ToolchainModule = "toolchain"
)

// Software returns the components of a Go binary at location: its main
// module (go-main), each module linked in (go-module; the replacement when
// a module is replaced) and the standard library (go-stdlib).
//
// A command of the Go toolchain (main package cmd/..., no main module or
// the main module "cmd") is named as the Go vulnerability database files
// it: the main entry is the module "toolchain" at the toolchain's version,
// the command's package path kept as the purl subpath
// (pkg:golang/toolchain@v1.22.3#cmd/go). A main module built from a working
// tree keeps the version "(devel)", which its purl leaves out.
func Software(bi *debug.BuildInfo, location, ownedBy string) []host.Software {
	std := StdlibVersion(bi.GoVersion)
	var out []host.Software
	add := func(kind, name, version, pkg string) {
		out = append(out, host.Software{
			Ecosystem: lang.EcosystemGo,
			Name:      name,
			Version:   version,
			PURL:      lang.GoPackagePURL(name, version, pkg),
			Kind:      kind,
			Location:  location,
			Collector: Name,
			GoVersion: bi.GoVersion,
			OwnedBy:   ownedBy,
		})
	}
	switch {
	case bi.Main.Path == "cmd" || bi.Main.Path == "" && strings.HasPrefix(bi.Path, "cmd/"):
		// The toolchain's own commands are versioned with it.
		pkg := ""
		if strings.HasPrefix(bi.Path, "cmd/") {
			pkg = bi.Path
		}
		add(host.KindGoMain, ToolchainModule, std, pkg)
	case bi.Main.Path != "":
		add(host.KindGoMain, bi.Main.Path, bi.Main.Version, "")
	case bi.Path != "" && bi.Path != "command-line-arguments":
		// No module information: a program built in GOPATH mode. Its main
		// package stands for the main module, with no version.
		add(host.KindGoMain, bi.Path, "", "")
	}
	for _, d := range bi.Deps {
		if d == nil {
			continue
		}
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		if m.Path == "" {
			continue
		}
		if strings.HasPrefix(m.Path, ".") || strings.HasPrefix(m.Path, "/") {
			// Replaced by a local directory (=> ./internal/x): the code is
			// whatever that directory held, of no published version. Keep
			// the module's own path, which advisories name.
			add(host.KindGoModule, d.Path, lang.GoDevelVersion, "")
			continue
		}
		add(host.KindGoModule, m.Path, m.Version, "")
	}
	add(host.KindGoStdlib, StdlibModule, std, "")
	return out
}

// StdlibVersion turns a toolchain version as build information has it
// into the semantic version OSV uses for the stdlib: go1.22.3 -> v1.22.3,
// go1.22 -> v1.22.0, go1.21rc2 -> v1.21.0-rc.2. An experiment suffix
// (" X:loopvar") is dropped; another suffix ("-fips", "+cl") is kept as
// build metadata, which does not change precedence. A development
// toolchain ("devel ...") has no version: "".
func StdlibVersion(goVersion string) string {
	v, _, _ := strings.Cut(goVersion, " ")
	v, ok := strings.CutPrefix(v, "go")
	if !ok || v == "" || v[0] < '0' || v[0] > '9' {
		return ""
	}
	// Up to three dot-separated numbers.
	var nums []string
	rest := v
	for len(nums) < 3 {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			break
		}
		nums = append(nums, strings.TrimLeft(rest[:i], "0"))
		if nums[len(nums)-1] == "" {
			nums[len(nums)-1] = "0"
		}
		rest = rest[i:]
		if len(nums) < 3 && strings.HasPrefix(rest, ".") && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9' {
			rest = rest[1:]
			continue
		}
		break
	}
	if len(nums) == 0 {
		return ""
	}
	for len(nums) < 3 {
		nums = append(nums, "0")
	}
	out := "v" + strings.Join(nums, ".")
	for _, pre := range []string{"rc", "beta", "alpha"} {
		if n, ok := strings.CutPrefix(rest, pre); ok && lang.IsDigits(n) {
			return out + "-" + pre + "." + n
		}
	}
	rest = strings.TrimLeft(rest, "-+.")
	if rest != "" {
		var b strings.Builder
		for i := 0; i < len(rest); i++ {
			c := rest[i]
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' {
				b.WriteByte(c)
			} else {
				b.WriteByte('-')
			}
		}
		out += "+" + b.String()
	}
	return out
}
