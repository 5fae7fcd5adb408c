//go:build linux && (amd64 || arm64)

package fswalk

import (
	"syscall"
	"unsafe"
)

// fstatat describes name in the directory open as dirfd without following
// a final link. The syscall package exports no fstatat on linux; this is
// the 64-bit architectures' system call, whose Stat_t layout it fills.
func fstatat(dirfd int, name string, st *syscall.Stat_t) error {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	for {
		_, _, e := syscall.Syscall6(sysFstatat, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(st)), atSymlinkNoFollow, 0, 0)
		switch e {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		}
		return e
	}
}

// haveFstatat is true where fstatat is implemented.
const haveFstatat = true
