# admin/: eye-admin, the operator's tool.
bin_PROGRAMS += admin/eye-admin
admin_eye_admin_SOURCES = \
	admin/main.c admin/admin.h \
	admin/accounts.c \
	admin/apps.c \
	admin/migrate.c
admin_eye_admin_CPPFLAGS = $(AM_CPPFLAGS) $(MARIADB_CFLAGS) $(CRYPTO_CFLAGS) $(YAML_CFLAGS)
admin_eye_admin_LDADD = $(EYE_LIB_LIBS)
