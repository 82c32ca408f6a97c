/*
 * hang.c: a guidance that hangs ON PURPOSE, to show (and test) what
 * Touchdown reports when a guidance stops answering.
 *
 * For its first `hang_at_step` steps (default 3) it behaves: engines off,
 * pitch held, navigation left at the initial state. At that step it spins
 * in an endless loop and never answers; the tool reports a timeout once the
 * step's budget is spent and kills the process.
 *
 *   cc -shared -fPIC -O2 -I Sources/touchdown-guidance-host/include \
 *      -o hang.so examples/c-guidance/hang.c
 *   touchdown replay TRACE --guidance-lib ./hang.so --set hang_at_step=20
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "touchdown_guidance.h"

typedef struct hang_guidance {
    td_config config;
    long hang_at_step;
    long steps;
} hang_guidance;

int td_guidance_abi_version(void) { return TD_GUIDANCE_ABI_VERSION; }

void *td_guidance_create(const td_config *config, const td_param *params, size_t param_count, char *error,
                         size_t error_capacity) {
    long hang_at_step = 3;
    for (size_t i = 0; i < param_count; i++) {
        char *end = NULL;
        if (strcmp(params[i].name, "hang_at_step") != 0) {
            snprintf(error, error_capacity, "hang guidance has no parameter \"%s\"; parameters: hang_at_step",
                     params[i].name);
            return NULL;
        }
        hang_at_step = strtol(params[i].value, &end, 10);
        if (end == params[i].value || *end != '\0' || hang_at_step < 0) {
            snprintf(error, error_capacity, "hang_at_step must be a whole number >= 0, not \"%s\"", params[i].value);
            return NULL;
        }
    }
    hang_guidance *g = calloc(1, sizeof *g);
    if (g == NULL) {
        snprintf(error, error_capacity, "hang guidance: out of memory");
        return NULL;
    }
    g->config = *config;
    g->hang_at_step = hang_at_step;
    return g;
}

void td_guidance_imu(void *guidance, const td_imu *message) { (void)guidance, (void)message; }
void td_guidance_altimeter(void *guidance, const td_altimeter *message) { (void)guidance, (void)message; }
void td_guidance_velocimeter(void *guidance, const td_velocimeter *message) { (void)guidance, (void)message; }
void td_guidance_attitude(void *guidance, const td_attitude *message) { (void)guidance, (void)message; }

int td_guidance_step(void *guidance, uint64_t time_ns, td_output *out) {
    hang_guidance *g = guidance;
    if (g->steps == g->hang_at_step) {
        fprintf(stderr, "hang.c: looping forever at step %ld (t=%.3f s), on purpose\n", g->steps,
                (double)time_ns * 1e-9);
        // volatile: the loop has a side effect the compiler must keep.
        volatile unsigned long spins = 0;
        for (;;) spins = spins + 1;
    }
    g->steps += 1;
    out->main_throttle_fraction = 0;
    out->thruster_throttle_fraction = 0;
    out->pitch_command_rad = g->config.nav_pitch_rad;
    out->nav_downrange_m = g->config.nav_downrange_m;
    out->nav_altitude_m = g->config.nav_altitude_m;
    out->nav_vertical_speed_mps = g->config.nav_vertical_speed_mps;
    out->nav_horizontal_speed_mps = g->config.nav_horizontal_speed_mps;
    out->nav_pitch_rad = g->config.nav_pitch_rad;
    out->event_count = 0;
    return 0;
}

void td_guidance_destroy(void *guidance) { free(guidance); }
