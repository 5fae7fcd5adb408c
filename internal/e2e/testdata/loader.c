/*
 * loader: loads the shared object named by its argument, says "ready" on
 * stdout, then waits to be killed. Run as root by the e2e test, once with a
 * library in a world-writable directory (the planted case of
 * root-process-insecure-permissions) and once with the same library in a
 * root-owned 0755 directory (the control).
 *
 * load has a local array and returns (main never does), so a hardened build
 * has a stack canary that is checked (see sleeper.c).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

static __attribute__((noinline)) int load(const char *path)
{
	char buf[64];
	void *h;
	int (*plant)(const char *, char *, int);

	h = dlopen(path, RTLD_NOW);
	if (h == NULL) {
		fprintf(stderr, "loader: %s\n", dlerror());
		return -1;
	}
	plant = (int (*)(const char *, char *, int))dlsym(h, "plant");
	if (plant == NULL) {
		fprintf(stderr, "loader: %s\n", dlerror());
		return -1;
	}
	plant(path, buf, sizeof buf);
	printf("ready %s\n", buf);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: loader LIBRARY\n", stderr);
		return 2;
	}
	if (load(argv[1]) < 0)
		return 1;
	for (;;)
		pause();
}
