# tests/: integration tests (shell, TAP) that start their own MariaDB and
# lighttpd. Unit tests of each module are listed beside the module.
INTEGRATION_TESTS = \
	tests/integration/backpressure.sh \
	tests/integration/client.sh \
	tests/integration/analyst.sh \
	tests/integration/commit.sh \
	tests/integration/foundation.sh \
	tests/integration/ingest.sh \
	tests/integration/install.sh \
	tests/integration/rules_admin.sh \
	tests/integration/servers.sh \
	tests/integration/spool.sh
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
tests/integration/install.log: $(EYE_MAN_PAGES) $(EYE_SUBST_FILES) client/eyeclient.pc
tests/integration/client.log: client/eye-send$(EXEEXT) tests/client/client_driver$(EXEEXT)

# The fault suite (issue 14): faults under steady load from tests/lib/loadgen.py.
INTEGRATION_TESTS += tests/integration/faults.sh
EXTRA_DIST += tests/lib/ledger.sh tests/lib/loadgen.py
# The soak (issue 14): bench/soak.sh for 60 s.
INTEGRATION_TESTS += tests/integration/soak.sh
EXTRA_DIST += bench/soak.sh
