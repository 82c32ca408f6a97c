import Foundation
import Testing
@testable import TouchdownTrace

@Suite("CDR codec")
struct CDRTests {
    // MARK: Round trips

    static let allPrimitivesSchema = """
        bool flag
        byte b
        char c
        int8 i8
        uint8 u8
        int16 i16
        uint16 u16
        int32 i32
        uint32 u32
        int64 i64
        uint64 u64
        float32 f32
        float64 f64
        string s
        """

    static func allPrimitivesValue(extreme: Bool) -> MessageValue {
        .fields([
            "flag": .bool(extreme),
            "b": .uint(extreme ? 255 : 0),
            "c": .uint(extreme ? 255 : 0),
            "i8": .int(extreme ? -128 : 127),
            "u8": .uint(extreme ? 255 : 0),
            "i16": .int(extreme ? -32768 : 32767),
            "u16": .uint(extreme ? 65535 : 0),
            "i32": .int(extreme ? Int64(Int32.min) : Int64(Int32.max)),
            "u32": .uint(extreme ? UInt64(UInt32.max) : 0),
            "i64": .int(extreme ? .min : .max),
            "u64": .uint(extreme ? .max : 0),
            "f32": .float(extreme ? Double(Float.greatestFiniteMagnitude) : Double(Float(0.1))),
            "f64": .float(extreme ? -.greatestFiniteMagnitude : .pi),
            "s": .string(extreme ? "Ünïcödé 🌕 \u{0}inner NUL" : ""),
        ])
    }

    @Test("Every primitive survives encode then decode", arguments: [false, true], [CDRByteOrder.littleEndian, .bigEndian])
    func primitivesRoundTrip(extreme: Bool, byteOrder: CDRByteOrder) throws {
        let schema = try CDRTestData.compile("touchdown_test/msg/AllPrimitives", Self.allPrimitivesSchema)
        let value = Self.allPrimitivesValue(extreme: extreme)
        let encoded = try schema.encode(value, byteOrder: byteOrder)
        #expect(encoded[1] == (byteOrder == .littleEndian ? 0x01 : 0x00))
        #expect(try schema.decode(encoded) == value)
    }

    @Test("Decoding then encoding the custom golden message gives the same bytes in both byte orders")
    func customRoundTripBothOrders() throws {
        let schema = try CDRTestData.compile("touchdown_test/msg/Custom", CDRGolden.customSchemaText)
        let little = try schema.encode(CDRGolden.customValue, byteOrder: .littleEndian)
        let big = try schema.encode(CDRGolden.customValue, byteOrder: .bigEndian)
        #expect(try schema.decode(little) == schema.decode(big))
        #expect(little.count == big.count)
        #expect(little != big)
    }

    @Test("NaN payloads survive a round trip bit for bit")
    func nanRoundTrip() throws {
        let schema = try CDRTestData.compile("touchdown_test/Nan", "float64 a\nfloat32 b")
        let quietNaN = Double(bitPattern: 0x7FF8_0000_0000_0001)
        let encoded = try schema.encode(.fields(["a": .float(quietNaN), "b": .float(.nan)]))
        let decoded = try schema.decode(encoded)
        guard case .float(let a)? = decoded["a"], case .float(let b)? = decoded["b"] else {
            Issue.record("expected two floats, got \(decoded)")
            return
        }
        #expect(a.bitPattern == quietNaN.bitPattern)
        #expect(b.isNaN)
        #expect(decoded.jsonText == #"{"a":"NaN","b":"NaN"}"#)
    }

    // MARK: Wire layout

    @Test("A bool between doubles is padded to the next 8-byte boundary after the header")
    func alignmentAfterBool() throws {
        let schema = try CDRTestData.compile("touchdown_test/Align", "float64 a\nbool b\nfloat64 c\nuint8 d\nuint16 e\nuint8 f\nuint32 g")
        let encoded = try schema.encode(.fields([
            "a": .float(1), "b": .bool(true), "c": .float(2), "d": .uint(3), "e": .uint(4), "f": .uint(5), "g": .uint(6),
        ]))
        #expect(CDRTestData.hexString(encoded) == "00010000" + "000000000000f03f" + "01" + "00000000000000" + "0000000000000040"
            + "03" + "00" + "0400" + "05" + "000000" + "06000000")
    }

    @Test("An empty sequence is not aligned for its elements")
    func emptySequenceHasNoElementPadding() throws {
        let schema = try CDRTestData.compile("touchdown_test/Empty", "uint8 a\nfloat64[] xs\nuint8 b")
        let encoded = try schema.encode(.fields(["a": .uint(1), "xs": .array([]), "b": .uint(2)]))
        #expect(CDRTestData.hexString(encoded) == "00010000" + "01000000" + "00000000" + "02")
        let full = try schema.encode(.fields(["a": .uint(1), "xs": .array([.float(0.5)]), "b": .uint(2)]))
        #expect(CDRTestData.hexString(full) == "00010000" + "01000000" + "01000000" + "000000000000e03f" + "02")
    }

    @Test("Bytes after the top-level message are ignored, as ROS 2 middlewares may pad to 4")
    func trailingBytesIgnored() throws {
        let schema = try CDRTestData.compile("touchdown_test/msg/Byte", "uint8 data")
        #expect(try schema.decode(CDRGolden.lonelyByteBytes + [0, 0, 0]) == CDRGolden.lonelyByteValue)
    }

    @Test("Any non-zero bool byte decodes as true, as in the reference")
    func nonZeroBoolIsTrue() throws {
        let schema = try CDRTestData.compile("touchdown_test/Flag", "bool flag")
        #expect(try schema.decode([0x00, 0x01, 0x00, 0x00, 0x02]) == .fields(["flag": .bool(true)]))
    }

    @Test("A string length of 0 decodes as the empty string, as in the reference")
    func zeroLengthString() throws {
        let schema = try CDRTestData.compile("touchdown_test/Text", "string s\nuint8 after")
        #expect(try schema.decode([0x00, 0x01, 0x00, 0x00, 0, 0, 0, 0, 9]) == .fields(["s": .string(""), "after": .uint(9)]))
    }

    @Test("A char byte of 0x80 or more decodes unsigned (ROS 2 maps char to uint8)")
    func charIsUnsigned() throws {
        let schema = try CDRTestData.compile("touchdown_test/Letter", "char c")
        #expect(try schema.decode([0x00, 0x01, 0x00, 0x00, 0xC8]) == .fields(["c": .uint(200)]))
    }

    @Test("builtin_interfaces/Time is supplied with a signed sec when the text omits it")
    func builtinTimeIsSigned() throws {
        let schema = try CDRTestData.compile("touchdown_test/Stamp", "builtin_interfaces/Time t\nbuiltin_interfaces/Duration d")
        let value = MessageValue.fields([
            "t": .fields(["sec": .int(-2), "nanosec": .uint(300_000_000)]),
            "d": .fields(["sec": .int(-1), "nanosec": .uint(0)]),
        ])
        let encoded = try schema.encode(value)
        #expect(CDRTestData.hexString(encoded) == "00010000" + "feffffff" + "00a3e111" + "ffffffff" + "00000000")
        #expect(try schema.decode(encoded) == value)
    }

    @Test("Bare Header, bare Name and pkg/msg/Name decode like the qualified spelling")
    func typeNameSpellings() throws {
        let qualified = try CDRTestData.compile("touchdown_test/msg/Custom", CDRGolden.customSchemaText)
        let respelled = CDRGolden.customSchemaText
            .replacingOccurrences(of: "std_msgs/Header header", with: "Header header")
            .replacingOccurrences(of: "touchdown_test/Waypoint[2] corners", with: "touchdown_test/msg/Waypoint[2] corners")
            .replacingOccurrences(of: "MSG: touchdown_test/Tag", with: "MSG: touchdown_test/msg/Tag")
        #expect(respelled != CDRGolden.customSchemaText)
        let other = try CDRTestData.compile("touchdown_test/Custom", respelled)
        #expect(try other.decode(CDRGolden.customBytes) == qualified.decode(CDRGolden.customBytes))
    }

    // MARK: Reader and writer primitives

    @Test("The writer's header and alignment match the reader's")
    func readerWriterAgree() throws {
        for order in [CDRByteOrder.littleEndian, .bigEndian] {
            var writer = CDRWriter(byteOrder: order)
            writer.writeUInt8(7)
            writer.writeFloat64(-2.5)
            writer.writeString("lander")
            writer.writeInt16(-3)
            writer.writeSequenceCount(2)
            writer.writeFloat32(0.25)
            writer.writeFloat32(-0.5)
            writer.writeBool(true)
            writer.writeInt64(.min)
            let written = writer.bytes
            try written.withUnsafeBytes { buffer in
                var reader = try CDRReader(buffer)
                #expect(reader.byteOrder == order)
                #expect(try reader.readUInt8() == 7)
                #expect(try reader.readFloat64() == -2.5)
                #expect(try reader.readString() == "lander")
                #expect(try reader.readInt16() == -3)
                #expect(try reader.readSequenceCount(minimumElementSize_bytes: 4) == 2)
                #expect(try reader.readFloat32() == 0.25)
                #expect(try reader.readFloat32() == -0.5)
                #expect(try reader.readBool())
                #expect(try reader.readInt64() == .min)
                #expect(reader.remainingByteCount == 0)
            }
        }
    }

    // MARK: JSON

    @Test("JSON is compact, in field order, with Python-style float32 widening")
    func jsonOfRange() {
        #expect(CDRGolden.rangeInfiniteValue.jsonText == #"{"header":{"stamp":{"sec":0,"nanosec":999999999},"frame_id":""},"radiation_type":1,"field_of_view":0.05000000074505806,"min_range":0.20000000298023224,"max_range":150.0,"range":"Infinity","variance":0.0}"#)
    }

    @Test("JSON escapes quotes, backslashes and control characters, and keeps other text as UTF-8")
    func jsonEscaping() {
        let value = MessageValue.array([.string("a\"b\\c\n\t\u{1}\u{1F}\u{7F} ü 🚀"), .string("")])
        #expect(value.jsonText == #"["a\"b\\c\u000a\u0009\u0001\u001f"# + "\u{7F} ü 🚀\",\"\"]")
    }

    @Test("JSON numbers: shortest round-trip floats, exact 64-bit integers, non-finite as strings")
    func jsonNumbers() {
        let value = MessageValue.array([
            .float(-0.0), .float(1e-05), .float(1e16), .float(123.456), .float(-.infinity), .float(.infinity),
            .int(.min), .uint(.max), .bool(false),
        ])
        #expect(value.jsonText == #"[-0.0,1e-05,1e+16,123.456,"-Infinity","Infinity",-9223372036854775808,18446744073709551615,false]"#)
    }

    /// The fields of the custom golden message that `jsonParses` reads back.
    struct CustomJSON: Decodable {
        let altitude_m: Double
        let label: String
        let thrust_n: [Double]
        let big: UInt64
        let tick: Int64
    }

    @Test("The JSON of a full message parses with Foundation and keeps its numbers exactly")
    func jsonParses() throws {
        var text = "prefix:"
        CDRGolden.customValue.appendJSON(to: &text)
        #expect(text.hasPrefix("prefix:{\"armed\":true,"))
        let json = Data(CDRGolden.customValue.jsonText.utf8)
        #expect(try JSONSerialization.jsonObject(with: json) is [String: Any])
        let decoded = try JSONDecoder().decode(CustomJSON.self, from: json)
        #expect(decoded.altitude_m == 1523.75)
        #expect(decoded.label == "Mondlandung – ü 🚀 \"q\" \\ \t\n\u{1}")
        #expect(decoded.thrust_n == [4450, Double(Float(0.1)), -Double(Float.greatestFiniteMagnitude)])
        #expect(decoded.big == .max)
        #expect(decoded.tick == -9_007_199_254_740_993)
    }

    @Test("Subscripts reach fields and elements")
    func subscripts() {
        let imu = CDRGolden.imuValue
        #expect(imu["header"]?["frame_id"] == .string("imu_link"))
        #expect(imu["linear_acceleration"]?["z"] == .float(-1.625))
        #expect(imu["orientation_covariance"]?[0] == .float(-1))
        #expect(imu["orientation_covariance"]?[9] == nil)
        #expect(imu["no_such_field"] == nil)
        #expect(MessageValue.int(1)["x"] == nil)
    }
}
