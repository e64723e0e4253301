/*
 * apps/frame-exec/keeper.h: runs one command so that it and every process
 * it starts can be ended together.
 *
 * The server starts a keeper (the program frame-exec-keeper, keeper.c) per
 * command, with spawn.c. The keeper makes itself a child
 * subreaper (PR_SET_CHILD_SUBREAPER), so whatever the command starts -
 * through setsid, a double fork, with SIGTERM ignored - stays below it:
 * an orphan is re-parented to the keeper, never to init. The keeper then
 * forks and execs the command and waits. When the command's main process
 * ends, or the server sends the keeper SIGTERM (time limit, client gone,
 * output cap, shutdown), or the server dies (PR_SET_PDEATHSIG), the keeper
 * SIGKILLs its children again and again until it has none left, i.e. until
 * no descendant is alive, and only then exits, with the command's own
 * status (exit code, or the same signal). So when the server reaps the
 * keeper, the whole tree is gone; the job's --max-procs slot is held until
 * then.
 *
 * Where the server may create cgroups (cgroup.h), the command also runs
 * in a cgroup v2 of its own, which the keeper kills first: that reaches a
 * descendant the keeper may not signal (a set-user-ID program), and the
 * server kills the cgroup again when it reaps the keeper, which covers a
 * command that killed its keeper. Without a cgroup both remain possible
 * (--user rules out the second).
 */
#ifndef EXEC_KEEPER_H
#define EXEC_KEEPER_H

#include <sys/types.h>

typedef struct keeper_user {
    int set;           /* 0: run as the server's user */
    uid_t uid;
    gid_t gid;
    const char *name, *home;
} keeper_user;

/* The argument that marks a keeper's command line: no one types it by
 * accident (it starts with a control character). */
#define KEEPER_ARG "\001frame-exec-keeper"

/*
 * Finds frame-exec-keeper next to the running server's binary into path.
 * 0, or -1 (errno) when it is missing or not executable.
 */
int keeper_find(char *path, size_t cap);

/*
 * Starts the keeper program `keeper` (from keeper_find), which runs argv
 * (execvp semantics), in the cgroup `cgroup` (cgroup_create; NULL: none), with stdin from fd_in, stdout to fd_out and stderr to
 * fd_err; every other descriptor is closed in the keeper. posix_spawn: the
 * server's memory is never copied (no fork, no copy-on-write faults after
 * it), and the keeper is a small libc-only program. Returns the keeper's
 * pid (to kill and waitpid), or -1 with errno. An exec failure is reported
 * by the command on its stderr ("frame-exec-server: cannot run X: reason")
 * with exit status 127.
 */
pid_t keeper_spawn(const char *keeper, char *const argv[], int fd_in, int fd_out, int fd_err,
                   const keeper_user *user, const char *cgroup);

#endif /* EXEC_KEEPER_H */
