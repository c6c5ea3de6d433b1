# spool/: eye-spool, the daemon that moves event_queue into sessions,
# events and event_errors.
bin_PROGRAMS += spool/eye-spool
spool_eye_spool_SOURCES = \
	spool/main.c \
	spool/batch.c spool/spool.h \
	spool/status.c spool/status.h
spool_eye_spool_CPPFLAGS = $(AM_CPPFLAGS) $(MARIADB_CFLAGS) $(YAML_CFLAGS)
spool_eye_spool_LDADD = $(EYE_LIB_LIBS)
