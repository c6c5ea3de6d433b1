# fcgi/: eye.fcgi, the FastCGI responder spawned by lighttpd or Apache.
libexec_PROGRAMS += fcgi/eye.fcgi
fcgi_eye_fcgi_SOURCES = \
	fcgi/main.c \
	fcgi/auth.c fcgi/auth.h \
	fcgi/browser.c fcgi/browser.h \
	fcgi/ratelimit.c fcgi/ratelimit.h \
	fcgi/context.c fcgi/context.h \
	fcgi/commit.c fcgi/commit.h \
	fcgi/dbconn.c fcgi/dbconn.h \
	fcgi/health.c fcgi/health.h \
	fcgi/health_read.c fcgi/health_read.h \
	fcgi/ingest.c fcgi/ingest.h \
	fcgi/metrics.c fcgi/metrics.h \
	fcgi/metrics_shm.c fcgi/metrics_shm.h \
	fcgi/status.c fcgi/status.h \
	fcgi/queue_watch.c fcgi/queue_watch.h \
	fcgi/read.c fcgi/read.h \
	fcgi/read_params.c fcgi/read_params.h \
	fcgi/request.c fcgi/request.h \
	fcgi/router.c fcgi/router.h \
	fcgi/rules_live.c fcgi/rules_live.h \
	fcgi/worker.c fcgi/worker.h
fcgi_eye_fcgi_CPPFLAGS = $(VALIDATORS_CPPFLAGS) $(MARIADB_CFLAGS) $(ZLIB_CFLAGS) $(UUID_CFLAGS)
fcgi_eye_fcgi_LDADD = $(EYE_QUEUE_LIBS) $(VALIDATORS_LIBS) $(EYE_LIB_LIBS) $(ZLIB_LIBS) $(UUID_LIBS) $(FCGI_LIBS)

# The monitoring page, compiled in (scripts/embed.sh): nothing to install.
STATUS_ASSETS = status/index.html status/status.js status/status.css
nodist_fcgi_eye_fcgi_SOURCES = fcgi/status_assets.c
BUILT_SOURCES = fcgi/status_assets.c
CLEANFILES += fcgi/status_assets.c
EXTRA_DIST += $(STATUS_ASSETS) scripts/embed.sh
fcgi/status_assets.c: $(srcdir)/status/index.html $(srcdir)/status/status.js $(srcdir)/status/status.css $(srcdir)/scripts/embed.sh
	$(AM_V_GEN)mkdir -p fcgi && sh $(srcdir)/scripts/embed.sh \
	  /status/index.html=$(srcdir)/status/index.html \
	  /status/status.js=$(srcdir)/status/status.js \
	  /status/status.css=$(srcdir)/status/status.css >$@.tmp && mv $@.tmp $@
