//go:build !(linux && (amd64 || arm64))

package fswalk

import "syscall"

// fstatat is not implemented here: the walk describes entries through
// the listing (a path lstat).
func fstatat(int, string, *syscall.Stat_t) error { return syscall.ENOSYS }

const haveFstatat = false
