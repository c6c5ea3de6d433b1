# queue/: the hand-off between eye.fcgi and eye-spool: event_queue rows,
# their one insert statement, and the one decision of what a verdict becomes
# (used by eye.fcgi, eye-admin's replay and bench/insert_rate).
noinst_LIBRARIES += queue/libeyequeue.a
queue_libeyequeue_a_SOURCES = \
	queue/batch.c queue/batch.h \
	queue/row.c queue/row.h
queue_libeyequeue_a_CPPFLAGS = $(VALIDATORS_CPPFLAGS) $(MARIADB_CFLAGS)

# What a program linking queue/libeyequeue.a also needs (before
# $(VALIDATORS_LIBS) and $(EYE_LIB_LIBS)).
EYE_QUEUE_LIBS = queue/libeyequeue.a
