# deploy/: what an operator installs beside the programs. The .in files
# name installed paths as @bindir@, @sysconfdir@...; they are substituted
# here, at build time, from make's variables, so `make prefix=...` and
# `./configure --prefix=... --sysconfdir=...` both end up in the files.

# systemd looks in $(prefix)/lib/systemd/system for /usr and /usr/local;
# override with `make install systemdsystemunitdir=DIR`.
systemdsystemunitdir = $(prefix)/lib/systemd/system

nodist_examples_DATA = deploy/apache-eye.conf

# The answers lighttpd and Apache give by themselves (JSON error bodies in
# mod_asis's format) and lighttpd's handler that sends them; lighttpd.conf
# finds them through EYE_ERRORS_DIR, apache-eye.conf through its Define.
errorsdir = $(pkgdatadir)/errors
dist_errors_DATA = \
	deploy/errors/400.asis \
	deploy/errors/403.asis \
	deploy/errors/404.asis \
	deploy/errors/405.asis \
	deploy/errors/408.asis \
	deploy/errors/411.asis \
	deploy/errors/413.asis \
	deploy/errors/414.asis \
	deploy/errors/417.asis \
	deploy/errors/431.asis \
	deploy/errors/4xx.asis \
	deploy/errors/501.asis \
	deploy/errors/503.asis \
	deploy/errors/505.asis \
	deploy/errors/lighttpd-errors.lua
nodist_systemdsystemunit_DATA = deploy/eye-spool.service deploy/eye-spool@.service
EYE_SUBST_FILES = deploy/apache-eye.conf deploy/eye-spool.service deploy/eye-spool@.service

# The daily retention run (eye-admin retention --apply) and its timer.
nodist_systemdsystemunit_DATA += deploy/eye-retention.service deploy/eye-retention.timer
EYE_SUBST_FILES += deploy/eye-retention.service deploy/eye-retention.timer
EXTRA_DIST += deploy/eye-retention.service.in deploy/eye-retention.timer.in docs/retention.md
deploy/eye-retention.service: $(srcdir)/deploy/eye-retention.service.in
deploy/eye-retention.timer: $(srcdir)/deploy/eye-retention.timer.in

EXTRA_DIST += deploy/apache-eye.conf.in deploy/eye-spool.service.in deploy/eye-spool@.service.in
CLEANFILES += $(EYE_SUBST_FILES)

# The substitution used for every generated file here and in man/.
eye_subst = sed \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@libexecdir[@]|$(libexecdir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
	-e 's|@systemdsystemunitdir[@]|$(systemdsystemunitdir)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g'

$(EYE_SUBST_FILES): Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && rm -f $@ $@.tmp && \
	$(eye_subst) '$(srcdir)/$@.in' >$@.tmp && mv $@.tmp $@
deploy/apache-eye.conf: $(srcdir)/deploy/apache-eye.conf.in
deploy/eye-spool.service: $(srcdir)/deploy/eye-spool.service.in
deploy/eye-spool@.service: $(srcdir)/deploy/eye-spool@.service.in

# The installation folders as shell assignments, for tests/integration/
# install.sh (which installs into a DESTDIR and must find what it installed).
print-install-dirs:
	@echo "bindir='$(bindir)' libexecdir='$(libexecdir)' sysconfdir='$(sysconfdir)'"
	@echo "pkgdatadir='$(pkgdatadir)' mandir='$(mandir)' systemdsystemunitdir='$(systemdsystemunitdir)'"
	@echo "prefix='$(prefix)' libdir='$(libdir)' includedir='$(includedir)'"
.PHONY: print-install-dirs

# Prometheus: a scrape example and the alert rules (issue 16).
prometheusdir = $(pkgdatadir)/prometheus
dist_prometheus_DATA = deploy/prometheus/prometheus.yml deploy/prometheus/eye-alerts.yml \
	deploy/prometheus/eye-alerts.test.yml
