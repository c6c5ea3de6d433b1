# validators/: the request body decoder, the rule compiler and the event
# validator (pure C, no I/O on the request path), the shipped rules/, unit
# tests, fuzz harnesses and the benchmark. Programs that use the library
# add $(VALIDATORS_CPPFLAGS) to their CPPFLAGS and $(VALIDATORS_LIBS) to
# their LDADD.

# --- library -----------------------------------------------------------
validators_sources = \
	validators/body.c validators/body.h \
	validators/envelope.c validators/envelope.h \
	validators/event.c validators/event.h \
	validators/format.c validators/format.h \
	validators/problems.c validators/problems.h \
	validators/ruleset.c validators/ruleset.h \
	validators/schema.c validators/schema.h validators/schema_int.h \
	validators/schema_compile.c validators/schema_validate.c \
	validators/timestamp.c validators/timestamp.h \
	validators/verdict.c validators/verdict.h \
	validators/yamltree.c validators/yamltree.h

VALIDATORS_CPPFLAGS = $(AM_CPPFLAGS) $(JSONC_CFLAGS) $(YAML_CFLAGS) $(PCRE2_CFLAGS) $(ZLIB_CFLAGS) \
	$(CRYPTO_CFLAGS)
validators_extlibs = $(JSONC_LIBS) $(YAML_LIBS) $(PCRE2_LIBS) $(CRYPTO_LIBS) $(ZLIB_LIBS)
VALIDATORS_LIBS = validators/libvalidators.a lib/libeye.a $(validators_extlibs)

noinst_LIBRARIES += validators/libvalidators.a
validators_libvalidators_a_SOURCES = $(validators_sources)
validators_libvalidators_a_CPPFLAGS = $(VALIDATORS_CPPFLAGS)
EXTRA_DIST += validators/README.md
# The check that keeps this folder's includes one-way (it runs over every
# source folder; its TESTS line is in tests/local.mk).
EXTRA_DIST += scripts/include-cycles.sh tests/include_cycles.sh

# --- shipped rules, installed as a folder of their own -----------------
eyerulesdir = $(pkgdatadir)/rules
dist_eyerules_DATA = \
	rules/_envelope.yaml \
	rules/form_interaction.submit.yaml \
	rules/page_interaction.cta_click.yaml \
	rules/page_interaction.pageview.yaml

# --- unit tests (cmocka, TAP); data-driven cases in tests/unit/data/ ----
validators_test_cppflags = $(VALIDATORS_CPPFLAGS) $(CMOCKA_CFLAGS)
validators_test_ldadd = $(VALIDATORS_LIBS) $(CMOCKA_LIBS)
EXTRA_DIST += tests/unit/data

check_PROGRAMS += tests/unit/test_body
TESTS += tests/unit/test_body
tests_unit_test_body_SOURCES = tests/unit/test_body.c
tests_unit_test_body_CPPFLAGS = $(validators_test_cppflags)
tests_unit_test_body_LDADD = $(validators_test_ldadd)

check_PROGRAMS += tests/unit/test_timestamp
TESTS += tests/unit/test_timestamp
tests_unit_test_timestamp_SOURCES = tests/unit/test_timestamp.c
tests_unit_test_timestamp_CPPFLAGS = $(validators_test_cppflags)
tests_unit_test_timestamp_LDADD = $(validators_test_ldadd)

check_PROGRAMS += tests/unit/test_format
TESTS += tests/unit/test_format
tests_unit_test_format_SOURCES = tests/unit/test_format.c
tests_unit_test_format_CPPFLAGS = $(validators_test_cppflags)
tests_unit_test_format_LDADD = $(validators_test_ldadd)

check_PROGRAMS += tests/unit/test_schema
TESTS += tests/unit/test_schema
tests_unit_test_schema_SOURCES = tests/unit/test_schema.c
tests_unit_test_schema_CPPFLAGS = $(validators_test_cppflags)
tests_unit_test_schema_LDADD = $(validators_test_ldadd)

check_PROGRAMS += tests/unit/test_ruleset
TESTS += tests/unit/test_ruleset
tests_unit_test_ruleset_SOURCES = tests/unit/test_ruleset.c
tests_unit_test_ruleset_CPPFLAGS = $(validators_test_cppflags)
tests_unit_test_ruleset_LDADD = $(validators_test_ldadd)

check_PROGRAMS += tests/unit/test_event
TESTS += tests/unit/test_event
tests_unit_test_event_SOURCES = tests/unit/test_event.c
tests_unit_test_event_CPPFLAGS = $(validators_test_cppflags)
tests_unit_test_event_LDADD = $(validators_test_ldadd)

check_PROGRAMS += tests/unit/test_cases
TESTS += tests/unit/test_cases
tests_unit_test_cases_SOURCES = tests/unit/test_cases.c
tests_unit_test_cases_CPPFLAGS = $(validators_test_cppflags)
tests_unit_test_cases_LDADD = $(validators_test_ldadd)

# --- libFuzzer harnesses (configure --enable-fuzzers CC=clang) ----------
# They compile the validator sources themselves, instrumented, rather than
# linking the uninstrumented library. fuzz/run-fuzzers.sh runs each for N
# runs (CI).
EXTRA_DIST += fuzz/README fuzz/run-fuzzers.sh fuzz/corpus fuzz/json.dict

# `make fuzz-long` (in a --enable-fuzzers build): each harness for
# FUZZ_LONG_RUNS executions (10 million), as issue 14 asks before a release.
FUZZ_LONG_RUNS = 10000000
.PHONY: fuzz-long
fuzz-long:
	$(top_srcdir)/fuzz/run-fuzzers.sh $(abs_top_builddir) $(FUZZ_LONG_RUNS)
if ENABLE_FUZZERS
validators_fuzz_flags = -fsanitize=fuzzer,address,undefined
noinst_PROGRAMS += fuzz/fuzz_rules fuzz/fuzz_event fuzz/fuzz_gzip

fuzz_fuzz_rules_SOURCES = fuzz/fuzz_rules.c $(validators_sources)
fuzz_fuzz_rules_CPPFLAGS = $(VALIDATORS_CPPFLAGS)
fuzz_fuzz_rules_CFLAGS = $(AM_CFLAGS) $(validators_fuzz_flags)
fuzz_fuzz_rules_LDFLAGS = $(AM_LDFLAGS) $(validators_fuzz_flags)
fuzz_fuzz_rules_LDADD = lib/libeye.a $(validators_extlibs)

fuzz_body_sources = fuzz/fuzz_body.c fuzz/fuzz_body.h $(validators_sources)
fuzz_body_cppflags = $(VALIDATORS_CPPFLAGS) -DEYE_FUZZ_RULES_DIR='"$(abs_top_srcdir)/rules"'

fuzz_fuzz_event_SOURCES = fuzz/fuzz_event.c $(fuzz_body_sources)
fuzz_fuzz_event_CPPFLAGS = $(fuzz_body_cppflags)
fuzz_fuzz_event_CFLAGS = $(AM_CFLAGS) $(validators_fuzz_flags)
fuzz_fuzz_event_LDFLAGS = $(AM_LDFLAGS) $(validators_fuzz_flags)
fuzz_fuzz_event_LDADD = lib/libeye.a $(validators_extlibs)

fuzz_fuzz_gzip_SOURCES = fuzz/fuzz_gzip.c $(fuzz_body_sources)
fuzz_fuzz_gzip_CPPFLAGS = $(fuzz_body_cppflags)
fuzz_fuzz_gzip_CFLAGS = $(AM_CFLAGS) $(validators_fuzz_flags)
fuzz_fuzz_gzip_LDFLAGS = $(AM_LDFLAGS) $(validators_fuzz_flags)
fuzz_fuzz_gzip_LDADD = lib/libeye.a $(validators_extlibs)
endif

# --- benchmark: not part of `make check` --------------------------------
# `make bench-validate` builds it and runs it against the shipped rules.
EXTRA_PROGRAMS += bench/bench_validate
CLEANFILES += bench/bench_validate$(EXEEXT)
bench_bench_validate_SOURCES = bench/bench_validate.c
bench_bench_validate_CPPFLAGS = $(VALIDATORS_CPPFLAGS)
bench_bench_validate_LDADD = $(VALIDATORS_LIBS)

.PHONY: bench-validate
bench-validate: bench/bench_validate$(EXEEXT)
	./bench/bench_validate$(EXEEXT) '$(abs_top_srcdir)/rules'
