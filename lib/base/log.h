/* log: levelled, module-tagged logging to stderr (or a file). */
#ifndef PIC_LOG_H
#define PIC_LOG_H

#include <stdio.h>

enum log_level { LOGL_DEBUG = 0, LOGL_INFO, LOGL_WARN, LOGL_ERROR, LOGL_NONE };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Where lines go (default stderr); the caller keeps ownership of the FILE. */
void log_set_file(FILE *f);
/* A prefix put before every line, e.g. the process name ("accessproxy[123]"). */
void log_set_prefix(const char *prefix);
/* Parses "debug", "info", "warn", "error", "none"; returns 0 or EINVAL. */
int log_level_parse(const char *name, enum log_level *levelp);
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Each .c file defines LOG_MODULE before using these. */
#define log_debug(...) log_msg(LOGL_DEBUG, LOG_MODULE, __VA_ARGS__)
#define log_info(...)  log_msg(LOGL_INFO,  LOG_MODULE, __VA_ARGS__)
#define log_warn(...)  log_msg(LOGL_WARN,  LOG_MODULE, __VA_ARGS__)
#define log_error(...) log_msg(LOGL_ERROR, LOG_MODULE, __VA_ARGS__)

#endif
