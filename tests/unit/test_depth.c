/* test_depth.c - a queue's depth over time (depth.h), on a made-up clock:
 * the time-weighted mean, the share of time full, the deepest, and a
 * snapshot before any time has passed. */
#include "common.h"
#include "depth.h"
#include "tap.h"

int main(void)
{
    struct depth d;
    double mean, full;
    depth_init(&d, 1000);
    depth_figures(&d, 7, &mean, &full);
    ok(mean == 7 && full == 0, "no time passed: the mean is the depth now, never full");
    depth_reached(&d, 4);
    depth_pass(&d, 4, false, 1000 + 3 * NS_PER_SEC); /* 4 records for 3 s */
    depth_reached(&d, 10);
    depth_pass(&d, 10, true, 1000 + 4 * NS_PER_SEC); /* 10, full, for 1 s */
    depth_reached(&d, 2);
    depth_figures(&d, 2, &mean, &full);
    ok(mean == 5.5, "mean weighted by time: (4*3 + 10*1) / 4 = 5.5 (got %g)", mean);
    ok(full == 0.25, "full a quarter of the time (got %g)", full);
    is_int(d.max, 10, "the deepest");
    return done_testing();
}
