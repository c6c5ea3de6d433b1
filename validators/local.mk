# validators/: the rule compiler and event validator (pure C, no I/O on the
# request path), the shipped rules/, unit tests, fuzz harnesses and the
# benchmark. Programs that use the library add $(VALIDATORS_CPPFLAGS) to
# their CPPFLAGS and $(VALIDATORS_LIBS) to their LDADD.

# --- library -----------------------------------------------------------
validators_sources = \
	validators/event.c validators/event.h \
	validators/format.c validators/format.h \
	validators/ruleset.c validators/ruleset.h \
	validators/schema.c validators/schema.h \
	validators/timestamp.c validators/timestamp.h \
	validators/yamltree.c validators/yamltree.h

VALIDATORS_CPPFLAGS = $(AM_CPPFLAGS) $(JSONC_CFLAGS) $(YAML_CFLAGS) $(PCRE2_CFLAGS) \
	$(CRYPTO_CFLAGS)
validators_extlibs = $(JSONC_LIBS) $(YAML_LIBS) $(PCRE2_LIBS) $(CRYPTO_LIBS)
VALIDATORS_LIBS = validators/libvalidators.a lib/libeye.a $(validators_extlibs)

noinst_LIBRARIES += validators/libvalidators.a
validators_libvalidators_a_SOURCES = $(validators_sources)
validators_libvalidators_a_CPPFLAGS = $(VALIDATORS_CPPFLAGS)
EXTRA_DIST += validators/README.md

# --- shipped rules, installed as a folder of their own -----------------
eyerulesdir = $(pkgdatadir)/rules
dist_eyerules_DATA = \
	rules/_envelope.yaml \
	rules/form_interaction.submit.yaml \
	rules/page_interaction.cta_click.yaml \
	rules/page_interaction.pageview.yaml

