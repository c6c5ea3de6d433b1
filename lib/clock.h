/* clock.h - the two clocks The Eye's programs read.
 *
 * Real time (UTC, µs since the Unix epoch) is what rows and answers carry;
 * monotonic time is what durations and deadlines are measured on, since it
 * never jumps when the wall clock is set. Shared by eye.fcgi, eye-spool,
 * eye-admin and the logger; no allocation, thread-safe.
 */
#ifndef EYE_LIB_CLOCK_H
#define EYE_LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Wall-clock time now, µs since the Unix epoch (UTC). */
int64_t clock_real_us(void);

/* Monotonic time now, µs since an arbitrary fixed point. */
int64_t clock_mono_us(void);

/* The CLOCK_REALTIME instant ms milliseconds from now, for
 * pthread_cond_timedwait on a condition using the default clock. */
struct timespec clock_real_after_ms(long ms);

#endif
