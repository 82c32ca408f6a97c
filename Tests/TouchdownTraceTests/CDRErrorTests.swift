import Testing
@testable import TouchdownTrace

/// Bytes that must fail to decode, and the error they must give.
struct CDRDecodeFailure: Sendable, CustomTestStringConvertible {
    let label: String
    let schemaName: String
    let schemaText: String
    let bytes: [UInt8]
    let expected: CDRError
    var testDescription: String { label }

    static let le: [UInt8] = [0x00, 0x01, 0x00, 0x00]

    static let all: [CDRDecodeFailure] = [
        CDRDecodeFailure(label: "no bytes", schemaName: "t/M", schemaText: "uint8 a", bytes: [],
                         expected: .headerTooShort(byteCount: 0)),
        CDRDecodeFailure(label: "3-byte header", schemaName: "t/M", schemaText: "uint8 a", bytes: [0, 1, 0],
                         expected: .headerTooShort(byteCount: 3)),
        CDRDecodeFailure(label: "PL_CDR_LE", schemaName: "t/M", schemaText: "uint8 a", bytes: [0, 3, 0, 0, 1],
                         expected: .unsupportedEncapsulation(found: 0x0003)),
        CDRDecodeFailure(label: "PL_CDR_BE", schemaName: "t/M", schemaText: "uint8 a", bytes: [0, 2, 0, 0, 1],
                         expected: .unsupportedEncapsulation(found: 0x0002)),
        CDRDecodeFailure(label: "XCDR2 little-endian", schemaName: "t/M", schemaText: "uint8 a", bytes: [0, 7, 0, 0, 1],
                         expected: .unsupportedEncapsulation(found: 0x0007)),
        CDRDecodeFailure(label: "non-zero first header byte", schemaName: "t/M", schemaText: "uint8 a", bytes: [1, 1, 0, 0, 1],
                         expected: .unsupportedEncapsulation(found: 0x0101)),
        CDRDecodeFailure(label: "sequence count 0xFFFFFFFF of float64", schemaName: "t/M", schemaText: "uint8 a\nfloat64[] xs",
                         bytes: le + [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3],
                         expected: .countExceedsData(offset: 8, fieldPath: "xs", count: 0xFFFF_FFFF, minimumElementSize_bytes: 8, remaining_bytes: 3)),
        CDRDecodeFailure(label: "sequence count 0xFFFFFFFF of messages", schemaName: "t/M", schemaText: "Inner[] items\n===\nMSG: t/Inner\nstring name\nuint8 kind",
                         bytes: le + [0xFF, 0xFF, 0xFF, 0xFF],
                         expected: .countExceedsData(offset: 4, fieldPath: "items", count: 0xFFFF_FFFF, minimumElementSize_bytes: 5, remaining_bytes: 0)),
        CDRDecodeFailure(label: "sequence count 0xFFFFFFFF of bytes", schemaName: "t/M", schemaText: "uint8[] data",
                         bytes: le + [0xFF, 0xFF, 0xFF, 0xFF, 0],
                         expected: .countExceedsData(offset: 4, fieldPath: "data", count: 0xFFFF_FFFF, minimumElementSize_bytes: 1, remaining_bytes: 1)),
        CDRDecodeFailure(label: "string length 0xFFFFFFFF", schemaName: "t/M", schemaText: "string s",
                         bytes: le + [0xFF, 0xFF, 0xFF, 0xFF, 0x41, 0],
                         expected: .truncated(offset: 8, fieldPath: "s", expected: "a string of 4294967295 bytes including its NUL", needed_bytes: 4_294_967_295, remaining_bytes: 2)),
        CDRDecodeFailure(label: "fixed array larger than the data", schemaName: "t/M", schemaText: "float64[100000000] big",
                         bytes: le + [0, 0, 0, 0, 0, 0, 0, 0],
                         expected: .countExceedsData(offset: 4, fieldPath: "big", count: 100_000_000, minimumElementSize_bytes: 8, remaining_bytes: 8)),
        CDRDecodeFailure(label: "bounded sequence over its bound", schemaName: "t/M", schemaText: "int32[<=2] xs",
                         bytes: le + [3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0],
                         expected: .boundExceeded(offset: 4, fieldPath: "xs", count: 3, bound: 2)),
        CDRDecodeFailure(label: "bounded string over its bound", schemaName: "t/M", schemaText: "string<=2 s",
                         bytes: le + [4, 0, 0, 0, 0x61, 0x62, 0x63, 0],
                         expected: .boundExceeded(offset: 4, fieldPath: "s", count: 3, bound: 2)),
        CDRDecodeFailure(label: "string without NUL", schemaName: "t/M", schemaText: "uint8 a\nstring s",
                         bytes: le + [9, 0, 0, 0, 3, 0, 0, 0, 0x61, 0x62, 0x63],
                         expected: .missingStringTerminator(offset: 14, fieldPath: "s", found: 0x63)),
        CDRDecodeFailure(label: "string that is not UTF-8", schemaName: "t/M", schemaText: "string s",
                         bytes: le + [3, 0, 0, 0, 0xC3, 0x28, 0],
                         expected: .invalidUTF8(offset: 8, fieldPath: "s", length_bytes: 2)),
        CDRDecodeFailure(label: "empty message without its placeholder byte", schemaName: "std_msgs/Empty", schemaText: "",
                         bytes: le,
                         expected: .truncated(offset: 4, fieldPath: "", expected: "the placeholder byte of an empty message", needed_bytes: 1, remaining_bytes: 0)),
        CDRDecodeFailure(label: "Imu cut inside orientation.y", schemaName: "sensor_msgs/msg/Imu", schemaText: CDRGolden.imuSchemaText,
                         // orientation.x is at bytes 28..<36 (after the 9-byte frame_id and 3 padding), y at 36..<44.
                         bytes: Array(CDRGolden.imuBytes.prefix(40)),
                         expected: .truncated(offset: 36, fieldPath: "orientation.y", expected: "float64", needed_bytes: 8, remaining_bytes: 4)),
        CDRDecodeFailure(label: "float64 cut inside its alignment padding", schemaName: "t/M", schemaText: "uint8 a\nfloat64 b",
                         bytes: le + [1, 0, 0],
                         expected: .truncated(offset: 5, fieldPath: "b", expected: "float64", needed_bytes: 15, remaining_bytes: 2)),
        CDRDecodeFailure(label: "nested array element path", schemaName: "touchdown_test/msg/Custom", schemaText: CDRGolden.customSchemaText,
                         // waypoints[0].tags[0].key "k" ends at byte 270; its uint32 value follows
                         // 2 bytes of padding at 272..<276. Cut at 274.
                         bytes: Array(CDRGolden.customBytes.prefix(274)),
                         expected: .truncated(offset: 270, fieldPath: "waypoints[0].tags[0].value", expected: "uint32", needed_bytes: 6, remaining_bytes: 4)),
    ]
}

/// Values that must fail to encode, and the error they must give.
struct CDREncodeFailure: Sendable, CustomTestStringConvertible {
    let label: String
    let schemaText: String
    let value: MessageValue
    let expected: CDRError
    var testDescription: String { label }

    static let all: [CDREncodeFailure] = [
        CDREncodeFailure(label: "not a message", schemaText: "uint8 a", value: .uint(1),
                         expected: .valueTypeMismatch(fieldPath: "", expected: "a message t/M", found: "uint 1")),
        CDREncodeFailure(label: "missing field", schemaText: "uint8 a\nuint8 b", value: .fields(["a": .uint(1)]),
                         expected: .fieldsMismatch(fieldPath: "", expected: ["a", "b"], found: ["a"])),
        CDREncodeFailure(label: "fields out of order", schemaText: "uint8 a\nuint8 b", value: .fields(["b": .uint(1), "a": .uint(1)]),
                         expected: .fieldsMismatch(fieldPath: "", expected: ["a", "b"], found: ["b", "a"])),
        CDREncodeFailure(label: "string for a float64", schemaText: "float64 x", value: .fields(["x": .string("1.0")]),
                         expected: .valueTypeMismatch(fieldPath: "x", expected: "a float", found: #"string "1.0""#)),
        CDREncodeFailure(label: "int for a float64", schemaText: "float64 x", value: .fields(["x": .int(1)]),
                         expected: .valueTypeMismatch(fieldPath: "x", expected: "a float", found: "int 1")),
        CDREncodeFailure(label: "uint8 out of range", schemaText: "uint8 x", value: .fields(["x": .uint(256)]),
                         expected: .valueOutOfRange(fieldPath: "x", type: "uint8", value: "256")),
        CDREncodeFailure(label: "negative for a uint32", schemaText: "uint32 x", value: .fields(["x": .int(-1)]),
                         expected: .valueOutOfRange(fieldPath: "x", type: "uint32", value: "-1")),
        CDREncodeFailure(label: "uint64 max for an int64", schemaText: "int64 x", value: .fields(["x": .uint(.max)]),
                         expected: .valueOutOfRange(fieldPath: "x", type: "int64", value: "18446744073709551615")),
        CDREncodeFailure(label: "finite float too large for float32", schemaText: "float32 x", value: .fields(["x": .float(1e39)]),
                         expected: .valueOutOfRange(fieldPath: "x", type: "float32", value: "1e+39")),
        CDREncodeFailure(label: "fixed array too short", schemaText: "float64[3] v", value: .fields(["v": .array([.float(1)])]),
                         expected: .arrayCountMismatch(fieldPath: "v", expected: 3, found: 1)),
        CDREncodeFailure(label: "scalar for an array", schemaText: "float64[] v", value: .fields(["v": .float(1)]),
                         expected: .valueTypeMismatch(fieldPath: "v", expected: "an array", found: "float 1.0")),
        CDREncodeFailure(label: "bounded sequence too long", schemaText: "uint8[<=1] v", value: .fields(["v": .array([.uint(1), .uint(2)])]),
                         expected: .boundExceeded(offset: 4, fieldPath: "v", count: 2, bound: 1)),
        CDREncodeFailure(label: "bounded string too long", schemaText: "string<=3 s", value: .fields(["s": .string("ü12")]),
                         expected: .boundExceeded(offset: 4, fieldPath: "s", count: 4, bound: 3)),
        CDREncodeFailure(label: "bool for an int", schemaText: "int32 x", value: .fields(["x": .bool(true)]),
                         expected: .valueTypeMismatch(fieldPath: "x", expected: "an integer for int32", found: "bool true")),
        CDREncodeFailure(label: "nested element path", schemaText: "Inner[] items\n===\nMSG: t/Inner\nbool ok",
                         value: .fields(["items": .array([.fields(["ok": .bool(true)]), .fields(["ok": .uint(1)])])]),
                         expected: .valueTypeMismatch(fieldPath: "items[1].ok", expected: "a bool", found: "uint 1")),
    ]
}

@Suite("CDR errors")
struct CDRErrorTests {
    @Test("Malformed bytes throw the expected error", arguments: CDRDecodeFailure.all)
    func decodeFailure(_ failure: CDRDecodeFailure) throws {
        let schema = try CDRTestData.compile(failure.schemaName, failure.schemaText)
        #expect(throws: failure.expected) {
            try schema.decode(failure.bytes)
        }
    }

    @Test("Values that do not fit the schema throw the expected error", arguments: CDREncodeFailure.all)
    func encodeFailure(_ failure: CDREncodeFailure) throws {
        let schema = try CDRTestData.compile("t/M", failure.schemaText)
        #expect(throws: failure.expected) {
            try schema.encode(failure.value)
        }
    }

    @Test("Every single-byte corruption of the custom message decodes or throws, never crashes")
    func corruptedBytesNeverCrash() throws {
        let schema = try CDRTestData.compile("touchdown_test/msg/Custom", CDRGolden.customSchemaText)
        var thrown = 0
        for index in 4..<CDRGolden.customBytes.count {
            for replacement: UInt8 in [0x00, 0x7F, 0x80, 0xFF] {
                var corrupted = CDRGolden.customBytes
                corrupted[index] = replacement
                do {
                    _ = try schema.decode(corrupted)
                } catch {
                    thrown += 1
                }
            }
        }
        #expect(thrown > 0)
    }

    @Test("Error descriptions name the offset, the field path and what was needed")
    func descriptions() {
        let truncated = CDRError.truncated(offset: 40, fieldPath: "orientation.y", expected: "float64", needed_bytes: 8, remaining_bytes: 4)
        #expect(truncated.description == "CDR data ends at byte offset 40 in field `orientation.y`: needed 8 bytes for float64, 4 remain")
        let count = CDRError.countExceedsData(offset: 4, fieldPath: "items", count: 4_294_967_295, minimumElementSize_bytes: 5, remaining_bytes: 0)
        #expect(count.description == "CDR count 4294967295 at byte offset 4 in field `items` needs at least 4294967295 × 5 bytes, but only 0 remain")
        #expect(CDRError.unsupportedEncapsulation(found: 3).description
            == "CDR encapsulation at byte offset 0 is 0x0003 (PL_CDR_LE); expected 0x0000 (CDR_BE) or 0x0001 (CDR_LE)")
        #expect(CDRError.headerTooShort(byteCount: 2).description.contains("needed at least the 4-byte encapsulation header"))
        #expect(CDRError.truncated(offset: 4, fieldPath: "", expected: "uint8", needed_bytes: 1, remaining_bytes: 0).description.contains("the top-level message"))
        #expect(CDRError.fieldsMismatch(fieldPath: "pose", expected: ["x", "y"], found: ["y"]).description
            == "cannot encode field `pose`: expected fields [x, y] in that order, found [y]")
    }

    @Test("Path components join fields with dots and indices with brackets")
    func pathJoining() {
        let base = CDRError.truncated(offset: 9, fieldPath: "", expected: "uint32", needed_bytes: 4, remaining_bytes: 0)
        let path = base.prependingPathComponent("value").prependingPathComponent("[2]").prependingPathComponent("tags")
            .prependingPathComponent("[0]").prependingPathComponent("waypoints")
        #expect(path.fieldPath == "waypoints[0].tags[2].value")
        #expect(CDRError.headerTooShort(byteCount: 1).prependingPathComponent("x").fieldPath == nil)
    }
}
