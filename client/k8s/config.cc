// SPDX-License-Identifier: MIT
#include "client/k8s/config.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fnmatch.h>
#include <fstream>
#include <json-c/json.h>
#include <memory>
#include <set>
#include <sstream>

#include <vfpool/vfpool.h>

namespace vfk8s {

namespace {

using JsonPtr = std::unique_ptr<json_object, decltype(&json_object_put)>;

bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int hex4(const std::string &s)
{
	char *end;
	long v;

	if (s == "*")
		return -1;
	if (s.size() != 4)
		return -2;
	for (char c : s)
		if (!isxdigit((unsigned char)c))
			return -2;
	v = strtol(s.c_str(), &end, 16);
	return *end ? -2 : (int)v;
}

bool parse_device_id(const std::string &s, DeviceId *ret)
{
	size_t colon = s.find(':');

	if (colon == std::string::npos)
		return false;
	ret->vendor = hex4(s.substr(0, colon));
	ret->device = hex4(s.substr(colon + 1));
	return ret->vendor >= -1 && ret->device >= -1;
}

/* A list of non-empty strings; checks each with ok. */
bool string_list(json_object *v, const std::string &where, std::vector<std::string> *out,
		 std::string *why)
{
	if (!json_object_is_type(v, json_type_array)) {
		*why = where + ": not a list of strings";
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);
		const char *s;

		if (!json_object_is_type(e, json_type_string) ||
		    !*(s = json_object_get_string(e))) {
			*why = where + "[" + std::to_string(i) + "]: not a non-empty string";
			return false;
		}
		if (strlen(s) > 255) {
			*why = where + "[" + std::to_string(i) + "]: longer than 255 characters";
			return false;
		}
		out->push_back(s);
	}
	if (out->empty()) {
		*why = where + ": empty (leave it out to select on other keys)";
		return false;
	}
	return true;
}

bool string_value(json_object *v, const std::string &where, std::string *out, std::string *why)
{
	if (!json_object_is_type(v, json_type_string)) {
		*why = where + ": not a string";
		return false;
	}
	*out = json_object_get_string(v);
	return true;
}

bool parse_pool(json_object *o, size_t index, PoolConfig *p, std::string *why)
{
	std::string where = "pools[" + std::to_string(index) + "]";

	if (!json_object_is_type(o, json_type_object)) {
		*why = where + ": not an object";
		return false;
	}
	json_object_object_foreach(o, key, val) {
		std::string k = key, at = where + "." + k;
		std::vector<std::string> ids;

		if (k == "name") {
			if (!string_value(val, at, &p->name, why))
				return false;
		} else if (k == "network") {
			if (!string_value(val, at, &p->network, why))
				return false;
		} else if (k == "profile") {
			if (!string_value(val, at, &p->profile, why))
				return false;
		} else if (k == "vfDriver") {
			std::string s;

			if (!string_value(val, at, &s, why))
				return false;
			if (s != "vfio-pci") {
				*why = at + ": \"" + s + "\" is not \"vfio-pci\" (leave it out: "
				       "the VFs' own driver)";
				return false;
			}
			p->vfio = true;
		} else if (k == "placement") {
			std::string s;

			if (!string_value(val, at, &s, why))
				return false;
			if (s == "spread") {
				p->placement = Placement::spread;
			} else if (s == "pack") {
				p->placement = Placement::pack;
			} else {
				*why = at + ": \"" + s + "\" is neither \"spread\" nor \"pack\"";
				return false;
			}
		} else if (k == "pfNames") {
			if (!string_list(val, at, &p->pf_names, why))
				return false;
		} else if (k == "pfPciAddresses") {
			if (!string_list(val, at, &p->pf_pci, why))
				return false;
		} else if (k == "drivers") {
			if (!string_list(val, at, &p->drivers, why))
				return false;
		} else if (k == "devices") {
			if (!string_list(val, at, &ids, why))
				return false;
			for (const auto &s : ids) {
				DeviceId d;

				if (!parse_device_id(s, &d)) {
					*why = at + ": \"" + s + "\" is not vendor:device (4 hex "
					       "digits each, or *)";
					return false;
				}
				p->devices.push_back(d);
			}
		} else {
			*why = at + ": unknown key";
			return false;
		}
	}
	if (p->name.empty()) {
		*why = where + ": no name";
		return false;
	}
	where = "pool " + p->name;
	if (!valid_pool_name(p->name)) {
		*why = where + ": the name must be 1..63 letters, digits, '-', '_' or '.', "
			       "beginning and ending with a letter or digit";
		return false;
	}
	if (!p->network.empty() && !valid_vfpool_name(p->network)) {
		*why = where + ": network \"" + p->network + "\" is not a vfpool name (1..31 of "
			       "A-Z a-z 0-9 . _ -)";
		return false;
	}
	if (!p->profile.empty() && !valid_vfpool_name(p->profile)) {
		*why = where + ": profile \"" + p->profile + "\" is not a vfpool name";
		return false;
	}
	if (p->network.empty() && p->profile.empty() && !valid_vfpool_name(p->name)) {
		*why = where + ": the name is no vfpool network name (up to 31 characters): "
			       "give \"network\"";
		return false;
	}
	if (p->pf_names.empty() && p->pf_pci.empty() && p->drivers.empty() && p->devices.empty()) {
		*why = where + ": selects no PF (give pfNames, pfPciAddresses, drivers or devices)";
		return false;
	}
	return true;
}

bool glob_any(const std::vector<std::string> &globs, const char *s)
{
	for (const auto &g : globs)
		if (fnmatch(g.c_str(), s, 0) == 0)
			return true;
	return false;
}

} // namespace

bool valid_pool_name(const std::string &s)
{
	if (s.empty() || s.size() > 63 || !alnum(s.front()) || !alnum(s.back()))
		return false;
	for (char c : s)
		if (!alnum(c) && c != '-' && c != '_' && c != '.')
			return false;
	return true;
}

bool valid_prefix(const std::string &s)
{
	size_t label = 0;

	if (s.empty() || s.size() > 253)
		return false;
	for (size_t i = 0; i < s.size(); i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (label == 0 && c == '-')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s.back() != '-';
}

bool valid_vfpool_name(const std::string &s)
{
	if (s.empty() || s.size() > 31)
		return false;
	for (char c : s)
		if (!alnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	return true;
}

bool config_parse(const std::string &text, Config *ret, std::string *why)
{
	json_tokener *tok = json_tokener_new();
	Config c;
	bool have_pools = false;

	if (!tok) {
		*why = "out of memory";
		return false;
	}
	JsonPtr root(json_tokener_parse_ex(tok, text.c_str(), (int)text.size() + 1),
		     json_object_put);
	enum json_tokener_error err = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!root || err != json_tokener_success) {
		*why = std::string("not JSON: ") + json_tokener_error_desc(err);
		return false;
	}
	if (!json_object_is_type(root.get(), json_type_object)) {
		*why = "not a JSON object";
		return false;
	}
	json_object_object_foreach(root.get(), key, val) {
		std::string k = key;

		if (k == "resourcePrefix") {
			if (!string_value(val, k, &c.resource_prefix, why))
				return false;
			if (!valid_prefix(c.resource_prefix)) {
				*why = "resourcePrefix \"" + c.resource_prefix + "\" is not a DNS "
				       "subdomain (lowercase letters, digits, '-' and '.')";
				return false;
			}
		} else if (k == "pools") {
			if (!json_object_is_type(val, json_type_array)) {
				*why = "pools: not a list";
				return false;
			}
			for (size_t i = 0; i < json_object_array_length(val); i++) {
				PoolConfig p;

				if (!parse_pool(json_object_array_get_idx(val, i), i, &p, why))
					return false;
				c.pools.push_back(std::move(p));
			}
			have_pools = true;
		} else {
			*why = k + ": unknown key";
			return false;
		}
	}
	if (!have_pools || c.pools.empty()) {
		*why = "no pools: give at least one, or no configuration file for one pool per "
		       "PF driver";
		return false;
	}
	std::set<std::string> names;
	for (const auto &p : c.pools) {
		if (!names.insert(p.name).second) {
			*why = "pool " + p.name + ": defined twice";
			return false;
		}
	}
	*ret = std::move(c);
	return true;
}

bool config_load(const std::string &path, Config *ret, std::string *why)
{
	std::ifstream f(path);
	std::ostringstream text;

	if (!f) {
		*why = path + ": " + strerror(errno);
		return false;
	}
	text << f.rdbuf();
	if (!config_parse(text.str(), ret, why)) {
		*why = path + ": " + *why;
		return false;
	}
	return true;
}

Config config_auto()
{
	Config c;

	c.auto_pools = true;
	return c;
}

bool pool_selects(const PoolConfig &p, const vfpool_pf_info &pf)
{
	if (!p.pf_names.empty() && !glob_any(p.pf_names, pf.netdev))
		return false;
	if (!p.pf_pci.empty() && !glob_any(p.pf_pci, pf.pci_addr))
		return false;
	if (!p.drivers.empty() && !glob_any(p.drivers, pf.driver))
		return false;
	if (!p.devices.empty()) {
		bool any = false;

		for (const auto &d : p.devices)
			any |= (d.vendor < 0 || (unsigned)d.vendor == pf.vendor) &&
			       (d.device < 0 || (unsigned)d.device == pf.device);
		if (!any)
			return false;
	}
	return true;
}

const std::string &pool_network(const PoolConfig &p)
{
	return p.network.empty() && p.profile.empty() ? p.name : p.network;
}

} // namespace vfk8s
