/* apps/common/log.c: see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static const char *prog_name = "app";
static int verbosity_level = 1;

void app_log_init(const char *prog, int verbosity)
{
    prog_name = prog;
    verbosity_level = verbosity;
}

int app_log_on(int level)
{
    return level <= verbosity_level;
}

const char *app_log_prog(void)
{
    return prog_name;
}

void app_log(int level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!app_log_on(level))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line: lines of concurrent processes do not interleave. */
    fprintf(stderr, "%s: %s\n", prog_name, line);
}
