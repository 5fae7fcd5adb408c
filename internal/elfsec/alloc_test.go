package elfsec

import (
	"bytes"
	"debug/elf"
	"runtime"
	"testing"
)

// sparse is a file of size bytes, zero but for the pieces given: a large
// hostile file without the test holding it in memory.
type sparse struct {
	size   int64
	pieces map[int64][]byte
}

func (s *sparse) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	for at, b := range s.pieces {
		lo, hi := max(at, off), min(at+int64(len(b)), off+int64(len(p)))
		if lo < hi {
			copy(p[lo-off:hi-off], b[lo-at:hi-at])
		}
	}
	n := int(min(int64(len(p)), max(s.size-off, 0)))
	if n < len(p) {
		return n, bytes.ErrTooLarge // any error: short read
	}
	return n, nil
}

// overlapping is the reviewer's overlap.elf: .dynstr, .dynsym and .symtab
// all the same n bytes at offset 64 (both symbol tables linked to it).
func overlapping(n uint64) *sparse {
	shstr := []byte("\x00.s\x00.d\x00.y\x00.sh\x00")
	shstrOff := 64 + n
	shoff := (shstrOff + uint64(len(shstr)) + 7) / 8 * 8
	sh := func(name uint32, typ elf.SectionType, off, size uint64, link uint32, entsize uint64) []byte {
		b := le.AppendUint32(nil, name)
		b = le.AppendUint32(b, uint32(typ))
		b = le.AppendUint64(b, uint64(elf.SHF_ALLOC))
		b = le.AppendUint64(b, 0)
		b = le.AppendUint64(b, off)
		b = le.AppendUint64(b, size)
		b = le.AppendUint32(b, link)
		b = le.AppendUint32(b, 0)
		b = le.AppendUint64(b, 8)
		return le.AppendUint64(b, entsize)
	}
	var secs []byte
	secs = append(secs, make([]byte, 64)...)
	secs = append(secs, sh(1, elf.SHT_STRTAB, 64, n, 0, 0)...)
	secs = append(secs, sh(4, elf.SHT_DYNSYM, 64, n, 1, 24)...)
	secs = append(secs, sh(7, elf.SHT_SYMTAB, 64, n, 1, 24)...)
	secs = append(secs, sh(10, elf.SHT_STRTAB, shstrOff, uint64(len(shstr)), 0, 0)...)
	hdr := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	hdr = le.AppendUint16(hdr, uint16(elf.ET_DYN))
	hdr = le.AppendUint16(hdr, uint16(elf.EM_X86_64))
	hdr = le.AppendUint32(hdr, 1)
	hdr = le.AppendUint64(hdr, 0)
	hdr = le.AppendUint64(hdr, 0) // no program headers
	hdr = le.AppendUint64(hdr, shoff)
	hdr = le.AppendUint32(hdr, 0)
	for _, v := range []uint16{64, 56, 0, 64, 5, 4} {
		hdr = le.AppendUint16(hdr, v)
	}
	return &sparse{int64(shoff) + int64(len(secs)), map[int64][]byte{0: hdr, int64(shstrOff): shstr, int64(shoff): secs}}
}

// manyInterp is the reviewer's many-interp.elf: n PT_INTERP headers, each
// naming the same 4096 zero bytes.
func manyInterp(n int) []byte {
	hdr := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	hdr = le.AppendUint16(hdr, uint16(elf.ET_DYN))
	hdr = le.AppendUint16(hdr, uint16(elf.EM_X86_64))
	hdr = le.AppendUint32(hdr, 1)
	hdr = le.AppendUint64(hdr, 0)
	hdr = le.AppendUint64(hdr, 64) // phoff
	hdr = le.AppendUint64(hdr, 0)  // no section headers
	hdr = le.AppendUint32(hdr, 0)
	for _, v := range []uint16{64, 56, uint16(n), 64, 0, 0} {
		hdr = le.AppendUint16(hdr, v)
	}
	dataOff := uint64(64 + 56*n)
	for range n {
		hdr = le.AppendUint32(hdr, uint32(elf.PT_INTERP))
		hdr = le.AppendUint32(hdr, uint32(elf.PF_R))
		for _, v := range []uint64{dataOff, 0, 0, 4096, 4096, 1} {
			hdr = le.AppendUint64(hdr, v)
		}
	}
	return append(hdr, make([]byte, 4096)...)
}

// allocated is what one Analyze call allocates.
func allocated(t *testing.T, r interface {
	ReadAt([]byte, int64) (int, error)
}, size int64) (uint64, *Result) {
	t.Helper()
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	res, err := Analyze(r, size)
	runtime.ReadMemStats(&m1)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	return m1.TotalAlloc - m0.TotalAlloc, res
}

// TestAllocationBounded: the reviewer's inputs, at full size, cost one
// read budget (MaxReadBytes) at most, not one per table or header.
func TestAllocationBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates up to MaxReadBytes")
	}
	const slack = 16 << 20 // debug/elf's own structures
	t.Run("overlapping symbol tables", func(t *testing.T) {
		f := overlapping(63 << 20) // was 4 reads of 63 MiB
		n, r := allocated(t, f, f.size)
		t.Logf("%d MiB; notes %v", n>>20, r.Notes)
		if n > MaxReadBytes+slack {
			t.Errorf("allocated %d MiB, more than MaxReadBytes (%d MiB)", n>>20, MaxReadBytes>>20)
		}
	})
	t.Run("65535 PT_INTERP", func(t *testing.T) {
		b := manyInterp(65535) // was 65,535 reads of 4 KiB
		n, _ := allocated(t, bytes.NewReader(b), int64(len(b)))
		t.Logf("%d MiB for %d MiB of headers", n>>20, len(b)>>20)
		if n > 32<<20 {
			t.Errorf("allocated %d MiB", n>>20)
		}
	})
	t.Run("PT_INTERP read once", func(t *testing.T) {
		small := manyInterp(16)
		n16, _ := allocated(t, bytes.NewReader(small), int64(len(small)))
		big := manyInterp(4096)
		n4k, _ := allocated(t, bytes.NewReader(big), int64(len(big)))
		// 4080 more headers cost their Prog structures (about 200 bytes
		// each), not 4080 more 4 KiB reads.
		if n4k-n16 > 4080*1024 {
			t.Errorf("16 headers %d bytes, 4096 headers %d bytes", n16, n4k)
		}
	})
}
