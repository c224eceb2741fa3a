/*
 * Level-gated logging to stderr (or a file set with log_set_file()).
 *
 * The log settings are the only mutable globals in kvmscope. Libraries log
 * only at debug/trace level; anything a user must see is returned to the
 * caller, never printed. Stdout is reserved for results.
 */
#ifndef KS_LOG_H
#define KS_LOG_H

#include <stdio.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

/* The current level; messages above it are not formatted at all. */
extern enum log_level log_level_current;

void log_set_level(enum log_level level);
/* Send log output to (f) instead of stderr; NULL restores stderr. */
void log_set_file(FILE *f);
void log_msg(enum log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define ks_log(lvl, ...)                                                                           \
    do {                                                                                           \
        if ((lvl) <= log_level_current)                                                            \
            log_msg((lvl), __FILE__, __LINE__, __VA_ARGS__);                                       \
    } while (0)
#define ks_err(...)   ks_log(LOG_ERR, __VA_ARGS__)
#define ks_warn(...)  ks_log(LOG_WARN, __VA_ARGS__)
#define ks_info(...)  ks_log(LOG_INFO, __VA_ARGS__)
#define ks_debug(...) ks_log(LOG_DEBUG, __VA_ARGS__)
#define ks_trace(...) ks_log(LOG_TRACE, __VA_ARGS__)

#endif
