/*
 * sleeper: a long-running program whose only purpose is to be observed.
 * The e2e test builds it twice, once without NX and stack protector and once
 * hardened, and keeps both running through the observation window.
 *
 * greet copies its argument into a local array that is then used: with
 * -fstack-protector-strong the compiler must guard that frame with a canary
 * checked on return (a call to __stack_chk_fail), so the hardened build
 * really has one. It is not inlined: main never returns, so a canary in
 * main's frame would never be checked and the compiler drops the call.
 */
#include <stdio.h>
#include <unistd.h>

static __attribute__((noinline)) void greet(const char *who)
{
	char buf[64];
	snprintf(buf, sizeof buf, "ready %s", who);
	puts(buf);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	greet(argc > 1 ? argv[1] : "sleeper");
	for (;;)
		pause();
}
