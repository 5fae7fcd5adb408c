// SPDX-License-Identifier: (MIT OR GPL-2.0-only)
//
// The few kernel types the programs read, written by hand instead of a
// 2.8 MB bpftool vmlinux.h. preserve_access_index makes every field access a
// CO-RE relocation: cilium/ebpf fixes the offsets at load time against the
// running kernel's BTF (/sys/kernel/btf/vmlinux), so only the field names
// must exist there, not this layout.
#pragma once

#include <linux/types.h>

#define AF_INET 2
#define AF_INET6 10

// include/net/tcp_states.h
enum {
	TCP_ESTABLISHED = 1,
	TCP_SYN_SENT = 2,
	TCP_SYN_RECV = 3,
	TCP_CLOSE = 7,
	TCP_LISTEN = 10,
};

struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__u32 u6_addr32[4];
	} in6_u;
} __attribute__((preserve_access_index));

// include/linux/ns_common.h, include/net/net_namespace.h
struct ns_common {
	unsigned int inum; // the inode behind /proc/PID/ns/net
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

// possible_net_t: net exists only with CONFIG_NET_NS (bpf_core_field_exists)
struct possible_net {
	struct net *net;
} __attribute__((preserve_access_index));

struct sock_common {
	__u32 skc_daddr;     // __be32
	__u32 skc_rcv_saddr; // __be32
	__u16 skc_dport;     // __be16
	__u16 skc_num;       // host order
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
	struct possible_net skc_net;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
} __attribute__((preserve_access_index));

typedef struct {
	__u32 val;
} kuid_t;

struct cred {
	kuid_t euid;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
	const struct cred *cred;
} __attribute__((preserve_access_index));

struct linux_binprm {
	const char *filename;
} __attribute__((preserve_access_index));
