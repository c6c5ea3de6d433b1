# client/: libeyeclient, the C client library applications link to send
# events (one public header, client/eye_client.h), and eye-send, the
# command built on it. The library is the project's only shared library:
# libtool builds it, and only the eye_client_* symbols are exported.

lib_LTLIBRARIES = client/libeyeclient.la
include_HEADERS = client/eye_client.h
client_libeyeclient_la_SOURCES = \
	client/client.c \
	client/http.c client/http.h \
	client/plan.c client/plan.h \
	client/retry.c client/retry.h \
	client/wire.c client/wire.h \
	lib/uuid4.c lib/uuid4.h
CLIENT_CPPFLAGS = $(AM_CPPFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS) $(ZLIB_CFLAGS) $(UUID_CFLAGS) \
	$(CRYPTO_CFLAGS)
CLIENT_EXTLIBS = $(CURL_LIBS) $(JSONC_LIBS) $(ZLIB_LIBS) $(UUID_LIBS) $(CRYPTO_LIBS)
client_libeyeclient_la_CPPFLAGS = $(CLIENT_CPPFLAGS)
client_libeyeclient_la_LIBADD = $(CLIENT_EXTLIBS)
# -version-info CURRENT:REVISION:AGE, libtool's rules, applied at each
# release that changes the library (never to follow PACKAGE_VERSION):
#   the code changed, the interface did not:      REVISION++
#   an interface was added (nothing else changed): CURRENT++, REVISION=0, AGE++
#   an interface was removed or changed (this includes any change to the
#   layout of a public struct):                    CURRENT++, REVISION=0, AGE=0
client_libeyeclient_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 -no-undefined \
	-export-symbols-regex '^eye_client_'

pkgconfigdir = $(libdir)/pkgconfig
nodist_pkgconfig_DATA = client/eyeclient.pc
EXTRA_DIST += client/eyeclient.pc.in

# --- eye-send ---------------------------------------------------------------
bin_PROGRAMS += client/eye-send
client_eye_send_SOURCES = client/eye_send.c
client_eye_send_LDADD = client/libeyeclient.la lib/libeye.a

# --- unit tests (cmocka, TAP) of the pure parts: no network ------------------
check_PROGRAMS += tests/unit/test_client_retry
TESTS += tests/unit/test_client_retry
tests_unit_test_client_retry_SOURCES = tests/unit/test_client_retry.c client/retry.c
tests_unit_test_client_retry_CPPFLAGS = $(CLIENT_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_client_retry_LDADD = $(CURL_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_client_plan
TESTS += tests/unit/test_client_plan
tests_unit_test_client_plan_SOURCES = tests/unit/test_client_plan.c client/plan.c client/retry.c
tests_unit_test_client_plan_CPPFLAGS = $(CLIENT_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_client_plan_LDADD = $(CURL_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_client_wire
TESTS += tests/unit/test_client_wire
tests_unit_test_client_wire_SOURCES = tests/unit/test_client_wire.c client/wire.c lib/uuid4.c
tests_unit_test_client_wire_CPPFLAGS = $(CLIENT_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_client_wire_LDADD = $(CLIENT_EXTLIBS) $(CMOCKA_LIBS)

# The API as an application sees it: linked to the built library.
check_PROGRAMS += tests/unit/test_client_api
TESTS += tests/unit/test_client_api
tests_unit_test_client_api_SOURCES = tests/unit/test_client_api.c
tests_unit_test_client_api_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_client_api_LDADD = client/libeyeclient.la $(CMOCKA_LIBS)
tests_unit_test_client_api_LDFLAGS = $(AM_LDFLAGS) -no-install

# --- the integration test's driver (tests/integration/client.sh) -------------
# -no-install: a real program linked to the built library, not a libtool
# wrapper script, so the test can run it under valgrind as it is.
check_PROGRAMS += tests/client/client_driver
tests_client_client_driver_SOURCES = tests/client/client_driver.c
tests_client_client_driver_LDADD = client/libeyeclient.la lib/libeye.a
tests_client_client_driver_LDFLAGS = $(AM_LDFLAGS) -no-install
tests/integration/client_poison.log: client/eye-send$(EXEEXT) tests/client/client_driver$(EXEEXT)

# eye.js, the tracker for web pages (client/js/README.md): plain JavaScript,
# installed as is, served at /eye.js by lighttpd.conf and apache-eye.conf.
jsdir = $(pkgdatadir)/js
dist_js_DATA = client/js/eye.js
EXTRA_DIST += client/js/README.md
