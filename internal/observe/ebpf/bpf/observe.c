// SPDX-License-Identifier: (MIT OR GPL-2.0-only)
//
// Kensa's runtime observer: TCP connection transitions and process execs.
//
// Only tp_btf (BTF raw tracepoint) programs are used: on the kernels Kensa
// targets kprobes may be compiled out and fentry refused by lockdown, and
// tp_btf needs no tracefs mount (see shared/design/dependencies.md).
//
// The licence must be GPL-compatible: otherwise the verifier refuses any
// read of kernel 'struct sock' from a BTF program.

#include <linux/bpf.h>
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

char __license[] SEC("license") = "Dual MIT/GPL";

#define IPPROTO_TCP 6
#define TASK_COMM_LEN 16
#define FILENAME_LEN 256

// Event kinds; the first byte of every ring buffer record.
enum event_kind {
	KIND_CONNECT = 1, // outbound: SYN_SENT -> ESTABLISHED (ok) or -> CLOSE (failed)
	KIND_ACCEPT = 2,  // inbound: SYN_RECV -> ESTABLISHED (softirq, no process)
	KIND_LISTEN = 3,  // a socket entered LISTEN (process context)
	KIND_UNLISTEN = 4, // a socket left LISTEN for CLOSE (process context)
	KIND_EXEC = 5,
};

// Indexes into the drops array: why an event did not reach user space.
enum drop_reason {
	DROP_RINGBUF_FULL = 0,
	DROP_NO_OWNER = 1, // connect finished without its SYN_SENT being seen (started before the window, or map full)
	DROP_MAX = 2,
};

struct owner {
	__u32 pid;  // thread id (kernel pid)
	__u32 tgid; // process id
	__u32 uid;
	__u8 comm[TASK_COMM_LEN];
};

struct conn_event {
	__u8 kind;
	__u8 family; // AF_INET or AF_INET6
	__u8 oldstate;
	__u8 newstate;
	__u16 sport; // local port, host order
	__u16 dport; // remote port, host order
	__u64 ts_ns; // bpf_ktime_get_ns (CLOCK_MONOTONIC)
	struct owner owner; // zero for KIND_ACCEPT
	__u8 saddr[16]; // local address; first 4 bytes for AF_INET
	__u8 daddr[16]; // remote address
	__u32 netns; // inode of the socket's network namespace; 0 without CONFIG_NET_NS
	__u32 pad;
};

struct exec_event {
	__u8 kind;
	__u8 pad[3];
	__u32 ppid; // parent's tgid
	__u64 ts_ns;
	struct owner owner;
	__u8 filename[FILENAME_LEN];
};

// Unused pointers so bpf2go -type emits the Go structs.
struct conn_event *unused_conn_event __attribute__((unused));
struct exec_event *unused_exec_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); // user space may resize before load
} events SEC(".maps");

// Connecting sockets: the process that called connect(), remembered at
// CLOSE -> SYN_SENT (process context) until the handshake ends in softirq,
// where the current task is unrelated. LRU so sockets that never finish
// cannot fill it.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); // struct sock *
	__type(value, struct owner);
} connecting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
	__u64 *v = bpf_map_lookup_elem(&drops, &reason);
	if (v)
		*v += 1; // per-CPU: no atomics needed
}

static __always_inline void fill_owner(struct owner *o)
{
	__u64 id = bpf_get_current_pid_tgid();
	o->pid = (__u32)id;
	o->tgid = id >> 32;
	o->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(&o->comm, sizeof(o->comm));
}

static __always_inline int emit_conn(const struct sock *sk, __u8 kind, int oldstate, int newstate,
				     const struct owner *o)
{
	struct conn_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RINGBUF_FULL);
		return 0;
	}
	__u16 family = sk->__sk_common.skc_family;
	e->kind = kind;
	e->family = family;
	e->oldstate = oldstate;
	e->newstate = newstate;
	e->sport = sk->__sk_common.skc_num;
	e->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	e->ts_ns = bpf_ktime_get_ns();
	if (o)
		e->owner = *o;
	else
		__builtin_memset(&e->owner, 0, sizeof(e->owner));
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (family == AF_INET) {
		*(__u32 *)e->saddr = sk->__sk_common.skc_rcv_saddr;
		*(__u32 *)e->daddr = sk->__sk_common.skc_daddr;
	} else {
		// direct BTF loads: tp_btf arguments are trusted kernel pointers
		for (int i = 0; i < 4; i++) {
			((__u32 *)e->saddr)[i] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[i];
			((__u32 *)e->daddr)[i] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[i];
		}
	}
	e->netns = 0;
	e->pad = 0;
	if (bpf_core_field_exists(sk->__sk_common.skc_net.net))
		e->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	__u16 family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;

	__u64 key = (__u64)sk;
	if (newstate == TCP_SYN_SENT) {
		// connect(): process context, but the local port is not chosen yet.
		struct owner o = {};
		fill_owner(&o);
		bpf_map_update_elem(&connecting, &key, &o, BPF_ANY);
		return 0;
	}
	if (oldstate == TCP_SYN_SENT) {
		// handshake done (ESTABLISHED) or failed (CLOSE): usually softirq.
		struct owner *o = bpf_map_lookup_elem(&connecting, &key);
		if (!o) {
			count_drop(DROP_NO_OWNER);
			return emit_conn(sk, KIND_CONNECT, oldstate, newstate, 0);
		}
		struct owner copy = *o;
		bpf_map_delete_elem(&connecting, &key);
		return emit_conn(sk, KIND_CONNECT, oldstate, newstate, &copy);
	}
	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED)
		return emit_conn(sk, KIND_ACCEPT, oldstate, newstate, 0);
	if (newstate == TCP_LISTEN || (oldstate == TCP_LISTEN && newstate == TCP_CLOSE)) {
		struct owner o = {};
		fill_owner(&o);
		return emit_conn(sk, newstate == TCP_LISTEN ? KIND_LISTEN : KIND_UNLISTEN, oldstate, newstate, &o);
	}
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	struct exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RINGBUF_FULL);
		return 0;
	}
	e->kind = KIND_EXEC;
	e->pad[0] = e->pad[1] = e->pad[2] = 0;
	e->ts_ns = bpf_ktime_get_ns();
	fill_owner(&e->owner);
	// The effective uid of the new image: a setuid program (su, mount)
	// runs as root although its real uid is the user's.
	e->owner.uid = BPF_CORE_READ(p, cred, euid.val);
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename)) < 0)
		e->filename[0] = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
