package ebpf

// The generated observer_bpfel.go and observer_bpfel.o are committed, so
// building Kensa needs no clang. To regenerate after editing bpf/*.c (Debian:
// apt-get install clang llvm libbpf-dev):
//
//	go generate ./internal/observe/ebpf/
//
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -go-package ebpf -type conn_event -type exec_event -type owner observer bpf/observe.c -- -I/usr/include/x86_64-linux-gnu -O2 -g -Wall -Werror
