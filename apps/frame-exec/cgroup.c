/* apps/frame-exec/cgroup.c: a cgroup v2 per command (see cgroup.h). */
#define _GNU_SOURCE

#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define CGROUP2_MAGIC 0x63677270L /* statfs f_type of cgroup2 (linux/magic.h) */
#define BASE_PREFIX "frame-exec-server."

/* Writes `text` to the control file DIR/NAME. 0 or -1 (errno). */
static int put(const char *dir, const char *name, const char *text)
{
    char path[4096];
    size_t len = strlen(text);
    ssize_t n;
    int fd, saved;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
        return -1;
    n = write(fd, text, len);
    saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)len ? 0 : -1;
}

/* Reads the file PATH whole into buf (NUL-terminated). Length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (got + 1 < cap) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

int cgroup_join(const char *path)
{
    return put(path, "cgroup.procs", "0");
}

int cgroup_kill(const char *path)
{
    static char procs[65536];
    char file[4096];
    char *p;
    if (put(path, "cgroup.kill", "1") == 0)
        return 0;
    if (errno != ENOENT)
        return -1;
    /* Before Linux 5.14: freeze (no process can fork meanwhile), kill each, thaw. */
    if (snprintf(file, sizeof file, "%s/cgroup.procs", path) >= (int)sizeof file) {
        errno = ENAMETOOLONG;
        return -1;
    }
    put(path, "cgroup.freeze", "1");
    if (slurp(file, procs, sizeof procs) < 0)
        return -1;
    for (p = procs; *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid > 0)
            kill((pid_t)pid, SIGKILL);
        p = end;
    }
    put(path, "cgroup.freeze", "0");
    return 0;
}

int cgroup_remove(const char *path)
{
    if (rmdir(path) == 0 || errno == ENOENT)
        return 0;
    if (errno != EBUSY)
        return -1;
    if (cgroup_kill(path) < 0 && errno != ENOENT)
        return -1;
    if (rmdir(path) == 0 || errno == ENOENT)
        return 0;
    return errno == EBUSY ? 1 : -1;
}

int cgroup_create(const char *base, unsigned long long seq, char *path, size_t cap)
{
    if (snprintf(path, cap, "%s/cmd-%llu", base, seq) >= (int)cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdir(path, 0755);
}

/* Removes DIR's command cgroups, then DIR (a dead server's BASE). */
static void remove_stale(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    if (!d)
        return;
    while ((e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, "cmd-", 4) &&
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
            for (int tries = 0; tries < 100 && cgroup_remove(path) == 1; tries++)
                usleep(1000);
    closedir(d);
    rmdir(dir);
}

static void remove_dead_servers(const char *parent)
{
    DIR *d = opendir(parent);
    struct dirent *e;
    char path[4096];
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid;
        if (strncmp(e->d_name, BASE_PREFIX, sizeof BASE_PREFIX - 1))
            continue;
        pid = strtol(e->d_name + sizeof BASE_PREFIX - 1, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (snprintf(path, sizeof path, "%s/%s", parent, e->d_name) < (int)sizeof path)
            remove_stale(path);
    }
    closedir(d);
}

/* The cgroup v2 directory this process is in, into `dir`. 0 or -1 (why). */
static int own_cgroup(char *dir, size_t cap, char *why, size_t why_cap)
{
    static char buf[65536];
    char rel[4096] = "", root[4096] = "", mnt[4096] = "";
    char *line, *save = NULL;
    size_t rl;

    if (slurp("/proc/self/cgroup", buf, sizeof buf) < 0) {
        snprintf(why, why_cap, "/proc/self/cgroup: %s", strerror(errno));
        return -1;
    }
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (!strncmp(line, "0::", 3)) {
            snprintf(rel, sizeof rel, "%s", line + 3);
            break;
        }
    if (!rel[0]) {
        snprintf(why, why_cap, "this process is in no cgroup v2 hierarchy");
        return -1;
    }
    if (slurp("/proc/self/mountinfo", buf, sizeof buf) < 0) {
        snprintf(why, why_cap, "/proc/self/mountinfo: %s", strerror(errno));
        return -1;
    }
    /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - FSTYPE SOURCE SUPER" */
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *dash = strstr(line, " - ");
        if (dash && !strncmp(dash + 3, "cgroup2 ", 8) &&
            sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) == 2)
            break;
        mnt[0] = '\0';
    }
    if (!mnt[0] || strchr(mnt, '\\')) { /* none, or a mount point with escaped bytes */
        snprintf(why, why_cap, "no cgroup v2 file system is mounted");
        return -1;
    }
    /* rel is relative to the namespace's root, which the mount shows as ROOT. */
    rl = strlen(root);
    if (strcmp(root, "/") && !strncmp(rel, root, rl) && (rel[rl] == '/' || !rel[rl]))
        memmove(rel, rel + rl, strlen(rel + rl) + 1);
    if (snprintf(dir, cap, "%s%s", mnt, strcmp(rel, "/") ? rel : "") >= (int)cap) {
        snprintf(why, why_cap, "the cgroup path is too long");
        return -1;
    }
    return 0;
}

/* Can a process be moved into `dir`? (Creating a cgroup may be allowed
 * where moving processes is not.) Tried with a child that joins and exits. */
static int can_join(const char *dir)
{
    int st;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(cgroup_join(dir) == 0 ? 0 : 1);
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int cgroup_base_open(const char *want, char *base, size_t cap, char *why, size_t why_cap)
{
    char parent[4096];
    struct statfs fs;

    if (!strcmp(want, "auto")) {
        if (own_cgroup(parent, sizeof parent, why, why_cap) < 0)
            return -1;
    } else if (snprintf(parent, sizeof parent, "%s", want) >= (int)sizeof parent) {
        snprintf(why, why_cap, "the cgroup path is too long");
        return -1;
    }
    if (statfs(parent, &fs) < 0) {
        snprintf(why, why_cap, "%s: %s", parent, strerror(errno));
        return -1;
    }
    if ((long)fs.f_type != CGROUP2_MAGIC) {
        snprintf(why, why_cap, "%s is not on a cgroup v2 file system", parent);
        return -1;
    }
    remove_dead_servers(parent);
    if (snprintf(base, cap, "%s/" BASE_PREFIX "%ld", parent, (long)getpid()) >= (int)cap) {
        snprintf(why, why_cap, "the cgroup path is too long");
        return -1;
    }
    if (mkdir(base, 0755) < 0 && errno != EEXIST) {
        snprintf(why, why_cap, "cannot create %s: %s", base, strerror(errno));
        return -1;
    }
    if (can_join(base) < 0) {
        snprintf(why, why_cap, "cannot move a process into %s", base);
        rmdir(base);
        return -1;
    }
    return 0;
}

void cgroup_base_close(const char *base)
{
    rmdir(base);
}
