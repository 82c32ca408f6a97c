/// A `ros2msg` schema compiled once into a plan that decodes and encodes CDR messages.
///
/// Compiling resolves every type name, checks that no type contains itself, and
/// computes each type's minimum wire size. Decoding then walks integer-indexed plans:
/// no name lookups, and field names are shared strings taken from the plan.
///
/// Decoding follows mcap-ros2-support 0.6.0 (the reference) with these stricter
/// checks, each reported as a ``CDRError``: bounded sequences and strings must stay
/// within their bounds, strings must end in a NUL and be valid UTF-8, and every count
/// is checked against the remaining bytes before anything is allocated. A message
/// type with no fields occupies one byte (ROS 2's `structure_needs_at_least_one_member`),
/// as in the reference. Bytes after the top-level message are ignored, because ROS 2
/// middlewares may pad a payload to a multiple of 4.
///
/// Decoded `char` fields are unsigned (`uint`), as ROS 2 maps `char` to `uint8`;
/// the reference reads them as `int8`, which differs only for bytes ≥ 0x80.
public struct CompiledMessageSchema: Sendable {
    /// The MCAP schema name this was compiled from, e.g. `sensor_msgs/msg/Imu`.
    public let schemaName: String
    /// The top-level type.
    public let rootTypeName: MessageTypeName
    /// The parsed definitions, top-level first, as given (built-ins not included).
    public let definitions: [MessageDefinition]
    /// One plan per type reachable from the root; the root is plan 0.
    let plans: [MessagePlan]

    /// Parses and compiles `ros2msg` schema text.
    ///
    /// - Parameters:
    ///   - schemaName: The MCAP schema name, `pkg/Name` or `pkg/msg/Name`.
    ///   - schemaText: The MCAP schema data as text.
    /// - Throws: ``MessageDefinitionError`` for text that does not parse, an
    ///   undefined type, or a type that contains itself.
    public init(schemaName: String, schemaText: String) throws(MessageDefinitionError) {
        let definitions = try MessageDefinition.parseSchema(name: schemaName, text: schemaText)
        try self.init(schemaName: schemaName, definitions: definitions)
    }

    /// Compiles definitions that were parsed or built in code; the first is the top level.
    ///
    /// When a type is defined more than once the last definition wins, as in the
    /// reference. `builtin_interfaces/Time` and `Duration` are supplied when missing.
    ///
    /// - Precondition: `definitions` is not empty.
    public init(schemaName: String, definitions: [MessageDefinition]) throws(MessageDefinitionError) {
        precondition(!definitions.isEmpty, "a schema needs at least its top-level definition")
        self.schemaName = schemaName
        self.rootTypeName = definitions[0].typeName
        self.definitions = definitions
        var compiler = MessagePlanCompiler(definitions: definitions)
        _ = try compiler.compile(definitions[0].typeName, referencedBy: nil)
        self.plans = compiler.plans
    }

    /// Decodes one CDR message (encapsulation header included) into a value
    /// tree, which costs some tens of bytes per element: for a large message,
    /// ``validate(_:)`` and ``writeJSON(_:to:)`` hold nothing per element.
    ///
    /// - Throws: ``CDRError`` with the byte offset and field path of the first problem.
    public func decode(_ bytes: UnsafeRawBufferPointer) throws(CDRError) -> MessageValue {
        var builder = MessageValueBuilder()
        try walk(bytes, &builder)
        return builder.result
    }

    /// Decodes one CDR message held in an array.
    public func decode(_ bytes: [UInt8]) throws(CDRError) -> MessageValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(CDRError) -> MessageValue in try decode(buffer) }
        }
        return try result.get()
    }

    /// Checks that one CDR message decodes, as ``decode(_:)`` would, without
    /// building anything: memory does not grow with the message.
    ///
    /// - Throws: the ``CDRError`` that ``decode(_:)`` would throw.
    public func validate(_ bytes: UnsafeRawBufferPointer) throws(CDRError) {
        var validator = CDRValidator()
        try walk(bytes, &validator)
    }

    /// Writes one CDR message as the JSON of ``MessageValue/jsonText``, a
    /// piece at a time as it decodes: memory does not grow with the message.
    /// On an error, what was written before it stays written; call
    /// ``validate(_:)`` first to write nothing then.
    ///
    /// - Throws: the ``CDRError`` that ``decode(_:)`` would throw.
    public func writeJSON(_ bytes: UnsafeRawBufferPointer, to output: TextOutput) throws(CDRError) {
        var writer = CDRJSONWriter(output: output)
        try walk(bytes, &writer)
    }

    // MARK: Walking

    /// Reads one message (encapsulation header included) and reports each
    /// value to `visitor` in wire order. Every count is checked against the
    /// bytes left before the visitor hears of it.
    func walk<V: CDRVisitor>(_ bytes: UnsafeRawBufferPointer, _ visitor: inout V) throws(CDRError) {
        var reader = try CDRReader(bytes)
        try walkMessage(planIndex: 0, from: &reader, &visitor)
    }

    private func walkMessage<V: CDRVisitor>(planIndex: Int, from reader: inout CDRReader, _ visitor: inout V) throws(CDRError) {
        let plan = plans[planIndex]
        visitor.beginMessage(fieldCount: plan.fields.count)
        if plan.fields.isEmpty {
            _ = try reader.readInteger(UInt8.self, expected: "the placeholder byte of an empty message")
            visitor.endMessage()
            return
        }
        for field in plan.fields {
            visitor.beginField(field.name)
            do {
                try walkField(field, from: &reader, &visitor)
            } catch {
                throw error.prependingPathComponent(field.name)
            }
        }
        visitor.endMessage()
    }

    private func walkField<V: CDRVisitor>(_ field: FieldPlan, from reader: inout CDRReader, _ visitor: inout V) throws(CDRError) {
        let count: Int
        switch field.arity {
        case .single:
            try walkElement(field.element, from: &reader, &visitor)
            return
        case .fixed(let n):
            try reader.checkCount(n, minimumElementSize_bytes: field.minimumElementSize_bytes, countOffset: reader.offset)
            count = n
        case .sequence(let maxCount):
            count = try reader.readSequenceCount(minimumElementSize_bytes: field.minimumElementSize_bytes, maxCount: maxCount)
        }
        visitor.beginArray(count: count)
        try walkElements(field.element, count: count, from: &reader, &visitor)
        visitor.endArray()
    }

    private func walkElement<V: CDRVisitor>(_ element: ElementPlan, from reader: inout CDRReader, _ visitor: inout V) throws(CDRError) {
        switch element {
        case .primitive(let type):
            visitor.scalar(try Self.readPrimitive(type, from: &reader))
        case .string(let maxLength):
            visitor.scalar(.string(try reader.readString(maxLength_bytes: maxLength)))
        case .message(let planIndex):
            try walkMessage(planIndex: planIndex, from: &reader, &visitor)
        }
    }

    /// Walks `count` elements; the caller has checked `count` against the remaining bytes.
    private func walkElements<V: CDRVisitor>(_ element: ElementPlan, count: Int, from reader: inout CDRReader, _ visitor: inout V) throws(CDRError) {
        if case .primitive(let type) = element {
            try Self.readPrimitiveArray(type, count: count, from: &reader, &visitor)
            return
        }
        for index in 0..<count {
            do {
                try walkElement(element, from: &reader, &visitor)
            } catch {
                throw error.prependingPathComponent("[\(index)]")
            }
        }
    }

    private static func readPrimitive(_ type: PrimitiveType, from reader: inout CDRReader) throws(CDRError) -> MessageValue {
        switch type {
        case .bool: .bool(try reader.readBool())
        case .byte: .uint(UInt64(try reader.readInteger(UInt8.self, expected: "byte")))
        case .char: .uint(UInt64(try reader.readInteger(UInt8.self, expected: "char")))
        case .uint8: .uint(UInt64(try reader.readUInt8()))
        case .int8: .int(Int64(try reader.readInt8()))
        case .uint16: .uint(UInt64(try reader.readUInt16()))
        case .int16: .int(Int64(try reader.readInt16()))
        case .uint32: .uint(UInt64(try reader.readUInt32()))
        case .int32: .int(Int64(try reader.readInt32()))
        case .uint64: .uint(try reader.readUInt64())
        case .int64: .int(try reader.readInt64())
        case .float32: .float(Double(try reader.readFloat32()))
        case .float64: .float(try reader.readFloat64())
        }
    }

    /// Reads `count` contiguous primitives with one bounds check: once the first is
    /// aligned, every following one is too, so the wire layout equals element-by-element reads.
    /// A visitor that does not want the elements has them skipped.
    private static func readPrimitiveArray<V: CDRVisitor>(_ type: PrimitiveType, count: Int, from reader: inout CDRReader, _ visitor: inout V) throws(CDRError) {
        guard count > 0 else { return }
        let size = type.size_bytes
        try reader.checkCount(count, minimumElementSize_bytes: size, countOffset: reader.offset)
        try reader.prepareToRead(count * size, alignment: size, expected: "\(count) × \(type.rawValue)")
        guard V.wantsElements else {
            reader.skipUnchecked(count * size)
            return
        }
        switch type {
        case .bool:
            for _ in 0..<count { visitor.scalar(.bool(reader.readIntegerUnchecked(UInt8.self) != 0)) }
        case .byte, .char, .uint8:
            for _ in 0..<count { visitor.scalar(.uint(UInt64(reader.readIntegerUnchecked(UInt8.self)))) }
        case .int8:
            for _ in 0..<count { visitor.scalar(.int(Int64(reader.readIntegerUnchecked(Int8.self)))) }
        case .uint16:
            for _ in 0..<count { visitor.scalar(.uint(UInt64(reader.readIntegerUnchecked(UInt16.self)))) }
        case .int16:
            for _ in 0..<count { visitor.scalar(.int(Int64(reader.readIntegerUnchecked(Int16.self)))) }
        case .uint32:
            for _ in 0..<count { visitor.scalar(.uint(UInt64(reader.readIntegerUnchecked(UInt32.self)))) }
        case .int32:
            for _ in 0..<count { visitor.scalar(.int(Int64(reader.readIntegerUnchecked(Int32.self)))) }
        case .uint64:
            for _ in 0..<count { visitor.scalar(.uint(reader.readIntegerUnchecked(UInt64.self))) }
        case .int64:
            for _ in 0..<count { visitor.scalar(.int(reader.readIntegerUnchecked(Int64.self))) }
        case .float32:
            for _ in 0..<count { visitor.scalar(.float(Double(Float(bitPattern: reader.readIntegerUnchecked(UInt32.self))))) }
        case .float64:
            for _ in 0..<count { visitor.scalar(.float(Double(bitPattern: reader.readIntegerUnchecked(UInt64.self)))) }
        }
    }
}

// MARK: - Plan

/// How to decode one message type: its fields in wire order.
struct MessagePlan: Sendable {
    let typeName: MessageTypeName
    let fields: [FieldPlan]
    /// A lower bound on the encoded size, ignoring alignment padding; at least 1.
    let minimumSize_bytes: Int
}

/// How to decode one field.
struct FieldPlan: Sendable {
    let name: String
    let element: ElementPlan
    let arity: FieldArity
    /// A lower bound on one element's encoded size; at least 1.
    let minimumElementSize_bytes: Int
}

/// The element of a field, with message types resolved to plan indices.
enum ElementPlan: Sendable {
    case primitive(PrimitiveType)
    case string(maxLength_bytes: Int?)
    case message(planIndex: Int)
}

/// Resolves type names depth-first from the root, giving each reachable type a plan.
///
/// Plans are numbered in discovery order (root first), so compiling the same text
/// always gives the same plans.
struct MessagePlanCompiler {
    private let definitions: [MessageDefinition]
    private var definitionIndexByName: [MessageTypeName: Int] = [:]
    private(set) var plans: [MessagePlan] = []
    private var planIndexByName: [MessageTypeName: Int] = [:]
    /// Types being compiled, outermost first; finding a type here again is a cycle.
    private var inProgress: [MessageTypeName] = []

    init(definitions given: [MessageDefinition]) {
        var all = given
        for builtin in [MessageDefinition.builtinTime, .builtinDuration] where !given.contains(where: { $0.typeName == builtin.typeName }) {
            all.append(builtin)
        }
        definitions = all
        for (index, definition) in all.enumerated() {
            definitionIndexByName[definition.typeName] = index  // the last definition wins
        }
    }

    /// How deep message types may nest: compiling and decoding recurse once
    /// per level, and a schema 50,000 deep overflowed the stack.
    static let nestingLimit = 256

    mutating func compile(_ typeName: MessageTypeName, referencedBy field: FieldDefinition?) throws(MessageDefinitionError) -> Int {
        if let index = planIndexByName[typeName] { return index }
        guard inProgress.count < Self.nestingLimit else {
            throw .nestedTooDeep(lineNumber: field?.lineNumber ?? 0, line: field?.line ?? "", limit: Self.nestingLimit)
        }
        if let start = inProgress.firstIndex(of: typeName) {
            throw .recursiveType(
                lineNumber: field?.lineNumber ?? 0, line: field?.line ?? "",
                cycle: (inProgress[start...] + [typeName]).map(\.description)
            )
        }
        guard let definitionIndex = definitionIndexByName[typeName] else {
            var names: [String] = []
            for definition in definitions where !names.contains(definition.typeName.description) {
                names.append(definition.typeName.description)
            }
            throw .undefinedType(lineNumber: field?.lineNumber ?? 0, line: field?.line ?? "", typeName: typeName, definedTypes: names)
        }
        let definition = definitions[definitionIndex]
        let planIndex = plans.count
        plans.append(MessagePlan(typeName: typeName, fields: [], minimumSize_bytes: 1))  // reserves the index
        inProgress.append(typeName)
        var fieldPlans: [FieldPlan] = []
        var minimumSize = 0
        for field in definition.fields {
            let element: ElementPlan
            let elementSize: Int
            switch field.elementType {
            case .primitive(let type):
                element = .primitive(type)
                elementSize = type.size_bytes
            case .string(let maxLength):
                element = .string(maxLength_bytes: maxLength)
                elementSize = 4
            case .message(let nestedName):
                let nestedIndex = try compile(nestedName, referencedBy: field)
                element = .message(planIndex: nestedIndex)
                elementSize = plans[nestedIndex].minimumSize_bytes
            }
            let fieldSize: Int = switch field.arity {
            case .single: elementSize
            case .fixed(let count): Self.saturatingProduct(count, elementSize)
            case .sequence: 4
            }
            minimumSize = Self.saturatingSum(minimumSize, fieldSize)
            fieldPlans.append(FieldPlan(name: field.name, element: element, arity: field.arity, minimumElementSize_bytes: elementSize))
        }
        inProgress.removeLast()
        plans[planIndex] = MessagePlan(typeName: typeName, fields: fieldPlans, minimumSize_bytes: max(minimumSize, 1))
        planIndexByName[typeName] = planIndex
        return planIndex
    }

    private static func saturatingProduct(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }

    private static func saturatingSum(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}
