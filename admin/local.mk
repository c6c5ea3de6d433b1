# admin/: eye-admin, the operator's tool.
bin_PROGRAMS += admin/eye-admin
admin_eye_admin_SOURCES = \
	admin/main.c admin/admin.h \
	admin/accounts.c \
	admin/archive.c admin/archive.h \
	admin/apps.c \
	admin/erase.c admin/erase.h \
	admin/errors.c \
	admin/migrate.c \
	admin/prune.c admin/prune.h \
	admin/retention.c \
	admin/rules.c \
	admin/stats.c
admin_eye_admin_CPPFLAGS = $(VALIDATORS_CPPFLAGS) $(MARIADB_CFLAGS) $(UUID_CFLAGS) $(ZLIB_CFLAGS)
admin_eye_admin_LDADD = $(EYE_QUEUE_LIBS) $(VALIDATORS_LIBS) $(EYE_LIB_LIBS) $(UUID_LIBS)
