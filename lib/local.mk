# lib/: internal code every program links (configuration, logging,
# database connection, API keys, checked number parsing).
noinst_LIBRARIES += lib/libeye.a
lib_libeye_a_SOURCES = \
	lib/apikey.c lib/apikey.h \
	lib/clock.c lib/clock.h \
	lib/config.c lib/config.h \
	lib/db.c lib/db.h \
	lib/log.c lib/log.h \
	lib/partition.c lib/partition.h \
	lib/strparse.c lib/strparse.h \
	lib/utf8.c lib/utf8.h \
	lib/uuid4.c lib/uuid4.h
lib_libeye_a_CPPFLAGS = $(AM_CPPFLAGS) $(YAML_CFLAGS) $(MARIADB_CFLAGS) $(CRYPTO_CFLAGS) $(UUID_CFLAGS)

# What a program linking lib/libeye.a also needs.
EYE_LIB_LIBS = lib/libeye.a $(YAML_LIBS) $(MARIADB_LIBS) $(CRYPTO_LIBS) $(UUID_LIBS)
