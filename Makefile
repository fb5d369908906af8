# mod_plaid_link: build with apxs; `make test` runs every check.
APXS      ?= apxs
APR_CONFIG ?= apr-1-config
CC        ?= cc
WARN      = -Wall -Wextra -Werror
comma    := ,
APXS_WARN = $(addprefix -Wc$(comma),$(WARN))
CORE_SRC  = $(wildcard src/*.c)
HEADERS   = $(wildcard include/*.h)

all: .libs/mod_plaid_link.so emulator/.libs/mod_plaid_emulator.so

.libs/mod_plaid_link.so: mod_plaid_link.c $(CORE_SRC) $(HEADERS)
	$(APXS) -c -Iinclude $(APXS_WARN) -o mod_plaid_link.la \
	    mod_plaid_link.c $(CORE_SRC) -lcurl -ljansson

# Built after the module: both compile src/plaid_known.c in place.
emulator/.libs/mod_plaid_emulator.so: emulator/mod_plaid_emulator.c src/plaid_known.c include/plaid_known.h .libs/mod_plaid_link.so
	cd emulator && $(APXS) -c -I../include $(APXS_WARN) \
	    -o mod_plaid_emulator.la mod_plaid_emulator.c ../src/plaid_known.c -ljansson

# Unit tests: the core in plain C, no httpd.
UNIT_CFLAGS = -g -O1 $(WARN) -Iinclude $(shell $(APR_CONFIG) --cflags --cppflags --includes)
UNIT_LIBS   = $(shell $(APR_CONFIG) --link-ld --libs) $(shell apu-1-config --link-ld) -lcurl -ljansson
UNIT_TESTS  = $(patsubst tests/unit/%.c,build/unit/%,$(wildcard tests/unit/test_*.c))

build/unit/%: tests/unit/%.c tests/unit/unit.h $(CORE_SRC) $(HEADERS)
	@mkdir -p build/unit
	$(CC) $(UNIT_CFLAGS) $(SAN) -o $@ $< $(CORE_SRC) $(UNIT_LIBS)

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "# $$t"; ./$$t; done

apache-test: all
	perl t/TEST

test: all unit apache-test

clean:
	rm -rf .libs *.la *.lo *.slo *.o src/*.lo src/*.slo src/*.o src/.libs \
	    emulator/.libs emulator/*.la emulator/*.lo emulator/*.slo emulator/*.o build
	-perl t/TEST -clean >/dev/null 2>&1

.PHONY: all unit apache-test test clean
