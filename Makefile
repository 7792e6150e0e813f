# vfpool: plain GNU make. `make` builds; `make check` installs deps, builds and tests
# three ways (plain, ASan+UBSan, TSan for the concurrency suite); `make demo` runs the demo.
#
# Layout of the build: build/ (plain), build/asan/, build/tsan/. SAN=asan|tsan selects one.
# Every directory's *.c files are picked up by wildcard, so adding a file needs no edit here.

SAN      ?=
ifeq ($(SAN),)
B        := build
else
B        := build/$(SAN)
endif

CC       ?= gcc
ifeq ($(origin CC),default)
CC       := gcc
endif
CLANG    ?= clang
BPFTOOL  ?= bpftool
PKGS     := liburing libnl-route-3.0 libnl-3.0 libbpf libudev libsystemd json-c
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CRIT_LIBS  = $(shell pkg-config --libs criterion 2>/dev/null)
UMOCK_CFLAGS = $(shell pkg-config --cflags umockdev-1.0 2>/dev/null)
UMOCK_LIBS   = $(shell pkg-config --libs umockdev-1.0 2>/dev/null)

SOVERSION := 1
LIBVERSION := 1.0.0

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARN) -fPIC -fvisibility=hidden -pthread \
            -Iinclude -I. -I$(B)/gen $(PKG_CFLAGS)
SAN_FLAGS_asan := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# TSan does not model fences (gcc warns, -Wtsan). The one place we rely on them is the
# seqlock, whose racy reader copy is excluded from instrumentation (shm/seqlock.c).
SAN_FLAGS_tsan := -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
SAN_FLAGS := $(SAN_FLAGS_$(SAN))
ALL_CFLAGS = $(BASE_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
LDFLAGS_ALL = -pthread $(SAN_FLAGS) $(LDFLAGS)

# ---- sources, by part ------------------------------------------------------------------
SHM_SRC    := $(wildcard shm/*.c)
CORE_MAIN  := core/vfpoold.c
CORE_SRC   := $(filter-out $(CORE_MAIN),$(wildcard core/*.c core/*/*.c))
BPF_PROG   := $(wildcard bpf/*.bpf.c)
BPF_SRC    := $(filter-out $(BPF_PROG),$(wildcard bpf/*.c))
LIB_SRC    := $(wildcard client/libvfpool/*.c)
CTL_SRC    := $(wildcard client/vfpoolctl/*.c)
# vfpoolctl's checks that tests call directly (the binary's main stays out of the tests)
CTL_CHECK_SRC := client/vfpoolctl/doctor.c $(wildcard client/vfpoolctl/format_*.c)
BENCH_SRC  := $(wildcard bench/*.c)
TEST_SRC   := $(wildcard tests/*.c) $(filter-out tests/concurrency/stress_main.c,$(wildcard tests/concurrency/*.c))
STRESS_SRC := $(wildcard tests/concurrency/*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
SHM_OBJ   := $(call obj,$(SHM_SRC))
CORE_OBJ  := $(call obj,$(CORE_SRC))
BPF_OBJ   := $(call obj,$(BPF_SRC))
LIB_OBJ   := $(call obj,$(LIB_SRC))
CTL_OBJ   := $(call obj,$(CTL_SRC))
BENCH_OBJ := $(call obj,$(BENCH_SRC))
TEST_OBJ  := $(call obj,$(TEST_SRC))
STRESS_OBJ := $(call obj,$(STRESS_SRC))
BPF_SKEL  := $(patsubst bpf/%.bpf.c,$(B)/gen/bpf/%.skel.h,$(BPF_PROG))

# The Kubernetes device plugin (client/k8s): C++17 on gRPC++, a client of the daemon like
# vfpoolctl (libvfpool's public API only). Its protobuf files are compiled at build time.
CXXWARN  := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
CXXFLAGS ?= -O2 -g
PROTOC   ?= protoc
GRPC_CPP_PLUGIN ?= $(shell command -v grpc_cpp_plugin 2>/dev/null || echo grpc_cpp_plugin)
K8S_PKGS := grpc++ protobuf json-c
K8S_PKG_CFLAGS = $(shell pkg-config --cflags $(K8S_PKGS) 2>/dev/null)
K8S_PKG_LIBS   = $(shell pkg-config --libs $(K8S_PKGS) 2>/dev/null)
# the generated headers are gRPC's code, not ours: -isystem keeps their warnings out. They
# are generated under their .proto's path (client/k8s/proto/...): included by that path,
# they are client/'s for check-deps, as bpf/*.skel.h are bpf/'s.
K8S_CXXFLAGS = -std=c++17 -D_GNU_SOURCE -pthread -Iinclude -I. -isystem $(B)/gen \
            $(K8S_PKG_CFLAGS) $(SAN_FLAGS) $(CXXFLAGS)
K8S_PROTO   := $(wildcard client/k8s/proto/*/*/*.proto)
K8S_GEN_CC  := $(foreach p,$(K8S_PROTO:%.proto=%),$(B)/gen/$(p).pb.cc $(B)/gen/$(p).grpc.pb.cc)
K8S_GEN_H   := $(K8S_GEN_CC:.cc=.h)
K8S_GEN_OBJ := $(patsubst $(B)/gen/%.cc,$(B)/obj/k8s-gen/%.o,$(K8S_GEN_CC))
K8S_MAIN    := client/k8s/main.cc
K8S_SRC     := $(filter-out $(K8S_MAIN),$(wildcard client/k8s/*.cc))
cxxobj       = $(patsubst %.cc,$(B)/obj/%.o,$(1))
K8S_OBJ     := $(call cxxobj,$(K8S_SRC))
K8S_TEST_OBJ := $(call cxxobj,$(wildcard tests/k8s/*.cc))
K8S_TARGETS := $(B)/vfpool-k8s $(B)/vfpool-k8s-tests $(B)/vfpool-bench-k8s

LIBVFPOOL_SO := $(B)/libvfpool.so.$(LIBVERSION)
TARGETS := $(B)/vfpoold $(B)/vfpoolctl $(B)/libvfpool.so $(B)/libvfpool.a $(B)/vfpool-bench \
           $(B)/vfpool-tests $(B)/vfpool-demo-load $(B)/vfpool-example-launcher $(K8S_TARGETS)

.PHONY: all deps check check-deps check-kernel demo bench clean test test-asan test-tsan install \
	uninstall fuzz fuzz-run soak
all: $(TARGETS)

deps:
	@bash scripts/deps.sh

# ---- compile ---------------------------------------------------------------------------
$(B)/obj/%.o: %.c | $(BPF_SKEL)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The umockdev testbed API is only for tests.
$(TEST_OBJ): ALL_CFLAGS += $(UMOCK_CFLAGS)

# BPF objects: UAPI headers only (no vmlinux.h, no CO-RE), so the object loads without
# kernel BTF (absent under umockdev, where /sys is the testbed).
BPF_ARCH_INC := -I/usr/include/$(shell $(CC) -dumpmachine)
$(B)/gen/bpf/%.bpf.o: bpf/%.bpf.c
	@mkdir -p $(@D)
	$(CLANG) -O2 -g -Wall -Werror -target bpf $(BPF_ARCH_INC) -c $< -o $@

$(B)/gen/bpf/%.skel.h: $(B)/gen/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@
# Keep them: as intermediates make would delete them and rebuild every dependent each run.
.PRECIOUS: $(B)/gen/bpf/%.bpf.o $(B)/gen/bpf/%.skel.h

# protoc + grpc_cpp_plugin: one run writes all four files of a .proto
K8S_GEN_PROTO := $(B)/gen/client/k8s/proto
$(K8S_GEN_PROTO)/%.pb.cc $(K8S_GEN_PROTO)/%.pb.h $(K8S_GEN_PROTO)/%.grpc.pb.cc \
		$(K8S_GEN_PROTO)/%.grpc.pb.h: client/k8s/proto/%.proto
	@mkdir -p $(B)/gen
	$(PROTOC) -I. --cpp_out=$(B)/gen --grpc_out=$(B)/gen \
	    --plugin=protoc-gen-grpc=$(GRPC_CPP_PLUGIN) $<
.PRECIOUS: $(K8S_GEN_PROTO)/%.pb.cc $(K8S_GEN_PROTO)/%.pb.h $(K8S_GEN_PROTO)/%.grpc.pb.cc \
	   $(K8S_GEN_PROTO)/%.grpc.pb.h

# generated code is compiled without our warning flags (its warnings are not ours to fix)
$(B)/obj/k8s-gen/%.o: $(B)/gen/%.cc | $(K8S_GEN_H)
	@mkdir -p $(@D)
	$(CXX) $(K8S_CXXFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/%.o: %.cc | $(K8S_GEN_H)
	@mkdir -p $(@D)
	$(CXX) $(K8S_CXXFLAGS) $(CXXWARN) -MMD -MP -c $< -o $@
# the tests' network-namespace rig speaks libnl
$(K8S_TEST_OBJ): K8S_CXXFLAGS += $(PKG_CFLAGS)

.SECONDEXPANSION:
# ---- link ------------------------------------------------------------------------------
$(B)/libvfpoolshm.a: $(SHM_OBJ)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^
$(B)/libvfpoolcore.a: $(CORE_OBJ) $(BPF_OBJ)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^

# libvfpool: client objects + the shm layer they use; only the map's symbols are exported.
$(LIBVFPOOL_SO): $(LIB_OBJ) $(SHM_OBJ) client/libvfpool/libvfpool.map
	$(CC) -shared -o $@ $(LIB_OBJ) $(SHM_OBJ) -Wl,-soname,libvfpool.so.$(SOVERSION) \
	    -Wl,--version-script=client/libvfpool/libvfpool.map -Wl,--no-undefined $(LDFLAGS_ALL)
$(B)/libvfpool.so.$(SOVERSION): $(LIBVFPOOL_SO)
	ln -sf $(notdir $<) $@
$(B)/libvfpool.so: $(B)/libvfpool.so.$(SOVERSION)
	ln -sf $(notdir $<) $@
# $(B)/libvfpool.a: see "libvfpool's exported interface" below

$(B)/vfpoold: $(call obj,$(CORE_MAIN)) $(B)/libvfpoolcore.a $(B)/libvfpoolshm.a
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS)
$(B)/vfpoolctl: $(CTL_OBJ) $(B)/libvfpool.a
	$(CC) -o $@ $^ $(LDFLAGS_ALL) -ludev
$(B)/vfpool-bench: $(BENCH_OBJ) $(B)/libvfpool.a $(B)/libvfpoolcore.a $(B)/libvfpoolshm.a
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS) -lsqlite3 -lm
$(B)/vfpool-tests: $(TEST_OBJ) $(call obj,$(CTL_CHECK_SRC)) $(B)/libvfpool.a $(B)/libvfpoolcore.a $(B)/libvfpoolshm.a
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS) $(CRIT_LIBS) $(UMOCK_LIBS)

# The device plugin, its tests (a fake kubelet against a real vfpoold) and the bench's gRPC
# helper (vfpool-bench runs it for grpc_unary and k8s_allocate).
$(B)/vfpool-k8s: $(call cxxobj,$(K8S_MAIN)) $(K8S_OBJ) $(K8S_GEN_OBJ) $(B)/libvfpool.a
	$(CXX) -o $@ $^ $(LDFLAGS_ALL) $(K8S_PKG_LIBS)
$(B)/vfpool-k8s-tests: $(K8S_TEST_OBJ) $(K8S_OBJ) $(K8S_GEN_OBJ) \
		$(call obj,tests/daemon_fixture.c tests/daemon_socket.c tests/netns_links.c) \
		$(B)/libvfpool.a
	$(CXX) -o $@ $^ $(LDFLAGS_ALL) $(K8S_PKG_LIBS) $(CRIT_LIBS) $(PKG_LIBS)
$(B)/vfpool-bench-k8s: $(call cxxobj,bench/k8s_helper.cc) $(K8S_GEN_OBJ) $(B)/libvfpool.a
	$(CXX) -o $@ $^ $(LDFLAGS_ALL) $(K8S_PKG_LIBS)

# The soak: well-behaved and hostile clients (malformed chains, scribbled rings, deaths
# mid-chain) and the daemon SIGKILLed at random, invariants checked at the end
# (tests/soak/soak.h). `make soak SAN=asan` runs the ASan+UBSan daemon and fails on any
# report in its stderr; `make check` does that. Local sockets only.
SOAK_SECONDS ?= 180
SOAK_CLIENTS ?= 6
SOAK_HOSTILE ?= 2
$(B)/vfpool-soak: $(call obj,$(wildcard tests/soak/*.c) tests/daemon_socket.c) $(B)/libvfpool.a
	$(CC) -o $@ $^ $(LDFLAGS_ALL)
soak: $(B)/vfpool-soak $(B)/vfpoold
	$(B)/vfpool-soak --seconds $(SOAK_SECONDS) --clients $(SOAK_CLIENTS) \
	    --hostile $(SOAK_HOSTILE) --daemon $(B)/vfpoold

# The demo's launcher load: public API only, like a real launcher.
$(B)/vfpool-demo-load: $(call obj,demo/load.c) $(B)/libvfpool.a
	$(CC) -o $@ $^ $(LDFLAGS_ALL)

# The concurrency scenarios without Criterion, for ThreadSanitizer (Criterion cannot run
# under TSan: Snaipe/Criterion#274).
$(B)/vfpool-stress: $(STRESS_OBJ) $(B)/libvfpoolcore.a $(B)/libvfpoolshm.a
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS)

# The same scenarios against a mutant pool whose claim does not re-check the block reasons
# after its take: blocked_slot_never_returned must fail there (tests/run.sh, variant mutant).
# The mutant object comes first, so the archive's pool.o is never pulled in.
$(B)/obj/mutant/pool_no_recheck.o: core/model/pool.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DVFPOOL_MUTANT_NO_RECHECK -MMD -MP -c $< -o $@
$(B)/vfpool-stress-mutant: $(B)/obj/mutant/pool_no_recheck.o $(STRESS_OBJ) $(B)/libvfpoolcore.a \
			   $(B)/libvfpoolshm.a
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS)

# The example launcher links the shared library (not the archive): proof that the exported
# symbols are enough to write a launcher. $ORIGIN lets it run from the build directory.
$(B)/vfpool-example-launcher: examples/launcher.c include/vfpool/vfpool.h $(B)/libvfpool.so
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B) -lvfpool -Wl,-rpath,'$$ORIGIN' $(LDFLAGS_ALL)

# ---- libvfpool's exported interface: the archive and the ABI baseline --------------------
# The archive exports what the shared library does and nothing else: its objects are linked
# into one relocatable object and every hidden (non-VFPOOL_API) symbol made local, so a
# launcher defining its own seqlock_copy cannot replace ours.
$(B)/libvfpool.o: $(LIB_OBJ) $(SHM_OBJ)
	@mkdir -p $(@D)
	$(LD) -r -o $@.tmp $^ && $(OBJCOPY) --localize-hidden $@.tmp $@ && rm -f $@.tmp
$(B)/libvfpool.a: $(B)/libvfpool.o
	rm -f $@; ar rcs $@ $<

# vfpoolctl writes its JSON with json-c and says its version.
JSONC_CFLAGS = $(shell pkg-config --cflags json-c 2>/dev/null)
JSONC_LIBS   = $(shell pkg-config --libs json-c 2>/dev/null)
$(sort $(CTL_OBJ) $(call obj,$(CTL_CHECK_SRC))): ALL_CFLAGS += $(JSONC_CFLAGS) -DVFPOOL_VERSION='"$(LIBVERSION)"'
$(B)/vfpoolctl $(B)/vfpool-tests: LDFLAGS_ALL += $(JSONC_LIBS)
# vfpoold --version
$(call obj,$(CORE_MAIN)): ALL_CFLAGS += -DVFPOOL_VERSION='"$(LIBVERSION)"'

# abi/libvfpool.abi is the released ABI (abidw of the shared library, public header only);
# abi-check fails on any change abidiff calls incompatible. After a compatible addition (a
# new function in a new version node), `make abi-baseline` records it.
OBJCOPY  ?= objcopy
ABI_BASELINE := abi/libvfpool.abi
ABIDW_FLAGS  := --no-corpus-path --no-comp-dir-path --no-show-locs --drop-private-types \
		--headers-dir include/vfpool
.PHONY: abi-check abi-baseline
abi-check: build/libvfpool.so.$(LIBVERSION)
	@abidw $(ABIDW_FLAGS) --out-file build/libvfpool.abi $< && \
	abidiff --no-added-syms $(ABI_BASELINE) build/libvfpool.abi \
		> build/abidiff.txt; rc=$$?; \
	if [ $$((rc & 8)) -ne 0 ]; then \
		cat build/abidiff.txt; echo "abi-check: libvfpool's ABI changed incompatibly" \
		    "against $(ABI_BASELINE)"; exit 1; \
	elif [ $$((rc & 4)) -ne 0 ]; then \
		cat build/abidiff.txt; echo "abi-check: libvfpool's ABI changed against" \
		    "$(ABI_BASELINE): if compatible (a field appended to a sized struct, a" \
		    "function in a new version node), record it with make abi-baseline"; exit 1; \
	elif [ $$rc -ne 0 ]; then \
		cat build/abidiff.txt; echo "abi-check: abidiff failed ($$rc)"; exit 1; \
	fi; echo "abi-check: libvfpool matches $(ABI_BASELINE)"
abi-baseline: build/libvfpool.so.$(LIBVERSION)
	@mkdir -p $(dir $(ABI_BASELINE))
	abidw $(ABIDW_FLAGS) --out-file $(ABI_BASELINE) $<

# ---- install ---------------------------------------------------------------------------
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/vfpool
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
INSTALL     ?= install
LDCONFIG    ?= ldconfig
# The Python module: where Debian's python3 looks for PREFIX's packages.
PYTHON3     ?= /usr/bin/python3
PYTHON3_VER  = $(shell $(PYTHON3) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifeq ($(PREFIX),/usr)
PYTHONDIR   ?= /usr/lib/python3/dist-packages
else ifeq ($(PREFIX),/usr/local)
PYTHONDIR   ?= /usr/local/lib/python$(PYTHON3_VER)/dist-packages
else
PYTHONDIR   ?= $(PREFIX)/lib/python3/dist-packages
endif
UNITS       := $(wildcard dist/systemd/*.service)
# Units may name the binaries as @SBINDIR@/@BINDIR@; install fills in the real paths.
SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
	    -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@VERSION@|$(LIBVERSION)|g'

install: $(B)/vfpoold $(B)/vfpoolctl $(B)/libvfpool.so $(B)/libvfpool.a $(B)/vfpool-k8s
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR)/vfpool $(DESTDIR)$(MANDIR)/man3 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DOCDIR)/k8s
	$(INSTALL) -m 0755 $(B)/vfpoold $(DESTDIR)$(SBINDIR)/vfpoold
	$(INSTALL) -m 0755 $(B)/vfpool-k8s $(DESTDIR)$(SBINDIR)/vfpool-k8s
	$(INSTALL) -m 0644 dist/k8s/* $(DESTDIR)$(DOCDIR)/k8s/
	$(INSTALL) -m 0755 $(B)/vfpoolctl $(DESTDIR)$(BINDIR)/vfpoolctl
	$(INSTALL) -m 0755 $(LIBVFPOOL_SO) $(DESTDIR)$(LIBDIR)/libvfpool.so.$(LIBVERSION)
	ln -sf libvfpool.so.$(LIBVERSION) $(DESTDIR)$(LIBDIR)/libvfpool.so.$(SOVERSION)
	ln -sf libvfpool.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libvfpool.so
	$(INSTALL) -m 0644 $(B)/libvfpool.a $(DESTDIR)$(LIBDIR)/libvfpool.a
	$(INSTALL) -m 0644 include/vfpool/*.h $(DESTDIR)$(INCLUDEDIR)/vfpool/
	$(SUBST) vfpool.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/vfpool.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/vfpool.pc
	$(INSTALL) -m 0644 man/*.3 $(DESTDIR)$(MANDIR)/man3/
	$(INSTALL) -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 examples/launcher.c $(DESTDIR)$(DOCDIR)/examples/launcher.c
	$(INSTALL) -m 0644 dist/sysusers.d/vfpool.conf $(DESTDIR)$(SYSUSERSDIR)/vfpool.conf
	$(INSTALL) -m 0644 dist/tmpfiles.d/vfpool.conf $(DESTDIR)$(TMPFILESDIR)/vfpool.conf
	$(foreach u,$(UNITS),$(SUBST) $(u) > $(DESTDIR)$(UNITDIR)/$(notdir $(u)) && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$(notdir $(u));)
	$(INSTALL) -d $(DESTDIR)$(PYTHONDIR)/vfpool
	$(SUBST) client/python/vfpool/__init__.py > $(DESTDIR)$(PYTHONDIR)/vfpool/__init__.py
	chmod 0644 $(DESTDIR)$(PYTHONDIR)/vfpool/__init__.py
# Into the real root (no DESTDIR: a package build stages, its postinst runs ldconfig), the
# loader's cache must know the new library before anything links it at run time.
ifeq ($(DESTDIR),)
ifneq ($(filter /%,$(PREFIX)),)
	$(LDCONFIG)
endif
endif

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/vfpoold $(DESTDIR)$(SBINDIR)/vfpool-k8s \
	    $(DESTDIR)$(BINDIR)/vfpoolctl \
	    $(addprefix $(DESTDIR)$(DOCDIR)/k8s/,$(notdir $(wildcard dist/k8s/*))) \
	    $(DESTDIR)$(LIBDIR)/libvfpool.so.$(LIBVERSION) $(DESTDIR)$(LIBDIR)/libvfpool.so.$(SOVERSION) \
	    $(DESTDIR)$(LIBDIR)/libvfpool.so $(DESTDIR)$(LIBDIR)/libvfpool.a \
	    $(DESTDIR)$(PKGCONFIGDIR)/vfpool.pc $(DESTDIR)$(DOCDIR)/examples/launcher.c \
	    $(DESTDIR)$(SYSUSERSDIR)/vfpool.conf $(DESTDIR)$(TMPFILESDIR)/vfpool.conf \
	    $(addprefix $(DESTDIR)$(INCLUDEDIR)/vfpool/,$(notdir $(wildcard include/vfpool/*.h))) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(wildcard man/*.3))) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(wildcard man/*.8))) \
	    $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS))) \
	    $(DESTDIR)$(PYTHONDIR)/vfpool/__init__.py
	rm -rf $(DESTDIR)$(PYTHONDIR)/vfpool/__pycache__
	-rmdir $(DESTDIR)$(INCLUDEDIR)/vfpool $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)/k8s \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(PYTHONDIR)/vfpool 2>/dev/null

# ---- run -------------------------------------------------------------------------------
# Tests find the binaries under test through VFPOOL_BUILD (the daemon is exec'd for real).
test: $(TARGETS)
	@bash tests/run.sh $(B) plain $(B) k8s

check: deps
	$(MAKE) check-deps
	$(MAKE) all
	$(MAKE) abi-check
	$(MAKE) SAN=asan all
	$(MAKE) SAN=tsan build/tsan/vfpool-stress
	$(MAKE) build/vfpool-stress-mutant
	$(MAKE) fuzz-run FUZZ_SECONDS=10
	$(MAKE) SAN=asan soak SOAK_SECONDS=15 SOAK_CLIENTS=4
	@bash tests/run.sh build plain build k8s build/asan asan build/asan k8s-asan build/tsan tsan \
		build mutant build python build kernel

# The kernel suite alone: the plain build's binaries on a real kernel with a real SR-IOV
# device, in QEMU guests (tests/kernel/run.sh; Debian's kernel package is cached in
# build/kernel/). Without QEMU or a reachable kernel package every scenario is skipped, loudly.
check-kernel: deps
	$(MAKE) all
	@bash tests/run.sh build kernel

# The include rules of deps.rules (which part may include which; no module cycles). First in
# `check`: it takes a second, and a broken rule fails the build before anything compiles.
check-deps:
	@python3 scripts/check-deps

demo: deps
	$(MAKE) all
	@bash demo/run.sh $(B)

bench: deps
	$(MAKE) all
	$(B)/vfpool-bench

# ---- fuzz: clang libFuzzer targets, one per hostile input (fuzz/*.c, corpus in tests/) -----
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -Iinclude -I. -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=all
FUZZ_SRC_request_decode := core/model/request.c
FUZZ_SRC_handshake      := core/control_socket.c
FUZZ_SRC_journal_scan   := core/lease/journal_format.c core/lease/crc32c.c
FUZZ_SRC_numvfs_store   := core/numvfs/numvfs_store.c core/atomic_file.c
# the ring decoder and the engine together, on a simulated host, against a model of leases
FUZZ_SRC_ring_engine_model := core/model/client_ring.c core/model/engine.c \
	core/model/pending_completion.c core/model/request.c \
	core/model/state_segment.c core/model/pool.c core/model/lease_index.c core/model/vm_quota.c core/model/req_stats.c \
	core/model/host_sim.c core/model/host.c core/model/policy.c core/model/pid_check.c \
	core/model/placement.c \
	shm/seqlock.c shm/pf_block.c shm/state.c shm/liveness.c
FUZZ_TARGETS := request_decode handshake journal_scan numvfs_store ring_engine_model
# the core's base helpers (core/base/: reasons, strict numbers) go into every target
FUZZ_BASE := $(wildcard core/base/*.c)
fuzz: $(addprefix build/fuzz/,$(FUZZ_TARGETS))
build/fuzz/%: fuzz/%.c $$(FUZZ_SRC_$$*) $(FUZZ_BASE)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^
fuzz-run: fuzz
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus/$$t; \
		echo "== fuzz: $$t ($(FUZZ_SECONDS) s)"; \
		build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		    -artifact_prefix=build/fuzz/crash-$$t- \
		    build/fuzz/corpus/$$t tests/fuzz-corpus/$$t > build/fuzz/$$t.log 2>&1; \
		rc=$$?; tail -n 3 build/fuzz/$$t.log; \
		[ $$rc -eq 0 ] || { echo "fuzz: $$t failed (build/fuzz/$$t.log)"; exit 1; }; \
	done; rm -rf /tmp/vfpool-fuzz-numvfs.*

clean:
	rm -rf build

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
