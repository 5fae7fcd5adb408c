/*
 * plant: the shared object loader.c loads. It is built hardened (its local
 * array makes -fstack-protector-strong add a canary) so that the only thing
 * wrong with it in the e2e test is where it lives.
 */
#include <stdio.h>

int plant(const char *from, char *out, int n)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%s", from);
	return snprintf(out, n, "plant loaded (%s)", buf);
}
