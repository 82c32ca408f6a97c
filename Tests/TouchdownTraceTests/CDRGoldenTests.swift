import Testing
@testable import TouchdownTrace

/// One message encoded and decoded by the reference (mcap-ros2-support 0.6.0).
struct CDRGoldenCase: Sendable, CustomTestStringConvertible {
    let label: String
    let schemaName: String
    let schemaText: String
    let bytes: [UInt8]
    let value: MessageValue
    let byteOrder: CDRByteOrder

    var testDescription: String { label }

    static let all: [CDRGoldenCase] = [
        CDRGoldenCase(label: "Imu", schemaName: "sensor_msgs/msg/Imu", schemaText: CDRGolden.imuSchemaText,
                      bytes: CDRGolden.imuBytes, value: CDRGolden.imuValue, byteOrder: .littleEndian),
        CDRGoldenCase(label: "Range", schemaName: "sensor_msgs/msg/Range", schemaText: CDRGolden.rangeSchemaText,
                      bytes: CDRGolden.rangeBytes, value: CDRGolden.rangeValue, byteOrder: .littleEndian),
        CDRGoldenCase(label: "Range +Inf", schemaName: "sensor_msgs/msg/Range", schemaText: CDRGolden.rangeSchemaText,
                      bytes: CDRGolden.rangeInfiniteBytes, value: CDRGolden.rangeInfiniteValue, byteOrder: .littleEndian),
        CDRGoldenCase(label: "Custom", schemaName: "touchdown_test/msg/Custom", schemaText: CDRGolden.customSchemaText,
                      bytes: CDRGolden.customBytes, value: CDRGolden.customValue, byteOrder: .littleEndian),
        CDRGoldenCase(label: "Custom, empty sequences", schemaName: "touchdown_test/msg/Custom", schemaText: CDRGolden.customSchemaText,
                      bytes: CDRGolden.customEmptySequencesBytes, value: CDRGolden.customEmptySequencesValue, byteOrder: .littleEndian),
        CDRGoldenCase(label: "Custom, big-endian", schemaName: "touchdown_test/msg/Custom", schemaText: CDRGolden.customSchemaText,
                      bytes: CDRGolden.customBigEndianBytes, value: CDRGolden.customBigEndianValue, byteOrder: .bigEndian),
        CDRGoldenCase(label: "Empty message", schemaName: "std_msgs/msg/Empty", schemaText: "",
                      bytes: CDRGolden.emptyMessageBytes, value: CDRGolden.emptyMessageValue, byteOrder: .littleEndian),
        CDRGoldenCase(label: "Lone uint8, no trailing padding", schemaName: "touchdown_test/msg/Byte", schemaText: "uint8 data",
                      bytes: CDRGolden.lonelyByteBytes, value: CDRGolden.lonelyByteValue, byteOrder: .littleEndian),
    ]
}

@Suite("CDR golden vectors from mcap-ros2-support 0.6.0")
struct CDRGoldenTests {
    @Test("Swift decodes the reference bytes to the reference values", arguments: CDRGoldenCase.all)
    func decodeMatchesReference(_ golden: CDRGoldenCase) throws {
        let schema = try CDRTestData.compile(golden.schemaName, golden.schemaText)
        let decoded = try schema.decode(golden.bytes)
        #expect(decoded == golden.value)
    }

    @Test("Swift encodes the reference values to the reference bytes", arguments: CDRGoldenCase.all)
    func encodeMatchesReference(_ golden: CDRGoldenCase) throws {
        let schema = try CDRTestData.compile(golden.schemaName, golden.schemaText)
        let encoded = try schema.encode(golden.value, byteOrder: golden.byteOrder)
        #expect(CDRTestData.hexString(encoded) == CDRTestData.hexString(golden.bytes))
    }

    @Test("Every proper prefix of a reference message fails to decode with an error", arguments: CDRGoldenCase.all)
    func everyTruncationThrows(_ golden: CDRGoldenCase) throws {
        let schema = try CDRTestData.compile(golden.schemaName, golden.schemaText)
        for length in 0..<golden.bytes.count {
            #expect(throws: CDRError.self, "prefix of \(length) bytes") {
                try schema.decode(Array(golden.bytes.prefix(length)))
            }
        }
    }

    /// The JSON written while decoding is the value tree's JSON, and
    /// validation accepts what decoding accepts, in whole and for every
    /// prefix: the three visitors of one walk agree.
    @Test("Streamed JSON and validation agree with the value tree", arguments: CDRGoldenCase.all)
    func streamedJSONAndValidationAgreeWithDecode(_ golden: CDRGoldenCase) throws {
        let schema = try CDRTestData.compile(golden.schemaName, golden.schemaText)
        for length in 0...golden.bytes.count {
            let bytes = Array(golden.bytes.prefix(length))
            let decoded = Result { try schema.decode(bytes) }
            let validated = Result { try bytes.withUnsafeBytes { try schema.validate($0) } }
            let streamed = Result { try bytes.withUnsafeBytes { b in try TextOutput.collect { try schema.writeJSON(b, to: $0) } } }
            switch decoded {
            case .success(let value):
                #expect(throws: Never.self, "prefix of \(length) bytes") { try validated.get() }
                #expect(try streamed.get() == value.jsonText, "prefix of \(length) bytes")
            case .failure(let error):
                #expect(throws: error as! CDRError, "prefix of \(length) bytes") { try validated.get() }
                #expect(throws: error as! CDRError, "prefix of \(length) bytes") { try streamed.get() }
            }
        }
    }

    @Test("The schema texts are the exact texts the reference was given")
    func schemaTextsAreExact() {
        #expect(CDRGolden.imuSchemaText.utf8.count == CDRGolden.imuSchemaTextByteCount)
        #expect(CDRGolden.rangeSchemaText.utf8.count == CDRGolden.rangeSchemaTextByteCount)
        #expect(CDRGolden.customSchemaText.utf8.count == CDRGolden.customSchemaTextByteCount)
    }

    @Test("Range constants are parsed but not on the wire")
    func rangeConstants() throws {
        let schema = try CDRTestData.compile("sensor_msgs/msg/Range", CDRGolden.rangeSchemaText)
        let range = try #require(schema.definitions.first)
        #expect(range.constants.map(\.name) == ["ULTRASOUND", "INFRARED"])
        #expect(range.constants.map(\.value) == [.uint(0), .uint(1)])
        #expect(range.fields.map(\.name) == ["header", "radiation_type", "field_of_view", "min_range", "max_range", "range", "variance"])
    }

    @Test("Imu dependencies resolve in rosbag2's order, Quaternion defaults ignored")
    func imuDefinitions() throws {
        let schema = try CDRTestData.compile("sensor_msgs/msg/Imu", CDRGolden.imuSchemaText)
        #expect(schema.definitions.map(\.typeName.description) == [
            "sensor_msgs/Imu", "std_msgs/Header", "builtin_interfaces/Time", "geometry_msgs/Quaternion", "geometry_msgs/Vector3",
        ])
        let quaternion = schema.definitions[3]
        #expect(quaternion.fields.map(\.name) == ["x", "y", "z", "w"])
        #expect(quaternion.constants.isEmpty)
        #expect(schema.definitions[0].fields[2].arity == .fixed(count: 9))
    }
}
