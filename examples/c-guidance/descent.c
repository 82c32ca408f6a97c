/*
 * descent.c: an example guidance in C for Touchdown (touchdown_guidance.h).
 *
 * Build and fly it on a recorded trace:
 *   cc -shared -fPIC -O2 -I Sources/touchdown-guidance-host/include \
 *      -o descent.so examples/c-guidance/descent.c -lm
 *   touchdown replay TRACE --guidance-lib ./descent.so --set descent_speed_mps=25
 *
 * Navigation: a small filter. Between messages it propagates downrange,
 * altitude and both speeds from the IMU's specific force along the thrust
 * axis and the pitch (from the attitude sensor, carried forward by the
 * gyro), with lunar gravity and the curvature terms of flight over a
 * sphere. A valid altimeter range times cos(pitch) pulls the altitude
 * towards it with a fixed gain (`altimeter_gain`); a valid velocimeter
 * reading pulls both speeds towards it. Messages with non-finite values or
 * old stamps are ignored, and reported once as an anomaly event.
 *
 * Guidance, in four phases:
 * - braking: a constant deceleration that brings the horizontal speed down
 *   to `approach_speed_mps` at `approach_downrange_m` before the site, while
 *   the altitude falls evenly to `approach_altitude_m` over the same time;
 * - approach: a constant deceleration that stops over the site, descending
 *   at altitude / 20 s, no faster than `descent_speed_mps`;
 * - final: a constant descent at `final_descent_speed_mps` below 20 m,
 *   nulling the horizontal speed with at most 15 degrees of tilt;
 * - cutoff: engines off below `cutoff_altitude_m`, once a range from the
 *   last second confirms it.
 * Each phase asks for an acceleration (downrange, up); the vertical part has
 * priority, the horizontal one gets what thrust is left, and the result
 * becomes a thrust (split over the main engine and the thrusters) and a
 * pitch: atan2(-a_downrange, a_up).
 *
 * It does not land as precisely, nor with as much propellant left, as the
 * reference guidance (Sources/TouchdownSim/Guidance/ReferenceGuidance.swift),
 * which it follows in structure. Deterministic: no clocks, no randomness.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "touchdown_guidance.h"

#define STANDARD_GRAVITY_MPS2 9.80665
#define PI 3.14159265358979323846

/// Below this altitude the final, constant-rate descent begins.
#define FINAL_ALTITUDE_M 20.0
/// The approach descends at altitude / this, between the two speed limits.
#define DESCENT_TIME_CONSTANT_S 20.0
/// Largest tilt of the final descent.
#define FINAL_MAX_TILT_RAD (15.0 * PI / 180.0)
/// A range older than this does not confirm the cut-off altitude.
#define RANGE_TIMEOUT_NS 1000000000ull
/// How strongly each phase corrects a vertical speed error (1/s).
#define BRAKING_SPEED_GAIN_PER_S 0.2
#define APPROACH_SPEED_GAIN_PER_S 0.5
#define FINAL_SPEED_GAIN_PER_S 0.8
#define FINAL_HORIZONTAL_GAIN_PER_S 0.4

// MARK: Parameters

typedef struct descent_parameters {
    double approach_altitude_m;
    double approach_downrange_m;
    double approach_speed_mps;
    double descent_speed_mps;
    double final_descent_speed_mps;
    double cutoff_altitude_m;
    double altimeter_gain;
    double velocimeter_gain;
} descent_parameters;

typedef struct parameter_spec {
    const char *name;
    size_t offset;
    double default_value;
    double min_value, max_value;
} parameter_spec;

#define PARAMETER(field, value, lo, hi) {#field, offsetof(descent_parameters, field), value, lo, hi}

static const parameter_spec parameter_specs[] = {
    PARAMETER(approach_altitude_m, 2500, 100, 20000),
    PARAMETER(approach_downrange_m, 1500, 0, 50000),
    PARAMETER(approach_speed_mps, 40, 1, 500),
    PARAMETER(descent_speed_mps, 30, 1, 200),
    PARAMETER(final_descent_speed_mps, 1, 0.1, 5),
    PARAMETER(cutoff_altitude_m, 0.5, 0, 10),
    PARAMETER(altimeter_gain, 0.05, 0.001, 1),
    PARAMETER(velocimeter_gain, 0.3, 0.001, 1),
};
#define PARAMETER_COUNT (sizeof parameter_specs / sizeof parameter_specs[0])

/// Applies `params` in order over the defaults. Returns 0, or -1 with a
/// message in `error` naming the parameter and what is accepted.
static int read_parameters(descent_parameters *p, const td_param *params, size_t count, char *error, size_t capacity) {
    for (size_t i = 0; i < PARAMETER_COUNT; i++) {
        memcpy((char *)p + parameter_specs[i].offset, &parameter_specs[i].default_value, sizeof(double));
    }
    for (size_t k = 0; k < count; k++) {
        const parameter_spec *spec = NULL;
        for (size_t i = 0; i < PARAMETER_COUNT; i++) {
            if (strcmp(params[k].name, parameter_specs[i].name) == 0) spec = &parameter_specs[i];
        }
        if (spec == NULL) {
            size_t used = (size_t)snprintf(error, capacity, "descent guidance has no parameter \"%s\"; parameters:",
                                           params[k].name);
            for (size_t i = 0; i < PARAMETER_COUNT && used < capacity; i++) {
                used += (size_t)snprintf(error + used, capacity - used, "%s %s", i == 0 ? "" : ",",
                                         parameter_specs[i].name);
            }
            return -1;
        }
        char *end = NULL;
        double value = strtod(params[k].value, &end);
        if (end == params[k].value || *end != '\0' || !(value >= spec->min_value && value <= spec->max_value)) {
            snprintf(error, capacity, "%s must be a number from %g to %g, not \"%s\"", spec->name, spec->min_value,
                     spec->max_value, params[k].value);
            return -1;
        }
        memcpy((char *)p + spec->offset, &value, sizeof value);
    }
    return 0;
}

// MARK: State

typedef enum phase { BRAKING, APPROACH, FINAL, CUTOFF } phase;
static const char *const phase_names[] = {"braking", "approach", "final", "cutoff"};

typedef struct descent {
    td_config config;
    descent_parameters parameters;
    phase phase;

    // Navigation: what the guidance believes. Altitude is above the site's
    // elevation until ranges arrive, then above the ground they measure.
    double downrange_m;
    double altitude_m;
    double vertical_speed_mps;
    double horizontal_speed_mps;
    double pitch_rad;
    double mass_kg;

    int have_imu;
    uint64_t last_imu_ns;
    int have_range;
    uint64_t last_range_ns;
    int have_step;
    uint64_t last_step_ns;
    double last_thrust_n;
    /// Which sensors have had a message ignored (reported once each).
    int reported_bad_imu, reported_bad_altimeter, reported_bad_velocimeter, reported_bad_attitude;

    /// Events waiting for the next step.
    int32_t event_count;
    td_event events[TD_MAX_EVENTS];
} descent;

static void add_event(descent *d, const char *kind, int anomaly, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/// Queues an event for the next step; beyond TD_MAX_EVENTS, later ones are dropped.
static void add_event(descent *d, const char *kind, int anomaly, const char *format, ...) {
    if (d->event_count == TD_MAX_EVENTS) return;
    td_event *e = &d->events[d->event_count++];
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    e->anomaly = anomaly;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(e->detail, sizeof e->detail, format, arguments);
    va_end(arguments);
}

static void report_ignored(descent *d, int *reported, const char *sensor, uint64_t stamp_ns, const char *why) {
    if (*reported) return;
    *reported = 1;
    add_event(d, "sensor-ignored", 1, "%s message stamped t=%.3f s ignored: %s (reported once)", sensor,
              (double)stamp_ns * 1e-9, why);
}

static double radius_m(const descent *d) {
    return d->config.moon_radius_m + d->config.site_elevation_m + d->altitude_m;
}

static double gravity_mps2(const descent *d) {
    double r = radius_m(d);
    return d->config.moon_gm_m3ps2 / (r * r);
}

static double max_thrust_n(const td_config *c) {
    return c->main_thrust_n + (double)c->thruster_count * c->thruster_thrust_n;
}

// MARK: The C ABI

int td_guidance_abi_version(void) { return TD_GUIDANCE_ABI_VERSION; }

void *td_guidance_create(const td_config *config, const td_param *params, size_t param_count, char *error,
                         size_t error_capacity) {
    descent_parameters parameters;
    if (read_parameters(&parameters, params, param_count, error, error_capacity) != 0) return NULL;
    if (!(config->initial_mass_kg > config->dry_mass_kg && config->dry_mass_kg > 0 && config->isp_s > 0 &&
          max_thrust_n(config) > 0)) {
        snprintf(error, error_capacity,
                 "descent guidance needs initial_mass_kg > dry_mass_kg > 0, isp_s > 0 and some thrust; got %g, %g, %g "
                 "and %g N",
                 config->initial_mass_kg, config->dry_mass_kg, config->isp_s, max_thrust_n(config));
        return NULL;
    }
    descent *d = calloc(1, sizeof *d);
    if (d == NULL) {
        snprintf(error, error_capacity, "descent guidance: out of memory");
        return NULL;
    }
    d->config = *config;
    d->parameters = parameters;
    d->phase = BRAKING;
    d->downrange_m = config->nav_downrange_m;
    d->altitude_m = config->nav_altitude_m;
    d->vertical_speed_mps = config->nav_vertical_speed_mps;
    d->horizontal_speed_mps = config->nav_horizontal_speed_mps;
    d->pitch_rad = config->nav_pitch_rad;
    d->mass_kg = config->initial_mass_kg;
    return d;
}

void td_guidance_destroy(void *guidance) { free(guidance); }

/// Inertial propagation over the time since the last IMU message, with its
/// specific force along the thrust axis.
void td_guidance_imu(void *guidance, const td_imu *m) {
    descent *d = guidance;
    if (!isfinite(m->accel_x_mps2) || !isfinite(m->rate_y_radps)) {
        report_ignored(d, &d->reported_bad_imu, "imu", m->stamp_ns, "non-finite value");
        return;
    }
    if (!d->have_imu) {
        d->have_imu = 1;
        d->last_imu_ns = m->stamp_ns;
        return;
    }
    if (m->stamp_ns <= d->last_imu_ns) {
        report_ignored(d, &d->reported_bad_imu, "imu", m->stamp_ns, "stamp not after the previous one");
        return;
    }
    double dt_s = (double)(m->stamp_ns - d->last_imu_ns) * 1e-9;
    d->last_imu_ns = m->stamp_ns;

    double r = radius_m(d);
    double f = m->accel_x_mps2;
    double vh = d->horizontal_speed_mps, vz = d->vertical_speed_mps;
    // Thrust (up: f cos pitch, downrange: -f sin pitch), gravity, and the
    // centrifugal and Coriolis terms of the rotating local frame.
    double a_up = f * cos(d->pitch_rad) - gravity_mps2(d) + vh * vh / r;
    double a_h = -f * sin(d->pitch_rad) - vz * vh / r;
    // Downrange is arc length on the reference sphere, not at altitude.
    d->downrange_m += (vh * dt_s + 0.5 * a_h * dt_s * dt_s) * d->config.moon_radius_m / r;
    d->altitude_m += vz * dt_s + 0.5 * a_up * dt_s * dt_s;
    d->vertical_speed_mps += a_up * dt_s;
    d->horizontal_speed_mps += a_h * dt_s;
    // The gyro measures the inertial rate; pitch is from the local vertical,
    // which turns at vh / r.
    d->pitch_rad += (d->horizontal_speed_mps / r - m->rate_y_radps) * dt_s;
}

void td_guidance_altimeter(void *guidance, const td_altimeter *m) {
    descent *d = guidance;
    if (!m->valid) return;
    if (!isfinite(m->range_m) || m->range_m < 0) {
        report_ignored(d, &d->reported_bad_altimeter, "altimeter", m->stamp_ns, "range not a finite number >= 0");
        return;
    }
    // Flat-ground assumption: the beam is along -x, tilted by the pitch.
    double measured_m = m->range_m * cos(d->pitch_rad);
    double innovation_m = measured_m - d->altitude_m;
    if (!d->have_range) {
        add_event(d, "altimeter-acquired", 0, "first valid range at t=%.3f s, %.1f m from the navigation altitude",
                  (double)m->stamp_ns * 1e-9, innovation_m);
    }
    d->altitude_m += d->parameters.altimeter_gain * innovation_m;
    d->have_range = 1;
    d->last_range_ns = m->stamp_ns;
}

void td_guidance_velocimeter(void *guidance, const td_velocimeter *m) {
    descent *d = guidance;
    if (!m->valid) return;
    if (!isfinite(m->horizontal_velocity_mps) || !isfinite(m->vertical_velocity_mps)) {
        report_ignored(d, &d->reported_bad_velocimeter, "velocimeter", m->stamp_ns, "non-finite velocity");
        return;
    }
    double k = d->parameters.velocimeter_gain;
    d->horizontal_speed_mps += k * (m->horizontal_velocity_mps - d->horizontal_speed_mps);
    d->vertical_speed_mps += k * (m->vertical_velocity_mps - d->vertical_speed_mps);
}

void td_guidance_attitude(void *guidance, const td_attitude *m) {
    descent *d = guidance;
    if (!m->valid) return;
    if (!isfinite(m->pitch_rad)) {
        report_ignored(d, &d->reported_bad_attitude, "attitude", m->stamp_ns, "non-finite pitch");
        return;
    }
    d->pitch_rad = m->pitch_rad;
}

static void enter(descent *d, phase next) {
    add_event(d, "phase", 0, "%s -> %s at altitude %.1f m, %.1f m before the site, speeds %.2f m/s down, %.2f m/s "
              "horizontal", phase_names[d->phase], phase_names[next], d->altitude_m,
              d->config.site_downrange_m - d->downrange_m, -d->vertical_speed_mps, d->horizontal_speed_mps);
    d->phase = next;
}

static double clamp(double value, double lo, double hi) { return value < lo ? lo : value > hi ? hi : value; }

int td_guidance_step(void *guidance, uint64_t time_ns, td_output *out) {
    descent *d = guidance;
    const descent_parameters *p = &d->parameters;
    const td_config *c = &d->config;

    // Propellant used since the last step, at the thrust then commanded.
    if (d->have_step && time_ns > d->last_step_ns) {
        double dt_s = (double)(time_ns - d->last_step_ns) * 1e-9;
        d->mass_kg -= d->last_thrust_n / (c->isp_s * STANDARD_GRAVITY_MPS2) * dt_s;
        if (d->mass_kg < c->dry_mass_kg) d->mass_kg = c->dry_mass_kg;
    }
    d->have_step = 1;
    d->last_step_ns = time_ns;

    double r = radius_m(d);
    double vh = d->horizontal_speed_mps, vz = d->vertical_speed_mps;
    // Acceleration not from thrust, (downrange, up): Coriolis; gravity less centrifugal.
    double g_h = -vz * vh / r;
    double g_up = -gravity_mps2(d) + vh * vh / r;
    double to_site_m = c->site_downrange_m - d->downrange_m;
    double a_h = 0, a_up = 0;

    if (d->phase == BRAKING) {
        // Uniform deceleration to the approach speed over the distance left
        // to the approach point, and the time that takes.
        double distance_m = fmax(1, to_site_m - p->approach_downrange_m);
        double v_gate = p->approach_speed_mps;
        double deceleration = vh > v_gate ? (vh * vh - v_gate * v_gate) / (2 * distance_m) : 0;
        double time_to_go_s = 2 * distance_m / fmax(1, vh + v_gate);
        double target_vz = clamp(-(d->altitude_m - p->approach_altitude_m) / time_to_go_s, -p->descent_speed_mps * 4, 5);
        a_h = -g_h - deceleration;
        a_up = -g_up + BRAKING_SPEED_GAIN_PER_S * (target_vz - vz);
        if (vh <= v_gate || to_site_m <= p->approach_downrange_m || d->altitude_m <= 0.5 * p->approach_altitude_m) {
            enter(d, APPROACH);
        }
    }
    if (d->phase == APPROACH) {
        double distance_m = fmax(1, to_site_m);
        double deceleration = vh > 0 ? vh * vh / (2 * distance_m) : 0.2 * vh;
        double target_vz = -clamp(d->altitude_m / DESCENT_TIME_CONSTANT_S, p->final_descent_speed_mps, p->descent_speed_mps);
        a_h = -g_h - deceleration;
        a_up = -g_up + APPROACH_SPEED_GAIN_PER_S * (target_vz - vz);
        if (d->altitude_m <= FINAL_ALTITUDE_M) enter(d, FINAL);
    }
    if (d->phase == FINAL) {
        a_up = -g_up + FINAL_SPEED_GAIN_PER_S * (-p->final_descent_speed_mps - vz);
        double limit = fabs(a_up) * tan(FINAL_MAX_TILT_RAD);
        a_h = clamp(-g_h - FINAL_HORIZONTAL_GAIN_PER_S * vh, -limit, limit);
        int recent_range = d->have_range && time_ns - d->last_range_ns <= RANGE_TIMEOUT_NS;
        if (d->altitude_m <= p->cutoff_altitude_m && recent_range) enter(d, CUTOFF);
    }

    // Vertical first; the horizontal command gets what thrust is left.
    double available = max_thrust_n(c) / d->mass_kg;
    a_up = clamp(a_up, 0, available);
    double room = sqrt(available * available - a_up * a_up);
    a_h = clamp(a_h, -room, room);

    double thrust_n = 0, pitch_rad = 0;
    if (d->phase != CUTOFF) {
        thrust_n = fmin(sqrt(a_h * a_h + a_up * a_up) * d->mass_kg, max_thrust_n(c));
        pitch_rad = atan2(-a_h, a_up);
    }
    // The main engine first (never below its minimum throttle once lit),
    // then the thrusters for the rest.
    double main = c->main_thrust_n > 0 ? fmin(1, thrust_n / c->main_thrust_n) : 0;
    if (main > 0 && main < c->main_min_throttle_fraction) main = c->main_min_throttle_fraction;
    double thruster_total_n = (double)c->thruster_count * c->thruster_thrust_n;
    double thrusters = thruster_total_n > 0 ? clamp((thrust_n - c->main_thrust_n) / thruster_total_n, 0, 1) : 0;
    d->last_thrust_n = main * c->main_thrust_n + thrusters * thruster_total_n;

    out->main_throttle_fraction = main;
    out->thruster_throttle_fraction = thrusters;
    out->pitch_command_rad = pitch_rad;
    out->nav_downrange_m = d->downrange_m;
    out->nav_altitude_m = d->altitude_m;
    out->nav_vertical_speed_mps = d->vertical_speed_mps;
    out->nav_horizontal_speed_mps = d->horizontal_speed_mps;
    out->nav_pitch_rad = d->pitch_rad;
    out->event_count = d->event_count;
    memcpy(out->events, d->events, sizeof d->events);
    d->event_count = 0;
    return 0;
}
