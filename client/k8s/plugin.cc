// SPDX-License-Identifier: MIT
#include "client/k8s/plugin.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <thread>
#include <unistd.h>

#include <vfpool/vfpool.h>

#include "client/k8s/allocator.h"
#include "client/k8s/config.h"
#include "client/k8s/hub.h"
#include "client/k8s/log.h"
#include "client/k8s/model.h"
#include "client/k8s/paths.h"
#include "client/k8s/service.h"

namespace vfk8s {

namespace {

using std::chrono::milliseconds;

constexpr milliseconds tick_min{ 5 };   /* after a change: changes come in bursts */
constexpr milliseconds tick_max{ 40 };  /* quiet: still well within 100 ms */
constexpr milliseconds daemon_retry{ 1000 }; /* a backstop to inotify while vfpoold is down */
constexpr milliseconds register_retry_min{ 1000 };
constexpr milliseconds register_retry_max{ 30000 };
constexpr const char *kubelet_socket_name = "kubelet.sock";

bool exists(const std::string &path)
{
	struct stat st;

	return stat(path.c_str(), &st) == 0;
}

void forward_library_log(enum vfpool_log_level level, const char *msg, void *)
{
	/* the library's own view of a failure we report ourselves, with its context */
	k8s_debug("libvfpool", "level=%d msg=\"%s\"", (int)level, msg);
}

class Plugin {
public:
	Plugin(const Options &o, Config cfg)
		: opts_(o), cfg_(std::move(cfg)),
		  alloc_(AllocatorOptions{ o.run_dir, o.devinfo_dir, o.vfio_dir, o.timeout_ms })
	{
	}
	~Plugin();

	int run();

private:
	bool setup(std::string *why);
	void watch_dirs();
	void handle_inotify();
	void arm_timer();
	bool connect_daemon();
	void daemon_down(const char *why);
	void follow_state();
	void publish();
	void ensure_servers();
	void restart_server(const std::string &resource);
	void register_pending();
	std::string socket_name(const Pool &p) const { return "vfpool-" + p.cfg.name + ".sock"; }

	void reconcile_loop();
	void reconcile_once();
	void kick_reconcile(Clock::time_point when);

	Options opts_;
	Config cfg_;
	Hub hub_;
	Allocator alloc_;

	int ep_ = -1, ino_ = -1, sig_ = -1, timer_ = -1;
	int wd_plugin_ = -1, wd_run_ = -1, wd_podres_ = -1;
	bool stop_ = false;

	struct vfpool *watch_ = nullptr; /* this thread's connection: says when vfpoold goes */
	struct vfpool_snapshot *snap_ = nullptr;
	bool daemon_up_ = false, down_logged_ = false, try_daemon_ = true;
	milliseconds tick_ = tick_min;
	Clock::time_point daemon_retry_at_ = Clock::time_point::max();

	std::map<std::string, std::unique_ptr<ResourceServer>> servers_; /* by resource */
	std::map<std::string, std::string> endpoints_;                   /* resource -> name */
	std::set<std::string> pending_;  /* resources to register with the kubelet */
	milliseconds register_backoff_ = register_retry_min;
	Clock::time_point register_retry_at_ = Clock::time_point::max();
	Clock::time_point server_retry_at_ = Clock::time_point::max();

	std::thread reconciler_;
	std::mutex rmu_;
	std::condition_variable rcv_;
	bool rstop_ = false;
	Clock::time_point rdue_ = Clock::now();
	bool podres_failing_ = false;
};

Plugin::~Plugin()
{
	{
		std::lock_guard<std::mutex> lk(rmu_);
		rstop_ = true;
	}
	rcv_.notify_all();
	if (reconciler_.joinable())
		reconciler_.join();
	servers_.clear(); /* each stops, and removes its socket */
	vfpool_snapshot_free(snap_);
	vfpool_close(watch_);
	for (int fd : { ep_, ino_, sig_, timer_ })
		if (fd >= 0)
			close(fd);
}

bool Plugin::setup(std::string *why)
{
	sigset_t set;
	struct epoll_event ev = {};
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	ep_ = epoll_create1(EPOLL_CLOEXEC);
	ino_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	sig_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ep_ < 0 || ino_ < 0 || sig_ < 0 || timer_ < 0) {
		*why = std::string("epoll, inotify, signalfd or timerfd: ") + strerror(errno);
		return false;
	}
	for (int fd : { ino_, sig_, timer_ }) {
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0) {
			*why = std::string("epoll_ctl: ") + strerror(errno);
			return false;
		}
	}
	r = make_dirs(opts_.plugin_dir);
	if (r < 0) {
		*why = opts_.plugin_dir + ": " + strerror(-r);
		return false;
	}
	wd_plugin_ = inotify_add_watch(ino_, opts_.plugin_dir.c_str(),
				       IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM |
					       IN_ONLYDIR);
	if (wd_plugin_ < 0) {
		*why = opts_.plugin_dir + ": inotify: " + strerror(errno);
		return false;
	}
	vfpool_set_log_fn(forward_library_log, nullptr);
	watch_dirs();
	return true;
}

/* The run and PodResources directories may come later than we do (a daemon not yet
 * started, a kubelet not yet up): added whenever missing, on every retry. */
void Plugin::watch_dirs()
{
	if (wd_run_ < 0)
		wd_run_ = inotify_add_watch(ino_, opts_.run_dir.c_str(),
					    IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_ONLYDIR);
	if (wd_podres_ < 0)
		wd_podres_ = inotify_add_watch(ino_, dir_name(opts_.pod_resources).c_str(),
					       IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
}

void Plugin::handle_inotify()
{
	alignas(struct inotify_event) char buf[4096];
	ssize_t n;

	while ((n = read(ino_, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const auto *e = reinterpret_cast<const struct inotify_event *>(p);
			std::string name = e->len ? e->name : "";
			bool created = e->mask & (IN_CREATE | IN_MOVED_TO);
			bool removed = e->mask & (IN_DELETE | IN_MOVED_FROM);

			p += sizeof(*e) + e->len;
			if (e->mask & IN_Q_OVERFLOW) {
				/* events lost: assume every one of them happened */
				k8s_warn("inotify_overflow", "%s", "");
				try_daemon_ = true;
				for (const auto &[res, s] : servers_)
					pending_.insert(res);
				for (const auto &[res, ep] : endpoints_)
					if (servers_.count(res) && !servers_[res]->socket_is_ours())
						restart_server(res);
				tick_ = milliseconds(0);
				kick_reconcile(Clock::now());
				continue;
			}
			if (e->mask & IN_IGNORED) {
				if (e->wd == wd_run_)
					wd_run_ = -1;
				if (e->wd == wd_podres_)
					wd_podres_ = -1;
				continue;
			}
			if (e->wd == wd_plugin_) {
				if (name == kubelet_socket_name && created) {
					/* a kubelet (re)started: it knows no plugin yet */
					k8s_info("kubelet_started", "socket=%s/%s",
						 opts_.plugin_dir.c_str(), kubelet_socket_name);
					for (const auto &[res, s] : servers_)
						pending_.insert(res);
					register_backoff_ = register_retry_min;
					register_retry_at_ = Clock::time_point::max();
					kick_reconcile(Clock::now());
				} else if (removed) {
					for (const auto &[res, ep] : endpoints_)
						if (ep == name && servers_.count(res) &&
						    !servers_[res]->socket_is_ours())
							restart_server(res);
				}
			} else if (e->wd == wd_run_) {
				if (created && (name == "vfpool.sock" || name == "state"))
					try_daemon_ = true;
				else if (removed && name == "vfpool.sock")
					tick_ = milliseconds(0); /* a clean stop: look now */
			} else if (e->wd == wd_podres_) {
				if (created && name == base_name(opts_.pod_resources))
					kick_reconcile(Clock::now());
			}
		}
	}
}

void Plugin::arm_timer()
{
	struct itimerspec its = {};
	auto at = std::min({ daemon_retry_at_, register_retry_at_, server_retry_at_ });

	if (at != Clock::time_point::max()) {
		auto left = at - Clock::now();
		long long ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();

		if (ns < 1)
			ns = 1; /* 0 would disarm it */
		its.it_value.tv_sec = ns / 1000000000;
		its.it_value.tv_nsec = ns % 1000000000;
	}
	timerfd_settime(timer_, 0, &its, nullptr);
}

bool Plugin::connect_daemon()
{
	struct vfpool_opts o = VFPOOL_OPTS(vfpool_opts, .ring_entries = 8,
					   .timeout_ms = opts_.timeout_ms);
	struct vfpool_daemon_info d = VFPOOL_OPTS(vfpool_daemon_info);
	int r;

	r = watch_ ? vfpool_reconnect(watch_) : vfpool_connect(opts_.run_dir.c_str(), &o, &watch_);
	if (r == 0) {
		/* a fresh take: the state file may have been replaced since the last read */
		vfpool_snapshot_free(snap_);
		snap_ = nullptr;
		r = vfpool_snapshot_take(opts_.run_dir.c_str(), &snap_);
	}
	if (r == 0)
		r = vfpool_snapshot_daemon(snap_, &d);
	if (r < 0) {
		if (!down_logged_)
			k8s_info("waiting_for_vfpoold", "run_dir=%s reason=\"%s\"",
				 opts_.run_dir.c_str(), vfpool_strerror(r));
		down_logged_ = true;
		return false;
	}
	daemon_up_ = true;
	down_logged_ = false;
	tick_ = tick_min;
	daemon_retry_at_ = Clock::time_point::max();
	k8s_info("vfpoold_ready", "run_dir=%s pid=%d pfs=%u vfs=%u", opts_.run_dir.c_str(), d.pid,
		 vfpool_snapshot_pf_count(snap_), vfpool_snapshot_vf_count(snap_));
	publish();
	kick_reconcile(Clock::now());
	return true;
}

void Plugin::daemon_down(const char *why)
{
	daemon_up_ = false;
	k8s_warn("vfpoold_down", "run_dir=%s reason=\"%s\" effect=\"every device Unhealthy\"",
		 opts_.run_dir.c_str(), why);
	down_logged_ = true;
	hub_.publish(std::make_shared<View>(view_daemon_down(*hub_.view())));
	daemon_retry_at_ = Clock::now() + daemon_retry;
}

void Plugin::publish()
{
	auto v = std::make_shared<View>(view_build(cfg_, snap_));

	hub_.publish(v);
}

/* One look at vfpoold: still there? state moved on? Costs a poll(2) on the connection and
 * one load from the shared mapping when nothing changed. */
void Plugin::follow_state()
{
	int r;

	if (vfpool_reconnect(watch_) < 0) {
		daemon_down("connection lost");
		return;
	}
	r = vfpool_snapshot_changed(snap_);
	if (r <= 0) {
		tick_ = std::min(tick_max, std::max(tick_min, tick_ * 2));
		return;
	}
	auto started = Clock::now();
	r = vfpool_snapshot_refresh(snap_);
	if (r == 0) {
		publish();
	} else if (r != -EAGAIN) {
		daemon_down(vfpool_strerror(r));
		return;
	}
	/* a host of tens of thousands of VFs takes milliseconds to read and sort into pools:
	 * under constant change, at most half of a CPU goes to it (and a change still
	 * reaches the kubelet in a few times that) */
	auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
	tick_ = std::max(tick_min, took);
}

void Plugin::ensure_servers()
{
	auto view = hub_.view();
	bool failed = false;

	if (server_retry_at_ != Clock::time_point::max())
		return; /* after a failure: when the timer says */
	for (const auto &p : view->pools) {
		std::string why, name = socket_name(p);

		if (servers_.count(p.resource))
			continue;
		auto s = resource_server_start(opts_.plugin_dir + "/" + name, p.resource, hub_,
					       alloc_, &why);
		if (!s) {
			k8s_err("serve_failed", "resource=%s reason=\"%s\"", p.resource.c_str(),
				why.c_str());
			failed = true;
			continue;
		}
		k8s_info("serving", "resource=%s socket=%s devices=%zu", p.resource.c_str(),
			 s->socket_path().c_str(), p.vfs.size());
		servers_[p.resource] = std::move(s);
		endpoints_[p.resource] = name;
		pending_.insert(p.resource);
	}
	server_retry_at_ = failed ? Clock::now() + register_retry_min : Clock::time_point::max();
}

void Plugin::restart_server(const std::string &resource)
{
	std::string why, path = opts_.plugin_dir + "/" + endpoints_[resource];

	servers_.erase(resource); /* the old one: its socket is gone, the name may be reused */
	auto s = resource_server_start(path, resource, hub_, alloc_, &why);
	if (!s) {
		k8s_err("serve_failed", "resource=%s reason=\"%s\"", resource.c_str(), why.c_str());
		server_retry_at_ = Clock::now() + register_retry_min;
		return;
	}
	k8s_info("socket_recreated", "resource=%s socket=%s", resource.c_str(), path.c_str());
	servers_[resource] = std::move(s);
	pending_.insert(resource);
}

void Plugin::register_pending()
{
	std::string kubelet = opts_.plugin_dir + "/" + kubelet_socket_name;
	bool failed = false;

	if (pending_.empty() || !exists(kubelet))
		return; /* kubelet.sock's creation brings us back */
	if (register_retry_at_ != Clock::time_point::max())
		return; /* after a failure: when the timer says */
	for (auto it = pending_.begin(); it != pending_.end();) {
		std::string why;
		auto s = servers_.find(*it);

		if (s == servers_.end()) {
			it = pending_.erase(it);
			continue;
		}
		if (!kubelet_register(kubelet, endpoints_[*it], *it, &why)) {
			k8s_warn("register_failed", "resource=%s reason=\"%s\" retry_ms=%lld",
				 it->c_str(), why.c_str(), (long long)register_backoff_.count());
			failed = true;
			++it;
			continue;
		}
		k8s_info("registered", "resource=%s endpoint=%s kubelet=%s", it->c_str(),
			 endpoints_[*it].c_str(), kubelet.c_str());
		it = pending_.erase(it);
	}
	if (failed) {
		register_retry_at_ = Clock::now() + register_backoff_;
		register_backoff_ = std::min(register_retry_max, register_backoff_ * 2);
	} else {
		register_retry_at_ = Clock::time_point::max();
		register_backoff_ = register_retry_min;
	}
}

void Plugin::kick_reconcile(Clock::time_point when)
{
	{
		std::lock_guard<std::mutex> lk(rmu_);
		rdue_ = std::min(rdue_, when);
	}
	rcv_.notify_all();
}

void Plugin::reconcile_once()
{
	auto view = hub_.view();
	std::map<std::string, std::string> held;
	std::string why;

	if (!view->daemon_up)
		return;
	alloc_.prepare(); /* the Allocate to come finds its connection made */
	auto started = Clock::now();
	if (!pod_resources_held(opts_.pod_resources, cfg_.resource_prefix, &held, &why)) {
		/* never release on a failed List: no answer is not "no pod" */
		if (!podres_failing_)
			k8s_warn("pod_resources_unavailable", "reason=\"%s\" effect=\"no lease "
				 "released until it answers\"", why.c_str());
		podres_failing_ = true;
		return;
	}
	if (podres_failing_)
		k8s_info("pod_resources_available", "socket=%s", opts_.pod_resources.c_str());
	podres_failing_ = false;
	/* the view of now, not of before the List: leases released meanwhile are gone */
	auto next = alloc_.reconcile(*hub_.view(), held, started, milliseconds(opts_.grace_ms));
	if (next != Clock::time_point::max())
		kick_reconcile(next);
}

void Plugin::reconcile_loop()
{
	std::unique_lock<std::mutex> lk(rmu_);

	while (!rstop_) {
		if (Clock::now() < rdue_) {
			rcv_.wait_until(lk, rdue_);
			continue;
		}
		rdue_ = Clock::now() + milliseconds(opts_.reconcile_ms);
		lk.unlock();
		reconcile_once();
		lk.lock();
	}
}

int Plugin::run()
{
	std::string why;

	if (!setup(&why)) {
		k8s_err("setup_failed", "reason=\"%s\"", why.c_str());
		return 1;
	}
	k8s_info("starting", "run_dir=%s plugin_dir=%s pod_resources=%s pools=%s",
		 opts_.run_dir.c_str(), opts_.plugin_dir.c_str(), opts_.pod_resources.c_str(),
		 cfg_.auto_pools ? "per-driver" : std::to_string(cfg_.pools.size()).c_str());
	reconciler_ = std::thread([this] { reconcile_loop(); });
	while (!stop_) {
		struct epoll_event evs[4];
		int timeout = daemon_up_ ? (int)tick_.count() : -1, n;

		if (!daemon_up_ && try_daemon_) {
			try_daemon_ = false;
			if (!connect_daemon()) {
				watch_dirs();
				daemon_retry_at_ = Clock::now() + daemon_retry;
			}
		}
		if (daemon_up_) {
			ensure_servers();
			register_pending();
		}
		arm_timer();
		n = epoll_wait(ep_, evs, 4, timeout);
		if (n < 0 && errno != EINTR) {
			k8s_err("epoll_failed", "reason=\"%s\"", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == sig_) {
				struct signalfd_siginfo si;

				while (read(sig_, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
					k8s_info("shutdown", "signal=%s",
						 strsignal((int)si.ssi_signo));
					stop_ = true;
				}
			} else if (evs[i].data.fd == ino_) {
				handle_inotify();
			} else if (evs[i].data.fd == timer_) {
				uint64_t expirations;
				auto now = Clock::now();

				if (read(timer_, &expirations, sizeof(expirations)) < 0 &&
				    errno != EAGAIN)
					k8s_warn("timerfd", "reason=\"%s\"", strerror(errno));
				if (now >= daemon_retry_at_) {
					daemon_retry_at_ = Clock::time_point::max();
					try_daemon_ = true;
				}
				if (now >= server_retry_at_)
					server_retry_at_ = Clock::time_point::max();
				if (now >= register_retry_at_)
					register_retry_at_ = Clock::time_point::max();
			}
		}
		if (daemon_up_)
			follow_state();
		alloc_.restage(); /* after an Allocate: its devices' next files, off its path */
	}
	return 0;
}

} // namespace

int plugin_run(const Options &opts)
{
	Config cfg;
	std::string why;

	if (opts.config_path.empty()) {
		cfg = config_auto();
	} else if (!config_load(opts.config_path, &cfg, &why)) {
		k8s_err("config_invalid", "reason=\"%s\"", why.c_str());
		return 1;
	}
	Plugin p(opts, std::move(cfg));
	return p.run();
}

} // namespace vfk8s
