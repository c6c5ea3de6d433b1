# bench/: the benchmark of issue 7, run on demand by bench/run.sh and never
# part of `make check`. `make bench` builds its programs (bench_validate is
# declared in validators/local.mk, beside the code it measures).
EXTRA_PROGRAMS += bench/noop_fcgi bench/insert_rate
CLEANFILES += bench/noop_fcgi$(EXEEXT) bench/insert_rate$(EXEEXT)
EXTRA_DIST += bench/run.sh bench/cluster.sh bench/ingest.lua bench/README.md bench/partitions.sh bench/layout.sh bench/migrate_009.sh bench/migrate_013.sh \
	bench/queries/run.sh bench/queries/load.sh bench/queries/common.sh bench/queries/gen_events.c bench/queries/sqltime.c

bench_noop_fcgi_SOURCES = bench/noop_fcgi.c
bench_noop_fcgi_LDADD = $(FCGI_LIBS)

bench_insert_rate_SOURCES = bench/insert_rate.c
bench_insert_rate_CPPFLAGS = $(VALIDATORS_CPPFLAGS) $(MARIADB_CFLAGS)
bench_insert_rate_LDADD = $(EYE_QUEUE_LIBS) $(VALIDATORS_LIBS) $(EYE_LIB_LIBS)

.PHONY: bench
bench: bench/noop_fcgi$(EXEEXT) bench/insert_rate$(EXEEXT) bench/bench_validate$(EXEEXT) \
	fcgi/eye.fcgi$(EXEEXT) spool/eye-spool$(EXEEXT) admin/eye-admin$(EXEEXT)
