/*
 * examples/common/evloop.h: a minimal readiness loop for the libframe examples.
 *
 * Not part of libframe. Level-triggered readiness on file descriptors: epoll
 * on Linux, poll(2) elsewhere (or everywhere when built with -DEV_USE_POLL).
 * One loop per thread; nothing global.
 *
 * Each registered fd carries a `ptr` of yours that comes back with its
 * events. Events are reported level-triggered: a readable fd is reported again
 * on every ev_wait until you read it, so a handler may do as much or as little
 * I/O as it likes. To stop hearing about an fd for a while, ev_mod it to 0
 * (errors and hang-ups are still reported: EV_ERROR) or ev_del it.
 *
 * Dangling pointers: ev_wait returns a batch. If a handler frees the object
 * behind another event's `ptr` of the same batch (e.g. it closes a second
 * connection), that event still arrives; mark objects dead and free them
 * after the batch, as examples/frame_exec/server.c does.
 *
 *     ev_loop *l = ev_loop_new();
 *     ev_add(l, listen_fd, EV_READ, &listener);
 *     for (;;) {
 *         ev_event evs[64];
 *         int n = ev_wait(l, evs, 64, 1000);
 *         for (int i = 0; i < n; i++) handle(evs[i].ptr, evs[i].events);
 *     }
 */
#ifndef EXAMPLES_EVLOOP_H
#define EXAMPLES_EVLOOP_H

#include <stdint.h>

#define EV_READ 1u  /* readable, or end of file */
#define EV_WRITE 2u /* writable */
#define EV_ERROR 4u /* error or hang-up: the next read/write says which */

typedef struct ev_loop ev_loop;

typedef struct ev_event {
    void *ptr;       /* what was given to ev_add/ev_mod */
    unsigned events; /* EV_READ | EV_WRITE | EV_ERROR */
} ev_event;

/* A new loop, or NULL (errno set). Free it with ev_loop_free. */
ev_loop *ev_loop_new(void);
void ev_loop_free(ev_loop *l);

/* "epoll" or "poll". */
const char *ev_backend(void);

/* Registers fd (not yet registered) for `events` (EV_READ|EV_WRITE, or 0).
 * Returns 0, or -1 with errno. */
int ev_add(ev_loop *l, int fd, unsigned events, void *ptr);
/* Changes the events and ptr of a registered fd. Returns 0 or -1. */
int ev_mod(ev_loop *l, int fd, unsigned events, void *ptr);
/* Unregisters fd; call it before close(fd). Returns 0 or -1. */
int ev_del(ev_loop *l, int fd);

/* Waits up to timeout_ms (-1 = forever) and stores up to `max` events.
 * Returns their number, 0 on timeout or when a signal interrupted the wait,
 * -1 on error (errno set). */
int ev_wait(ev_loop *l, ev_event *out, int max, int timeout_ms);

/* Milliseconds from a monotonic clock (for deadlines). */
uint64_t ev_now_ms(void);

#endif /* EXAMPLES_EVLOOP_H */
