package fswalk

import "syscall"

const sysFstatat = syscall.SYS_FSTATAT
