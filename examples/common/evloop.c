/* Readiness loop for the libframe examples: see evloop.h. */
#define _POSIX_C_SOURCE 200809L

#include "evloop.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) && !defined(EV_USE_POLL)
#define EV_EPOLL 1
#include <sys/epoll.h>
#else
#define EV_EPOLL 0
#include <poll.h>
#endif

uint64_t ev_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#if EV_EPOLL

struct ev_loop {
    int epfd;
    struct epoll_event buf[256];
};

const char *ev_backend(void)
{
    return "epoll";
}

ev_loop *ev_loop_new(void)
{
    ev_loop *l = malloc(sizeof *l);
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return NULL;
    }
    return l;
}

void ev_loop_free(ev_loop *l)
{
    if (l) {
        close(l->epfd);
        free(l);
    }
}

static int ctl(ev_loop *l, int op, int fd, unsigned events, void *ptr)
{
    struct epoll_event ev;
    ev.events = ((events & EV_READ) ? EPOLLIN : 0u) | ((events & EV_WRITE) ? EPOLLOUT : 0u);
    ev.data.ptr = ptr;
    return epoll_ctl(l->epfd, op, fd, &ev);
}

int ev_add(ev_loop *l, int fd, unsigned events, void *ptr)
{
    return ctl(l, EPOLL_CTL_ADD, fd, events, ptr);
}

int ev_mod(ev_loop *l, int fd, unsigned events, void *ptr)
{
    return ctl(l, EPOLL_CTL_MOD, fd, events, ptr);
}

int ev_del(ev_loop *l, int fd)
{
    struct epoll_event ev = {0, {0}}; /* non-NULL for kernels before 2.6.9 */
    return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, &ev);
}

int ev_wait(ev_loop *l, ev_event *out, int max, int timeout_ms)
{
    int n, i;
    if (max > (int)(sizeof l->buf / sizeof l->buf[0]))
        max = (int)(sizeof l->buf / sizeof l->buf[0]);
    n = epoll_wait(l->epfd, l->buf, max, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (i = 0; i < n; i++) {
        uint32_t e = l->buf[i].events;
        out[i].ptr = l->buf[i].data.ptr;
        out[i].events = ((e & EPOLLIN) ? EV_READ : 0u) | ((e & EPOLLOUT) ? EV_WRITE : 0u) |
                        ((e & (EPOLLERR | EPOLLHUP)) ? EV_ERROR : 0u);
    }
    return n;
}

#else /* poll(2) */

struct ev_loop {
    struct pollfd *pfd; /* registered fds, densely packed */
    void **ptr;         /* ptr[i] belongs to pfd[i] */
    int *slot;          /* slot[fd] = index in pfd, or -1 */
    size_t n, cap, nslots, next;
};

const char *ev_backend(void)
{
    return "poll";
}

ev_loop *ev_loop_new(void)
{
    ev_loop *l = calloc(1, sizeof *l);
    return l;
}

void ev_loop_free(ev_loop *l)
{
    if (l) {
        free(l->pfd);
        free(l->ptr);
        free(l->slot);
        free(l);
    }
}

static short to_poll(unsigned events)
{
    return (short)(((events & EV_READ) ? POLLIN : 0) | ((events & EV_WRITE) ? POLLOUT : 0));
}

static int find(const ev_loop *l, int fd)
{
    return (fd >= 0 && (size_t)fd < l->nslots) ? l->slot[fd] : -1;
}

int ev_add(ev_loop *l, int fd, unsigned events, void *ptr)
{
    if (fd < 0 || find(l, fd) >= 0) {
        errno = fd < 0 ? EBADF : EEXIST;
        return -1;
    }
    if ((size_t)fd >= l->nslots) {
        size_t ns = l->nslots ? l->nslots : 64, i;
        int *s;
        while (ns <= (size_t)fd)
            ns *= 2;
        if (!(s = realloc(l->slot, ns * sizeof *s)))
            return -1;
        for (i = l->nslots; i < ns; i++)
            s[i] = -1;
        l->slot = s;
        l->nslots = ns;
    }
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 64;
        struct pollfd *p = realloc(l->pfd, nc * sizeof *p);
        void **q;
        if (!p)
            return -1;
        l->pfd = p;
        if (!(q = realloc(l->ptr, nc * sizeof *q)))
            return -1;
        l->ptr = q;
        l->cap = nc;
    }
    l->pfd[l->n].fd = fd;
    l->pfd[l->n].events = to_poll(events);
    l->pfd[l->n].revents = 0;
    l->ptr[l->n] = ptr;
    l->slot[fd] = (int)l->n++;
    return 0;
}

int ev_mod(ev_loop *l, int fd, unsigned events, void *ptr)
{
    int i = find(l, fd);
    if (i < 0) {
        errno = ENOENT;
        return -1;
    }
    l->pfd[i].events = to_poll(events);
    l->ptr[i] = ptr;
    return 0;
}

int ev_del(ev_loop *l, int fd)
{
    int i = find(l, fd);
    size_t last;
    if (i < 0) {
        errno = ENOENT;
        return -1;
    }
    last = --l->n;
    if ((size_t)i != last) {
        l->pfd[i] = l->pfd[last];
        l->ptr[i] = l->ptr[last];
        l->slot[l->pfd[i].fd] = i;
    }
    l->slot[fd] = -1;
    return 0;
}

int ev_wait(ev_loop *l, ev_event *out, int max, int timeout_ms)
{
    int n, got = 0;
    size_t k;

    n = poll(l->pfd, (nfds_t)l->n, timeout_ms);
    if (n <= 0)
        return (n == 0 || errno == EINTR) ? 0 : -1;
    /* Start where the last full batch stopped, so no fd starves. */
    for (k = 0; k < l->n && got < max; k++) {
        size_t i = (l->next + k) % l->n;
        short r = l->pfd[i].revents;
        if (r == 0)
            continue;
        out[got].ptr = l->ptr[i];
        out[got].events = ((r & POLLIN) ? EV_READ : 0u) | ((r & POLLOUT) ? EV_WRITE : 0u) |
                          ((r & (POLLERR | POLLHUP | POLLNVAL)) ? EV_ERROR : 0u);
        got++;
    }
    l->next = l->n ? (l->next + k) % l->n : 0;
    return got;
}

#endif
