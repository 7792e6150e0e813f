// SPDX-License-Identifier: MIT
#include "client/k8s/paths.h"

#include <cerrno>
#include <sys/stat.h>

namespace vfk8s {

int make_dirs(const std::string &path)
{
	for (size_t at = 1; at <= path.size(); at++) {
		if (at < path.size() && path[at] != '/')
			continue;
		if (mkdir(path.substr(0, at).c_str(), 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	return 0;
}

std::string base_name(const std::string &path)
{
	size_t slash = path.rfind('/');

	return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string dir_name(const std::string &path)
{
	size_t slash = path.rfind('/');

	return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace vfk8s
