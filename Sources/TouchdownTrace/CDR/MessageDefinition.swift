/// The name of a ROS 2 message type, `package/Name`.
///
/// Schema text spells it `pkg/Name` or `pkg/msg/Name`; both parse to the same value,
/// which always prints as `pkg/Name`.
public struct MessageTypeName: Sendable, Hashable, CustomStringConvertible {
    /// The ROS package, e.g. `sensor_msgs`.
    public var packageName: String
    /// The message name inside the package, e.g. `Imu`.
    public var messageName: String

    /// Creates a type name from its two parts, without validating them.
    public init(packageName: String, messageName: String) {
        self.packageName = packageName
        self.messageName = messageName
    }

    /// Parses `pkg/Name` or `pkg/<interface kind>/Name` (e.g. `sensor_msgs/msg/Imu`).
    ///
    /// Returns `nil` unless the package is `[a-z][a-z0-9_]*` and the message name
    /// is `[A-Za-z][A-Za-z0-9_]*`.
    public init?<Text: StringProtocol>(parsing text: Text) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3,
              let package = parts.first, let name = parts.last,
              MessageDefinitionSyntax.isPackageName(package),
              MessageDefinitionSyntax.isIdentifier(name)
        else { return nil }
        if parts.count == 3 {
            guard MessageDefinitionSyntax.isPackageName(parts[1]) else { return nil }
        }
        self.init(packageName: String(package), messageName: String(name))
    }

    /// `pkg/Name`.
    public var description: String { "\(packageName)/\(messageName)" }

    /// `builtin_interfaces/Time`, which the codec supplies when a schema omits it.
    public static let builtinTime = MessageTypeName(packageName: "builtin_interfaces", messageName: "Time")
    /// `builtin_interfaces/Duration`, which the codec supplies when a schema omits it.
    public static let builtinDuration = MessageTypeName(packageName: "builtin_interfaces", messageName: "Duration")
    /// `std_msgs/Header`, which a bare `Header` in a schema means.
    public static let standardHeader = MessageTypeName(packageName: "std_msgs", messageName: "Header")
}

/// A fixed-size ROS 2 primitive type.
public enum PrimitiveType: String, Sendable, CaseIterable {
    /// The ROS 2 primitive types, each named and spelled as in `.msg` files
    /// (`byte` and `char` are both one unsigned byte).
    case bool, byte, char, int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64

    /// Bytes on the wire, which is also the CDR alignment.
    public var size_bytes: Int {
        switch self {
        case .bool, .byte, .char, .int8, .uint8: 1
        case .int16, .uint16: 2
        case .int32, .uint32, .float32: 4
        case .int64, .uint64, .float64: 8
        }
    }
}

/// The type of one element of a field: a primitive, a string, or a nested message.
public enum FieldElementType: Sendable, Equatable {
    /// A fixed-size primitive.
    case primitive(PrimitiveType)
    /// A UTF-8 string, optionally bounded (`string<=N`, N in bytes excluding the NUL).
    case string(maxLength_bytes: Int?)
    /// A nested message, already resolved to its full `pkg/Name`.
    case message(MessageTypeName)
}

/// Whether a field holds one element, a fixed array or a sequence.
public enum FieldArity: Sendable, Equatable {
    /// `T name`: one element.
    case single
    /// `T[N] name`: exactly N elements, no count on the wire.
    case fixed(count: Int)
    /// `T[] name` (`maxCount == nil`) or `T[<=N] name`: a uint32 count, then the elements.
    case sequence(maxCount: Int?)
}

/// One field of a ``MessageDefinition``, with where it was written.
public struct FieldDefinition: Sendable, Equatable {
    /// The field name.
    public var name: String
    /// The type of each element.
    public var elementType: FieldElementType
    /// Single element, fixed array or sequence.
    public var arity: FieldArity
    /// 1-based line number in the whole schema text.
    public var lineNumber: Int
    /// The line as written, for error messages.
    public var line: String

    /// Creates a field definition.
    public init(name: String, elementType: FieldElementType, arity: FieldArity = .single, lineNumber: Int = 0, line: String = "") {
        self.name = name
        self.elementType = elementType
        self.arity = arity
        self.lineNumber = lineNumber
        self.line = line
    }
}

/// A constant such as `uint8 INFRARED=1`: parsed and kept, but not part of the wire format.
public struct ConstantDefinition: Sendable, Equatable {
    /// The constant name.
    public var name: String
    /// A primitive or string type.
    public var elementType: FieldElementType
    /// The parsed value, typed like a decoded field of the same type.
    public var value: MessageValue
    /// 1-based line number in the whole schema text.
    public var lineNumber: Int
}

/// One message type parsed from `ros2msg` schema text.
///
/// MCAP stores a channel's schema (`schema.encoding == "ros2msg"`) as the main
/// definition followed by each dependency, every dependency introduced by a line of
/// `=` characters (80 by convention; any line of three or more is accepted) and a
/// `MSG: pkg/Name` (or `pkg/msg/Name`) line.
///
/// Parsing rules, and how they relate to the reference parser (`rosidl_adapter`
/// as vendored by mcap-ros2-support):
/// - `#` starts a comment, except inside a quoted value (`string S="a#b"`).
/// - `T name` is a field; anything after the name is a default value and is ignored.
/// - `T NAME=value` is a constant: parsed and kept in ``constants``, never encoded.
/// - `T[N]`, `T[]`, `T[<=N]` and `string<=N` as in ROS 2; `wstring` and the ROS 1
///   `time`/`duration` types are rejected with an error.
/// - A nested type is `pkg/Name`, `pkg/msg/Name`, or a bare `Name` in the enclosing
///   message's package; a bare `Header` means `std_msgs/Header` (the ROS 1 rule that
///   foxglove's parsers also follow).
/// - Field and constant names are `[A-Za-z][A-Za-z0-9_]*`, looser than ROS 2's
///   lower-case rule so that converted ROS 1 schemas load.
public struct MessageDefinition: Sendable, Equatable {
    /// The type this definition describes.
    public var typeName: MessageTypeName
    /// Fields in schema order; this order is the wire order.
    public var fields: [FieldDefinition]
    /// Constants in schema order.
    public var constants: [ConstantDefinition]

    /// Creates a definition from parts.
    public init(typeName: MessageTypeName, fields: [FieldDefinition], constants: [ConstantDefinition] = []) {
        self.typeName = typeName
        self.fields = fields
        self.constants = constants
    }

    /// `builtin_interfaces/Time` as ROS 2 defines it: `int32 sec`, `uint32 nanosec`.
    ///
    /// mcap-ros2-support 0.6.0 substitutes `uint32 sec` instead when a schema omits
    /// the type; the bytes are the same and only a negative `sec` decodes differently.
    public static let builtinTime = MessageDefinition(
        typeName: .builtinTime,
        fields: [
            FieldDefinition(name: "sec", elementType: .primitive(.int32)),
            FieldDefinition(name: "nanosec", elementType: .primitive(.uint32)),
        ]
    )

    /// `builtin_interfaces/Duration` as ROS 2 defines it: `int32 sec`, `uint32 nanosec`.
    public static let builtinDuration = MessageDefinition(
        typeName: .builtinDuration,
        fields: [
            FieldDefinition(name: "sec", elementType: .primitive(.int32)),
            FieldDefinition(name: "nanosec", elementType: .primitive(.uint32)),
        ]
    )

    /// Parses a complete `ros2msg` schema: the main definition, then its dependencies.
    ///
    /// - Parameters:
    ///   - schemaName: The MCAP schema name, `pkg/Name` or `pkg/msg/Name`; it names
    ///     the main definition and gives bare type names their package.
    ///   - schemaText: The schema data as UTF-8 text.
    /// - Returns: The main definition first, then each dependency in text order.
    ///   A type defined twice appears twice; ``CompiledMessageSchema`` uses the last.
    ///   A trailing separator with no `MSG:` section after it is ignored. A `MSG:`
    ///   line before the first field names the top-level definition instead.
    /// - Throws: ``MessageDefinitionError`` naming the line and what is accepted there.
    public static func parseSchema(name schemaName: String, text schemaText: String) throws(MessageDefinitionError) -> [MessageDefinition] {
        guard let rootName = MessageTypeName(parsing: schemaName) else {
            throw .invalidSchemaName(schemaName)
        }
        let lines = schemaText.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        var definitions: [MessageDefinition] = []
        var current: MessageDefinitionBuilder? = MessageDefinitionBuilder(typeName: rootName)
        for (index, rawLine) in lines.enumerated() {
            let lineNumber = index + 1
            let trimmed = MessageDefinitionSyntax.trimmed(rawLine)
            if trimmed.count >= 3, trimmed.allSatisfy({ $0 == "=" }) {
                if let finished = current { definitions.append(finished.definition) }
                current = nil
                continue
            }
            guard var builder = current else {
                // After a separator: blank and comment lines, then `MSG: pkg/Name`.
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                guard trimmed.hasPrefix("MSG:") else {
                    throw .missingDependencyHeader(lineNumber: lineNumber, line: String(rawLine))
                }
                current = MessageDefinitionBuilder(typeName: try Self.typeName(inMessageLine: rawLine, lineNumber: lineNumber))
                continue
            }
            if definitions.isEmpty, builder.definition.fields.isEmpty, builder.definition.constants.isEmpty, trimmed.hasPrefix("MSG:") {
                // Like the reference, a `MSG:` line before any field renames the top-level definition.
                current = MessageDefinitionBuilder(typeName: try Self.typeName(inMessageLine: rawLine, lineNumber: lineNumber))
                continue
            }
            current = nil  // leaves `builder` the only owner, so appending does not copy
            try builder.parseLine(rawLine, lineNumber: lineNumber)
            current = builder
        }
        if let finished = current { definitions.append(finished.definition) }
        return definitions
    }

    /// The type named by a `MSG: pkg/Name` line.
    private static func typeName(inMessageLine rawLine: Substring, lineNumber: Int) throws(MessageDefinitionError) -> MessageTypeName {
        let nameText = MessageDefinitionSyntax.trimmed(MessageDefinitionSyntax.trimmed(rawLine).dropFirst("MSG:".count))
        guard let typeName = MessageTypeName(parsing: nameText) else {
            throw .invalidTypeName(lineNumber: lineNumber, line: String(rawLine), typeText: String(nameText))
        }
        return typeName
    }
}

/// Why `ros2msg` schema text could not be parsed or compiled.
///
/// Every case that comes from the text carries the 1-based line number in the whole
/// schema and the line as written.
public enum MessageDefinitionError: Error, CustomStringConvertible, Equatable {
    /// The MCAP schema name is not `pkg/Name` or `pkg/msg/Name`.
    case invalidSchemaName(String)
    /// A line is not a field, a constant, a comment or a separator.
    case malformedLine(lineNumber: Int, line: String, problem: String)
    /// A type is not a ROS 2 primitive, string or message type, or is one this codec rejects.
    case unsupportedType(lineNumber: Int, line: String, typeText: String, reason: String)
    /// A message type name (in a field or a `MSG:` line) is not `pkg/Name`, `pkg/msg/Name` or `Name`.
    case invalidTypeName(lineNumber: Int, line: String, typeText: String)
    /// An array bound is not a positive integer.
    case invalidArrayBound(lineNumber: Int, line: String, boundText: String)
    /// A field or constant name is not `[A-Za-z][A-Za-z0-9_]*`.
    case invalidName(lineNumber: Int, line: String, name: String)
    /// Two fields, or two constants, of one message share a name.
    case duplicateName(lineNumber: Int, line: String, name: String, firstLineNumber: Int)
    /// A constant's value does not parse as its type, or its type cannot be a constant.
    case invalidConstant(lineNumber: Int, line: String, reason: String)
    /// A dependency section does not start with `MSG: pkg/Name`.
    case missingDependencyHeader(lineNumber: Int, line: String)
    /// A field refers to a message type that the schema does not define.
    case undefinedType(lineNumber: Int, line: String, typeName: MessageTypeName, definedTypes: [String])
    /// A message type contains itself, which CDR cannot encode.
    case recursiveType(lineNumber: Int, line: String, cycle: [String])
    /// Types nested deeper than the decoder goes (each level is a call).
    case nestedTooDeep(lineNumber: Int, line: String, limit: Int)

    /// One sentence: where, what was wrong, what is accepted.
    public var description: String {
        switch self {
        case .invalidSchemaName(let name):
            return "schema name \"\(name)\" is not a ROS 2 message type; expected pkg/Name or pkg/msg/Name"
        case .malformedLine(let lineNumber, let line, let problem):
            return "line \(lineNumber) \"\(line)\": \(problem); expected `<type> <name>`, `<type> <name> <default>`, `<type> <NAME>=<value>`, a `#` comment, or a separator line of `=`"
        case .unsupportedType(let lineNumber, let line, let typeText, let reason):
            return "line \(lineNumber) \"\(line)\": type \"\(typeText)\" \(reason); expected one of \(PrimitiveType.allCases.map(\.rawValue).joined(separator: ", ")), string, string<=N, or a message type pkg/Name"
        case .invalidTypeName(let lineNumber, let line, let typeText):
            return "line \(lineNumber) \"\(line)\": \"\(typeText)\" is not a message type name; expected pkg/Name, pkg/msg/Name or Name, with pkg in [a-z][a-z0-9_]* and Name in [A-Za-z][A-Za-z0-9_]*"
        case .invalidArrayBound(let lineNumber, let line, let boundText):
            return "line \(lineNumber) \"\(line)\": array bound \"[\(boundText)]\" is invalid; expected [N], [] or [<=N] with N a positive integer"
        case .invalidName(let lineNumber, let line, let name):
            return "line \(lineNumber) \"\(line)\": \"\(name)\" is not a valid field or constant name; expected [A-Za-z][A-Za-z0-9_]*"
        case .duplicateName(let lineNumber, let line, let name, let firstLineNumber):
            return "line \(lineNumber) \"\(line)\": \"\(name)\" is already defined on line \(firstLineNumber); names must be unique within a message"
        case .invalidConstant(let lineNumber, let line, let reason):
            return "line \(lineNumber) \"\(line)\": \(reason)"
        case .missingDependencyHeader(let lineNumber, let line):
            return "line \(lineNumber) \"\(line)\": a definition after a separator line must start with `MSG: pkg/Name`"
        case .undefinedType(let lineNumber, let line, let typeName, let definedTypes):
            let defined = definedTypes.isEmpty ? "none" : definedTypes.joined(separator: ", ")
            return "line \(lineNumber) \"\(line)\": type \(typeName) is not defined in the schema; defined types: \(defined) (builtin_interfaces/Time and Duration are implied)"
        case .recursiveType(let lineNumber, let line, let cycle):
            return "line \(lineNumber) \"\(line)\": type cycle \(cycle.joined(separator: " -> ")); a message cannot contain itself"
        case .nestedTooDeep(let lineNumber, let line, let limit):
            return "line \(lineNumber) \"\(line)\": message types nest more than \(limit) deep; accepted: at most \(limit) levels"
        }
    }
}

// MARK: - Line parsing

/// Accumulates the fields and constants of one definition section.
struct MessageDefinitionBuilder {
    var definition: MessageDefinition
    private var fieldLineByName: [String: Int] = [:]
    private var constantLineByName: [String: Int] = [:]

    init(typeName: MessageTypeName) {
        definition = MessageDefinition(typeName: typeName, fields: [], constants: [])
    }

    mutating func parseLine(_ rawLine: Substring, lineNumber: Int) throws(MessageDefinitionError) {
        let line = String(rawLine)
        let content = MessageDefinitionSyntax.trimmed(MessageDefinitionSyntax.strippingComment(rawLine))
        if content.isEmpty { return }

        let typeEnd = content.firstIndex(where: MessageDefinitionSyntax.isSpace) ?? content.endIndex
        let typeText = content[..<typeEnd]
        let rest = MessageDefinitionSyntax.trimmed(content[typeEnd...])
        if rest.isEmpty {
            throw .malformedLine(lineNumber: lineNumber, line: line, problem: "\"\(typeText)\" has no name after it")
        }
        let nameEnd = rest.firstIndex { MessageDefinitionSyntax.isSpace($0) || $0 == "=" } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        let afterName = MessageDefinitionSyntax.trimmed(rest[nameEnd...])
        guard MessageDefinitionSyntax.isIdentifier(name) else {
            throw .invalidName(lineNumber: lineNumber, line: line, name: name)
        }
        let (elementType, arity) = try MessageDefinitionSyntax.parseType(
            typeText, enclosingPackage: definition.typeName.packageName, lineNumber: lineNumber, line: line
        )

        if afterName.hasPrefix("=") {
            if let first = constantLineByName[name] {
                throw .duplicateName(lineNumber: lineNumber, line: line, name: name, firstLineNumber: first)
            }
            guard arity == .single else {
                throw .invalidConstant(lineNumber: lineNumber, line: line, reason: "constant \(name) is an array; constants must be a single primitive or string")
            }
            let valueText = MessageDefinitionSyntax.trimmed(afterName.dropFirst())
            let value = try MessageDefinitionSyntax.parseConstantValue(valueText, elementType: elementType, lineNumber: lineNumber, line: line)
            constantLineByName[name] = lineNumber
            definition.constants.append(ConstantDefinition(name: name, elementType: elementType, value: value, lineNumber: lineNumber))
        } else {
            // Anything after the name is a default value; it does not affect the wire format.
            if let first = fieldLineByName[name] {
                throw .duplicateName(lineNumber: lineNumber, line: line, name: name, firstLineNumber: first)
            }
            fieldLineByName[name] = lineNumber
            definition.fields.append(FieldDefinition(name: name, elementType: elementType, arity: arity, lineNumber: lineNumber, line: line))
        }
    }
}

/// Lexical helpers for `ros2msg` text.
enum MessageDefinitionSyntax {
    static func isSpace(_ character: Character) -> Bool {
        character == " " || character == "\t"
    }

    static func trimmed<Text: StringProtocol>(_ text: Text) -> Substring {
        let sub = Substring(text)
        guard let first = sub.firstIndex(where: { !isSpace($0) }) else { return sub[sub.endIndex...] }
        let last = sub.lastIndex(where: { !isSpace($0) })!
        return sub[first...last]
    }

    static func isASCIILetter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        return (ascii >= 0x41 && ascii <= 0x5A) || (ascii >= 0x61 && ascii <= 0x7A)
    }

    static func isASCIIDigit(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        return ascii >= 0x30 && ascii <= 0x39
    }

    /// `[A-Za-z][A-Za-z0-9_]*`.
    static func isIdentifier<Text: StringProtocol>(_ text: Text) -> Bool {
        guard let first = text.first, isASCIILetter(first) else { return false }
        return text.allSatisfy { isASCIILetter($0) || isASCIIDigit($0) || $0 == "_" }
    }

    /// `[a-z][a-z0-9_]*`.
    static func isPackageName<Text: StringProtocol>(_ text: Text) -> Bool {
        guard let first = text.first, let ascii = first.asciiValue, ascii >= 0x61, ascii <= 0x7A else { return false }
        return text.allSatisfy { ($0.asciiValue.map { $0 >= 0x61 && $0 <= 0x7A } ?? false) || isASCIIDigit($0) || $0 == "_" }
    }

    /// The line up to its first `#` that is not inside a quoted value.
    ///
    /// A quote opens only at the start of a token (after a space, `=`, `[` or `,`),
    /// so an apostrophe inside a word does not hide a following comment.
    static func strippingComment(_ line: Substring) -> Substring {
        var quote: Character?
        var escaped = false
        var previous: Character = " "
        for index in line.indices {
            let character = line[index]
            defer { previous = character }
            if let open = quote {
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == open {
                    quote = nil
                }
            } else if character == "#" {
                return line[..<index]
            } else if (character == "\"" || character == "'") && (isSpace(previous) || "=[,".contains(previous)) {
                quote = character
            }
        }
        return line
    }

    static func parseType(
        _ typeText: Substring, enclosingPackage: String, lineNumber: Int, line: String
    ) throws(MessageDefinitionError) -> (FieldElementType, FieldArity) {
        var baseText = typeText
        var arity = FieldArity.single
        if typeText.hasSuffix("]") {
            guard let open = typeText.lastIndex(of: "[") else {
                throw .invalidArrayBound(lineNumber: lineNumber, line: line, boundText: String(typeText))
            }
            let boundText = typeText[typeText.index(after: open)..<typeText.index(before: typeText.endIndex)]
            baseText = typeText[..<open]
            if boundText.isEmpty {
                arity = .sequence(maxCount: nil)
            } else if boundText.hasPrefix("<=") {
                guard let bound = positiveInteger(boundText.dropFirst(2)) else {
                    throw .invalidArrayBound(lineNumber: lineNumber, line: line, boundText: String(boundText))
                }
                arity = .sequence(maxCount: bound)
            } else {
                guard let count = positiveInteger(boundText) else {
                    throw .invalidArrayBound(lineNumber: lineNumber, line: line, boundText: String(boundText))
                }
                arity = .fixed(count: count)
            }
        }
        return (try parseElementType(baseText, enclosingPackage: enclosingPackage, lineNumber: lineNumber, line: line), arity)
    }

    static func parseElementType(
        _ text: Substring, enclosingPackage: String, lineNumber: Int, line: String
    ) throws(MessageDefinitionError) -> FieldElementType {
        if let primitive = PrimitiveType(rawValue: String(text)) {
            return .primitive(primitive)
        }
        if text == "string" {
            return .string(maxLength_bytes: nil)
        }
        if text.hasPrefix("string<=") {
            guard let bound = positiveInteger(text.dropFirst("string<=".count)) else {
                throw .unsupportedType(lineNumber: lineNumber, line: line, typeText: String(text), reason: "has an invalid bound (expected a positive integer N in string<=N)")
            }
            return .string(maxLength_bytes: bound)
        }
        if text == "wstring" || text.hasPrefix("wstring<=") {
            throw .unsupportedType(lineNumber: lineNumber, line: line, typeText: String(text), reason: "(UTF-16 wide string) is not supported by this codec, nor by mcap-ros2-support")
        }
        if text == "time" || text == "duration" {
            throw .unsupportedType(lineNumber: lineNumber, line: line, typeText: String(text), reason: "is a ROS 1 type; ROS 2 uses builtin_interfaces/Time and builtin_interfaces/Duration")
        }
        if text == "Header" {
            return .message(.standardHeader)
        }
        if text.contains("/") {
            guard let name = MessageTypeName(parsing: text) else {
                throw .invalidTypeName(lineNumber: lineNumber, line: line, typeText: String(text))
            }
            return .message(name)
        }
        guard isIdentifier(text), let first = text.first, first.isUppercase else {
            throw .unsupportedType(lineNumber: lineNumber, line: line, typeText: String(text), reason: "is not a known type")
        }
        return .message(MessageTypeName(packageName: enclosingPackage, messageName: String(text)))
    }

    static func positiveInteger(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.allSatisfy(isASCIIDigit), let value = Int(text), value > 0 else { return nil }
        return value
    }

    /// Parses a constant's value text as ROS 2 does: decimal or `0x`/`0o`/`0b`
    /// integers, `true`/`false`/`1`/`0` booleans, and strings with optional quotes.
    static func parseConstantValue(
        _ text: Substring, elementType: FieldElementType, lineNumber: Int, line: String
    ) throws(MessageDefinitionError) -> MessageValue {
        func invalid(_ expected: String) -> MessageDefinitionError {
            .invalidConstant(lineNumber: lineNumber, line: line, reason: "constant value \"\(text)\" is not \(expected)")
        }
        switch elementType {
        case .message(let name):
            throw .invalidConstant(lineNumber: lineNumber, line: line, reason: "a constant cannot have message type \(name); expected a primitive or string type")
        case .string(let maxLength):
            var value = text
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = value.dropFirst().dropLast()
                let unescaped = value.replacingOccurrences(of: "\\\(first)", with: String(first))
                if let maxLength, unescaped.utf8.count > maxLength { throw invalid("at most \(maxLength) bytes long") }
                return .string(unescaped)
            }
            if let maxLength, value.utf8.count > maxLength { throw invalid("at most \(maxLength) bytes long") }
            return .string(String(value))
        case .primitive(let primitive):
            switch primitive {
            case .bool:
                switch text.lowercased() {
                case "true", "1": return .bool(true)
                case "false", "0": return .bool(false)
                default: throw invalid("a bool (true, false, 1 or 0)")
                }
            case .float32, .float64:
                guard let value = Double(String(text)) else { throw invalid("a floating-point number") }
                return .float(primitive == .float32 ? Double(Float(value)) : value)
            case .byte, .char, .uint8, .uint16, .uint32, .uint64:
                let bits = primitive == .byte || primitive == .char ? 8 : primitive.size_bytes * 8
                let maximum: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
                guard let (negative, magnitude) = integerLiteral(text), !negative || magnitude == 0, magnitude <= maximum else {
                    throw invalid("an integer in 0...\(maximum)")
                }
                return .uint(magnitude)
            case .int8, .int16, .int32, .int64:
                let bits = UInt64(primitive.size_bytes * 8)
                let maximum = (UInt64(1) << (bits - 1)) - 1
                guard let (negative, magnitude) = integerLiteral(text), magnitude <= maximum + (negative ? 1 : 0) else {
                    throw invalid("an integer in -\(maximum + 1)...\(maximum)")
                }
                return .int(negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude))
            }
        }
    }

    /// Sign and magnitude of a decimal, `0x`, `0o` or `0b` integer literal.
    static func integerLiteral(_ text: Substring) -> (negative: Bool, magnitude: UInt64)? {
        var body = text
        var negative = false
        if body.hasPrefix("-") {
            negative = true
            body = body.dropFirst()
        } else if body.hasPrefix("+") {
            body = body.dropFirst()
        }
        var radix = 10
        let lower = body.lowercased()
        if lower.hasPrefix("0x") { radix = 16 } else if lower.hasPrefix("0o") { radix = 8 } else if lower.hasPrefix("0b") { radix = 2 }
        if radix != 10 { body = body.dropFirst(2) }
        guard !body.isEmpty, body.allSatisfy({ $0.isHexDigit }), let magnitude = UInt64(body, radix: radix) else { return nil }
        return (negative, magnitude)
    }
}

extension Substring {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
