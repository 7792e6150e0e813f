// SPDX-License-Identifier: MIT
#include "client/k8s/rank.h"

#include <algorithm>
#include <map>
#include <set>

namespace vfk8s {

namespace {

struct Cand {
	const Vf *vf;
	std::string id;
};

/* The node that should serve the container: the must-include devices' (the most common
 * one), else the one that can hold all `need` with the most free, else the one with the
 * most free. Ties: the lower node. */
int pick_node(const std::map<int, std::vector<Cand>> &by_node, const std::vector<const Vf *> &must,
	      size_t need)
{
	std::map<int, size_t> must_nodes;
	int best = -2;
	size_t best_n = 0;

	for (const Vf *v : must)
		must_nodes[v->numa]++;
	for (const auto &[node, n] : must_nodes) {
		if (best == -2 || n > best_n) {
			best = node;
			best_n = n;
		}
	}
	if (best != -2)
		return best;
	bool best_fits = false;
	for (const auto &[node, c] : by_node) {
		bool fits = c.size() >= need;

		if (best == -2 || (fits && !best_fits) ||
		    (fits == best_fits && c.size() > best_n)) {
			best = node;
			best_n = c.size();
			best_fits = fits;
		}
	}
	return best;
}

/* Orders one node's candidates by placement. chosen: VFs per PF already taken. */
std::vector<Cand> order_node(std::vector<Cand> c, Placement placement,
			     std::map<unsigned, size_t> &chosen, size_t need)
{
	std::map<unsigned, std::vector<Cand>> by_pf;
	std::vector<Cand> out;

	for (auto &x : c)
		by_pf[x.vf->pf_index].push_back(std::move(x));
	for (auto &[pf, list] : by_pf)
		std::sort(list.begin(), list.end(), [](const Cand &a, const Cand &b) {
			return a.vf->vf_index < b.vf->vf_index;
		});
	if (placement == Placement::pack) {
		std::vector<unsigned> pfs;

		for (const auto &[pf, list] : by_pf)
			pfs.push_back(pf);
		/* the fullest PF first: fewest free; then the one this container already uses */
		std::stable_sort(pfs.begin(), pfs.end(), [&](unsigned a, unsigned b) {
			if (by_pf[a].size() != by_pf[b].size())
				return by_pf[a].size() < by_pf[b].size();
			return chosen[a] > chosen[b];
		});
		for (unsigned pf : pfs)
			for (auto &x : by_pf[pf])
				out.push_back(std::move(x));
		return out;
	}
	std::map<unsigned, size_t> next; /* per PF: the next of its list to take */
	while (out.size() < need) {
		unsigned best = 0;
		bool found = false;

		for (const auto &[pf, list] : by_pf) {
			size_t left = list.size() - next[pf];

			if (left == 0)
				continue;
			if (!found || chosen[pf] < chosen[best] ||
			    (chosen[pf] == chosen[best] &&
			     left > by_pf[best].size() - next[best])) {
				best = pf;
				found = true;
			}
		}
		if (!found)
			break;
		out.push_back(by_pf[best][next[best]++]);
		chosen[best]++;
	}
	return out;
}

} // namespace

std::vector<std::string> rank_preferred(const Pool &pool, const std::vector<std::string> &available,
					const std::vector<std::string> &must_include, int size)
{
	std::vector<std::string> out;
	std::set<std::string> taken;
	std::vector<const Vf *> must_vfs;
	std::map<unsigned, size_t> chosen;

	for (const auto &id : must_include) {
		if (!taken.insert(id).second)
			continue;
		out.push_back(id);
		if (const Vf *v = pool.find(id)) {
			must_vfs.push_back(v);
			chosen[v->pf_index]++;
		}
	}
	if (size <= 0 || out.size() >= (size_t)size)
		return out;
	size_t need = (size_t)size - out.size();

	std::map<int, std::vector<Cand>> free_by_node;
	std::vector<std::string> not_free, unknown;
	for (const auto &id : available) {
		if (!taken.insert(id).second)
			continue;
		const Vf *v = pool.find(id);

		if (!v)
			unknown.push_back(id);
		else if (v->free)
			free_by_node[v->numa].push_back({ v, id });
		else
			not_free.push_back(id);
	}
	int node = pick_node(free_by_node, must_vfs, need);
	std::vector<int> nodes;
	if (free_by_node.count(node))
		nodes.push_back(node);
	std::vector<int> rest;
	for (const auto &[n, c] : free_by_node)
		if (n != node)
			rest.push_back(n);
	/* then the nodes with the most free: the fewest nodes for what is left */
	std::stable_sort(rest.begin(), rest.end(), [&](int a, int b) {
		return free_by_node[a].size() > free_by_node[b].size();
	});
	nodes.insert(nodes.end(), rest.begin(), rest.end());
	for (int n : nodes) {
		if (out.size() >= (size_t)size)
			break;
		for (auto &c : order_node(free_by_node[n], pool.cfg.placement, chosen,
					  (size_t)size - out.size())) {
			if (out.size() >= (size_t)size)
				break;
			out.push_back(c.id);
		}
	}
	for (auto *list : { &not_free, &unknown })
		for (const auto &id : *list)
			if (out.size() < (size_t)size)
				out.push_back(id);
	return out;
}

} // namespace vfk8s
