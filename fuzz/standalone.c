/*
 * A main() for the harnesses without libFuzzer: replays the files named on
 * the command line (directories: every file in them, not recursing), so a
 * crash found by the fuzzer can be reproduced with any compiler, sanitizers
 * or valgrind. Prints one line per file with -v.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int verbose;
static unsigned long replayed;

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;
    if (!f) {
        perror(path);
        return 1;
    }
    for (;;) {
        if (len == cap) {
            uint8_t *nb;
            cap = cap ? 2 * cap : 65536;
            nb = realloc(buf, cap);
            if (!nb) {
                fclose(f);
                free(buf);
                return 1;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        if (n == 0) break;
        len += n;
    }
    fclose(f);
    if (verbose) fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
    /* a copy of exactly len bytes, so ASan sees any over-read */
    {
        uint8_t *exact = malloc(len ? len : 1);
        if (!exact) {
            free(buf);
            return 1;
        }
        if (len) memcpy(exact, buf, len);
        free(buf);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
    }
    replayed++;
    return 0;
}

int main(int argc, char **argv) {
    int i, bad = 0;
    for (i = 1; i < argc; i++) {
        struct stat sb;
        if (!strcmp(argv[i], "-v")) {
            verbose = 1;
            continue;
        }
        if (argv[i][0] == '-') continue; /* libFuzzer flags: ignored */
        if (stat(argv[i], &sb) != 0) {
            perror(argv[i]);
            bad = 1;
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            DIR *dir = opendir(argv[i]);
            struct dirent *de;
            if (!dir) {
                perror(argv[i]);
                bad = 1;
                continue;
            }
            while ((de = readdir(dir)) != NULL) {
                char path[4096];
                struct stat fs;
                snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
                if (stat(path, &fs) == 0 && S_ISREG(fs.st_mode)) bad |= replay_file(path);
            }
            closedir(dir);
        } else {
            bad |= replay_file(argv[i]);
        }
    }
    fprintf(stderr, "replayed %lu inputs\n", replayed);
    return bad;
}
