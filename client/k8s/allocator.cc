// SPDX-License-Identifier: MIT
#include "client/k8s/allocator.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include <vfpool/vfpool.h>

#include "client/k8s/log.h"
#include "client/k8s/paths.h"

namespace vfk8s {

namespace {

Code code_of(int err)
{
	switch (err) {
	case -ETIMEDOUT:
	case -ECONNRESET:
	case -ECONNREFUSED:
		return Code::unavailable; /* vfpoold unreachable: worth a retry */
	case -ENOMEM:
	case -EPROTO:
	case -EIO:
		return Code::internal;
	default:
		/* the daemon's refusals: leased to someone else, blocked, no such VF, network
		 * not defined or not allowed on its PF, quota */
		return Code::failed_precondition;
	}
}

} // namespace

Allocator::Allocator(AllocatorOptions o) : opts_(std::move(o)), started_(Clock::now())
{
}

Allocator::~Allocator()
{
	vfpool_close(h_);
	if (dir_fd_ >= 0)
		close(dir_fd_);
}

int Allocator::prepare()
{
	std::lock_guard<std::mutex> lk(mu_);

	return ensure_handle();
}

int Allocator::ensure_handle()
{
	/* ring_entries: one AllocateRequest's devices at once. spin_us 1: a wait for vfpoold
	 * sleeps at once. A waiter that spins or yields keeps its CPU busy, and on a small,
	 * loaded machine vfpoold, runnable (still spinning, or just woken), waits behind it
	 * or behind others on the other CPU: with vfpoold's default spin its answer came 57 us
	 * p50 after the device-info file with a yielding wait, 15 us with a sleeping one */
	struct vfpool_opts o = VFPOOL_OPTS(vfpool_opts, .ring_entries = ring_entries,
					   .spin_us = 1, .timeout_ms = opts_.timeout_ms);

	if (h_)
		return 0;
	return vfpool_connect(opts_.run_dir.c_str(), &o, &h_);
}

void Allocator::fill_req(const Pool &pool, const Vf &vf, const std::string &vm,
			 struct vfpool_alloc_req *req)
{
	const std::string &net = pool_network(pool.cfg);

	/* pinned to the VF the kubelet chose: no NUMA preference (no VFPOOL_ALLOC_NUMA) */
	*req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = vm.c_str(), .vnic_id = lease_vnic_id,
			   .network = net.empty() ? nullptr : net.c_str(),
			   .profile = pool.cfg.profile.empty() ? nullptr : pool.cfg.profile.c_str(),
			   .pin_pci = vf.id.c_str());
	if (pool.cfg.vfio)
		req->flags |= VFPOOL_ALLOC_VFIO;
}

/* One device's answer from vfpoold: res, its lease and its reason. */
int Allocator::finish(const Pool &pool, const Vf &vf, int res, const struct vfpool_lease &lease,
		      const char *msg, Made *ret, std::string *why)
{
	struct vfpool_lease l = lease;
	std::string vm = lease_vm_id(vf.id);
	char buf[160] = "";
	int r = res;

	if (r == VFPOOL_USE_BRIDGE) {
		*why = vf.id + ": profile " + pool.cfg.profile + " gives no VF (" + msg + ")";
		return -ENOSPC;
	}
	if (r < 0) {
		*why = msg[0] ? std::string(msg) : vf.id + ": " + vfpool_strerror(r);
		return r;
	}
	auto it = book_.find(vf.id);
	if ((l.flags & VFPOOL_LEASE_EXISTING) && it != book_.end() && it->second.unheld_since) {
		/* a lease whose pod is gone, not yet released: the next pod gets the VF reset,
		 * as a fresh lease would have it */
		struct vfpool_alloc_req req;

		r = vfpool_release(h_, vm.c_str(), lease_vnic_id, l.generation, buf, sizeof(buf));
		if (r < 0 && r != -ENOENT) {
			*why = vf.id + ": releasing the previous pod's lease: " +
			       (buf[0] ? buf : vfpool_strerror(r));
			return r;
		}
		buf[0] = '\0';
		k8s_info("lease_renewed", "device=%s pod_gone=\"%s\"", vf.id.c_str(),
			 it->second.pod.c_str());
		fill_req(pool, vf, vm, &req);
		r = vfpool_alloc(h_, &req, &l, buf, sizeof(buf));
		if (r < 0 || r == VFPOOL_USE_BRIDGE) {
			*why = buf[0] ? std::string(buf) : vf.id + ": " + vfpool_strerror(r);
			return r < 0 ? r : -ENOSPC;
		}
	}
	*ret = { vf.id, l.generation, !(l.flags & VFPOOL_LEASE_EXISTING),
		 (l.flags & VFPOOL_LEASE_VFIO) ? l.iommu_group : -1 };
	return 0;
}

int Allocator::lease(const Pool &pool, const Vf &vf, Made *ret, std::string *why)
{
	std::string vm = lease_vm_id(vf.id);
	struct vfpool_alloc_req req;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char buf[160] = "";
	int r;

	fill_req(pool, vf, vm, &req);
	r = vfpool_alloc(h_, &req, &l, buf, sizeof(buf));
	return finish(pool, vf, r, l, buf, ret, why);
}

/* Every device's lease request goes out at once; `meanwhile` runs while vfpoold works (the
 * device-info files are written in the time of the round trip, not after it); then the
 * answers, in order. A lost connection falls back to one request per device through
 * vfpool_alloc, which reconnects and retries (an allocation is idempotent). Stops at the
 * first failure; made holds what was leased until then (the caller undoes it). */
int Allocator::lease_all(const Pool &pool, const std::vector<const Vf *> &vfs,
			 const std::function<void()> &meanwhile, std::vector<Made> *made,
			 std::string *why)
{
	size_t n = vfs.size();
	uint64_t tag = ++batch_ << 16;
	std::vector<std::string> vms(n);
	std::vector<struct vfpool_completion> done(n);
	std::vector<bool> have(n, false);
	size_t got = 0, sent = 0;
	int r = n <= ring_entries ? 0 : -E2BIG;

	for (; r == 0 && sent < n; sent++) {
		struct vfpool_alloc_req req;

		vms[sent] = lease_vm_id(vfs[sent]->id);
		fill_req(pool, *vfs[sent], vms[sent], &req);
		r = vfpool_submit_alloc(h_, &req, tag | sent);
	}
	if (r == 0)
		r = vfpool_flush(h_) < 0 ? -ECONNRESET : 0;
	meanwhile();
	auto deadline = Clock::now() + std::chrono::milliseconds(opts_.timeout_ms);
	struct vfpool_completion c[8];
	for (auto &e : c)
		e = VFPOOL_OPTS(vfpool_completion); /* reap writes as far as each one's sz */
	while (r == 0 && got < n) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
										   Clock::now());
		/* asleep at once (the handle's spin is 1 us): see ensure_handle */
		int k = vfpool_reap(h_, c, 8, 1, left.count() > 0 ? (int)left.count() : 0);

		if (k < 0) {
			r = k;
			break;
		}
		for (int i = 0; i < k; i++) {
			uint64_t idx = c[i].user_data & 0xffff;

			/* never another request's (the connection is fresh after a timeout) */
			if ((c[i].user_data & ~UINT64_C(0xffff)) != tag || idx >= n || have[idx])
				continue;
			done[idx] = c[i];
			have[idx] = true;
			got++;
		}
	}
	int err = 0;
	if (r < 0 && r != -E2BIG) {
		/* requests in flight on a connection we stop reading: a fresh one, so that no
		 * late answer is taken for a later request's (the leases they make, if any,
		 * are the plugin's and no pod holds them: reconciled away) */
		vfpool_close(h_);
		h_ = nullptr;
		if (r != -ETIMEDOUT && (r = ensure_handle()) < 0)
			err = r;
	}
	if (r == -ETIMEDOUT) {
		/* a daemon this slow gets no more requests from this one: what it leased
		 * for it is the plugin's, no pod holds it, reconciliation releases it */
		*why = "vfpoold did not answer within " + std::to_string(opts_.timeout_ms) + " ms";
		return r;
	}
	if (err)
		*why = opts_.run_dir + ": " + vfpool_strerror(err);
	/* every answer that came is either a lease to keep or to undo: collected past the
	 * first failure; a device without one is asked again unless something failed */
	for (size_t i = 0; i < n; i++) {
		std::string w;
		Made m;
		int e;

		if (have[i])
			e = finish(pool, *vfs[i], done[i].res, done[i].lease, done[i].why, &m, &w);
		else if (err == 0) /* the connection went: again, through the retrying call */
			e = lease(pool, *vfs[i], &m, &w);
		else
			continue;
		if (e < 0) {
			if (err == 0) {
				err = e;
				*why = w;
			}
			continue;
		}
		made->push_back(m);
	}
	return err;
}

void Allocator::undo(const std::vector<Made> &made)
{
	if (!made.empty() && ensure_handle() < 0)
		return; /* left to reconciliation */
	for (const auto &m : made) {
		if (!m.fresh)
			continue;
		std::string vm = lease_vm_id(m.id);
		char why[160] = "";
		int r = vfpool_release(h_, vm.c_str(), lease_vnic_id, m.generation, why,
				       sizeof(why));

		if (r < 0 && r != -ENOENT)
			k8s_err("undo_failed", "device=%s reason=\"%s\"", m.id.c_str(),
				why[0] ? why : vfpool_strerror(r));
	}
}

/* The directory stays open: a file per device per Allocate, on the path the kubelet waits
 * on, costs four calls (create, write, close, rename), not a path walk each. Reopened, and
 * made, when it went away. */
int Allocator::devinfo_dir_fd(bool reopen, std::string *why)
{
	int r;

	if (dir_fd_ >= 0 && !reopen)
		return dir_fd_;
	if (dir_fd_ >= 0)
		close(dir_fd_);
	dir_fd_ = -1;
	r = make_dirs(opts_.devinfo_dir);
	if (r < 0) {
		*why = opts_.devinfo_dir + ": " + strerror(-r);
		return r;
	}
	dir_fd_ = open(opts_.devinfo_dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dir_fd_ < 0) {
		r = -errno;
		*why = opts_.devinfo_dir + ": " + strerror(errno);
		return r;
	}
	return dir_fd_;
}

/* name's file in dir, whole or not at all: written under "<name>.tmp", renamed. */
int Allocator::write_file_at(int dir, const std::string &name, const std::string &body)
{
	std::string tmp = name + ".tmp";
	/* never through a link someone planted: this runs as root */
	int fd = openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			0644), r;

	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, body.data(), body.size());

	r = n == (ssize_t)body.size() ? 0 : n < 0 ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dir, tmp.c_str(), dir, name.c_str()) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dir, tmp.c_str(), 0);
	return r;
}

/* On Allocate's path one rename when the file was written ahead ("<name>.next", the same
 * body, by restage() after the device's previous Allocate): four calls (create, write,
 * close, rename) cost more than vfpoold's answer on a small VM. Else written whole here. */
int Allocator::write_devinfo(const std::string &resource, const Vf &vf, std::string *why)
{
	std::string path = devinfo_path(opts_.devinfo_dir, resource, vf.id);
	std::string name = path.substr(opts_.devinfo_dir.size() + 1);
	std::string body = devinfo_json(vf);
	int dir = devinfo_dir_fd(false, why), r;
	bool ahead;

	if (dir < 0)
		return dir;
	{
		std::lock_guard<std::mutex> lk(stage_mu_);
		auto it = staged_.find(name);

		ahead = it != staged_.end() && it->second == body;
		if (it != staged_.end())
			staged_.erase(it);
		wanted_[name] = body; /* for this device's next Allocate */
	}
	if (ahead && renameat(dir, (name + ".next").c_str(), dir, name.c_str()) == 0)
		return 0;
	/* not written ahead, or its file went away (a tmpfs cleaned up): whole, here */
	r = write_file_at(dir, name, body);
	if (r == -ENOENT) {
		/* the directory was removed under us: once more */
		dir = devinfo_dir_fd(true, why);
		if (dir < 0)
			return dir;
		r = write_file_at(dir, name, body);
	}
	if (r < 0)
		*why = path + ": " + strerror(-r);
	return r;
}

void Allocator::restage()
{
	std::map<std::string, std::string> todo;
	int dir;

	{
		std::lock_guard<std::mutex> lk(stage_mu_);

		if (wanted_.empty())
			return;
		todo.swap(wanted_);
	}
	/* its own descriptor, not Allocate's: never waits for an Allocate (whose lock a wedged
	 * vfpoold can hold for --timeout-ms) */
	dir = open(opts_.devinfo_dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dir < 0)
		return; /* Allocate makes the directory, writes the files whole, says why not */
	for (const auto &[name, body] : todo) {
		if (write_file_at(dir, name + ".next", body) < 0)
			continue;
		std::lock_guard<std::mutex> lk(stage_mu_);

		staged_[name] = body;
	}
	close(dir);
}

void Allocator::remove_devinfo(const std::string &resource, const std::string &id)
{
	std::string path = devinfo_path(opts_.devinfo_dir, resource, id);

	if (unlink(path.c_str()) < 0 && errno != ENOENT)
		k8s_warn("devinfo_remove_failed", "path=%s reason=\"%s\"", path.c_str(),
			 strerror(errno));
}

/* The VFIO group nodes there now, of the groups of vfs: looked at while vfpoold works. */
std::set<int> Allocator::group_nodes(const std::vector<const Vf *> &vfs)
{
	std::set<int> there;

	for (const Vf *vf : vfs) {
		std::string host = opts_.vfio_dir + "/" + std::to_string(vf->iommu_group);

		if (vf->iommu_group >= 0 && access(host.c_str(), F_OK) == 0)
			there.insert(vf->iommu_group);
	}
	return there;
}

ContainerGrant Allocator::grant(const Pool &pool, const std::vector<std::string> &ids,
				const std::vector<Made> &made, const std::set<int> &nodes)
{
	ContainerGrant g;
	std::set<int> groups, bound;
	std::string list;

	for (const auto &m : made)
		if (m.vfio_group >= 0)
			bound.insert(m.vfio_group);
	for (const auto &id : ids) {
		const Vf *vf = pool.find(id);

		list += (list.empty() ? "" : ",") + id;
		if (vf && vf->iommu_group >= 0)
			groups.insert(vf->iommu_group);
	}
	g.envs[env_name(pool.resource)] = list;
	/* a group node exists only while a device of the group is bound to vfio-pci: the
	 * VF's group has no other device (vfpool never hands out a shared group). A group
	 * vfpoold bound for the lease (a vfio pool) is there by its word: its node may only
	 * be created by udev a moment later */
	for (int grp : groups) {
		std::string host = opts_.vfio_dir + "/" + std::to_string(grp);

		if (!bound.count(grp) && !nodes.count(grp))
			continue;
		if (g.devices.empty())
			g.devices.push_back({ "/dev/vfio/vfio", opts_.vfio_dir + "/vfio", "rw" });
		g.devices.push_back({ "/dev/vfio/" + std::to_string(grp), host, "rw" });
	}
	return g;
}

Outcome Allocator::allocate(const View &view, const std::string &resource,
			    const std::vector<std::vector<std::string>> &containers,
			    std::vector<ContainerGrant> *ret)
{
	std::lock_guard<std::mutex> lk(mu_);
	const Pool *pool = view.find(resource);
	std::vector<Made> made;
	std::vector<std::string> written;
	std::set<std::string> seen;
	std::string why;
	int r;

	if (!pool)
		return { Code::internal, resource + ": no such pool" };
	for (const auto &ids : containers) {
		for (const auto &id : ids) {
			if (!pool->find(id))
				return { Code::invalid_argument,
					 id + ": not a device of " + resource };
			if (!seen.insert(id).second)
				return { Code::invalid_argument,
					 id + ": asked for twice in one request" };
		}
	}
	if (!view.daemon_up)
		return { Code::unavailable, "vfpoold is not running" };
	r = ensure_handle();
	if (r < 0)
		return { Code::unavailable, opts_.run_dir + ": " + vfpool_strerror(r) };
	std::vector<const Vf *> vfs;
	for (const auto &ids : containers)
		for (const auto &id : ids)
			vfs.push_back(pool->find(id));
	/* the files under their final names while vfpoold leases (rename: a reader sees a
	 * whole file or none); a file for a device that is then refused goes again below */
	std::string file_why;
	std::set<int> nodes;
	auto write_files = [&] {
		for (const Vf *vf : vfs) {
			if (write_devinfo(resource, *vf, &file_why) < 0)
				break;
			written.push_back(vf->id);
		}
		nodes = group_nodes(vfs);
	};
	r = lease_all(*pool, vfs, write_files, &made, &why);
	bool files_failed = r == 0 && written.size() < vfs.size();
	if (files_failed)
		why = file_why;
	if (r < 0 || files_failed) {
		/* keep the files of leases held before this request (another container of
		 * the same pod); the rest describe nothing */
		std::set<std::string> kept;

		for (const auto &m : made)
			if (!m.fresh)
				kept.insert(m.id);
		for (const auto &id : written)
			if (!kept.count(id))
				remove_devinfo(resource, id);
		undo(made);
		if (files_failed) {
			k8s_err("allocate_failed", "resource=%s reason=\"%s\"", resource.c_str(),
				why.c_str());
			return { Code::internal, why };
		}
		k8s_warn("allocate_refused", "resource=%s reason=\"%s\"", resource.c_str(),
			 why.c_str());
		return { code_of(r), why };
	}
	auto now = Clock::now();
	for (const auto &m : made) {
		Book &b = book_[m.id];

		b.allocated_at = now;
		b.unheld_since.reset();
		b.resource = resource;
		k8s_info("allocated", "resource=%s device=%s generation=%llu%s", resource.c_str(),
			 m.id.c_str(), (unsigned long long)m.generation,
			 m.fresh ? "" : " existing=1");
	}
	ret->clear();
	for (const auto &ids : containers)
		ret->push_back(grant(*pool, ids, made, nodes));
	return {};
}

Clock::time_point Allocator::reconcile(const View &view,
				       const std::map<std::string, std::string> &held,
				       Clock::time_point list_started,
				       std::chrono::milliseconds grace)
{
	std::lock_guard<std::mutex> lk(mu_);
	auto now = Clock::now(), next = Clock::time_point::max();

	for (const auto &pool : view.pools) {
		for (const auto &vf : pool.vfs) {
			if (vf.holder != Holder::plugin)
				continue;
			auto [it, added] = book_.try_emplace(vf.id);
			Book &b = it->second;

			if (added) {
				/* a lease from before this process: judged from our start */
				b.allocated_at = started_;
				b.resource = pool.resource;
			}
			auto h = held.find(vf.id);
			if (h != held.end()) {
				if (b.pod != h->second || b.unheld_since)
					k8s_info("lease_held", "device=%s pod=%s", vf.id.c_str(),
						 h->second.c_str());
				b.pod = h->second;
				b.unheld_since.reset();
				continue;
			}
			if (b.allocated_at >= list_started)
				continue; /* allocated after the List went out: no verdict yet */
			if (!b.unheld_since) {
				b.unheld_since = now;
				k8s_info("lease_unheld", "device=%s last_pod=\"%s\" grace_ms=%lld",
					 vf.id.c_str(), b.pod.c_str(), (long long)grace.count());
			}
			if (now < *b.unheld_since + grace) {
				next = std::min(next, *b.unheld_since + grace);
				continue;
			}
			int r = ensure_handle();
			std::string vm = lease_vm_id(vf.id);
			char why[160] = "";

			/* the file first: once the VF is free, nothing describes it to a pod */
			remove_devinfo(b.resource, vf.id);
			if (r == 0)
				r = vfpool_release(h_, vm.c_str(), lease_vnic_id, vf.generation,
						   why, sizeof(why));
			/* -ENOENT, -ESTALE: released or leased again by someone else meanwhile */
			if (r < 0 && r != -ENOENT && r != -ESTALE) {
				k8s_warn("release_failed", "device=%s reason=\"%s\"", vf.id.c_str(),
					 why[0] ? why : vfpool_strerror(r));
				continue;
			}
			k8s_info("lease_released", "resource=%s device=%s last_pod=\"%s\" "
				 "reason=\"no pod holds it\"", b.resource.c_str(), vf.id.c_str(),
				 b.pod.c_str());
			book_.erase(it);
		}
	}
	return next;
}

} // namespace vfk8s
