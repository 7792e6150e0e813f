/* SPDX-License-Identifier: MIT */
/* Constants shared by the link-event socket filter (BPF side) and its loader. */
#ifndef VFPOOL_BPF_LINKFILTER_H
#define VFPOOL_BPF_LINKFILTER_H

#define LINKFILTER_MAX_TRACKED 4096

/* Keys of the counters map. */
#define LINKFILTER_CTR_PASSED  0
#define LINKFILTER_CTR_DROPPED 1
#define LINKFILTER_CTR_NR      2

#endif
