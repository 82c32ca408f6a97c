import Testing
@testable import TouchdownTrace

/// One field line and the type it must parse to, in package `pkg`.
struct FieldLineCase: Sendable, CustomTestStringConvertible {
    let line: String
    let elementType: FieldElementType
    let arity: FieldArity
    var testDescription: String { line }

    static func named(_ package: String, _ name: String) -> FieldElementType {
        .message(MessageTypeName(packageName: package, messageName: name))
    }

    static let all: [FieldLineCase] = [
        FieldLineCase(line: "bool x", elementType: .primitive(.bool), arity: .single),
        FieldLineCase(line: "byte x", elementType: .primitive(.byte), arity: .single),
        FieldLineCase(line: "char x", elementType: .primitive(.char), arity: .single),
        FieldLineCase(line: "int8 x", elementType: .primitive(.int8), arity: .single),
        FieldLineCase(line: "uint64 x", elementType: .primitive(.uint64), arity: .single),
        FieldLineCase(line: "float32 x", elementType: .primitive(.float32), arity: .single),
        FieldLineCase(line: "float64 x", elementType: .primitive(.float64), arity: .single),
        FieldLineCase(line: "string x", elementType: .string(maxLength_bytes: nil), arity: .single),
        FieldLineCase(line: "string<=12 x", elementType: .string(maxLength_bytes: 12), arity: .single),
        FieldLineCase(line: "string<=12[<=3] x", elementType: .string(maxLength_bytes: 12), arity: .sequence(maxCount: 3)),
        FieldLineCase(line: "int32[4] x", elementType: .primitive(.int32), arity: .fixed(count: 4)),
        FieldLineCase(line: "int32[] x", elementType: .primitive(.int32), arity: .sequence(maxCount: nil)),
        FieldLineCase(line: "int32[<=5] x", elementType: .primitive(.int32), arity: .sequence(maxCount: 5)),
        FieldLineCase(line: "int32 x 5", elementType: .primitive(.int32), arity: .single),
        FieldLineCase(line: "string x \"a # b = c\"  # the default is ignored", elementType: .string(maxLength_bytes: nil), arity: .single),
        FieldLineCase(line: "int32[] x [1, 2, 3]", elementType: .primitive(.int32), arity: .sequence(maxCount: nil)),
        FieldLineCase(line: "\tfloat64\tx\t# tabs", elementType: .primitive(.float64), arity: .single),
        FieldLineCase(line: "Header x", elementType: named("std_msgs", "Header"), arity: .single),
        FieldLineCase(line: "Point x", elementType: named("pkg", "Point"), arity: .single),
        FieldLineCase(line: "Point[] x", elementType: named("pkg", "Point"), arity: .sequence(maxCount: nil)),
        FieldLineCase(line: "geometry_msgs/Point x", elementType: named("geometry_msgs", "Point"), arity: .single),
        FieldLineCase(line: "geometry_msgs/msg/Point[2] x", elementType: named("geometry_msgs", "Point"), arity: .fixed(count: 2)),
    ]
}

/// Schema text that must fail to parse or compile, and the error it must give.
struct DefinitionFailureCase: Sendable, CustomTestStringConvertible {
    let label: String
    let text: String
    let expected: MessageDefinitionError
    var testDescription: String { label }

    static let all: [DefinitionFailureCase] = [
        DefinitionFailureCase(label: "type without name", text: "uint8 a\nfloat64", expected:
            .malformedLine(lineNumber: 2, line: "float64", problem: "\"float64\" has no name after it")),
        DefinitionFailureCase(label: "unknown lower-case type", text: "float128 x", expected:
            .unsupportedType(lineNumber: 1, line: "float128 x", typeText: "float128", reason: "is not a known type")),
        DefinitionFailureCase(label: "wstring", text: "# c\nwstring w", expected:
            .unsupportedType(lineNumber: 2, line: "wstring w", typeText: "wstring", reason: "(UTF-16 wide string) is not supported by this codec, nor by mcap-ros2-support")),
        DefinitionFailureCase(label: "bounded wstring", text: "wstring<=3 w", expected:
            .unsupportedType(lineNumber: 1, line: "wstring<=3 w", typeText: "wstring<=3", reason: "(UTF-16 wide string) is not supported by this codec, nor by mcap-ros2-support")),
        DefinitionFailureCase(label: "ROS 1 time", text: "time stamp", expected:
            .unsupportedType(lineNumber: 1, line: "time stamp", typeText: "time", reason: "is a ROS 1 type; ROS 2 uses builtin_interfaces/Time and builtin_interfaces/Duration")),
        DefinitionFailureCase(label: "bad string bound", text: "string<=0 s", expected:
            .unsupportedType(lineNumber: 1, line: "string<=0 s", typeText: "string<=0", reason: "has an invalid bound (expected a positive integer N in string<=N)")),
        DefinitionFailureCase(label: "zero array size", text: "int32[0] x", expected:
            .invalidArrayBound(lineNumber: 1, line: "int32[0] x", boundText: "0")),
        DefinitionFailureCase(label: "non-numeric array bound", text: "int32[<=n] x", expected:
            .invalidArrayBound(lineNumber: 1, line: "int32[<=n] x", boundText: "<=n")),
        DefinitionFailureCase(label: "array without opening bracket", text: "int32] x", expected:
            .invalidArrayBound(lineNumber: 1, line: "int32] x", boundText: "int32]")),
        DefinitionFailureCase(label: "too many slashes", text: "a/b/c/D x", expected:
            .invalidTypeName(lineNumber: 1, line: "a/b/c/D x", typeText: "a/b/c/D")),
        DefinitionFailureCase(label: "upper-case package", text: "Geometry/Point x", expected:
            .invalidTypeName(lineNumber: 1, line: "Geometry/Point x", typeText: "Geometry/Point")),
        DefinitionFailureCase(label: "bad field name", text: "int32 2x", expected:
            .invalidName(lineNumber: 1, line: "int32 2x", name: "2x")),
        DefinitionFailureCase(label: "duplicate field", text: "int32 x\nint64 y\nfloat32 x", expected:
            .duplicateName(lineNumber: 3, line: "float32 x", name: "x", firstLineNumber: 1)),
        DefinitionFailureCase(label: "duplicate constant", text: "int32 A=1\nint32 A=2", expected:
            .duplicateName(lineNumber: 2, line: "int32 A=2", name: "A", firstLineNumber: 1)),
        DefinitionFailureCase(label: "constant out of range", text: "uint8 A=256", expected:
            .invalidConstant(lineNumber: 1, line: "uint8 A=256", reason: "constant value \"256\" is not an integer in 0...255")),
        DefinitionFailureCase(label: "negative unsigned constant", text: "uint32 A=-1", expected:
            .invalidConstant(lineNumber: 1, line: "uint32 A=-1", reason: "constant value \"-1\" is not an integer in 0...4294967295")),
        DefinitionFailureCase(label: "int8 constant below range", text: "int8 A=-129", expected:
            .invalidConstant(lineNumber: 1, line: "int8 A=-129", reason: "constant value \"-129\" is not an integer in -128...127")),
        DefinitionFailureCase(label: "bad bool constant", text: "bool A=yes", expected:
            .invalidConstant(lineNumber: 1, line: "bool A=yes", reason: "constant value \"yes\" is not a bool (true, false, 1 or 0)")),
        DefinitionFailureCase(label: "bad float constant", text: "float64 A=1.2.3", expected:
            .invalidConstant(lineNumber: 1, line: "float64 A=1.2.3", reason: "constant value \"1.2.3\" is not a floating-point number")),
        DefinitionFailureCase(label: "array constant", text: "int32[2] A=[1,2]", expected:
            .invalidConstant(lineNumber: 1, line: "int32[2] A=[1,2]", reason: "constant A is an array; constants must be a single primitive or string")),
        DefinitionFailureCase(label: "message constant", text: "pkg/Other A=1", expected:
            .invalidConstant(lineNumber: 1, line: "pkg/Other A=1", reason: "a constant cannot have message type pkg/Other; expected a primitive or string type")),
        DefinitionFailureCase(label: "string constant over its bound", text: "string<=2 A=\"abc\"", expected:
            .invalidConstant(lineNumber: 1, line: "string<=2 A=\"abc\"", reason: "constant value \"\"abc\"\" is not at most 2 bytes long")),
        DefinitionFailureCase(label: "dependency without MSG line", text: "Inner i\n===\n\nuint8 x", expected:
            .missingDependencyHeader(lineNumber: 4, line: "uint8 x")),
        DefinitionFailureCase(label: "MSG line with a bad name", text: "Inner i\n===\nMSG: Inner", expected:
            .invalidTypeName(lineNumber: 3, line: "MSG: Inner", typeText: "Inner")),
        DefinitionFailureCase(label: "undefined type", text: "uint8 a\nInner i\n===\nMSG: pkg/Other\nuint8 y", expected:
            .undefinedType(lineNumber: 2, line: "Inner i", typeName: MessageTypeName(packageName: "pkg", messageName: "Inner"),
                           definedTypes: ["pkg/Root", "pkg/Other", "builtin_interfaces/Time", "builtin_interfaces/Duration"])),
        DefinitionFailureCase(label: "type containing itself", text: "uint8 a\nRoot child", expected:
            .recursiveType(lineNumber: 2, line: "Root child", cycle: ["pkg/Root", "pkg/Root"])),
        DefinitionFailureCase(label: "cycle through a sequence", text: "A a\n===\nMSG: pkg/A\nB[] bs\n===\nMSG: pkg/B\nA[<=2] as_", expected:
            .recursiveType(lineNumber: 7, line: "A[<=2] as_", cycle: ["pkg/A", "pkg/B", "pkg/A"])),
    ]
}

@Suite("ros2msg schema parsing")
struct CDRMessageDefinitionTests {
    @Test("Field lines parse to their types", arguments: FieldLineCase.all)
    func fieldLine(_ testCase: FieldLineCase) throws {
        let definitions = try MessageDefinition.parseSchema(name: "pkg/msg/Root", text: testCase.line)
        let field = try #require(definitions.first?.fields.first)
        #expect(field.name == "x")
        #expect(field.elementType == testCase.elementType)
        #expect(field.arity == testCase.arity)
        #expect(field.lineNumber == 1)
        #expect(field.line == testCase.line)
    }

    @Test("Malformed schemas give an error naming the line", arguments: DefinitionFailureCase.all)
    func failure(_ testCase: DefinitionFailureCase) {
        #expect(throws: testCase.expected) {
            _ = try CompiledMessageSchema(schemaName: "pkg/msg/Root", schemaText: testCase.text)
        }
    }

    /// Issue 13, item 12: a schema 50,000 types deep overflowed the stack.
    @Test("Nesting past the limit is an error naming the line, at the limit it compiles")
    func nestingDepth() throws {
        func chain(_ depth: Int) -> String {
            var text = "pkg/T1 child\n"
            for i in 1..<depth {
                text += "================================================================================\nMSG: pkg/T\(i)\npkg/T\(i + 1) child\n"
            }
            return text + "================================================================================\nMSG: pkg/T\(depth)\nuint8 leaf\n"
        }
        _ = try CompiledMessageSchema(schemaName: "pkg/Root", schemaText: chain(255))
        #expect {
            _ = try CompiledMessageSchema(schemaName: "pkg/Root", schemaText: chain(50_000))
        } throws: { "\($0)".contains("nest more than 256 deep") }
    }

    @Test("Schema names other than pkg/Name or pkg/msg/Name are rejected", arguments: ["Imu", "sensor_msgs/", "/Imu", "a/b/c/D", "Sensor/Imu", ""])
    func badSchemaName(_ name: String) {
        #expect(throws: MessageDefinitionError.invalidSchemaName(name)) {
            _ = try MessageDefinition.parseSchema(name: name, text: "uint8 a")
        }
    }

    @Test("Constants are parsed with their types and kept out of the fields")
    func constants() throws {
        let text = """
            int32 FOO=3
            int64 NEG = -9223372036854775808
            uint16 HEX=0x1F
            uint64 MAX=18446744073709551615
            bool YES=True
            bool NO=0
            float32 TENTH=0.1
            float64 G=1.62 # lunar gravity
            string S="x # y"
            string T='it''s'
            string U=bare words
            string V=
            char C=65
            uint8 value
            """
        let definition = try #require(try MessageDefinition.parseSchema(name: "pkg/Root", text: text).first)
        #expect(definition.fields.map(\.name) == ["value"])
        #expect(definition.fields[0].lineNumber == 14)
        #expect(definition.constants.map(\.name) == ["FOO", "NEG", "HEX", "MAX", "YES", "NO", "TENTH", "G", "S", "T", "U", "V", "C"])
        #expect(definition.constants.map(\.value) == [
            .int(3), .int(.min), .uint(31), .uint(.max), .bool(true), .bool(false), .float(Double(Float(0.1))), .float(1.62),
            .string("x # y"), .string("it''s"), .string("bare words"), .string(""), .uint(65),
        ])
        #expect(definition.constants[1].elementType == .primitive(.int64))
        #expect(definition.constants[1].lineNumber == 2)
    }

    @Test("Separators of three or more '=' and CRLF line endings are accepted")
    func separatorsAndLineEndings() throws {
        let text = "# top\r\npkg/Inner inner\r\n===   \r\n\r\n# leading comment\r\nMSG: pkg/msg/Inner\r\nfloat64 v\r\n" + String(repeating: "=", count: 80) + "\r\n"
        let definitions = try MessageDefinition.parseSchema(name: "pkg/msg/Root", text: text)
        #expect(definitions.map(\.typeName.description) == ["pkg/Root", "pkg/Inner"])
        #expect(definitions[1].fields == [FieldDefinition(name: "v", elementType: .primitive(.float64), lineNumber: 7, line: "float64 v")])
    }

    @Test("A MSG: line before the first field names the top-level definition")
    func leadingMessageLine() throws {
        let definitions = try MessageDefinition.parseSchema(name: "pkg/Root", text: "# note\nMSG: other_pkg/msg/Named\nuint8 a\n===\nMSG: other_pkg/Inner\nuint8 b")
        #expect(definitions.map(\.typeName.description) == ["other_pkg/Named", "other_pkg/Inner"])
    }

    @Test("A type defined twice uses its last definition")
    func lastDefinitionWins() throws {
        let text = "pkg/Inner inner\n===\nMSG: pkg/Inner\nuint8 a\n===\nMSG: pkg/Inner\nuint16 b"
        let schema = try CompiledMessageSchema(schemaName: "pkg/Root", schemaText: text)
        #expect(schema.definitions.count == 3)
        let value = try schema.decode([0x00, 0x01, 0x00, 0x00, 0x34, 0x12])
        #expect(value == .fields(["inner": .fields(["b": .uint(0x1234)])]))
    }

    @Test("A definition in the text replaces the built-in Time")
    func textTimeReplacesBuiltin() throws {
        let text = "builtin_interfaces/Time t\n===\nMSG: builtin_interfaces/Time\nuint32 sec\nuint32 nanosec"
        let schema = try CompiledMessageSchema(schemaName: "pkg/Root", schemaText: text)
        let value = try schema.decode([0x00, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])
        #expect(value == .fields(["t": .fields(["sec": .uint(0xFFFF_FFFF), "nanosec": .uint(0)])]))
    }

    @Test("Compiling gives one plan per reachable type, root first, with minimum sizes")
    func plans() throws {
        let schema = try CompiledMessageSchema(schemaName: "touchdown_test/msg/Custom", schemaText: CDRGolden.customSchemaText)
        #expect(schema.rootTypeName == MessageTypeName(packageName: "touchdown_test", messageName: "Custom"))
        #expect(schema.plans.map(\.typeName.description) == [
            "touchdown_test/Custom", "touchdown_test/Waypoint", "touchdown_test/Tag", "std_msgs/Header",
            "builtin_interfaces/Time", "builtin_interfaces/Duration", "touchdown_test/Empty",
        ])
        // Waypoint: string 4 + sequence 4 + int8 1 + float32 4 + sequence 4.
        #expect(schema.plans[1].minimumSize_bytes == 17)
        #expect(schema.plans[6].minimumSize_bytes == 1)
        #expect(schema.definitions[0].constants.first { $0.name == "GREETING" }?.value == .string("hello # not a comment"))
    }

    @Test("Error descriptions name the line, the text and what is accepted")
    func descriptions() {
        let error = MessageDefinitionError.invalidArrayBound(lineNumber: 7, line: "int32[x] y", boundText: "x")
        #expect(error.description == "line 7 \"int32[x] y\": array bound \"[x]\" is invalid; expected [N], [] or [<=N] with N a positive integer")
        let undefined = MessageDefinitionError.undefinedType(lineNumber: 2, line: "Foo f", typeName: MessageTypeName(packageName: "p", messageName: "Foo"), definedTypes: ["p/Root"])
        #expect(undefined.description.hasPrefix("line 2 \"Foo f\": type p/Foo is not defined in the schema; defined types: p/Root"))
        let unsupported = MessageDefinitionError.unsupportedType(lineNumber: 1, line: "wstring w", typeText: "wstring", reason: "is bad")
        #expect(unsupported.description.contains("expected one of bool, byte, char, int8"))
    }
}
