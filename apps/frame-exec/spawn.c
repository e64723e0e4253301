/* apps/frame-exec/spawn.c: starting a keeper (see keeper.h), server side. */
#define _GNU_SOURCE

#include "keeper.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int keeper_find(char *path, size_t cap)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    if (snprintf(path, cap, "%s/frame-exec-keeper", dirname(self)) >= (int)cap)
        return -1;
    return access(path, X_OK);
}

pid_t keeper_spawn(const char *keeper, char *const argv[], int fd_in, int fd_out, int fd_err,
                   const keeper_user *user, const char *cgroup)
{
    /* posix_spawn (vfork semantics, no copy of the server's memory) of
     * frame-exec-keeper: KEEPER_ARG SERVER_PID UID GID NAME HOME CGROUP -- COMMAND...
     * (UID "-" = run as the keeper's user; CGROUP "-" = none). */
    char pid_s[24], uid_s[24], gid_s[24];
    char **kargv;
    size_t n = 0;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t all;
    pid_t pid;
    int rc;

    while (argv[n])
        n++;
    if (!(kargv = malloc((n + 10) * sizeof *kargv))) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(pid_s, sizeof pid_s, "%ld", (long)getpid());
    snprintf(uid_s, sizeof uid_s, "%ld", (long)user->uid);
    snprintf(gid_s, sizeof gid_s, "%ld", (long)user->gid);
    kargv[0] = (char *)(size_t) "frame-exec-keeper";
    kargv[1] = (char *)(size_t)KEEPER_ARG;
    kargv[2] = pid_s;
    kargv[3] = user->set ? uid_s : (char *)(size_t) "-";
    kargv[4] = gid_s;
    kargv[5] = (char *)(size_t)(user->set ? user->name : "-");
    kargv[6] = (char *)(size_t)(user->set ? user->home : "-");
    kargv[7] = (char *)(size_t)(cgroup ? cgroup : "-");
    kargv[8] = (char *)(size_t) "--";
    memcpy(kargv + 9, argv, (n + 1) * sizeof *argv);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd_in, 0);
    posix_spawn_file_actions_adddup2(&fa, fd_out, 1);
    posix_spawn_file_actions_adddup2(&fa, fd_err, 2);
    posix_spawnattr_init(&at);
    sigfillset(&all);
    /* Every signal blocked (the keeper waits for them with sigwaitinfo) and
     * every disposition back to its default (the server ignores SIGPIPE). */
    posix_spawnattr_setsigmask(&at, &all);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setpgroup(&at, 0); /* no signals from the server's terminal */
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    rc = posix_spawn(&pid, keeper, &fa, &at, kargv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(kargv);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return pid;
}

