#!/usr/bin/env python3
"""Write reference MCAP files with the Python reference writer, and what they hold.

Usage:
    write_reference.py OUTDIR

Writes into OUTDIR, for each NAME in FILE_SPECS:
    NAME.mcap             written by mcap.writer.Writer, messages CDR-encoded by
                          mcap-ros2-support from ros2msg schemas
    NAME.expected.jsonl   one JSON object per message, in log-time order with
                          ties in file (write) order, in the form read_trace.py
                          prints (see its docstring for the value conventions)
and manifest.json, which lists the files, their message counts and how each was
written.

Every file holds the same 391 messages on three topics, written in the same
order: sensor_msgs/msg/Imu, sensor_msgs/msg/Range and a custom
touchdown_msgs/msg/GuidanceStatus. Only the container differs: zstd, lz4 and
uncompressed chunks, no chunks, and no summary section. Values come from
random.Random(42), so every run writes byte-identical files.

The expected JSON is built from the values given to the encoder (float32 fields
rounded to float32 first), not by decoding the files, so comparing it with
read_trace.py's output checks the reference decoder too (selfcheck.py).

Log-time order is broken on purpose, and ties are made on purpose:
  * all three topics share log times at every multiple of 100 ms;
  * four range messages (1.00 s to 1.15 s) are written late, after the IMU
    message of 1.25 s (a delayed sensor buffer);
  * the IMU message of 2.01 s repeats the log time 2.00 s, which the range and
    guidance messages also have (a four-way tie);
  * one guidance message logged at 0.01 s (tied with an IMU message in the
    first chunk) is written last, so it lands in the last chunk.
"""

import json
import math
import os
import random
import re
import struct
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple

import mcap_ros2
from mcap.well_known import MessageEncoding, Profile, SchemaEncoding
from mcap.writer import LIBRARY_IDENTIFIER, CompressionType, IndexType, Writer
from mcap_ros2._dynamic import serialize_dynamic

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_trace import render_message  # noqa: E402

SEED = 42
# 2023-11-14T22:13:20Z: log times in nanoseconds exceed 2^53, as real ones do.
EPOCH_NS = 1_700_000_000 * 1_000_000_000
MS = 1_000_000

# The library string mcap_ros2.writer.Writer puts in the Header record.
LIBRARY = f"{LIBRARY_IDENTIFIER} mcap-ros2-support/{mcap_ros2.__version__}"

# ---------------------------------------------------------------------------
# Message definitions (.msg text), keyed by the name a field refers to them by.
# Field lines match the ROS 2 interfaces; comments are our own.

MSG_TEXTS: Dict[str, str] = {
    "builtin_interfaces/Time": """\
# A point in time: seconds and nanoseconds since a clock's zero point.

# Seconds; valid over all int32 values.
int32 sec

# Nanoseconds, in [0, 1e9), added to sec.
uint32 nanosec
""",
    "std_msgs/Header": """\
# Metadata for stamped data types.

# When the data was acquired.
builtin_interfaces/Time stamp

# The coordinate frame the data is expressed in.
string frame_id
""",
    "geometry_msgs/Quaternion": """\
# An orientation in free space, as a quaternion.

float64 x 0
float64 y 0
float64 z 0
float64 w 1
""",
    "geometry_msgs/Vector3": """\
# A vector in free space. Use Point for positions: a Vector3 is not moved by
# the translation part of a transform.

float64 x
float64 y
float64 z
""",
    "sensor_msgs/Imu": """\
# Data from an inertial measurement unit.
#
# Covariances are row major about the x, y, z axes; all zeros means unknown.
# A first element of -1 means the quantity is not reported (ignore the rest).

std_msgs/Header header

geometry_msgs/Quaternion orientation
float64[9] orientation_covariance # Row major about x, y, z axes

geometry_msgs/Vector3 angular_velocity
float64[9] angular_velocity_covariance # Row major about x, y, z axes

geometry_msgs/Vector3 linear_acceleration
float64[9] linear_acceleration_covariance # Row major x, y z
""",
    "sensor_msgs/Range": """\
# One distance reading from an active ranger, valid along an arc.
#
# A fixed-distance ranger reports -Inf for a detection within its range and
# +Inf for none (REP 117).

std_msgs/Header header # stamp: when the ranger
                       # returned the reading

# Radiation types
uint8 ULTRASOUND=0
uint8 INFRARED=1

uint8 radiation_type    # one of the constants above

float32 field_of_view   # arc the reading is valid over [rad]

float32 min_range       # [m]
float32 max_range       # [m]

float32 range           # [m]; -Inf/+Inf for fixed-distance rangers

float32 variance        # [m^2]; 0 means unknown
""",
    "touchdown_msgs/ThrusterCommand": """\
# One thruster's command for a guidance cycle.
string name
float32 throttle_fraction   # 0 to 1
bool enabled
float64 gimbal_rad
""",
    "touchdown_msgs/GuidanceStatus": """\
# Lunar-lander guidance status, one per guidance cycle.
# Covers every CDR alignment case: 1, 2, 4 and 8 byte fields after strings,
# fixed arrays (primitive, byte and nested), sequences (primitive, byte,
# string and nested, possibly empty).

std_msgs/Header header

uint8 PHASE_BRAKING=0
uint8 PHASE_APPROACH=1
uint8 PHASE_TERMINAL=2
uint8 phase_id               # one of PHASE_*
string phase_name

bool engine_armed
int8 gimbal_trim_step
int16 rcs_mode
uint16 sensor_mask
int32 altitude_mm
uint32 cycle
int64 clock_offset_ns        # may be negative
uint64 frame_counter         # may exceed 2^53
float32 throttle_fraction
float64 altitude_agl_m

float64[3] position_m        # landing-site frame
float32[4] leg_load_n
uint8[4] health_flags
builtin_interfaces/Time[2] burn_window
ThrusterCommand[] thrusters  # same package: no package prefix
uint8[] telemetry
string[] notes
float64[] residuals_m
""",
}

PRIMITIVE_TYPES = {
    "bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16",
    "uint16", "int32", "uint32", "int64", "uint64", "string", "wstring",
}


def msg_dependencies(text: str, package: str) -> List[str]:
    """Field types a .msg text refers to, sorted, as rosbag2 finds them."""
    found = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        field_type = re.sub(r"\[[^\]]*\]$", "", line.split()[0])
        field_type = re.sub(r"<=\d+$", "", field_type)  # bounded string
        if field_type in PRIMITIVE_TYPES:
            continue
        found.add(field_type if "/" in field_type else f"{package}/{field_type}")
    return sorted(found)


def ros2msg_schema(root: str, long_dependency_names: bool = False) -> str:
    """A complete `ros2msg` definition, concatenated the way rosbag2 does it.

    The root text comes first; each dependency follows once, depth first in
    sorted order, after a blank line, 80 '=' and a `MSG: pkg/Name` line.
    rosbag2 names dependencies as fields spell them (`std_msgs/Header`); with
    long_dependency_names the `pkg/msg/Name` form of the MCAP docs is used.
    """
    seen = set()

    def append(name: str) -> str:
        text = MSG_TEXTS[name]
        for dependency in msg_dependencies(text, name.split("/")[0]):
            if dependency in seen:
                continue
            seen.add(dependency)
            package, message = dependency.split("/")
            shown = f"{package}/msg/{message}" if long_dependency_names else dependency
            text += "\n" + "=" * 80 + "\n" + f"MSG: {shown}\n" + append(dependency)
        return text

    return append(root)


@dataclass(frozen=True)
class TopicSpec:
    topic: str
    schema_name: str
    schema_text: str
    channel_metadata: Dict[str, str]


QOS = (
    "- history: 3\n  depth: 0\n  reliability: 1\n  durability: 2\n"
    "  deadline:\n    sec: 2147483647\n    nsec: 4294967295\n"
)

IMU = TopicSpec("/lander/imu", "sensor_msgs/msg/Imu", ros2msg_schema("sensor_msgs/Imu"),
                {"offered_qos_profiles": QOS})
RANGE = TopicSpec("/lander/altimeter", "sensor_msgs/msg/Range", ros2msg_schema("sensor_msgs/Range"),
                  {"offered_qos_profiles": QOS})
GUIDANCE = TopicSpec("/gnc/guidance_status", "touchdown_msgs/msg/GuidanceStatus",
                     ros2msg_schema("touchdown_msgs/GuidanceStatus", long_dependency_names=True), {})
TOPICS = [IMU, RANGE, GUIDANCE]

# ---------------------------------------------------------------------------
# Messages


def f32(value: float) -> float:
    """The value a float32 field holds after encoding, as a Python float."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def stamp(time_ns: int) -> Dict[str, int]:
    return {"sec": time_ns // 1_000_000_000, "nanosec": time_ns % 1_000_000_000}


def header(time_ns: int, frame_id: str) -> Dict[str, Any]:
    return {"stamp": stamp(time_ns), "frame_id": frame_id}


@dataclass
class Event:
    """One message as written: where it goes, when, and what it holds."""

    spec: TopicSpec
    log_time_ns: int
    sequence: int
    message: Dict[str, Any]

    @property
    def publish_time_ns(self) -> int:
        return self.log_time_ns - 250_000


def altitude_m(offset_ns: int) -> float:
    t = offset_ns / 1e9
    return 3000.0 - 900.0 * t + 30.0 * t * t


def imu_message(rng: random.Random, index: int, log_ns: int) -> Dict[str, Any]:
    t = (log_ns - EPOCH_NS) / 1e9
    yaw = 0.1 * t + rng.gauss(0.0, 1e-3)
    tilt = rng.gauss(0.0, 1e-3)
    x, y, z, w = tilt, -tilt / 2, math.sin(yaw / 2), math.cos(yaw / 2)
    norm = math.sqrt(x * x + y * y + z * z + w * w)
    orientation_covariance = [1e-4, 0.0, 0.0, 0.0, 1e-4, 0.0, 0.0, 0.0, 2.5e-4]
    if index == 7:
        orientation_covariance[0] = -1.0  # "orientation not reported"
    return {
        "header": header(log_ns - rng.randrange(100_000, 900_000), "imu_link"),
        "orientation": {"x": x / norm, "y": y / norm, "z": z / norm, "w": w / norm},
        "orientation_covariance": orientation_covariance,
        "angular_velocity": {
            "x": rng.gauss(0.0, 0.01),
            "y": rng.gauss(0.0, 0.01),
            "z": 0.1 + rng.gauss(0.0, 0.01),
        },
        "angular_velocity_covariance": [rng.random() * 1e-6 for _ in range(9)],
        "linear_acceleration": {
            "x": rng.gauss(0.0, 0.02),
            "y": rng.gauss(0.0, 0.02),
            "z": 1.625 + rng.gauss(0.0, 0.01),
        },
        "linear_acceleration_covariance": [0.0] * 9,
    }


def range_message(rng: random.Random, index: int, log_ns: int) -> Dict[str, Any]:
    reading = f32(altitude_m(log_ns - EPOCH_NS) + rng.gauss(0.0, 0.5))
    variance = f32(0.04 + rng.random() * 0.01)
    if index == 13:
        reading = math.inf  # no detection
    if index == 14:
        reading = -math.inf  # detection too close to quantify
    if index == 21:
        variance = math.nan
    return {
        "header": header(log_ns - rng.randrange(100_000, 900_000), "altimeter_link"),
        "radiation_type": 1,
        "field_of_view": f32(0.0349),
        "min_range": f32(0.5),
        "max_range": f32(5000.0),
        "range": reading,
        "variance": variance,
    }


NOTES = [
    [],
    [""],
    ["\u0394v budget nominal"],
    ['quote " backslash \\ tab \t newline \n'],
    ["two", "notes"],
]


def guidance_message(rng: random.Random, index: int, log_ns: int) -> Dict[str, Any]:
    offset_ns = log_ns - EPOCH_NS
    phase_id = 0 if offset_ns < 1000 * MS else 1 if offset_ns < 2000 * MS else 2
    thrusters = [
        {
            "name": f"rcs_{n}",
            "throttle_fraction": f32(rng.random()),
            "enabled": rng.random() < 0.8,
            "gimbal_rad": rng.gauss(0.0, 0.02),
        }
        for n in range(rng.randint(0, 4))
    ]
    residuals = [rng.gauss(0.0, 1.0) for _ in range(rng.randint(0, 3))]
    message = {
        "header": header(log_ns - rng.randrange(100_000, 900_000), "landing_site"),
        "phase_id": phase_id,
        "phase_name": ["braking", "approach", "terminal"][phase_id],
        "engine_armed": index > 0,
        "gimbal_trim_step": rng.randint(-128, 127),
        "rcs_mode": rng.randint(-32768, 32767),
        "sensor_mask": rng.randint(0, 65535),
        "altitude_mm": int(altitude_m(offset_ns) * 1000),
        "cycle": index * 7,
        "clock_offset_ns": rng.randint(-(2**63), 2**63 - 1),
        "frame_counter": rng.getrandbits(64),
        "throttle_fraction": f32(rng.random()),
        "altitude_agl_m": altitude_m(offset_ns),
        "position_m": [rng.gauss(0.0, 50.0), rng.gauss(0.0, 50.0), altitude_m(offset_ns)],
        "leg_load_n": [f32(rng.random() * 100.0) for _ in range(4)],
        "health_flags": bytes(rng.getrandbits(8) for _ in range(4)),
        "burn_window": [stamp(log_ns), stamp(log_ns + rng.randrange(0, 5_000_000_000))],
        "thrusters": thrusters,
        "telemetry": bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 12))),
        "notes": list(NOTES[index % len(NOTES)]),
        "residuals_m": residuals,
    }
    if index == 3:  # the integer and float edges
        message.update(
            gimbal_trim_step=-128,
            rcs_mode=-32768,
            sensor_mask=65535,
            altitude_mm=-(2**31),
            cycle=2**32 - 1,
            clock_offset_ns=-(2**63),
            frame_counter=2**64 - 1,
            residuals_m=[5e-324, 1.7976931348623157e308, -0.0, math.nan, -math.inf],
        )
    if index == 4:
        message.update(clock_offset_ns=2**63 - 1, thrusters=[], telemetry=b"")
    return message


def make_events() -> List[Event]:
    """All messages in write order (see the module docstring for the disorder)."""
    rng = random.Random(SEED)
    timeline: List[Tuple[int, int, TopicSpec, int]] = []
    for index in range(300):
        timeline.append((index * 10 * MS, 0, IMU, index))
    for index in range(60):
        timeline.append((index * 50 * MS, 1, RANGE, index))
    for index in range(30):
        timeline.append((index * 100 * MS, 2, GUIDANCE, index))
    timeline.sort(key=lambda item: (item[0], item[1]))

    builders: Dict[str, Callable[[random.Random, int, int], Dict[str, Any]]] = {
        IMU.topic: imu_message,
        RANGE.topic: range_message,
        GUIDANCE.topic: guidance_message,
    }
    first_sequence = {IMU.topic: 1, RANGE.topic: 1, GUIDANCE.topic: 4_294_967_000}
    events: List[Event] = []
    for offset_ns, _, spec, index in timeline:
        log_ns = EPOCH_NS + offset_ns
        if spec is IMU and index == 201:
            log_ns -= 10 * MS  # repeats the log time of IMU message 200
        events.append(
            Event(spec, log_ns, first_sequence[spec.topic] + index,
                  builders[spec.topic](rng, index, log_ns))
        )

    # The range messages of 1.00 s to 1.15 s arrive late, after the IMU message of 1.25 s.
    late = [e for e in events
            if e.spec is RANGE and EPOCH_NS + 1000 * MS <= e.log_time_ns < EPOCH_NS + 1200 * MS]
    events = [e for e in events if not any(e is x for x in late)]
    anchor = next(i for i, e in enumerate(events)
                  if e.spec is IMU and e.log_time_ns == EPOCH_NS + 1250 * MS)
    events[anchor + 1:anchor + 1] = late

    # A guidance message logged at 0.01 s is written last.
    straggler_ns = EPOCH_NS + 10 * MS
    events.append(
        Event(GUIDANCE, straggler_ns, first_sequence[GUIDANCE.topic] + 30,
              guidance_message(rng, 30, straggler_ns))
    )
    return events


# ---------------------------------------------------------------------------
# Files


@dataclass(frozen=True)
class FileSpec:
    name: str
    description: str
    compression: CompressionType
    use_chunking: bool = True
    chunk_size: int = 16 * 1024
    summary: bool = True
    enable_data_crcs: bool = False

    def writer(self, stream) -> Writer:
        if self.summary:
            return Writer(
                stream,
                chunk_size=self.chunk_size,
                compression=self.compression,
                use_chunking=self.use_chunking,
                enable_data_crcs=self.enable_data_crcs,
            )
        # Nothing in the summary section: Footer.summary_start and
        # summary_offset_start are 0. IndexType.NONE also drops the
        # Message Index records after each chunk.
        return Writer(
            stream,
            chunk_size=self.chunk_size,
            compression=self.compression,
            use_chunking=self.use_chunking,
            index_types=IndexType.NONE,
            repeat_channels=False,
            repeat_schemas=False,
            use_statistics=False,
            use_summary_offsets=False,
            enable_data_crcs=self.enable_data_crcs,
        )


COMPRESSION_NAMES = {CompressionType.ZSTD: "zstd", CompressionType.LZ4: "lz4", CompressionType.NONE: ""}

FILE_SPECS = [
    FileSpec("chunked-zstd", "zstd chunks of about 16 KiB, full summary",
             CompressionType.ZSTD, chunk_size=16 * 1024),
    FileSpec("chunked-lz4", "lz4 chunks of about 8 KiB, full summary",
             CompressionType.LZ4, chunk_size=8 * 1024),
    FileSpec("chunked-uncompressed", "one uncompressed chunk (compression \"\"), full summary, data section CRC",
             CompressionType.NONE, chunk_size=1024 * 1024, enable_data_crcs=True),
    FileSpec("unchunked", "no chunks: schemas, channels and messages in the data section, full summary, data section CRC",
             CompressionType.NONE, use_chunking=False, enable_data_crcs=True),
    FileSpec("no-summary", "zstd chunks of about 16 KiB, no message indexes, empty summary section",
             CompressionType.ZSTD, chunk_size=16 * 1024, summary=False),
]


def write_file(spec: FileSpec, events: List[Event], path: str) -> None:
    with open(path, "wb") as stream:
        writer = spec.writer(stream)
        writer.start(profile=Profile.ROS2, library=LIBRARY)
        channel_ids: Dict[str, int] = {}
        encoders = {}
        for topic in TOPICS:
            schema_id = writer.register_schema(
                name=topic.schema_name, encoding=SchemaEncoding.ROS2, data=topic.schema_text.encode()
            )
            channel_ids[topic.topic] = writer.register_channel(
                topic=topic.topic, message_encoding=MessageEncoding.CDR, schema_id=schema_id,
                metadata=topic.channel_metadata,
            )
            encoders[topic.topic] = serialize_dynamic(topic.schema_name, topic.schema_text)[topic.schema_name]
        for event in events:
            writer.add_message(
                channel_id=channel_ids[event.spec.topic],
                log_time=event.log_time_ns,
                publish_time=event.publish_time_ns,
                sequence=event.sequence,
                data=encoders[event.spec.topic](event.message),
            )
        writer.finish()


def expected_lines(events: List[Event]) -> List[str]:
    """JSONL lines in log-time order; sorted() is stable, so ties keep write order."""
    ordered = sorted(events, key=lambda event: event.log_time_ns)
    return [render_message(e.spec.topic, e.log_time_ns, e.sequence, e.message) for e in ordered]


def main(argv: List[str]) -> int:
    if len(argv) != 2 or argv[1].startswith("-"):
        print(f"usage: {os.path.basename(argv[0])} OUTDIR", file=sys.stderr)
        return 2
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    events = make_events()
    lines = expected_lines(events)
    topic_counts: Dict[str, int] = {}
    for event in events:
        topic_counts[event.spec.topic] = topic_counts.get(event.spec.topic, 0) + 1

    manifest_files = []
    for spec in FILE_SPECS:
        mcap_name = f"{spec.name}.mcap"
        expected_name = f"{spec.name}.expected.jsonl"
        write_file(spec, events, os.path.join(out_dir, mcap_name))
        with open(os.path.join(out_dir, expected_name), "w", encoding="ascii", newline="\n") as out:
            out.writelines(line + "\n" for line in lines)
        manifest_files.append(
            {
                "name": spec.name,
                "file": mcap_name,
                "expected": expected_name,
                "description": spec.description,
                "message_count": len(events),
                "topic_message_counts": dict(sorted(topic_counts.items())),
                "chunked": spec.use_chunking,
                "compression": COMPRESSION_NAMES[spec.compression] if spec.use_chunking else None,
                "summary": spec.summary,
                "message_indexes": spec.use_chunking and spec.summary,
                "data_section_crc": spec.enable_data_crcs,
            }
        )
        print(f"write_reference: wrote {mcap_name} and {expected_name} ({len(events)} messages)",
              file=sys.stderr)

    manifest = {
        "generator": "Tests/Interop/write_reference.py",
        "library": LIBRARY,
        "profile": Profile.ROS2,
        "seed": SEED,
        "schemas": {topic.topic: topic.schema_name for topic in TOPICS},
        "files": manifest_files,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="ascii", newline="\n") as out:
        json.dump(manifest, out, indent=2, ensure_ascii=True)
        out.write("\n")
    print(f"write_reference: wrote manifest.json in {out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
