extension CompiledMessageSchema {
    /// Encodes a message value into CDR, byte-for-byte as mcap-ros2-support 0.6.0's
    /// `serialize_dynamic` encodes the same values.
    ///
    /// The value must match the schema exactly; unlike the reference, nothing is
    /// filled in, truncated or coerced silently:
    /// - a message lists every field, with the schema's names, in schema order;
    /// - integer fields take `.int` or `.uint` values that fit the field type;
    ///   `float32`/`float64` take `.float` (a finite value too large for `float32`
    ///   is an error, as in the reference); `bool` takes `.bool`;
    /// - a fixed array has exactly N elements; a bounded sequence or string stays within its bound.
    ///
    /// - Parameter byteOrder: Little-endian (what ROS 2 writes) unless asked otherwise.
    /// - Returns: The encapsulation header and the message, without trailing padding.
    /// - Throws: ``CDRError`` naming the field path of the first mismatch.
    public func encode(_ value: MessageValue, byteOrder: CDRByteOrder = .littleEndian) throws(CDRError) -> [UInt8] {
        var writer = CDRWriter(byteOrder: byteOrder, capacity_bytes: 256)
        try encodeMessage(planIndex: 0, value: value, into: &writer)
        return writer.bytes
    }

    private func encodeMessage(planIndex: Int, value: MessageValue, into writer: inout CDRWriter) throws(CDRError) {
        let plan = plans[planIndex]
        guard case .message(let fields) = value else {
            throw .valueTypeMismatch(fieldPath: "", expected: "a message \(plan.typeName)", found: value.kindDescription)
        }
        guard fields.count == plan.fields.count, zip(fields, plan.fields).allSatisfy({ $0.name == $1.name }) else {
            throw .fieldsMismatch(fieldPath: "", expected: plan.fields.map(\.name), found: fields.map(\.name))
        }
        if plan.fields.isEmpty {
            writer.writeUInt8(0)  // ROS 2's structure_needs_at_least_one_member
            return
        }
        for (field, fieldValue) in zip(plan.fields, fields) {
            do {
                try encodeField(field, value: fieldValue.value, into: &writer)
            } catch {
                throw error.prependingPathComponent(field.name)
            }
        }
    }

    private func encodeField(_ field: FieldPlan, value: MessageValue, into writer: inout CDRWriter) throws(CDRError) {
        if case .single = field.arity {
            try encodeElement(field.element, value: value, into: &writer)
            return
        }
        guard case .array(let elements) = value else {
            throw .valueTypeMismatch(fieldPath: "", expected: "an array", found: value.kindDescription)
        }
        switch field.arity {
        case .single:
            break
        case .fixed(let count):
            guard elements.count == count else {
                throw .arrayCountMismatch(fieldPath: "", expected: count, found: elements.count)
            }
        case .sequence(let maxCount):
            if let maxCount, elements.count > maxCount {
                throw .boundExceeded(offset: writer.byteCount, fieldPath: "", count: elements.count, bound: maxCount)
            }
            guard elements.count <= Int(UInt32.max) else {
                throw .valueOutOfRange(fieldPath: "", type: "a uint32 sequence count", value: String(elements.count))
            }
            writer.writeSequenceCount(elements.count)
        }
        for (index, element) in elements.enumerated() {
            do {
                try encodeElement(field.element, value: element, into: &writer)
            } catch {
                throw error.prependingPathComponent("[\(index)]")
            }
        }
    }

    private func encodeElement(_ element: ElementPlan, value: MessageValue, into writer: inout CDRWriter) throws(CDRError) {
        switch element {
        case .primitive(let type):
            try Self.writePrimitive(type, value: value, into: &writer)
        case .string(let maxLength):
            guard case .string(let text) = value else {
                throw .valueTypeMismatch(fieldPath: "", expected: "a string", found: value.kindDescription)
            }
            if let maxLength, text.utf8.count > maxLength {
                throw .boundExceeded(offset: writer.byteCount, fieldPath: "", count: text.utf8.count, bound: maxLength)
            }
            guard text.utf8.count < Int(UInt32.max) else {
                throw .valueOutOfRange(fieldPath: "", type: "a CDR string (at most 2^32 - 2 bytes)", value: "\(text.utf8.count) bytes")
            }
            writer.writeString(text)
        case .message(let planIndex):
            try encodeMessage(planIndex: planIndex, value: value, into: &writer)
        }
    }

    private static func writePrimitive(_ type: PrimitiveType, value: MessageValue, into writer: inout CDRWriter) throws(CDRError) {
        switch type {
        case .bool:
            guard case .bool(let flag) = value else {
                throw .valueTypeMismatch(fieldPath: "", expected: "a bool", found: value.kindDescription)
            }
            writer.writeBool(flag)
        case .byte, .char, .uint8: writer.writeUInt8(try integer(value, as: UInt8.self, type: type))
        case .int8: writer.writeInt8(try integer(value, as: Int8.self, type: type))
        case .uint16: writer.writeUInt16(try integer(value, as: UInt16.self, type: type))
        case .int16: writer.writeInt16(try integer(value, as: Int16.self, type: type))
        case .uint32: writer.writeUInt32(try integer(value, as: UInt32.self, type: type))
        case .int32: writer.writeInt32(try integer(value, as: Int32.self, type: type))
        case .uint64: writer.writeUInt64(try integer(value, as: UInt64.self, type: type))
        case .int64: writer.writeInt64(try integer(value, as: Int64.self, type: type))
        case .float32:
            let number = try float(value)
            let narrowed = Float(number)
            // Like Python's struct.pack("<f"): rounding is fine, overflowing to infinity is not.
            if narrowed.isInfinite && number.isFinite {
                throw .valueOutOfRange(fieldPath: "", type: "float32", value: number.description)
            }
            writer.writeFloat32(narrowed)
        case .float64:
            writer.writeFloat64(try float(value))
        }
    }

    private static func integer<Value: FixedWidthInteger>(_ value: MessageValue, as: Value.Type, type: PrimitiveType) throws(CDRError) -> Value {
        let converted: Value?
        switch value {
        case .int(let number): converted = Value(exactly: number)
        case .uint(let number): converted = Value(exactly: number)
        default:
            throw .valueTypeMismatch(fieldPath: "", expected: "an integer for \(type.rawValue)", found: value.kindDescription)
        }
        guard let converted else {
            throw .valueOutOfRange(fieldPath: "", type: type.rawValue, value: value.jsonText)
        }
        return converted
    }

    private static func float(_ value: MessageValue) throws(CDRError) -> Double {
        guard case .float(let number) = value else {
            throw .valueTypeMismatch(fieldPath: "", expected: "a float", found: value.kindDescription)
        }
        return number
    }
}

extension MessageValue {
    /// A short description of the value's kind for error messages, e.g. `string "abc"`.
    var kindDescription: String {
        switch self {
        case .bool(let value): "bool \(value)"
        case .int(let value): "int \(value)"
        case .uint(let value): "uint \(value)"
        case .float(let value): "float \(value)"
        case .string(let value): "string \(MessageValue.string(String(value.prefix(40))).jsonText)"
        case .array(let elements): "array of \(elements.count)"
        case .message(let fields): "message {\(fields.map(\.name).joined(separator: ", "))}"
        }
    }
}
