/* SPDX-License-Identifier: MIT */
/* Constants shared by the link-event socket filter (BPF side) and its loader. */
#ifndef VFPOOL_BPF_LINKFILTER_H
#define VFPOOL_BPF_LINKFILTER_H

#define LINKFILTER_MAX_TRACKED 4096

/* Value of a `tracked` map entry that is not a VF (whose value is its slot) but a device
 * stacked over one: a bond or bridge a VF is enslaved to, a VLAN on such a bond. */
#define LINKFILTER_RELATED 0xffffffffu

/* Keys of the counters map. */
#define LINKFILTER_CTR_PASSED  0
#define LINKFILTER_CTR_DROPPED 1
#define LINKFILTER_CTR_NR      2

#endif
