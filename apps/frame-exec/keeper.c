/*
 * frame-exec-keeper: the process that runs one command for frame-exec-server
 * and ends it with everything it started (see keeper.h). Started by the
 * server only (keeper_spawn), never by hand:
 *   frame-exec-keeper KEEPER_ARG SERVER_PID UID GID NAME HOME CGROUP -- COMMAND...
 * A small program of its own (libc only), so starting it costs a fraction of
 * a millisecond, not the dynamic linking of libuv and OpenSSL.
 */
#define _GNU_SOURCE

#include "cgroup.h"
#include "keeper.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void close_from(int lowest)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowest, ~0u, 0u) == 0)
        return;
#endif
    {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        if (!d) {
            for (int fd = lowest; fd < 65536; fd++)
                close(fd);
            return;
        }
        while ((e = readdir(d)) != NULL) {
            int fd = atoi(e->d_name);
            if (fd >= lowest && fd != dirfd(d))
                close(fd);
        }
        closedir(d);
    }
}

/* SIGKILLs every child of this process (found in /proc). Returns how many. */
static int kill_children(pid_t self)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[512], *p;
        long ppid;
        int fd;
        ssize_t len;
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            continue;
        len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0)
            continue;
        buf[len] = '\0';
        /* "pid (comm) state ppid ...": comm may hold anything, so parse
         * from the last ')'. */
        if (!(p = strrchr(buf, ')')) || sscanf(p + 1, " %*c %ld", &ppid) != 1)
            continue;
        if ((pid_t)ppid == self) {
            kill((pid_t)atol(e->d_name), SIGKILL);
            n++;
        }
    }
    closedir(d);
    return n;
}

static void exit_like(int status)
{
    if (WIFSIGNALED(status)) {
        struct rlimit none = {0, 0};
        sigset_t s;
        int sig = WTERMSIG(status);
        setrlimit(RLIMIT_CORE, &none);
        signal(sig, SIG_DFL);
        sigemptyset(&s);
        sigaddset(&s, sig);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
        raise(sig);
        _exit(128 + sig);
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 255);
}

/* Kills every descendant: each round kills the children, reaps one, and
 * looks again (the children of a dead child are ours now). */
static void kill_tree(pid_t self, pid_t main_pid, int *main_status, int *main_done)
{
    for (;;) {
        int st;
        pid_t pid;
        siginfo_t si;
        /* No child at all (the usual end): no need to look through /proc. */
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD)
            return;
        kill_children(self);
        pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            return; /* ECHILD: no descendant is left */
        }
        if (pid == main_pid && !*main_done) {
            *main_status = st;
            *main_done = 1;
        }
    }
}

static void run_command(char *const argv[], const keeper_user *user, const char *cgroup)
{
    sigset_t none;
    /* Into the command's cgroup before anything of it runs: all it starts
     * stays there, whatever its user or parent. */
    if (cgroup && cgroup_join(cgroup) < 0) {
        dprintf(2, "frame-exec-server: cannot enter the cgroup %s: %s\n", cgroup, strerror(errno));
        _exit(126);
    }
    if (user->set) {
        if (setgroups(0, NULL) < 0 || initgroups(user->name, user->gid) < 0 ||
            setgid(user->gid) < 0 || setuid(user->uid) < 0 || setuid(0) == 0) {
            dprintf(2, "frame-exec-server: cannot become user %s: %s\n", user->name, strerror(errno));
            _exit(126);
        }
        setenv("USER", user->name, 1);
        setenv("LOGNAME", user->name, 1);
        setenv("HOME", user->home, 1);
        if (chdir(user->home) < 0 && chdir("/") < 0)
            _exit(126);
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[0], argv);
    dprintf(2, "frame-exec-server: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static void keeper_main(char *const argv[], pid_t server, const keeper_user *user,
                        const char *cgroup)
{
    sigset_t wait_for;
    pid_t self = getpid(), main_pid;
    int main_status = 0, main_done = 0;

    setpgid(0, 0); /* no terminal signals from the server's terminal */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) < 0) {
        dprintf(2, "frame-exec-server: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
        _exit(126);
    }
    prctl(PR_SET_PDEATHSIG, (long)SIGTERM, 0L, 0L, 0L);
    if (getppid() != server) /* the server died before prctl */
        _exit(126);
    main_pid = fork();
    if (main_pid < 0) {
        dprintf(2, "frame-exec-server: fork: %s\n", strerror(errno));
        _exit(126);
    }
    if (main_pid == 0)
        run_command(argv, user, cgroup);
    sigemptyset(&wait_for);
    sigaddset(&wait_for, SIGCHLD);
    sigaddset(&wait_for, SIGTERM);
    sigaddset(&wait_for, SIGINT);
    sigaddset(&wait_for, SIGHUP);
    while (!main_done) {
        siginfo_t si;
        int sig = sigwaitinfo(&wait_for, &si), st;
        pid_t pid;
        if (sig < 0)
            continue;
        if (sig != SIGCHLD)
            break; /* told to end it all */
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
            if (pid == main_pid) {
                main_status = st;
                main_done = 1;
            }
    }
    /* The command ended, or its time did: nothing it started survives it.
     * The cgroup first (it holds even what the keeper may not signal),
     * then the children, until none is left to reap. */
    if (cgroup)
        cgroup_kill(cgroup);
    kill_tree(self, main_pid, &main_status, &main_done);
    exit_like(main_status);
}

int main(int argc, char **argv)
{
    keeper_user user;
    long server;

    if (argc < 10 || strcmp(argv[1], KEEPER_ARG) != 0 || strcmp(argv[8], "--") != 0) {
        fprintf(stderr, "frame-exec-keeper: started by frame-exec-server only\n");
        return 2;
    }
    memset(&user, 0, sizeof user);
    server = strtol(argv[2], NULL, 10);
    if (strcmp(argv[3], "-") != 0) {
        user.set = 1;
        user.uid = (uid_t)strtol(argv[3], NULL, 10);
        user.gid = (gid_t)strtol(argv[4], NULL, 10);
        user.name = argv[5];
        user.home = argv[6];
    }
    close_from(3);
    keeper_main(argv + 9, (pid_t)server, &user, strcmp(argv[7], "-") ? argv[7] : NULL);
    return 126;
}
