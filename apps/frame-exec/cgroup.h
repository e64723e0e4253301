/*
 * apps/frame-exec/cgroup.h: a cgroup v2 per command, where the server may
 * create one.
 *
 * The keeper (keeper.h) contains a command through PR_SET_CHILD_SUBREAPER:
 * every orphan comes back to it and it kills them all. Two things are out
 * of its reach: a descendant it may not signal (a set-user-ID program), and
 * a command that kills the keeper itself (it runs as the keeper's user
 * unless --user is given). A cgroup closes both: the kernel keeps every
 * process a command starts in the command's cgroup whatever its user or
 * parent, and `cgroup.kill` ends them all at once.
 *
 * Layout: the server makes BASE = <its own cgroup>/frame-exec-server.<pid>
 * at start, one BASE/cmd-<n> per command, removes each when the command
 * is over and BASE when it stops. BASE is left empty by a server that was
 * killed; the next server to start in the same parent removes it.
 *
 * Only the C library is used: the keeper links this file too.
 */
#ifndef EXEC_CGROUP_H
#define EXEC_CGROUP_H

#include <stddef.h>

/*
 * Finds where this process may create cgroups and creates BASE there:
 * `want` is "auto" (the cgroup v2 this process is in, from /proc/self/cgroup
 * and /proc/self/mountinfo) or a directory of a cgroup v2 file system
 * (delegated to this user, for example by systemd's Delegate=yes). Removes
 * the empty BASEs of servers that are no longer running. Returns 0 with
 * BASE's path in `base`, or -1 with the reason in `why` (no cgroup v2
 * mounted, not allowed to create one...).
 */
int cgroup_base_open(const char *want, char *base, size_t cap, char *why, size_t why_cap);

/* Removes BASE (its commands' cgroups must be gone). */
void cgroup_base_close(const char *base);

/* Creates BASE/cmd-<seq> into `path`. 0, or -1 with errno. */
int cgroup_create(const char *base, unsigned long long seq, char *path, size_t cap);

/* Moves the calling process into the cgroup `path` (before exec). 0 or -1 (errno). */
int cgroup_join(const char *path);

/*
 * SIGKILLs every process in the cgroup `path` (cgroup.kill; on kernels
 * before 5.14, the cgroup is frozen, each process listed in cgroup.procs
 * killed, and thawed). 0, or -1 with errno (ENOENT: the cgroup is gone).
 */
int cgroup_kill(const char *path);

/*
 * Kills what is left in `path` and removes it. 0: gone; 1: processes are
 * still dying (call again a little later); -1: error (errno).
 */
int cgroup_remove(const char *path);

#endif /* EXEC_CGROUP_H */
