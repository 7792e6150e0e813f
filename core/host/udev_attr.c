/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libudev.h>

#include "core/host/udev_attr.h"

int uattr_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

int uattr_link_name(struct udev_device *dev, const char *link, char *buf, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *syspath = udev_device_get_syspath(dev);
	const char *base;
	ssize_t n;

	if (!syspath)
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", syspath, link) >= sizeof(path))
		return -ENAMETOOLONG;
	/* readlink through libc: umockdev redirects it into the testbed like open() */
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base)
		return -EINVAL;
	return uattr_copy(buf, len, base);
}

int uattr_parse_u32(const char *s, uint32_t *ret)
{
	unsigned long long v;
	char *end;
	int base = 10;

	while (isspace((unsigned char)*s))
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	/* strtoull accepts a sign and a second 0x: refuse both, a sysfs number has neither */
	if (!isxdigit((unsigned char)*s) || (base == 10 && !isdigit((unsigned char)*s)))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || end == s)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

int uattr_read_u32(struct udev_device *dev, const char *attr, uint32_t *ret)
{
	const char *v;

	errno = 0;
	v = udev_device_get_sysattr_value(dev, attr);
	if (!v)
		return uattr_errno(errno, ENOENT);
	return uattr_parse_u32(v, ret);
}

int uattr_read_i32(struct udev_device *dev, const char *attr, int32_t *ret)
{
	const char *v;
	uint32_t u;
	int r;

	errno = 0;
	v = udev_device_get_sysattr_value(dev, attr);
	if (!v)
		return uattr_errno(errno, ENOENT);
	while (isspace((unsigned char)*v))
		v++;
	if (*v == '-') {
		r = uattr_parse_u32(v + 1, &u);
		if (r < 0 || u > (uint32_t)INT32_MAX + 1u || (v[1] == '0' && v[2] == 'x'))
			return -EINVAL;
		*ret = (int32_t)(-(int64_t)u);
		return 0;
	}
	r = uattr_parse_u32(v, &u);
	if (r < 0 || u > INT32_MAX)
		return -EINVAL;
	*ret = (int32_t)u;
	return 0;
}

int uattr_iommu_group(struct udev_device *dev, int32_t *ret)
{
	char name[32];
	uint32_t g;
	int r;

	r = uattr_link_name(dev, "iommu_group", name, sizeof(name));
	if (r < 0)
		return r;
	if (!isdigit((unsigned char)name[0]) || uattr_parse_u32(name, &g) < 0 || g > INT32_MAX)
		return -EINVAL;
	*ret = (int32_t)g;
	return 0;
}
