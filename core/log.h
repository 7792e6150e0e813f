/* SPDX-License-Identifier: MIT */
/* The daemon's log: one line per event, "level=... event=... key=value", to stderr (the
 * journal picks it up under systemd). Only the daemon logs; nothing on the hot path. */
#ifndef VFPOOL_CORE_LOG_H
#define VFPOOL_CORE_LOG_H

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

void log_set_level(enum log_level level);
int log_parse_level(const char *name, enum log_level *ret_level);
__attribute__((format(printf, 3, 4)))
void log_event(enum log_level level, const char *event, const char *fmt, ...);

#define log_err(ev, ...)   log_event(LOG_LVL_ERR, ev, __VA_ARGS__)
#define log_warn(ev, ...)  log_event(LOG_LVL_WARN, ev, __VA_ARGS__)
#define log_info(ev, ...)  log_event(LOG_LVL_INFO, ev, __VA_ARGS__)
#define log_debug(ev, ...) log_event(LOG_LVL_DEBUG, ev, __VA_ARGS__)

#endif
