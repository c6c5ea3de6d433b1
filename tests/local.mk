# tests/: integration tests (shell, TAP) that start their own MariaDB and
# lighttpd. Unit tests of each module are listed beside the module.
INTEGRATION_TESTS = \
	tests/integration/backpressure.sh \
	tests/integration/client.sh \
	tests/integration/client_poison.sh \
	tests/integration/cluster.sh \
	tests/integration/cluster_freeze.sh \
	tests/integration/analyst.sh \
	tests/integration/browser.sh \
	tests/integration/browser_js.sh \
	tests/integration/answers.sh \
	tests/integration/auth_throttle.sh \
	tests/integration/commit.sh \
	tests/integration/context.sh \
	tests/integration/foundation.sh \
	tests/integration/hostile.sh \
	tests/integration/ingest.sh \
	tests/integration/read_scope.sh \
	tests/integration/install.sh \
	tests/integration/retention.sh \
	tests/integration/metrics.sh \
	tests/integration/migrate_013.sh \
	tests/integration/prometheus.sh \
	tests/integration/rollups.sh \
	tests/integration/rules_admin.sh \
	tests/integration/server_errors.sh \
	tests/integration/servers.sh \
	tests/integration/spool.sh \
	tests/integration/status_page.sh
TESTS += tests/docs.sh $(INTEGRATION_TESTS)
EXTRA_DIST += tests/docs.sh $(INTEGRATION_TESTS) tests/lib/harness.sh tests/lib/tap.sh scripts/stack.sh \
	tests/integration/data

# Integration tests need the programs they start.
$(INTEGRATION_TESTS:.sh=.log) tests/docs.log: admin/eye-admin fcgi/eye.fcgi spool/eye-spool

clean-local: clean-mariadb-template
clean-mariadb-template:
	-rm -rf tests/mariadb-template tests/mariadb-template.lock tests/mariadb-template.log
.PHONY: clean-mariadb-template

TESTS += tests/man.sh
EXTRA_DIST += tests/man.sh tests/lib/apache.sh
tests/man.log: admin/eye-admin client/eye-send$(EXEEXT) $(EYE_MAN_PAGES)
tests/integration/servers.log: deploy/apache-eye.conf
tests/integration/server_errors.log: deploy/apache-eye.conf
tests/integration/install.log: $(EYE_MAN_PAGES) $(EYE_SUBST_FILES) client/eyeclient.pc
tests/integration/client.log: client/eye-send$(EXEEXT) tests/client/client_driver$(EXEEXT)
EXTRA_DIST += scripts/cluster.sh docs/cluster.md tests/lib/cluster_fixture.sh
TESTS += tests/include_cycles.sh

# Unit test of fcgi/request.c's URL decoding (it includes the .c).
check_PROGRAMS += tests/unit/test_request
TESTS += tests/unit/test_request
tests_unit_test_request_SOURCES = tests/unit/test_request.c fcgi/metrics_shm.c
tests_unit_test_request_CPPFLAGS = $(AM_CPPFLAGS) $(JSONC_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_request_LDADD = $(EYE_LIB_LIBS) $(JSONC_LIBS) $(FCGI_LIBS) $(CMOCKA_LIBS)

# Unit test of fcgi/ratelimit.c's token buckets.
check_PROGRAMS += tests/unit/test_ratelimit
TESTS += tests/unit/test_ratelimit
tests_unit_test_ratelimit_SOURCES = tests/unit/test_ratelimit.c fcgi/ratelimit.c
tests_unit_test_ratelimit_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_ratelimit_LDADD = $(CMOCKA_LIBS) -lpthread

# The Docker image and compose stack (docker.sh). Not in `make check`: on a
# cold cache it builds a base system and two images (minutes, and network
# to the Debian mirror). Its own target, for .ci/run to call:
#   make check-docker
DOCKER_TESTS = tests/integration/docker.sh
EXTRA_DIST += $(DOCKER_TESTS) Dockerfile compose.yaml .dockerignore docker docs/docker.md
check-docker:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(DOCKER_TESTS)'
.PHONY: check-docker

# Debian packages (issue 18): builds them from a copy of the tree and
# installs them in a debootstrapped bookworm. It runs nothing of the build
# tree, so it runs in the plain build only, not again under the sanitizers.
if !ENABLE_SANITIZERS
TESTS += tests/integration/debian.sh
endif
EXTRA_DIST += tests/integration/debian.sh debian

# The API description (issue 18): docs/openapi.yaml linted, and every
# answer of a running stack held to it (tests/contract/).
TESTS += tests/integration/openapi.sh
EXTRA_DIST += tests/integration/openapi.sh docs/openapi.yaml tests/contract
tests/integration/openapi.log: admin/eye-admin fcgi/eye.fcgi spool/eye-spool

# The fault suite (issue 14): faults under steady load from tests/lib/loadgen.py.
INTEGRATION_TESTS += tests/integration/faults.sh
EXTRA_DIST += tests/lib/ledger.sh tests/lib/loadgen.py tests/integration/hostile.py
# The soak (issue 14): bench/soak.sh for 60 s.
INTEGRATION_TESTS += tests/integration/soak.sh
EXTRA_DIST += bench/soak.sh
# Browser collection (issue 15): the tracker in headless Chromium.
EXTRA_DIST += tests/browser/page.html tests/browser/driver.py
tests/integration/browser_js.log: client/js/eye.js tests/browser/page.html tests/browser/driver.py
# Monitoring (issue 16): the Prometheus alert rules and their unit tests.
TESTS += tests/alert_rules.sh
EXTRA_DIST += tests/alert_rules.sh tests/integration/status_page.py bench/metrics.sh bench/metrics_count.c
