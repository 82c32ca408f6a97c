#!/usr/bin/env python3
"""A stand-in flight computer for `touchdown rig stimulate`, speaking CCSDS
Space Packets over UDP as fixtures/rig/ccsds.yaml lays them out.

Usage: packet-flight-computer.py --listen HOST:PORT --send HOST:PORT

It receives the rig's sensor packets (IMU 0x101, altimeter 0x102,
velocimeter 0x103, attitude 0x104) and, for each attitude packet, sends one
command packet (APID 0x201) stamped with that packet's time code. Its control
law is deliberately simple (it is not a lander guidance): hold the measured
pitch, and throttle the main engine against the last valid vertical velocity:

    main = clamp(0.5 - 0.05 * (vertical_velocity + 2), 0, 1), thrusters = 0

It prints "listening on HOST:PORT" on stderr when ready, and exits on SIGINT,
SIGTERM or end of its --duration-s.
"""
import argparse
import signal
import socket
import struct
import sys
import time

THROTTLE_LSB = 1.52590218966964e-05  # 1 / 65535, as the map says
PITCH_LSB = 1.0e-7
ATTITUDE_LSB = 5.0e-5
TIME_OCTETS = 7  # CUC: 4 coarse + 3 fine


def address(text):
    host, _, port = text.rpartition(":")
    return (host or "127.0.0.1", int(port))


def command_packet(sequence, time_code, main, thrusters, pitch):
    user = struct.pack(">HHi", round(min(max(main, 0.0), 1.0) / THROTTLE_LSB),
                       round(min(max(thrusters, 0.0), 1.0) / THROTTLE_LSB), round(pitch / PITCH_LSB))
    length = TIME_OCTETS + len(user) - 1
    header = struct.pack(">HHH", 0x0800 | 0x201, 0xC000 | (sequence & 0x3FFF), length)
    return header + time_code + user


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--send", required=True)
    parser.add_argument("--duration-s", type=float, default=600.0)
    args = parser.parse_args()
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    signal.signal(signal.SIGINT, lambda *_: running.__setitem__(0, False))
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(address(args.listen))
    rx.settimeout(0.1)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    destination = address(args.send)
    print("listening on %s:%d" % rx.getsockname(), file=sys.stderr, flush=True)
    vertical_velocity = 0.0
    sequence = 0
    end = time.monotonic() + args.duration_s
    while running[0] and time.monotonic() < end:
        try:
            packet = rx.recv(65536)
        except socket.timeout:
            continue
        if len(packet) < 6 + TIME_OCTETS:
            continue
        apid = ((packet[0] & 0x07) << 8) | packet[1]
        time_code = packet[6:6 + TIME_OCTETS]
        user = packet[6 + TIME_OCTETS:]
        if apid == 0x103 and len(user) >= 9 and user[8] & 1:
            vertical_velocity = struct.unpack(">f", user[4:8])[0]
        elif apid == 0x104 and len(user) >= 3:
            pitch = struct.unpack("<h", user[0:2])[0] * ATTITUDE_LSB
            main_throttle = 0.5 - 0.05 * (vertical_velocity + 2.0)
            tx.sendto(command_packet(sequence, time_code, main_throttle, 0.0, pitch), destination)
            sequence += 1


if __name__ == "__main__":
    main()
