# SPDX-License-Identifier: Apache-2.0
# mod_plaid_link: build with apxs; `make test` runs every check.
APXS      ?= apxs
APR_CONFIG ?= apr-1-config
CC        ?= cc
WARN      = -Wall -Wextra -Werror
comma    := ,
APXS_WARN = $(addprefix -Wc$(comma),$(WARN))
CORE_SRC  = $(wildcard src/*.c)
HEADERS   = $(wildcard include/*.h src/*.h)
APR_FLAGS = $(shell $(APR_CONFIG) --cflags --cppflags --includes)
CORE_LIBS = -lcurl -ljansson -lcrypto

all: .libs/mod_plaid_link.so emulator/.libs/mod_plaid_emulator.so build/plaid-item-seal

# The core (src/) is built once per flavour into a static library that the
# module, the unit tests, the fuzz targets and the benchmarks link: plain
# (position-independent, for the module and the unit tests), ASan/UBSan
# (unit-asan, fuzz-replay) and libFuzzer (fuzz).
CORE_CFLAGS = -g -O2 -fPIC $(WARN) -Iinclude -Isrc $(APR_FLAGS)
core_objs   = $(patsubst src/%.c,build/$(1)/%.o,$(CORE_SRC))

build/core/%.o: src/%.c $(HEADERS)
	@mkdir -p build/core
	$(CC) $(CORE_CFLAGS) -c -o $@ $<

build/core/libplaidcore.a: $(call core_objs,core)
	rm -f $@ && ar rcs $@ $^

GLUE_SRC  = mod_plaid_link.c $(wildcard module/*.c)

.libs/mod_plaid_link.so: $(GLUE_SRC) module/glue.h build/core/libplaidcore.a $(HEADERS)
	$(APXS) -c -Iinclude $(APXS_WARN) -o mod_plaid_link.la \
	    $(GLUE_SRC) build/core/libplaidcore.a $(CORE_LIBS)

# The emulator compiles src/plaid_known.c (the values Plaid accepts) into
# itself; it shares nothing else with the module, which links the core.
emulator/.libs/mod_plaid_emulator.so: $(wildcard emulator/*.c) emulator/emu.h src/plaid_known.c include/plaid_known.h .libs/mod_plaid_link.so
	cd emulator && $(APXS) -c -I../include $(APXS_WARN) \
	    -o mod_plaid_emulator.la $(notdir $(wildcard emulator/*.c)) \
	    ../src/plaid_known.c -ljansson -lcrypto -lcurl

# plaid-item-seal: an application's existing access_tokens sealed as the
# module seals them, to move them into PlaidItemStore (docs/items.md).
build/plaid-item-seal: tools/plaid_item_seal.c build/core/libplaidcore.a
	$(CC) $(UNIT_CFLAGS) -o $@ $< build/core/libplaidcore.a $(UNIT_LIBS)

# Unit tests: the core in plain C, no httpd.
UNIT_CFLAGS = -g -O1 $(WARN) -Iinclude -Isrc $(APR_FLAGS)
UNIT_LIBS   = $(shell $(APR_CONFIG) --link-ld --libs) $(shell apu-1-config --link-ld) $(CORE_LIBS)
UNIT_TESTS  = $(patsubst tests/unit/%.c,build/unit/%,$(wildcard tests/unit/test_*.c))

build/unit/%: tests/unit/%.c tests/unit/unit.h build/core/libplaidcore.a
	@mkdir -p build/unit
	$(CC) $(UNIT_CFLAGS) -o $@ $< build/core/libplaidcore.a $(UNIT_LIBS)

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "# $$t"; ./$$t; done

apache-test: all
	perl t/TEST

test: all unit apache-test

# Install: the module with apxs, and the a2enmod files into Debian's
# mods-available. DESTDIR for packagers (make install DESTDIR=/tmp/root).
LIBEXECDIR     ?= $(shell $(APXS) -q LIBEXECDIR)
APACHE_CONFDIR ?= $(shell $(APXS) -q SYSCONFDIR)
MODS_AVAILABLE ?= $(APACHE_CONFDIR)/mods-available
BINDIR         ?= /usr/bin

# The .load file names the module where apxs installs it. a2enmod reads a
# "# Depends:" line as module names and refuses "(none)", so it is dropped.
build/plaid_link.load: conf/plaid_link.load
	@mkdir -p build
	sed -e '/^# Depends: (none)$$/d' \
	    -e 's|/usr/lib/apache2/modules/mod_plaid_link.so|$(LIBEXECDIR)/mod_plaid_link.so|' \
	    conf/plaid_link.load > $@

install: .libs/mod_plaid_link.so build/plaid_link.load build/plaid-item-seal
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MODS_AVAILABLE) $(DESTDIR)$(BINDIR)
	$(APXS) -i -S LIBEXECDIR=$(DESTDIR)$(LIBEXECDIR) -n plaid_link mod_plaid_link.la
	install -m 644 build/plaid_link.load $(DESTDIR)$(MODS_AVAILABLE)/plaid_link.load
	install -m 644 conf/plaid_link.conf $(DESTDIR)$(MODS_AVAILABLE)/plaid_link.conf
	install -m 755 build/plaid-item-seal $(DESTDIR)$(BINDIR)/plaid-item-seal

clean:
	rm -rf .libs *.la *.lo *.slo *.o src/*.lo src/*.slo src/*.o src/.libs \
	    module/*.lo module/*.slo module/*.o module/.libs \
	    emulator/.libs emulator/*.la emulator/*.lo emulator/*.slo emulator/*.o build
	-perl t/TEST -clean >/dev/null 2>&1

.PHONY: all unit apache-test test clean install

# Sanitizers: the unit tests again under ASan and UBSan, built apart from
# the plain ones (build/unit-asan/) so the two builds never mix.
ASAN        = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_ASAN   = $(patsubst tests/unit/%.c,build/unit-asan/%,$(wildcard tests/unit/test_*.c))

build/core-asan/%.o: src/%.c $(HEADERS)
	@mkdir -p build/core-asan
	$(CC) $(CORE_CFLAGS) $(ASAN) -c -o $@ $<

build/core-asan/libplaidcore.a: $(call core_objs,core-asan)
	rm -f $@ && ar rcs $@ $^

build/unit-asan/%: tests/unit/%.c tests/unit/unit.h build/core-asan/libplaidcore.a
	@mkdir -p build/unit-asan
	$(CC) $(UNIT_CFLAGS) $(ASAN) -o $@ $< build/core-asan/libplaidcore.a $(UNIT_LIBS)

unit-asan: $(UNIT_ASAN)
	@set -e; for t in $(UNIT_ASAN); do echo "# $$t"; \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ./$$t; done

# Fuzzing (fuzz/README.md): one target per parser of untrusted input.
# `make fuzz` builds them with libFuzzer (clang-14); `make fuzz-replay` runs
# the seed corpus through each, built with plain cc and ASan/UBSan.
FUZZ_CC      ?= clang-14
FUZZ_NAMES    = $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_CFLAGS   = -g -O1 $(WARN) -Iinclude -Isrc -Ifuzz $(APR_FLAGS)
FUZZ_BINS     = $(addprefix build/fuzz/,$(FUZZ_NAMES))
REPLAY_BINS   = $(addprefix build/replay/,$(FUZZ_NAMES))

build/core-fuzz/%.o: src/%.c $(HEADERS)
	@mkdir -p build/core-fuzz
	$(FUZZ_CC) $(CORE_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined \
	    -fno-sanitize-recover=all -c -o $@ $<

build/core-fuzz/libplaidcore.a: $(call core_objs,core-fuzz)
	rm -f $@ && ar rcs $@ $^

build/fuzz/%: fuzz/fuzz_%.c fuzz/fuzz.h build/core-fuzz/libplaidcore.a
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -o $@ $< build/core-fuzz/libplaidcore.a $(UNIT_LIBS)

build/replay/%: fuzz/fuzz_%.c fuzz/fuzz.h fuzz/replay.c build/core-asan/libplaidcore.a
	@mkdir -p build/replay
	$(CC) $(FUZZ_CFLAGS) $(ASAN) -o $@ $< fuzz/replay.c build/core-asan/libplaidcore.a $(UNIT_LIBS)

fuzz: $(FUZZ_BINS)

fuzz-replay: $(REPLAY_BINS)
	@set -e; for t in $(FUZZ_NAMES); do \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ./build/replay/$$t fuzz/corpus/$$t; done

.PHONY: unit-asan fuzz fuzz-replay
