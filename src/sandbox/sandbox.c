/* SPDX-License-Identifier: MIT */
/*
 * The real sandbox backend (and the null one). See sandbox.h; the syscall lists are in
 * syscalls.c, the reasons for each entry in docs/silosecd.8 and docs/silosec-knockd.8.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include <silosec/error.h>

#include "sandbox.h"
#include "sandbox_internal.h"

int ss_sandbox_user(const char *name, uid_t *uid, gid_t *gid, const char **resolved)
{
	const struct passwd *pw;

	if (!name) {
		pw = getpwnam(SS_SANDBOX_USER);
		if (!pw)
			pw = getpwnam(SS_SANDBOX_FALLBACK_USER);
	} else {
		pw = getpwnam(name);
	}
	if (!pw)
		return SS_ERR_NOT_FOUND;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (resolved)
		*resolved = pw->pw_name;
	return 0;
}

static int set_limit(int res, rlim_t v)
{
	struct rlimit rl = {v, v};

	return setrlimit(res, &rl);
}

/* Raise the lockable memory (root may) so the key stays in RAM after the drop. */
static int raise_memlock(rlim_t want)
{
	struct rlimit rl;

	if (!want || getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return 0;
	if (rl.rlim_cur >= want)
		return 0;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	return geteuid() == 0 ? setrlimit(RLIMIT_MEMLOCK, &rl) : 0;
}

static int limits(const struct ss_sandbox_policy *p)
{
	/* Best effort: without CAP_SYS_RESOURCE the unit's LimitMEMLOCK= decides. */
	(void)raise_memlock(p->memlock);
	if (set_limit(RLIMIT_CORE, 0) < 0)
		return -1;
	if (p->nofile && set_limit(RLIMIT_NOFILE, p->nofile) < 0)
		return -1;
	if (p->fsize && set_limit(RLIMIT_FSIZE, p->fsize) < 0)
		return -1;
	/* LeakSanitizer's exit-time scan starts a thread: sanitizer builds keep NPROC. */
	if (p->no_fork && !ss_sandbox_sanitizer() && set_limit(RLIMIT_NPROC, 0) < 0)
		return -1;
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static int drop_bounding(uint64_t keep)
{
	for (int c = 0; c <= 63; c++) {
		if (keep & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
			break; /* past the kernel's last capability */
		/* Without CAP_SETPCAP (not started as root) there is nothing to give away. */
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EPERM)
			return -1;
	}
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL ? -1
											       : 0;
}

/* What we may keep at all: a unit's CapabilityBoundingSet may have taken some already. */
static uint64_t permitted(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return (uint64_t)d[1].permitted << 32 | d[0].permitted;
}

static int set_caps(uint64_t keep)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

static int switch_user(const struct ss_sandbox_policy *p, struct ss_sandbox_report *rep)
{
	uid_t uid;
	gid_t gid;

	rep->uid = geteuid();
	rep->gid = getegid();
	/* keep_root, or started unprivileged: there is no one to become. */
	if (p->keep_root || geteuid() != 0)
		return 0;
	if (ss_sandbox_user(p->user, &uid, &gid, NULL))
		return SS_ERR_NOT_FOUND;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
	    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return SS_ERR_SANDBOX;
	rep->uid = uid;
	rep->gid = gid;
	return 0;
}

/* Capabilities that override file permissions: only kept where Landlock bounds them. */
#define DAC_CAPS                                                                                   \
	(1ULL << CAP_DAC_OVERRIDE | 1ULL << CAP_DAC_READ_SEARCH | 1ULL << CAP_FOWNER |             \
	 1ULL << CAP_CHOWN)

static int fail(const char **step, const char *what, int code)
{
	if (step)
		*step = what;
	return code;
}

static int apply_real(const struct ss_sandbox_policy *p, struct ss_sandbox_report *rep,
		      const char **step)
{
	uint64_t caps = p->caps & permitted();
	int ruleset = -1, ret;

	/* Paths are opened (O_PATH) while still root, enforced after the drop. */
	if (p->landlock) {
		ruleset = ss_landlock_build(p->paths, p->npaths, p->profile, &rep->landlock_abi);
		if (ruleset < 0 && rep->landlock_abi > 0)
			return fail(step, "landlock ruleset", SS_ERR_SANDBOX);
		/* Fail secure: unbounded by Landlock, a DAC override reaches every file. */
		if (ruleset < 0 && (caps & DAC_CAPS)) {
			caps &= ~DAC_CAPS;
			rep->dac_dropped = true;
		}
	}
	ret = fail(step, "rlimits", limits(p) < 0 ? SS_ERR_SANDBOX : 0);
	if (!ret)
		ret = fail(step, "capability bounding set",
			   drop_bounding(caps) < 0 ? SS_ERR_SANDBOX : 0);
	if (!ret)
		ret = fail(step, "user", switch_user(p, rep));
	if (!ret)
		ret = fail(step, "capabilities", set_caps(caps) < 0 ? SS_ERR_SANDBOX : 0);
	if (!ret)
		ret = fail(step, "no_new_privs",
			   prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? SS_ERR_SANDBOX : 0);
	if (!ret && ruleset >= 0)
		ret = fail(step, "landlock", ss_landlock_enforce(ruleset) < 0 ? SS_ERR_SANDBOX : 0);
	if (!ret)
		ret = fail(step, "seccomp", ss_seccomp_load(p->profile, &rep->nsyscalls));
	if (ruleset >= 0)
		close(ruleset);
	return ret;
}

int ss_sandbox_apply(const struct ss_sandbox_policy *p, struct ss_sandbox_report *rep,
		     const char **step)
{
	struct ss_sandbox_report dummy;

	if (!rep)
		rep = &dummy;
	memset(rep, 0, sizeof(*rep));
	rep->sanitizer = ss_sandbox_sanitizer();
	if (step)
		*step = "";
	if (!p->null_backend)
		return apply_real(p, rep, step);
	/* Debugging: nothing dropped, but the secrets still stay out of core files. */
	rep->uid = geteuid();
	rep->gid = getegid();
	(void)set_limit(RLIMIT_CORE, 0);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}
