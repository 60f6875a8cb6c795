/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every unit test in tests/unit shares: the check counters, check() and
 * checkf(), fmt(), the EAL start-up and clean-up of the tests that need DPDK
 * memory, and the summary.
 *
 * Scripts parse the output, so its format is fixed: one line per check,
 * "ok   name" or "FAIL name" ("FAIL name: reason" from checkf()), and
 * "N passed, N failed" last.
 *
 * Everything is static inline: a test includes this once and uses what it
 * needs, without unused-function warnings for the rest.
 */
#ifndef FT_UNIT_H
#define FT_UNIT_H

#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>

static unsigned int ft_unit_passed, ft_unit_failed;

/* One check: "ok   name" or "FAIL name". */
static inline void
check(const char *name, bool ok)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", name);
	if (ok)
		ft_unit_passed++;
	else
		ft_unit_failed++;
}

/* One check that says why it failed: "FAIL name: reason". The reason is
 * formatted only on failure, so its arguments may be meaningless when ok. */
static inline void __attribute__((format(printf, 3, 4)))
checkf(const char *name, bool ok, const char *reason, ...)
{
	va_list ap;

	if (ok) {
		check(name, true);
		return;
	}
	ft_unit_failed++;
	printf("FAIL %s: ", name);
	va_start(ap, reason);
	vprintf(reason, ap);
	va_end(ap);
	printf("\n");
}

/* A formatted check name. Eight rotating buffers, so that a check may use a
 * few at once; a name longer than 255 characters is cut. */
static inline char * __attribute__((format(printf, 1, 2)))
fmt(const char *f, ...)
{
	static char buf[8][256];
	static unsigned int i;
	char *b = buf[i++ % 8];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(buf[0]), f, ap);
	va_end(ap);
	return b;
}

/* "N passed, N failed", last; the test's exit code. */
static inline int
ft_unit_summary(void)
{
	printf("%u passed, %u failed\n", ft_unit_passed, ft_unit_failed);
	return ft_unit_failed ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* EAL, for the tests whose code under test needs DPDK memory (rte_hash,     */
/* rte_zmalloc): no hugepages, no PCI, and a file prefix of this process's   */
/* own, so that tests run in parallel (meson) never share a runtime dir.     */

static char ft_unit_eal_prefix[64];
static char ft_unit_runtime_dir[PATH_MAX];

/* Start the EAL as test_<name>. On failure it has counted "FAIL rte_eal_init":
 * the caller returns ft_unit_summary(). */
static inline int
ft_unit_eal_init(const char *name)
{
	char prog[64];
	char *eal_argv[] = { prog, (char *)"--no-huge", (char *)"-m", (char *)"256",
			     (char *)"--no-shconf", (char *)"--no-pci", (char *)"--file-prefix",
			     ft_unit_eal_prefix, (char *)"--log-level=error", NULL };

	snprintf(prog, sizeof(prog), "test_%s", name);
	snprintf(ft_unit_eal_prefix, sizeof(ft_unit_eal_prefix), "ft-test-%s-%d", name,
		 (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal_argv) - 1, eal_argv) < 0) {
		check("rte_eal_init", false);
		return -1;
	}
	snprintf(ft_unit_runtime_dir, sizeof(ft_unit_runtime_dir), "%s",
		 rte_eal_get_runtime_dir());
	return 0;
}

static inline int
ft_unit_remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Stop the EAL and remove the runtime directory it created (it is not
 * removed by rte_eal_cleanup()): only our own prefix's, never another run's. */
static inline void
ft_unit_eal_cleanup(void)
{
	rte_eal_cleanup();
	if (ft_unit_eal_prefix[0] != '\0' &&
	    strstr(ft_unit_runtime_dir, ft_unit_eal_prefix) != NULL &&
	    access(ft_unit_runtime_dir, F_OK) == 0)
		nftw(ft_unit_runtime_dir, ft_unit_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

#endif /* FT_UNIT_H */
