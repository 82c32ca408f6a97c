#!/usr/bin/env python3
"""Write a ROS 2 recording of geometry_msgs types with the reference writer.

Usage:
    write_geometry.py OUTDIR

Writes OUTDIR/geometry.mcap (mcap-ros2-support, zstd chunks) holding
geometry_msgs/msg/TwistStamped on /lander/twist and geometry_msgs/msg/PoseStamped
on /lander/pose, 20 of each at 10 Hz from Unix time 1700000000 s, and
OUTDIR/geometry.expected.jsonl: one JSON object per message, in write order,
with the values given to the encoder. Their schemas are the standard
definitions, whose fields name types of their own package without the package
(`Twist twist`, `Vector3 linear`), as ROS 2 writes them. Values come from
random.Random(7): every run writes the same bytes.
"""

import json
import random
import sys
from pathlib import Path

from mcap_ros2.writer import Writer

SEPARATOR = "=" * 80 + "\n"
HEADER = (
    "MSG: std_msgs/Header\n"
    "builtin_interfaces/Time stamp\n"
    "string frame_id\n" + SEPARATOR +
    "MSG: builtin_interfaces/Time\n"
    "int32 sec\n"
    "uint32 nanosec\n"
)
VECTOR3 = "MSG: geometry_msgs/Vector3\nfloat64 x\nfloat64 y\nfloat64 z\n"
TWIST_STAMPED = (
    "std_msgs/Header header\n"
    "Twist twist\n" + SEPARATOR + HEADER + SEPARATOR +
    "MSG: geometry_msgs/Twist\n"
    "Vector3  linear\n"
    "Vector3  angular\n" + SEPARATOR + VECTOR3
)
POSE_STAMPED = (
    "std_msgs/Header header\n"
    "Pose pose\n" + SEPARATOR + HEADER + SEPARATOR +
    "MSG: geometry_msgs/Pose\n"
    "Point position\n"
    "Quaternion orientation\n" + SEPARATOR +
    "MSG: geometry_msgs/Point\n"
    "float64 x\nfloat64 y\nfloat64 z\n" + SEPARATOR +
    "MSG: geometry_msgs/Quaternion\n"
    "float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n"
)

EPOCH_NS = 1_700_000_000_000_000_000


def main() -> None:
    out = Path(sys.argv[1])
    rng = random.Random(7)
    expected = []
    with open(out / "geometry.mcap", "wb") as f:
        writer = Writer(f)
        twist = writer.register_msgdef("geometry_msgs/msg/TwistStamped", TWIST_STAMPED)
        pose = writer.register_msgdef("geometry_msgs/msg/PoseStamped", POSE_STAMPED)
        for i in range(20):
            log_ns = EPOCH_NS + i * 100_000_000
            # The stamp is the measurement's, a little before its log time.
            stamp_ns = log_ns - rng.randrange(0, 5_000_000)
            header = {"stamp": {"sec": stamp_ns // 1_000_000_000, "nanosec": stamp_ns % 1_000_000_000},
                      "frame_id": "lander"}
            t = {"header": header,
                 "twist": {"linear": {"x": rng.uniform(-60, 60), "y": rng.uniform(-1, 1), "z": rng.uniform(-40, 0)},
                           "angular": {"x": 0.0, "y": rng.uniform(-0.1, 0.1), "z": 0.0}}}
            p = {"header": header,
                 "pose": {"position": {"x": rng.uniform(0, 1e4), "y": 0.0, "z": rng.uniform(100, 3000)},
                          "orientation": {"x": 0.0, "y": rng.uniform(-0.5, 0.5), "z": 0.0, "w": 0.9}}}
            writer.write_message("/lander/twist", twist, t, log_time=log_ns, publish_time=log_ns, sequence=i)
            writer.write_message("/lander/pose", pose, p, log_time=log_ns, publish_time=log_ns, sequence=i)
            expected.append({"topic": "/lander/twist", "log_time_ns": log_ns, "stamp_ns": stamp_ns, "message": t})
            expected.append({"topic": "/lander/pose", "log_time_ns": log_ns, "stamp_ns": stamp_ns, "message": p})
        writer.finish()
    with open(out / "geometry.expected.jsonl", "w") as f:
        for e in expected:
            f.write(json.dumps(e) + "\n")


if __name__ == "__main__":
    main()
