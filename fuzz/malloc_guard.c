/*
 * The malloc guard: between fz_guard_begin() and fz_guard_end() any heap
 * allocation aborts. Two mechanisms, whichever the build has:
 *  - under AddressSanitizer, an allocator hook sees every malloc in the
 *    process (the library's, and the C library's on its behalf);
 *  - the link wraps malloc/calloc/realloc/free (-Wl,--wrap=...), which catches
 *    the library's own calls in any build, sanitizer or not.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_MALLOC_GUARD 1
#include "fuzz_common.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FZ_HAVE_ASAN 1
#endif

static volatile int guarded;

static void guard_trip(const char *what) {
    static const char msg[] = "malloc guard: allocation while decoding: ";
    guarded = 0;
    fputs(msg, stderr);
    fputs(what, stderr);
    fputs("\n", stderr);
    abort();
}

#ifdef FZ_HAVE_ASAN
/* From <sanitizer/allocator_interface.h>, which not every compiler ships. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

static void hook_malloc(const volatile void *ptr, size_t size) {
    (void)ptr;
    (void)size;
    if (guarded) guard_trip("malloc");
}

static void hook_free(const volatile void *ptr) {
    (void)ptr;
    if (guarded) guard_trip("free");
}

static int hooks_installed;
#endif

void fz_guard_begin(void) {
#ifdef FZ_HAVE_ASAN
    if (!hooks_installed) {
        __sanitizer_install_malloc_and_free_hooks(hook_malloc, hook_free);
        hooks_installed = 1;
    }
#endif
    guarded = 1;
}

void fz_guard_end(void) { guarded = 0; }

/* --wrap targets (the link sends the wrapped objects' calls here). */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

void *__wrap_malloc(size_t n) {
    if (guarded) guard_trip("malloc");
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m) {
    if (guarded) guard_trip("calloc");
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n) {
    if (guarded) guard_trip("realloc");
    return __real_realloc(p, n);
}

void __wrap_free(void *p) {
    if (guarded) guard_trip("free");
    __real_free(p);
}
