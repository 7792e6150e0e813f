/* SPDX-License-Identifier: MIT */
/* Paths the plugin makes and takes apart. */
#ifndef VFPOOL_K8S_PATHS_H
#define VFPOOL_K8S_PATHS_H

#include <string>

namespace vfk8s {

/* mkdir -p, mode 0755: 0 or a negative errno. */
int make_dirs(const std::string &path);
std::string base_name(const std::string &path);
std::string dir_name(const std::string &path);

} // namespace vfk8s

#endif
