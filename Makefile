# berth build. `make` builds into build/; `make SAN=1` builds with ASan+UBSan into build-asan/.
# Modules are static libraries (DESIGN §2); binaries, unit tests and fuzzers link the same code.

SAN ?=
ifeq ($(SAN),1)
B ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1
else
B ?= build
SANFLAGS :=
OPT := -O2
endif

CC ?= cc
PKGS := json-c libseccomp libcap
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libarchive sqlite3 libcrypto libcurl zlib nettle)
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
# The engine's libraries (image store, daemon, client) on top of the runtime's. SHA-256 is
# nettle's (src/basic/digest.h): only berthd's TLS listener needs libssl and libcrypto, and
# it loads them itself (src/lazy); libcurl brings its own.
ENGINE_PKG_LIBS := $(shell pkg-config --libs libcurl zlib libarchive sqlite3 nettle) $(PKG_LIBS) -lpthread
# The unit tests check the digests against OpenSSL's.
UNIT_PKG_LIBS := $(ENGINE_PKG_LIBS) $(shell pkg-config --libs libcrypto)

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wshadow -Wno-unused-parameter -Wno-missing-field-initializers -Wvla -Wpointer-arith
CFLAGS ?= $(OPT) -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Ulinux -Uunix $(WARN) $(CFLAGS) $(SANFLAGS) -Isrc $(PKG_CFLAGS) \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -ffunction-sections -fdata-sections
ALL_LDFLAGS := $(SANFLAGS) -pie -Wl,-z,relro,-z,now $(LDFLAGS)

MODULES := basic json oci runtime http image registry network shim daemon api cli lazy
mod_srcs = $(wildcard src/$(1)/*.c)
mod_objs = $(patsubst src/%.c,$(B)/obj/%.o,$(call mod_srcs,$(1)))

LIB_basic := $(B)/lib/libbasic.a
LIB_json := $(B)/lib/libjson.a
LIB_oci := $(B)/lib/liboci.a
LIB_runtime := $(B)/lib/libruntime.a
# Link order: dependents first.
LIBS_RUNTIME := $(LIB_runtime) $(LIB_oci) $(LIB_json) $(LIB_basic)
LIBS_ALL := $(B)/lib/libcli.a $(B)/lib/libapi.a $(B)/lib/libdaemon.a $(B)/lib/libnetwork.a \
	$(B)/lib/libshim.a \
	$(B)/lib/libregistry.a $(B)/lib/libimage.a $(B)/lib/libhttp.a $(LIBS_RUNTIME)

RT_SRCS := $(wildcard src/cmd/berth-runtime/*.c)
RT_OBJS := $(patsubst src/%.c,$(B)/obj/%.o,$(RT_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz-*.c)

# Other binaries: src/cmd/<name>/*.c, linked against every module.
OTHER_CMDS := $(filter-out berth-runtime,$(notdir $(wildcard src/cmd/*)))
BINS := $(B)/bin/berth-runtime $(addprefix $(B)/bin/,$(OTHER_CMDS)) $(B)/bin/berth-init

.PHONY: all clean check unit fuzz format format-check
all: $(BINS) $(UNIT_BINS)

$(B)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo '  CC   $<'
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

define MODULE_LIB
$$(B)/lib/lib$(1).a: $$(call mod_objs,$(1))
	@mkdir -p $$(dir $$@)
	@rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call MODULE_LIB,$(m))))

# berth-runtime is on the container start path: link the libraries statically (no dynamic
# loader work, twice: it re-executes itself from a sealed copy) and keep the debug info
# beside the binary, so the copy it makes of itself is small.
ifeq ($(SAN),1)
RT_LIBS := $(PKG_LIBS)
else
RT_LIBS := -Wl,-Bstatic -ljson-c -lseccomp -lcap -Wl,-Bdynamic
endif
$(B)/bin/berth-runtime: $(RT_OBJS) $(LIBS_RUNTIME)
	@mkdir -p $(dir $@)
	@echo '  LD   $@'
	@$(CC) $(ALL_LDFLAGS) -Wl,--gc-sections -o $@ $(RT_OBJS) $(LIBS_RUNTIME) $(RT_LIBS)
	@objcopy --only-keep-debug $@ $@.debug && objcopy --strip-all --add-gnu-debuglink=$@.debug $@

# berth-init goes into containers (run --init): static, no sanitizers, no libraries.
$(B)/bin/berth-init: src/init/berth-init.c
	@mkdir -p $(dir $@)
	@echo '  LD   $@'
	@$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) -O2 -static -o $@ $<

# What each binary links (dependents first); others get every module.
LIBS_berthd := $(B)/lib/libapi.a $(B)/lib/libdaemon.a $(B)/lib/libnetwork.a $(B)/lib/libregistry.a $(B)/lib/libimage.a $(B)/lib/libhttp.a \
	$(LIBS_RUNTIME) $(B)/lib/liblazy.a
# berthd loads libcurl, libarchive, libcrypto, libssl and zlib when it first needs them
# (src/lazy/lazy.h). nettle (the SHA-256 of image work and of every container create) is
# linked statically: only its SHA-256 objects come in, a few pages of berthd's text, where
# the shared library was 0.3 MiB resident (and libcrypto before it 1.4 MiB). Unused
# functions are dropped (-ffunction-sections, --gc-sections): 683 -> 596 KiB of text, all of
# which ends up resident in a working daemon.
LDLIBS_berthd := -Wl,--gc-sections $(shell pkg-config --libs sqlite3) -Wl,-Bstatic -lnettle -Wl,-Bdynamic \
	$(PKG_LIBS) -lpthread
LIBS_berth-shim := $(B)/lib/libshim.a $(LIBS_RUNTIME)
# berth-shim starts once per container: link it fully static (static-pie), like
# berth-runtime, so its exec does no dynamic loading (half the exec's CPU time).
ifneq ($(SAN),1)
LDLIBS_berth-shim := -static-pie -Wl,--gc-sections -ljson-c -lseccomp -lcap
endif
# berth-shim-monitor is what the shim execs once the container runs (src/shim/monitor.h):
# the loop and basic only, fully static (no libc.so pages in its RSS).
LIBS_berth-shim-monitor := $(B)/lib/libshim.a $(B)/lib/libbasic.a
ifeq ($(SAN),1)
LDLIBS_berth-shim-monitor := -lc
else
LDLIBS_berth-shim-monitor := -static-pie -Wl,--gc-sections
endif
LIBS_berth := $(B)/lib/libcli.a $(B)/lib/libhttp.a $(LIBS_RUNTIME)
bin_libs = $(or $(LIBS_$(1)),$(LIBS_ALL))
define OTHER_BIN
$$(B)/bin/$(1): $$(patsubst src/%.c,$$(B)/obj/%.o,$$(wildcard src/cmd/$(1)/*.c)) $$(call bin_libs,$(1))
	@mkdir -p $$(dir $$@)
	@echo '  LD   $$@'
	@$$(CC) $$(ALL_LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(call bin_libs,$(1)) \
		$$(or $$(LDLIBS_$(1)),$$(ENGINE_PKG_LIBS))
endef
$(foreach c,$(OTHER_CMDS),$(eval $(call OTHER_BIN,$(c))))

$(B)/tests/%: tests/unit/%.c tests/unit/test.h $(LIBS_ALL)
	@mkdir -p $(dir $@)
	@echo '  TEST $@'
	@$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Itests/unit -o $@ $< $(LIBS_ALL) $(UNIT_PKG_LIBS)

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do $$t || fail=1; done; exit $$fail

# libFuzzer targets need clang.
FUZZ_CC ?= clang
FUZZ_B := build-fuzz
FUZZ_LIBS = $(patsubst $(B)/%,$(FUZZ_B)/%,$(LIBS_ALL))
fuzz:
	$(MAKE) B=$(FUZZ_B) CC=$(FUZZ_CC) CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
		SAN= $(FUZZ_LIBS)
	@mkdir -p $(FUZZ_B)/fuzz
	for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
		$(FUZZ_CC) -std=gnu11 -D_GNU_SOURCE -Ulinux -Uunix -O1 -g -fsanitize=fuzzer,address,undefined -Isrc $(PKG_CFLAGS) \
		-o $(FUZZ_B)/fuzz/$$n $$f $(FUZZ_LIBS) $(ENGINE_PKG_LIBS) || exit 1; done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
