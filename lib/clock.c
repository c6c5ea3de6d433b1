/* clock.c - real and monotonic time (see clock.h). */
#include "autoconfig.h"

#include "lib/clock.h"

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_real_us(void)
{
    return clock_us(CLOCK_REALTIME);
}

int64_t clock_mono_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

struct timespec clock_real_after_ms(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
