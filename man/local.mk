# man/: manual pages (mdoc). The .in files name installed paths as
# @sysconfdir@ etc., substituted by the same sed as deploy/ (eye_subst).
EYE_MAN_PAGES = man/eye-admin.1 man/eye-send.1 man/eye-spool.8 man/eye.fcgi.8 man/eye.yaml.5
nodist_man_MANS = $(EYE_MAN_PAGES)
EXTRA_DIST += $(EYE_MAN_PAGES:=.in)
CLEANFILES += $(EYE_MAN_PAGES)

$(EYE_MAN_PAGES): Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && rm -f $@ $@.tmp && \
	$(eye_subst) '$(srcdir)/$@.in' >$@.tmp && mv $@.tmp $@
man/eye-admin.1: $(srcdir)/man/eye-admin.1.in
man/eye-send.1: $(srcdir)/man/eye-send.1.in
man/eye-spool.8: $(srcdir)/man/eye-spool.8.in
man/eye.fcgi.8: $(srcdir)/man/eye.fcgi.8.in
man/eye.yaml.5: $(srcdir)/man/eye.yaml.5.in
