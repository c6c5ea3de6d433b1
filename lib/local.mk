# lib/: internal code every program links (configuration, logging,
# database connection, API keys, checked number parsing).
noinst_LIBRARIES += lib/libeye.a
lib_libeye_a_SOURCES = \
	lib/apikey.c lib/apikey.h \
	lib/clock.c lib/clock.h \
	lib/config.c lib/config.h \
	lib/db.c lib/db.h \
	lib/endpoint.c lib/endpoint.h \
	lib/log.c lib/log.h \
	lib/origin.c lib/origin.h \
	lib/partition.c lib/partition.h \
	lib/strparse.c lib/strparse.h \
	lib/utf8.c lib/utf8.h \
	lib/uuid4.c lib/uuid4.h
lib_libeye_a_CPPFLAGS = $(AM_CPPFLAGS) $(YAML_CFLAGS) $(MARIADB_CFLAGS) $(CRYPTO_CFLAGS) $(UUID_CFLAGS)

# Unit test of the endpoint lists (database.hosts) and the current endpoint.
check_PROGRAMS += tests/unit/test_endpoint
TESTS += tests/unit/test_endpoint
tests_unit_test_endpoint_SOURCES = tests/unit/test_endpoint.c
tests_unit_test_endpoint_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_endpoint_LDADD = $(EYE_LIB_LIBS) $(CMOCKA_LIBS)

# What a program linking lib/libeye.a also needs.
EYE_LIB_LIBS = lib/libeye.a $(YAML_LIBS) $(MARIADB_LIBS) $(CRYPTO_LIBS) $(UUID_LIBS)

# Unit test of lib/origin.c (browser keys' origins).
check_PROGRAMS += tests/unit/test_origin
TESTS += tests/unit/test_origin
tests_unit_test_origin_SOURCES = tests/unit/test_origin.c
tests_unit_test_origin_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_origin_LDADD = $(EYE_LIB_LIBS) $(CMOCKA_LIBS)

if ENABLE_FUZZERS
noinst_PROGRAMS += fuzz/fuzz_origin
fuzz_fuzz_origin_SOURCES = fuzz/fuzz_origin.c lib/origin.c lib/strparse.c
fuzz_fuzz_origin_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined
fuzz_fuzz_origin_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
endif
