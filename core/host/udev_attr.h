/* SPDX-License-Identifier: MIT */
/*
 * Small typed readers over libudev for the parts of sysfs discovery and the monitor share.
 * Everything goes through libudev or libc path calls on the device's syspath, so the same
 * code runs against the real /sys and against a umockdev testbed.
 */
#ifndef VFPOOL_CORE_UDEV_ATTR_H
#define VFPOOL_CORE_UDEV_ATTR_H

#include <stddef.h>
#include <stdint.h>

struct udev_device;

/* Copies src into dst[len]: 0, or -ENAMETOOLONG (dst untouched). */
int uattr_copy(char *dst, size_t len, const char *src);

/* The last path element of the symlink <syspath>/<link> (e.g. "physfn" -> "0000:3b:00.0").
 * -ENOENT when the device has no such link. */
int uattr_link_name(struct udev_device *dev, const char *link, char *buf, size_t len);

/* Strict numeric sysattrs: decimal, or hex with a 0x prefix (vendor, device, revision);
 * surrounding whitespace allowed, anything else is -EINVAL. -ENOENT when absent. */
int uattr_read_u32(struct udev_device *dev, const char *attr, uint32_t *ret);
int uattr_read_i32(struct udev_device *dev, const char *attr, int32_t *ret);

/* Strict parse of one unsigned number as above, for values read by other means. */
int uattr_parse_u32(const char *s, uint32_t *ret);

/* The IOMMU group number behind the iommu_group link: -ENOENT when the device has none. */
int uattr_iommu_group(struct udev_device *dev, int32_t *ret);

/* libudev reports failure as NULL plus errno; this turns that into a negative errno. */
static inline int uattr_errno(int e, int fallback)
{
	return e > 0 ? -e : -fallback;
}

#endif
