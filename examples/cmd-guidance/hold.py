#!/usr/bin/env python3
"""hold.py: a tiny guidance that speaks Touchdown's guidance line protocol
(docs/guidance-protocol.md) itself, with the standard library only.

It dead-reckons altitude and both speeds from the IMU, pulls the altitude
towards valid altimeter ranges (times cos pitch), takes the velocimeter's
speeds when valid, and commands the thrust that holds a constant descent rate
(`descent_speed_mps`, default 2), braking the horizontal speed with what
thrust is left. A protocol example, not a lander: it aims at no site.

    touchdown replay TRACE --guidance-cmd "python3 examples/cmd-guidance/hold.py"
"""
import math
import sys

STANDARD_GRAVITY_MPS2 = 9.80665
DEFAULTS = {"descent_speed_mps": 2.0, "altimeter_gain": 0.05}


def fail(number, line, problem):
    sys.stderr.write(f"hold.py: line {number}: {problem}: {line!r}\n")
    sys.exit(2)


def answer(*lines):
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


def main():
    lines = enumerate((line.rstrip("\n") for line in sys.stdin), start=1)
    number, line = next(lines, (1, ""))
    if line != "touchdown-guidance 1":
        fail(number, line, "expected 'touchdown-guidance 1'")
    number, line = next(lines, (2, ""))
    if not line.startswith("config "):
        fail(number, line, "expected 'config KEY=VALUE ...'")
    given = dict(entry.partition("=")[::2] for entry in line.split()[1:])  # unknown keys are ignored
    needed = ("moon_radius_m", "moon_gm_m3ps2", "site_elevation_m", "main_thrust_n", "thruster_count",
              "thruster_thrust_n", "initial_mass_kg", "isp_s", "nav_downrange_m", "nav_altitude_m",
              "nav_vertical_speed_mps", "nav_horizontal_speed_mps", "nav_pitch_rad")
    try:
        config = {key: float(given[key]) for key in needed}
    except (KeyError, ValueError) as e:
        fail(number, line, f"config key missing or not a number: {e}")
    params, error = dict(DEFAULTS), None
    for number, line in lines:
        if line == "start":
            break
        if not line.startswith("param "):
            fail(number, line, "expected 'param NAME=VALUE' or 'start'")
        name, _, value = line[len("param "):].partition("=")
        if name not in DEFAULTS:
            error = error or f"hold.py has no parameter {name!r}; parameters: {', '.join(DEFAULTS)}"
        else:
            try:
                params[name] = float(value)
            except ValueError:
                error = error or f"{name} must be a number, not {value!r}"
    if error:
        answer("error " + error)  # the tool sends nothing more
        return 1
    answer("ready")

    radius_m = config["moon_radius_m"] + config["site_elevation_m"]
    main_n, thrusters_n = config["main_thrust_n"], config["thruster_count"] * config["thruster_thrust_n"]
    downrange_m, altitude_m = config["nav_downrange_m"], config["nav_altitude_m"]
    vz_mps, vh_mps = config["nav_vertical_speed_mps"], config["nav_horizontal_speed_mps"]
    pitch_rad = config["nav_pitch_rad"]
    mass_kg, thrust_n = config["initial_mass_kg"], 0.0
    last_imu_ns = last_step_ns = None
    for number, line in lines:
        f = line.split(" ")
        try:
            if f[0] == "imu" and len(f) == 8:
                stamp_ns, accel_x = int(f[1]), float(f[2])
                if last_imu_ns is not None and stamp_ns > last_imu_ns and math.isfinite(accel_x):
                    dt_s, r = (stamp_ns - last_imu_ns) * 1e-9, radius_m + altitude_m
                    a_up = accel_x * math.cos(pitch_rad) - config["moon_gm_m3ps2"] / r**2 + vh_mps**2 / r
                    downrange_m += vh_mps * dt_s * config["moon_radius_m"] / r
                    altitude_m += vz_mps * dt_s + 0.5 * a_up * dt_s**2
                    vz_mps += a_up * dt_s
                    vh_mps -= accel_x * math.sin(pitch_rad) * dt_s
                last_imu_ns = stamp_ns
            elif f[0] == "altimeter" and len(f) == 4:
                range_m = float(f[2])
                if f[3] == "1" and math.isfinite(range_m):
                    altitude_m += params["altimeter_gain"] * (range_m * math.cos(pitch_rad) - altitude_m)
            elif f[0] == "velocimeter" and len(f) == 5:
                if f[4] == "1" and math.isfinite(float(f[2])) and math.isfinite(float(f[3])):
                    vh_mps, vz_mps = float(f[2]), float(f[3])
            elif f[0] == "attitude" and len(f) == 4:
                if f[3] == "1" and math.isfinite(float(f[2])):
                    pitch_rad = float(f[2])
            elif f[0] == "step" and len(f) == 2:
                time_ns = int(f[1])
                if last_step_ns is not None:
                    mass_kg -= thrust_n / (config["isp_s"] * STANDARD_GRAVITY_MPS2) * (time_ns - last_step_ns) * 1e-9
                last_step_ns = time_ns
                # Vertical first: the acceleration that holds the descent rate;
                # what thrust is left brakes the horizontal speed.
                r, available = radius_m + altitude_m, (main_n + thrusters_n) / mass_kg
                want_up = config["moon_gm_m3ps2"] / r**2 - vh_mps**2 / r + 0.5 * (-params["descent_speed_mps"] - vz_mps)
                want_up = min(max(want_up, 0.0), available)
                want_h = -min(max(0.5 * vh_mps, -available), available)
                want_h = max(min(want_h, math.sqrt(available**2 - want_up**2)), -math.sqrt(available**2 - want_up**2))
                thrust_n, pitch_command_rad = math.hypot(want_h, want_up) * mass_kg, math.atan2(-want_h, want_up)
                main = min(1.0, thrust_n / main_n) if main_n > 0 else 0.0
                thrusters = min(1.0, max(0.0, (thrust_n - main_n) / thrusters_n)) if thrusters_n > 0 else 0.0
                events = ["event phase 0 holding descent rate"] if time_ns == 0 else []
                numbers = [main, thrusters, pitch_command_rad, downrange_m, altitude_m, vz_mps, vh_mps, pitch_rad]
                answer(*events, "output " + " ".join(repr(x) for x in numbers))
            elif f[0] == "end" and len(f) == 1:
                return 0
            else:
                fail(number, line, "unknown message or wrong number of fields")
        except ValueError as e:
            fail(number, line, str(e))
    fail(number, "", "stdin ended without 'end'")


if __name__ == "__main__":
    sys.exit(main())
