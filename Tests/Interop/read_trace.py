#!/usr/bin/env python3
"""Read an MCAP trace with the reference Python tools and print it as JSON.

This is how the Swift tests check that every file the project writes is read
and decoded by the reference implementation (mcap + mcap-ros2-support).

Usage:
    read_trace.py FILE [--topic T]...   one JSON object per message, in log-time
                                        order (ties in file order), on stdout
    read_trace.py FILE --summary        one JSON object from the summary section

Messages come from the reference *indexed* reader
(``make_reader(...).iter_decoded_messages(log_time_order=True)``); that reader
falls back to a linear scan itself when the file has no chunk index. Every
message is decoded with ``mcap_ros2.decoder.DecoderFactory``.

Before printing, the file is also checked in ways the indexed reader does not:
  * a linear scan with CRC validation (chunk CRCs and the DataEnd CRC, where
    they are not 0) must see exactly the same messages, in the same order, as
    the indexed read: an index that misses or misplaces a message is an error;
  * the Footer's summary CRC, where it is not 0, must match.

Output form (see render_message / json_value):
    {"topic": "/t", "log_time_ns": 123, "sequence": 4, "message": {...}}
  * message fields appear in schema order; nested messages are objects;
    builtin_interfaces/Time is {"sec": .., "nanosec": ..};
  * integers are exact JSON integers (uint64/int64 and log times exceed 2^53:
    parse them as integers, not through a Double);
  * float64 values are Python's shortest round-trip repr (e.g. 0.1, 1e-05,
    1.5e+300); float32 values are the exact double of the float32, printed the
    same way (e.g. float32 0.1 prints as 0.10000000149011612);
  * NaN, +inf, -inf are the strings "NaN", "Infinity", "-Infinity";
  * byte arrays (uint8[], byte[], fixed or not) are arrays of integers;
  * the output is ASCII: non-ASCII characters are \\u escapes.

Exit status: 0 on success, 1 on any error reading or checking the file (with
a message on stderr), 2 on bad usage.
"""

import argparse
import io
import json
import math
import struct
import sys
import zlib
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mcap.reader import NonSeekingReader, make_reader
from mcap.records import Channel, Chunk, Footer, Message, Schema
from mcap.stream_reader import StreamReader, breakup_chunk
from mcap_ros2.decoder import DecoderFactory

MAGIC_SIZE = 8
# Footer record: opcode (1) + length (8) + summary_start (8) +
# summary_offset_start (8) + summary_crc (4).
FOOTER_RECORD_SIZE = 1 + 8 + 8 + 8 + 4
FOOTER_OPCODE = 0x02


def json_value(value: Any) -> Any:
    """Convert a decoded ROS 2 value (or a plain Python one) to its JSON form.

    Decoded messages are objects whose ``__slots__`` list their fields in
    schema order; plain dicts keep their insertion order.
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return list(bytes(value))
    if isinstance(value, (list, tuple)):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    slots = getattr(type(value), "__slots__", None)
    if slots is not None:
        return {name: json_value(getattr(value, name)) for name in slots}
    raise TypeError(f"no JSON form for a value of type {type(value).__name__}: {value!r}")


def render_message(topic: str, log_time_ns: int, sequence: int, message: Any) -> str:
    """One JSONL line (without the newline) in the interop form."""
    record = {
        "topic": topic,
        "log_time_ns": log_time_ns,
        "sequence": sequence,
        "message": json_value(message),
    }
    return json.dumps(record, ensure_ascii=True, allow_nan=False, separators=(",", ":"))


class TraceCheckError(Exception):
    """The file reads, but is inconsistent with itself."""


def read_footer(stream: io.BufferedIOBase) -> Tuple[int, Footer]:
    """Return the Footer record and its offset in the file."""
    size = stream.seek(0, io.SEEK_END)
    footer_offset = size - MAGIC_SIZE - FOOTER_RECORD_SIZE
    if footer_offset < MAGIC_SIZE:
        raise TraceCheckError(f"file is {size} bytes, too short to hold magic, header and footer")
    stream.seek(footer_offset)
    raw = stream.read(FOOTER_RECORD_SIZE)
    opcode, length, summary_start, summary_offset_start, summary_crc = struct.unpack("<BQQQI", raw)
    if opcode != FOOTER_OPCODE or length != FOOTER_RECORD_SIZE - 9:
        raise TraceCheckError(
            f"expected a Footer record (opcode 0x02, length 20) at offset {footer_offset}, "
            f"found opcode 0x{opcode:02x} length {length}"
        )
    return footer_offset, Footer(
        summary_start=summary_start,
        summary_offset_start=summary_offset_start,
        summary_crc=summary_crc,
    )


def check_summary_crc(stream: io.BufferedIOBase) -> None:
    """Check the Footer's summary CRC (when it is not 0).

    The CRC covers the summary section (or nothing, when there is none) and the
    Footer up to and including summary_offset_start.
    """
    footer_offset, footer = read_footer(stream)
    if footer.summary_crc == 0:
        return
    start = footer.summary_start if footer.summary_start != 0 else footer_offset
    if not (MAGIC_SIZE <= start <= footer_offset):
        raise TraceCheckError(
            f"Footer summary_start {footer.summary_start} is outside the file "
            f"(the footer is at offset {footer_offset})"
        )
    stream.seek(start)
    covered = stream.read(footer_offset + 1 + 8 + 8 + 8 - start)
    actual = zlib.crc32(covered)
    if actual != footer.summary_crc:
        raise TraceCheckError(
            f"summary CRC mismatch: Footer says 0x{footer.summary_crc:08x}, "
            f"bytes {start}..{footer_offset + 25} give 0x{actual:08x}"
        )


MessageKey = Tuple[int, int, int, int, bytes]


def message_key(message: Message) -> MessageKey:
    return (message.channel_id, message.log_time, message.publish_time, message.sequence, message.data)


def linear_scan(stream: io.BufferedIOBase, topics: Optional[Sequence[str]]) -> List[MessageKey]:
    """Messages seen by a validating linear scan, stably sorted by log time."""
    stream.seek(0)
    reader = NonSeekingReader(stream, validate_crcs=True)
    keys = [
        message_key(message)
        for _, _, message in reader.iter_messages(topics=topics, log_time_order=False)
    ]
    keys.sort(key=lambda key: key[1])
    return keys


def print_messages(path: str, topics: Optional[Sequence[str]], out: io.TextIOBase) -> int:
    with open(path, "rb") as stream:
        check_summary_crc(stream)
        expected_keys = linear_scan(stream, topics)
        stream.seek(0)
        reader = make_reader(stream, validate_crcs=True, decoder_factories=[DecoderFactory()])
        lines: List[str] = []
        indexed_keys: List[MessageKey] = []
        for _, channel, message, decoded in reader.iter_decoded_messages(
            topics=topics, log_time_order=True
        ):
            indexed_keys.append(message_key(message))
            lines.append(render_message(channel.topic, message.log_time, message.sequence, decoded))
    if indexed_keys != expected_keys:
        raise TraceCheckError(describe_mismatch(indexed_keys, expected_keys))
    for line in lines:
        out.write(line)
        out.write("\n")
    return len(lines)


def describe_mismatch(indexed: List[MessageKey], scanned: List[MessageKey]) -> str:
    if len(indexed) != len(scanned):
        return (
            f"the indexed reader returned {len(indexed)} messages but a linear scan "
            f"of the data section finds {len(scanned)}"
        )
    for position, (a, b) in enumerate(zip(indexed, scanned)):
        if a != b:
            return (
                f"message {position} in log-time order differs between the indexed reader "
                f"(channel {a[0]}, log_time {a[1]}, sequence {a[3]}) and a linear scan "
                f"(channel {b[0]}, log_time {b[1]}, sequence {b[3]})"
            )
    return "indexed read and linear scan differ"


def summary_object(path: str) -> Dict[str, Any]:
    """The --summary object: from the summary section, or from a scan without one."""
    with open(path, "rb") as stream:
        check_summary_crc(stream)
        stream.seek(0)
        reader = make_reader(stream, validate_crcs=True)
        summary = reader.get_summary()
        if summary is not None and summary.statistics is not None:
            stats = summary.statistics
            channels = summary.channels
            schemas = summary.schemas
            counts = dict(stats.channel_message_counts)
            message_count = stats.message_count
            chunk_count = stats.chunk_count
            if summary.chunk_indexes and len(summary.chunk_indexes) != chunk_count:
                print(
                    f"read_trace: warning: {path}: Statistics says {chunk_count} chunks "
                    f"but the summary has {len(summary.chunk_indexes)} chunk indexes",
                    file=sys.stderr,
                )
            compressions = {index.compression for index in summary.chunk_indexes}
            if not summary.chunk_indexes and chunk_count != 0:
                compressions = scan_chunk_compressions(stream)
        else:
            why = "no summary section" if summary is None else "no Statistics record"
            print(f"read_trace: {path}: {why}; counting with a linear scan", file=sys.stderr)
            stream.seek(0)
            channels, schemas, counts, message_count, chunk_count, compressions = scan_counts(stream)
    channel_list = []
    for channel_id, channel in channels.items():
        schema = schemas.get(channel.schema_id)
        channel_list.append(
            {
                "topic": channel.topic,
                "schema_name": schema.name if schema is not None else "",
                "message_encoding": channel.message_encoding,
                "message_count": counts.get(channel_id, 0),
                "_id": channel_id,
            }
        )
    channel_list.sort(key=lambda item: (item["topic"], item["_id"]))
    for item in channel_list:
        del item["_id"]
    return {
        "message_count": message_count,
        "channels": channel_list,
        "chunk_count": chunk_count,
        "compression": sorted(compressions),
    }


def scan_chunk_compressions(stream: io.BufferedIOBase) -> set:
    stream.seek(0)
    return {
        record.compression
        for record in StreamReader(stream, emit_chunks=True).records
        if isinstance(record, Chunk)
    }


def scan_counts(stream: io.BufferedIOBase):
    """Channels, schemas and counts from a validating linear scan of every record."""
    channels: Dict[int, Any] = {}
    schemas: Dict[int, Any] = {}
    counts: Dict[int, int] = {}
    message_count = 0
    chunk_count = 0
    compressions = set()
    for record in StreamReader(stream, validate_crcs=True, emit_chunks=True).records:
        if isinstance(record, Chunk):
            chunk_count += 1
            compressions.add(record.compression)
            for inner in breakup_chunk(record, validate_crc=True):
                message_count += _count(inner, channels, schemas, counts)
        else:
            message_count += _count(record, channels, schemas, counts)
    return channels, schemas, counts, message_count, chunk_count, compressions


def _count(record: Any, channels: Dict[int, Any], schemas: Dict[int, Any], counts: Dict[int, int]) -> int:
    """Remember a Schema or Channel; count a Message (returns 1 for a message)."""
    if isinstance(record, Schema):
        schemas[record.id] = record
    elif isinstance(record, Channel):
        channels[record.id] = record
    elif isinstance(record, Message):
        counts[record.channel_id] = counts.get(record.channel_id, 0) + 1
        return 1
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print an MCAP trace as JSONL (or its summary as JSON) using the reference reader."
    )
    parser.add_argument("file", help="the MCAP file to read")
    parser.add_argument(
        "--topic",
        action="append",
        dest="topics",
        metavar="T",
        help="only messages on this topic (repeatable)",
    )
    parser.add_argument(
        "--summary",
        action="store_true",
        help="print one JSON object from the summary section instead of the messages",
    )
    args = parser.parse_args(argv)
    if args.summary and args.topics:
        parser.error("--summary and --topic cannot be combined")
    try:
        if args.summary:
            obj = summary_object(args.file)
            sys.stdout.write(json.dumps(obj, ensure_ascii=True, separators=(",", ":")) + "\n")
        else:
            print_messages(args.file, args.topics, sys.stdout)
        sys.stdout.flush()
    except Exception as error:  # noqa: BLE001 - every failure must end in a message and exit 1
        print(f"read_trace: {args.file}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
