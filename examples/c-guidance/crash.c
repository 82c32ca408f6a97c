/*
 * crash.c: a guidance that crashes ON PURPOSE, to show (and test) what
 * Touchdown reports when a guidance library dies mid-flight.
 *
 * For its first `crash_at_step` steps (default 5) it behaves: engines off,
 * pitch held, navigation left at the initial state. At that step it writes
 * through a NULL pointer, so the host process dies of SIGSEGV before it
 * answers; the tool reports a crash at that step.
 *
 *   cc -shared -fPIC -O2 -I Sources/touchdown-guidance-host/include \
 *      -o crash.so examples/c-guidance/crash.c
 *   touchdown replay TRACE --guidance-lib ./crash.so --set crash_at_step=20
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "touchdown_guidance.h"

typedef struct crash_guidance {
    td_config config;
    long crash_at_step;
    long steps;
} crash_guidance;

int td_guidance_abi_version(void) { return TD_GUIDANCE_ABI_VERSION; }

void *td_guidance_create(const td_config *config, const td_param *params, size_t param_count, char *error,
                         size_t error_capacity) {
    long crash_at_step = 5;
    for (size_t i = 0; i < param_count; i++) {
        char *end = NULL;
        if (strcmp(params[i].name, "crash_at_step") != 0) {
            snprintf(error, error_capacity, "crash guidance has no parameter \"%s\"; parameters: crash_at_step",
                     params[i].name);
            return NULL;
        }
        crash_at_step = strtol(params[i].value, &end, 10);
        if (end == params[i].value || *end != '\0' || crash_at_step < 0) {
            snprintf(error, error_capacity, "crash_at_step must be a whole number >= 0, not \"%s\"", params[i].value);
            return NULL;
        }
    }
    crash_guidance *g = calloc(1, sizeof *g);
    if (g == NULL) {
        snprintf(error, error_capacity, "crash guidance: out of memory");
        return NULL;
    }
    g->config = *config;
    g->crash_at_step = crash_at_step;
    return g;
}

void td_guidance_imu(void *guidance, const td_imu *message) { (void)guidance, (void)message; }
void td_guidance_altimeter(void *guidance, const td_altimeter *message) { (void)guidance, (void)message; }
void td_guidance_velocimeter(void *guidance, const td_velocimeter *message) { (void)guidance, (void)message; }
void td_guidance_attitude(void *guidance, const td_attitude *message) { (void)guidance, (void)message; }

int td_guidance_step(void *guidance, uint64_t time_ns, td_output *out) {
    crash_guidance *g = guidance;
    if (g->steps == g->crash_at_step) {
        fprintf(stderr, "crash.c: dereferencing NULL at step %ld (t=%.3f s), on purpose\n", g->steps,
                (double)time_ns * 1e-9);
        // Both volatile: the compiler must load the pointer and must store
        // through it, so the crash is a real SIGSEGV (not a store optimised
        // away, nor a trap instruction and SIGILL).
        volatile int *volatile target = NULL;
        *target = 1;
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
