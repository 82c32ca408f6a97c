#ifndef TOUCHDOWN_GUIDANCE_H
#define TOUCHDOWN_GUIDANCE_H

/*
 * The C ABI of a Touchdown guidance library (ABI version 1).
 *
 * A guidance written in C (or anything that can export C functions) is a
 * shared library exporting the seven functions declared at the end of this
 * file. `touchdown-guidance-host LIBRARY.so` loads it and drives it over the
 * line protocol of docs/guidance-protocol.md, which is how
 * `touchdown replay TRACE --guidance-lib ./LIBRARY.so` flies it.
 *
 * Build:
 *   cc -shared -fPIC -O2 -I Sources/touchdown-guidance-host/include \
 *      -o descent.so examples/c-guidance/descent.c -lm
 *
 * Frames and signs (as the simulator, Sources/TouchdownSim, has them):
 * - Flight is planar, in the orbit plane, over a spherical Moon.
 * - "vertical" is along the local radial, positive up; "horizontal" is along
 *   the ground track, positive downrange (the direction of travel).
 * - The body x axis is the thrust axis: up when the vehicle is upright.
 *   Every engine (main engine and thrusters) thrusts along +x.
 * - Pitch is the angle of the thrust axis from the local vertical, positive
 *   when the thrust points against the direction of travel (uprange): a
 *   braking vehicle has a positive pitch (the nominal descent starts at
 *   +85 degrees). A thrust acceleration f along +x therefore gives
 *       up:          +f * cos(pitch)
 *       downrange:   -f * sin(pitch)
 *   and the pitch that produces a wanted (downrange, up) acceleration
 *   (a_h, a_up) is atan2(-a_h, a_up), with thrust |(a_h, a_up)| * mass.
 * - Time is nanoseconds since the start of the descent (t = 0). No message
 *   carries wall-clock time.
 *
 * Call order (one guidance object, from one thread, never re-entered):
 *   td_guidance_abi_version, td_guidance_create, then the sensor functions
 *   (td_guidance_imu, _altimeter, _velocimeter, _attitude) and
 *   td_guidance_step interleaved, then td_guidance_destroy.
 * - Every sensor message is delivered, in the order the vehicle received it
 *   (time order). Messages stamped at a step's instant are delivered before
 *   that step. `stamp_ns` is the instant a message describes; in a replay
 *   with injected faults (latency, repetition) stamps can repeat or go
 *   backwards, and values can be NaN or infinite: a guidance must not crash
 *   on them (check `isfinite` and compare stamps before using a message).
 * - td_guidance_step is called at config->guidance_rate_hz, first at
 *   t = 0, and must answer every time.
 * - All pointers passed in are valid only during the call: copy what you keep.
 *
 * Determinism: the same inputs must give the same outputs, bit for bit. No
 * clocks, no unseeded randomness, no reading of files or the environment
 * during the flight, no dependence on addresses or uninitialised memory.
 *
 * Threading: the host calls every function from a single thread; a library
 * needs no locks and must not start threads of its own.
 *
 * Output: a library may write diagnostics to stderr (or stdout: the host
 * redirects the library's stdout to stderr, so it cannot corrupt the
 * protocol). It must not read stdin (the host gives it /dev/null).
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The version of this ABI; td_guidance_abi_version() must return it.
#define TD_GUIDANCE_ABI_VERSION 1

/// Most events one step can report.
#define TD_MAX_EVENTS 8
/// Bytes in td_event.kind, including the terminating NUL.
#define TD_EVENT_KIND_CAPACITY 32
/// Bytes in td_event.detail, including the terminating NUL.
#define TD_EVENT_DETAIL_CAPACITY 240

/// What guidance knows before the descent: the mission's public knowledge,
/// not the truth. The initial navigation state can be wrong (orbit
/// determination error) by more than the stated sigmas.
typedef struct td_config {
    /// The landing site's distance along the ground track from the start
    /// point: arc length on the sphere of radius moon_radius_m.
    double site_downrange_m;
    /// The site's elevation above moon_radius_m (from the landing map).
    double site_elevation_m;
    double moon_radius_m;
    /// Gravitational parameter: gravity at radius r is moon_gm_m3ps2 / r².
    double moon_gm_m3ps2;
    double initial_mass_kg;
    /// Mass with no propellant left.
    double dry_mass_kg;
    /// Specific impulse: mass flow is thrust / (isp_s * 9.80665 m/s²).
    double isp_s;
    /// Main engine thrust at throttle 1.
    double main_thrust_n;
    /// The smallest non-zero main throttle the engine is rated for. The
    /// simulator does not enforce it; the reference guidance rounds smaller
    /// non-zero commands up to it.
    double main_min_throttle_fraction;
    /// The thruster group: thruster_count thrusters of thruster_thrust_n
    /// each at throttle 1, all along the thrust axis.
    int32_t thruster_count;
    double thruster_thrust_n;
    /// The initial navigation state at t = 0 (may be wrong).
    double nav_downrange_m;
    /// Above the site's elevation.
    double nav_altitude_m;
    /// Positive up.
    double nav_vertical_speed_mps;
    /// Positive downrange.
    double nav_horizontal_speed_mps;
    double nav_pitch_rad;
    /// The stated uncertainty (1 sigma) of the initial altitude and speeds.
    double altitude_sigma_m;
    double speed_sigma_mps;
    /// How often td_guidance_step is called.
    double guidance_rate_hz;
} td_config;

/// A guidance parameter as text (`--set NAME=VALUE`), in the order given.
/// The same name can come more than once: the later setting wins.
typedef struct td_param {
    const char *name;
    const char *value;
} td_param;

/// Inertial measurement unit: specific force (gravity is not sensed: free
/// fall reads zero) and angular rate, in the body frame. In the planar
/// simulator:
/// - accel_x_mps2: along the thrust axis: thrust / mass, plus bias and noise.
/// - accel_y_mps2: out of the flight plane: noise only.
/// - accel_z_mps2: the in-plane axis across the thrust axis: bias and noise
///   only (no engine thrusts across the axis).
/// - rate_y_radps: about the pitch axis, in inertial space:
///   horizontal_speed / radius - d(pitch)/dt, plus bias and noise. (Pitch is
///   measured from the local vertical, which turns at horizontal_speed /
///   radius as the vehicle flies over the sphere.) So
///   d(pitch)/dt = horizontal_speed / radius - rate_y_radps.
/// - rate_x_radps, rate_z_radps: noise only.
typedef struct td_imu {
    uint64_t stamp_ns;
    double accel_x_mps2, accel_y_mps2, accel_z_mps2;
    double rate_x_radps, rate_y_radps, rate_z_radps;
} td_imu;

/// Laser altimeter: slant range along the boresight (the body's -x axis,
/// straight down when upright) to the terrain under the beam. Over flat
/// ground, altitude ≈ range_m * cos(pitch). The height is above the terrain
/// the beam hits, not above the site's elevation. When valid is 0 (too high,
/// beam too far from the vertical, out of range) range_m is 0 and means
/// nothing.
typedef struct td_altimeter {
    uint64_t stamp_ns;
    double range_m;
    int32_t valid;
} td_altimeter;

/// Doppler velocimeter: velocity relative to the ground in the local frame,
/// horizontal positive downrange, vertical positive up. When valid is 0
/// (too high) both values are 0 and mean nothing.
typedef struct td_velocimeter {
    uint64_t stamp_ns;
    double horizontal_velocity_mps;
    double vertical_velocity_mps;
    int32_t valid;
} td_velocimeter;

/// Star tracker: pitch of the thrust axis from the local vertical, positive
/// when the thrust points uprange (braking).
typedef struct td_attitude {
    uint64_t stamp_ns;
    double pitch_rad;
    int32_t valid;
} td_attitude;

/// Something guidance wants on the record (`/events`): a phase change, a
/// rejected sensor reading. `anomaly` (0 or 1) marks events that mean
/// something went wrong; the run's outcome reports the first.
typedef struct td_event {
    /// Short, machine-readable, NUL-terminated, no spaces or control
    /// characters, not empty: "phase", "altimeter-rejected".
    char kind[TD_EVENT_KIND_CAPACITY];
    /// For a person, NUL-terminated; control characters (newlines) are
    /// replaced by spaces on the way out.
    char detail[TD_EVENT_DETAIL_CAPACITY];
    int32_t anomaly;
} td_event;

/// What one step produces. Before each call the host sets every number to
/// NaN and event_count to 0, so a field a library forgets to set reaches the
/// tool as NaN, which the tool reports as invalid output.
typedef struct td_output {
    /// Main engine throttle, 0…1 of main_thrust_n (the simulator clamps
    /// finite values to 0…1).
    double main_throttle_fraction;
    /// Thruster group throttle, 0…1 of thruster_count * thruster_thrust_n.
    double thruster_throttle_fraction;
    /// The pitch to hold, same sign convention as td_attitude.pitch_rad. The
    /// vehicle follows it with a lag and a rate limit.
    double pitch_command_rad;
    /// What navigation believes now (recorded on `/nav`): downrange from
    /// the start point, altitude above the site's elevation (or above the
    /// ground last measured), speeds and pitch in the frames above.
    double nav_downrange_m;
    double nav_altitude_m;
    double nav_vertical_speed_mps;
    double nav_horizontal_speed_mps;
    double nav_pitch_rad;
    /// Events of this step, 0…TD_MAX_EVENTS, in events[0 ..< event_count].
    int32_t event_count;
    td_event events[TD_MAX_EVENTS];
} td_output;

/// Returns TD_GUIDANCE_ABI_VERSION, the version the library was built
/// against. The host refuses a library whose version differs.
int td_guidance_abi_version(void);

/// Makes a guidance for one descent.
///
/// - Parameters:
///   - config: the mission knowledge; every field is finite.
///   - params: param_count parameter settings, applied in order over the
///     library's defaults (params is NULL when param_count is 0).
///   - error: where to write a one-line, NUL-terminated message on failure:
///     what was wrong and what would be accepted ("unknown parameter
///     \"foo\"; parameters: descent_speed_mps, ...").
///   - error_capacity: bytes available at error, including the NUL.
/// - Returns: the guidance, or NULL (with a message in error) when a
///   parameter is unknown or its value is not accepted.
void *td_guidance_create(const td_config *config, const td_param *params, size_t param_count,
                         char *error, size_t error_capacity);

/// One sensor message each. No answer: a guidance keeps what it needs and
/// acts at the next step.
void td_guidance_imu(void *guidance, const td_imu *message);
void td_guidance_altimeter(void *guidance, const td_altimeter *message);
void td_guidance_velocimeter(void *guidance, const td_velocimeter *message);
void td_guidance_attitude(void *guidance, const td_attitude *message);

/// One guidance step at time_ns: fills *out (commands, navigation, events).
///
/// - Returns: 0 on success. Any other value means the guidance itself
///   failed; the host prints "error step failed with code N" to stderr and
///   exits with status 3, which the tool reports as a crash.
int td_guidance_step(void *guidance, uint64_t time_ns, td_output *out);

/// Frees the guidance. Called once, after the last step, when the tool
/// sends `end`.
void td_guidance_destroy(void *guidance);

#ifdef __cplusplus
}
#endif

#endif /* TOUCHDOWN_GUIDANCE_H */
