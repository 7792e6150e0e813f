/* SPDX-License-Identifier: MIT */
/* vfpool-k8s's log: one line per event on stderr, "level=... event=... key=value", the
 * daemon's format (a "<N>" priority prefix under systemd's journal instead of the name). */
#ifndef VFPOOL_K8S_LOG_H
#define VFPOOL_K8S_LOG_H

namespace vfk8s {

enum class Level { err = 3, warn = 4, info = 6, debug = 7 };

void log_set_level(Level level);
/* "err", "warn", "info", "debug": false for anything else. */
bool log_parse_level(const char *name, Level *ret_level);
void log_event(Level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

} // namespace vfk8s

#define k8s_err(ev, ...)   ::vfk8s::log_event(::vfk8s::Level::err, ev, __VA_ARGS__)
#define k8s_warn(ev, ...)  ::vfk8s::log_event(::vfk8s::Level::warn, ev, __VA_ARGS__)
#define k8s_info(ev, ...)  ::vfk8s::log_event(::vfk8s::Level::info, ev, __VA_ARGS__)
#define k8s_debug(ev, ...) ::vfk8s::log_event(::vfk8s::Level::debug, ev, __VA_ARGS__)

#endif
