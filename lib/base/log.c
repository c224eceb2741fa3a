#include "ks/log.h"

#include <stdarg.h>

enum log_level log_level_current = LOG_WARN;
static FILE *log_file;

void log_set_level(enum log_level level)
{
    log_level_current = level;
}

void log_set_file(FILE *f)
{
    log_file = f;
}

void log_msg(enum log_level level, const char *file, int line, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug", "trace"};
    FILE *out = log_file ? log_file : stderr;
    va_list ap;

    if (level >= LOG_DEBUG)
        fprintf(out, "kvmscope: %s: %s:%d: ", names[level], file, line);
    else
        fprintf(out, "kvmscope: %s: ", names[level]);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
}
