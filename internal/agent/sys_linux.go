package agent

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// kernelRelease is the running kernel's release (uname -r).
func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// ioprio_set(2) constants (linux/ioprio.h); x/sys/unix has the system
// call's number only.
const (
	ioprioWhoProcess = 1
	ioprioClassShift = 13
	ioprioClassBE    = 2
	ioprioClassIdle  = 3
	ioprioLowestBE   = 7
)

func ioprioValue(class string) int {
	if class == IOClassIdle {
		return ioprioClassIdle << ioprioClassShift
	}
	return ioprioClassBE<<ioprioClassShift | ioprioLowestBE
}

func setNice(n int) error {
	return eachThread(func(tid int) error { return unix.Setpriority(unix.PRIO_PROCESS, tid, n) })
}

func setIOClass(class string) error {
	prio := ioprioValue(class)
	return eachThread(func(tid int) error {
		_, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), uintptr(prio))
		if errno != 0 {
			return errno
		}
		return nil
	})
}

// eachThread applies f to every thread of the process, again until no
// thread appears that it has not seen (the runtime may start one
// meanwhile; a thread started after inherits from its parent).
func eachThread(f func(tid int) error) error {
	done := map[int]bool{}
	for range 5 {
		des, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := 0
		for _, de := range des {
			tid, err := strconv.Atoi(de.Name())
			if err != nil || done[tid] {
				continue
			}
			if err := f(tid); err != nil && err != unix.ESRCH {
				return err
			}
			done[tid] = true
			fresh++
		}
		if fresh == 0 {
			return nil
		}
	}
	return nil
}
