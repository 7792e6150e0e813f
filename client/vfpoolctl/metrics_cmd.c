/* SPDX-License-Identifier: MIT */
/* vfpoolctl metrics [--textfile DIR]: Prometheus text on stdout, or written atomically to
 * DIR/vfpool.prom for node_exporter's textfile collector (which must never read half a
 * file: write DIR/vfpool.prom.PID, fsync, rename over, fsync DIR). When vfpoold is not
 * running only vfpool_up 0 is exported, never a dead daemon's last gauges, and the exit
 * status is 1; the textfile is replaced all the same, so the collector stops serving the
 * last live figures. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_text.h"
#include "client/vfpoolctl/metrics.h"

/* s NULL: the daemon is not running. */
static int write_metrics(FILE *f, const struct vfpool_snapshot *s)
{
	if (!s) {
		metrics_write_down(f);
		return 0;
	}
	return metrics_write(f, s);
}

static int write_textfile(const struct ctl *c, const char *dir, const struct vfpool_snapshot *s,
			  char *dst, size_t dst_len)
{
	char tmp[PATH_MAX];
	FILE *f = NULL;
	int fd, r;

	if ((size_t)snprintf(dst, dst_len, "%s/vfpool.prom", dir) >= dst_len ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.%d", dst, (int)getpid()) >= sizeof(tmp))
		return ctl_usage(c, "--textfile %s: path too long", dir);
	/* a leftover of a killed run with our pid goes first; never write through a link */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return ctl_fail(c, r, "%s: %s", tmp, strerror(-r));
	}
	r = write_metrics(f, s);
	if (r == 0 && (fflush(f) || fsync(fileno(f))))
		r = -errno;
	if (fclose(f) && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, dst))
		r = -errno;
	if (r) {
		unlink(tmp);
		return ctl_fail(c, r, "%s: %s", dst, strerror(-r));
	}
	/* and the rename durable: after a crash the collector finds this file, not the last */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return CTL_EXIT_OK;
}

/* One sample line of our own exposition, name{k="v",...} value, into o's "metrics". */
static int sample_json(struct json_object *list, const char *line, const char *type)
{
	struct json_object *o = json_object_new_object(), *labels = json_object_new_object();
	size_t n = strcspn(line, "{ ");
	char name[128], key[64], val[256], num[64];
	const char *p = line + n;

	snprintf(name, sizeof(name), "%.*s", (int)n, line);
	if (*p == '{') {
		for (p++; *p && *p != '}';) {
			size_t k = strcspn(p, "=");
			size_t v = 0;

			if (p[k] != '=' || p[k + 1] != '"')
				goto bad;
			snprintf(key, sizeof(key), "%.*s", (int)k, p);
			/* the text format's escapes: \\, \", \n */
			for (p += k + 2; *p && *p != '"'; p++) {
				char ch = *p;

				if (ch == '\\' && p[1]) {
					p++;
					ch = *p == 'n' ? '\n' : *p;
				}
				if (v + 1 < sizeof(val))
					val[v++] = ch;
			}
			val[v] = '\0';
			if (*p != '"')
				goto bad;
			json_object_object_add(labels, key, ctl_json_string(val));
			p += 1 + (p[1] == ',');
		}
		if (*p != '}')
			goto bad;
		p++;
	}
	snprintf(num, sizeof(num), "%s", p + strspn(p, " "));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "labels", labels);
	/* "+Inf" and the like stay strings; counters and gauges are numbers */
	json_object_object_add(o, "value", strspn(num, "0123456789.-e") == strlen(num)
				   ? json_object_new_double_s(strtod(num, NULL), num)
				   : json_object_new_string(num));
	json_object_array_add(list, o);
	return 0;
bad:
	json_object_put(o);
	json_object_put(labels);
	return -EPROTO;
}

/* The exposition as {"metrics": [{"name", "type", "labels", "value"}]}. */
static int print_json(const struct vfpool_snapshot *s)
{
	struct json_object *root, *list;
	char *text = NULL, type[32] = "untyped";
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int r;

	if (!m)
		return -ENOMEM;
	r = write_metrics(m, s);
	if (fclose(m) || r) {
		free(text);
		return r ? r : -ENOMEM;
	}
	root = json_object_new_object();
	list = json_object_new_array();
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && !r;
	     l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "# TYPE ", 7) == 0)
			snprintf(type, sizeof(type), "%s", l + 7 + strcspn(l + 7, " ") +
				 (l[7 + strcspn(l + 7, " ")] == ' '));
		else if (l[0] != '#')
			r = sample_json(list, l, type);
	}
	free(text);
	json_object_object_add(root, "metrics", list);
	if (r) {
		json_object_put(root);
		return r;
	}
	return ctl_json_print(stdout, root);
}

int cmd_metrics(struct ctl *c)
{
	const char *dir = ctl_opt(c, "textfile");
	struct vfpool_snapshot *s;
	char path[PATH_MAX], down[256];
	int r, status;

	r = vfpool_snapshot_take_last(c->run_dir, &s);
	if (r == -ECONNREFUSED) {
		/* no state at all: no daemon has run here since boot. vfpool_up 0 */
		ctl_warn(c, "no vfpoold serving %s (no state segment there)", c->run_dir);
		s = NULL;
	} else if (r) {
		/* we cannot tell whether it runs (no access, a damaged segment): say nothing */
		return ctl_fail(c, r, "%s/state: %s", c->run_dir, vfpool_strerror(r));
	} else if (ctl_daemon_down(s, down, sizeof(down))) {
		/* only vfpool_up 0: a dead daemon's free VFs are nobody's to count on */
		ctl_warn(c, "%s", down);
		vfpool_snapshot_free(s);
		s = NULL;
	}
	if (dir) {
		status = write_textfile(c, dir, s, path, sizeof(path));
		if (status == CTL_EXIT_OK && c->json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "textfile", ctl_json_string(path));
			status = ctl_json_print(stdout, o) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
		}
	} else if (c->json) {
		r = print_json(s);
		status = r || fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
		if (r)
			ctl_fail(c, r, "%s", strerror(-r));
	} else {
		r = write_metrics(stdout, s);
		status = r || fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
		if (r)
			ctl_fail(c, r, "%s", strerror(-r));
	}
	if (!s)
		return CTL_EXIT_FAIL; /* vfpool_up 0 exported; the daemon is down */
	vfpool_snapshot_free(s);
	return status;
}
