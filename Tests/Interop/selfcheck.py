#!/usr/bin/env python3
"""Check the Python half of the interop tests against itself.

Usage:
    selfcheck.py [OUTDIR]     (default: a fresh temporary directory)

Runs write_reference.py into OUTDIR (twice, to check it is deterministic),
then for every file in the manifest:
  * read_trace.py FILE must print exactly NAME.expected.jsonl, so the reference
    reader decodes each message to the values the writer was given;
  * read_trace.py FILE --topic T must print exactly the expected lines of T;
  * read_trace.py FILE --summary must agree with the manifest's counts;
and read_trace.py must fail (exit 1, message on stderr) on a damaged copy:
a chunk index that points at the wrong chunk, a flipped byte inside a chunk,
a truncated file and a wrong summary CRC.

The Swift suite does not run this; it documents and guards the round trip the
Swift interop tests rely on. Prints one line per check and ends with
"N passed, N failed"; exits 1 if any check failed.
"""

import filecmp
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from typing import Callable, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
WRITE = os.path.join(HERE, "write_reference.py")
READ = os.path.join(HERE, "read_trace.py")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True
    )


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, body: Callable[[], Tuple[bool, str]]) -> None:
        try:
            ok, detail = body()
        except Exception as error:  # noqa: BLE001 - report and go on to the next check
            ok, detail = False, f"{type(error).__name__}: {error}"
        if ok:
            self.passed += 1
            print(f"PASS {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}")


def first_difference(actual: List[str], expected: List[str]) -> str:
    for index, (a, e) in enumerate(zip(actual, expected)):
        if a != e:
            return f"line {index + 1} differs:\n  got      {a}\n  expected {e}"
    return f"got {len(actual)} lines, expected {len(expected)}"


def read_lines(path: str) -> List[str]:
    with open(path, encoding="ascii") as f:
        return f.read().splitlines()


def expect_failure(path: str, what: str) -> Tuple[bool, str]:
    result = run(READ, path)
    if result.returncode != 1:
        return False, f"read_trace exited {result.returncode} on {what}; stderr: {result.stderr.strip()}"
    if not result.stderr.startswith("read_trace: "):
        return False, f"no read_trace message on stderr for {what}: {result.stderr.strip()!r}"
    return True, ""


def main(argv: List[str]) -> int:
    out_dir = argv[1] if len(argv) > 1 else tempfile.mkdtemp(prefix="touchdown-interop-")
    again_dir = tempfile.mkdtemp(prefix="touchdown-interop-again-")
    checks = Checks()

    for directory in (out_dir, again_dir):
        result = run(WRITE, directory)
        if result.returncode != 0:
            print(f"FAIL write_reference.py {directory}: exit {result.returncode}\n{result.stderr}")
            print("0 passed, 1 failed")
            return 1
    with open(os.path.join(out_dir, "manifest.json"), encoding="ascii") as f:
        manifest = json.load(f)
    print(f"reference files in {out_dir} ({manifest['library']})")

    for entry in manifest["files"]:
        name = entry["name"]
        mcap_path = os.path.join(out_dir, entry["file"])
        expected = read_lines(os.path.join(out_dir, entry["expected"]))

        def deterministic() -> Tuple[bool, str]:
            same = filecmp.cmp(mcap_path, os.path.join(again_dir, entry["file"]), shallow=False)
            return same, "two runs wrote different bytes"

        def count_matches() -> Tuple[bool, str]:
            return len(expected) == entry["message_count"], (
                f"{len(expected)} expected lines, manifest says {entry['message_count']}"
            )

        def all_messages() -> Tuple[bool, str]:
            result = run(READ, mcap_path)
            if result.returncode != 0:
                return False, f"exit {result.returncode}: {result.stderr.strip()}"
            actual = result.stdout.splitlines()
            return actual == expected, first_difference(actual, expected)

        def per_topic(topic: str) -> Callable[[], Tuple[bool, str]]:
            def body() -> Tuple[bool, str]:
                result = run(READ, mcap_path, "--topic", topic)
                if result.returncode != 0:
                    return False, f"exit {result.returncode}: {result.stderr.strip()}"
                actual = result.stdout.splitlines()
                wanted = [line for line in expected if json.loads(line)["topic"] == topic]
                if len(wanted) != entry["topic_message_counts"][topic]:
                    return False, f"{len(wanted)} expected lines on {topic}, manifest disagrees"
                return actual == wanted, first_difference(actual, wanted)
            return body

        def summary() -> Tuple[bool, str]:
            result = run(READ, mcap_path, "--summary")
            if result.returncode != 0:
                return False, f"exit {result.returncode}: {result.stderr.strip()}"
            got = json.loads(result.stdout)
            counts = {c["topic"]: c["message_count"] for c in got["channels"]}
            wanted_compression = [entry["compression"]] if entry["chunked"] else []
            problems = []
            if got["message_count"] != entry["message_count"]:
                problems.append(f"message_count {got['message_count']}")
            if counts != entry["topic_message_counts"]:
                problems.append(f"channel counts {counts}")
            if got["compression"] != wanted_compression:
                problems.append(f"compression {got['compression']}, expected {wanted_compression}")
            if (got["chunk_count"] > 0) != entry["chunked"]:
                problems.append(f"chunk_count {got['chunk_count']}")
            if any(c["message_encoding"] != "cdr" for c in got["channels"]):
                problems.append("a channel is not cdr")
            schema_names = {c["topic"]: c["schema_name"] for c in got["channels"]}
            if schema_names != manifest["schemas"]:
                problems.append(f"schema names {schema_names}")
            return not problems, "; ".join(problems)

        checks.check(f"{name}: two runs write identical bytes", deterministic)
        checks.check(f"{name}: expected.jsonl has the manifest's message count", count_matches)
        checks.check(f"{name}: read_trace output equals expected.jsonl", all_messages)
        for topic in sorted(entry["topic_message_counts"]):
            checks.check(f"{name}: read_trace --topic {topic}", per_topic(topic))
        checks.check(f"{name}: read_trace --summary agrees with the manifest", summary)

    with open(os.path.join(out_dir, "chunked-zstd.mcap"), "rb") as f:
        original = f.read()
    damaged_dir = tempfile.mkdtemp(prefix="touchdown-interop-damaged-")

    def damaged(name: str, data: bytes) -> str:
        path = os.path.join(damaged_dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def flipped_chunk_byte() -> Tuple[bool, str]:
        # The uncompressed file: the Header follows the 8-byte magic, the Chunk
        # follows the Header. The chunk's records start after its opcode and
        # length (9), three times (8), CRC (4), compression "" (4 + 0) and
        # records length (8); flip a byte well inside them.
        with open(os.path.join(out_dir, "chunked-uncompressed.mcap"), "rb") as f:
            data = bytearray(f.read())
        (header_length,) = struct.unpack_from("<Q", data, 8 + 1)
        chunk_at = 8 + 9 + header_length
        if data[chunk_at] != 0x06:
            return False, f"no Chunk record after the Header (opcode 0x{data[chunk_at]:02x})"
        data[chunk_at + 9 + 24 + 4 + 4 + 8 + 2000] ^= 0xFF
        return expect_failure(damaged("flipped.mcap", bytes(data)), "a flipped byte in a chunk")

    def truncated() -> Tuple[bool, str]:
        return expect_failure(damaged("truncated.mcap", original[: len(original) // 2]), "a truncated file")

    def wrong_summary_crc() -> Tuple[bool, str]:
        data = bytearray(original)
        crc_at = len(data) - 8 - 4
        (crc,) = struct.unpack_from("<I", data, crc_at)
        struct.pack_into("<I", data, crc_at, crc ^ 1)
        return expect_failure(damaged("summary-crc.mcap", bytes(data)), "a wrong summary CRC")

    def chunk_index_points_elsewhere() -> Tuple[bool, str]:
        # The first Chunk Index points at the second chunk: CRCs still hold (the
        # summary CRC is set to 0, "not available"), but the indexed read now
        # disagrees with a linear scan.
        data = bytearray(original)
        footer_at = len(data) - 8 - 29
        (summary_start,) = struct.unpack_from("<Q", data, footer_at + 9)
        offsets = []
        at = summary_start
        while at < footer_at:
            opcode, length = struct.unpack_from("<BQ", data, at)
            if opcode == 0x08:  # Chunk Index: start time, end time, chunk_start_offset
                offsets.append(at + 9 + 16)
            at += 9 + length
        if len(offsets) < 2:
            return False, f"expected several Chunk Index records, found {len(offsets)}"
        data[offsets[0]:offsets[0] + 8] = data[offsets[1]:offsets[1] + 8]
        struct.pack_into("<I", data, footer_at + 25, 0)
        ok, detail = expect_failure(damaged("misindexed.mcap", bytes(data)), "a misleading chunk index")
        return ok, detail

    checks.check("read_trace fails when the chunk index disagrees with the data", chunk_index_points_elsewhere)
    checks.check("read_trace fails on a flipped byte inside a chunk", flipped_chunk_byte)
    checks.check("read_trace fails on a truncated file", truncated)
    checks.check("read_trace fails on a wrong summary CRC", wrong_summary_crc)

    for directory in (again_dir, damaged_dir) + (() if len(argv) > 1 else (out_dir,)):
        shutil.rmtree(directory, ignore_errors=True)
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
