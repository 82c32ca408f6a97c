/// A decoded ROS 2 message, or one to encode, as a tree of plain values.
///
/// The tree mirrors the schema: a `message` holds its fields in schema order, an
/// `array` holds the elements of a fixed array or a sequence. Integer fields keep
/// their signedness (`int` for `int8`…`int64`, `uint` for `byte`, `char`, `uint8`…`uint64`),
/// and both `float32` and `float64` fields become `float`: a `float32` is stored as
/// `Double(Float)`, which is exact, so re-encoding it gives back the same bits.
///
/// Equality is structural and uses `Double`'s `==`, so a value containing NaN is not
/// equal to itself; compare ``jsonText`` when NaN may appear.
public enum MessageValue: Sendable, Equatable {
    /// A `bool` field.
    case bool(Bool)
    /// A signed integer field (`int8`, `int16`, `int32`, `int64`).
    case int(Int64)
    /// An unsigned integer field (`byte`, `char`, `uint8`, `uint16`, `uint32`, `uint64`).
    case uint(UInt64)
    /// A `float32` or `float64` field; a `float32` holds `Double(Float)` exactly.
    case float(Double)
    /// A `string` or bounded `string<=N` field.
    case string(String)
    /// A fixed array `T[N]`, a sequence `T[]` or a bounded sequence `T[<=N]`.
    case array([MessageValue])
    /// A nested message: its fields in schema order.
    case message([MessageField])
}

/// One named field of a ``MessageValue/message(_:)``.
///
/// Fields are kept in an array in schema order rather than a dictionary so that
/// rendering and encoding are deterministic.
public struct MessageField: Sendable, Equatable {
    /// The field name as written in the schema, e.g. `linear_acceleration`.
    public var name: String
    /// The field's value.
    public var value: MessageValue

    /// Creates a field.
    public init(name: String, value: MessageValue) {
        self.name = name
        self.value = value
    }
}

extension MessageValue {
    /// The value of the first field called `name`, or `nil` when this is not a
    /// message or has no such field.
    ///
    /// This is a linear search meant for tests and tools; decoders that need speed
    /// should index the fields by their schema position.
    public subscript(name: String) -> MessageValue? {
        guard case .message(let fields) = self else { return nil }
        return fields.first { $0.name == name }?.value
    }

    /// The element at `index`, or `nil` when this is not an array or `index` is out of range.
    public subscript(index: Int) -> MessageValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }
}

// MARK: - JSON

extension MessageValue: CustomStringConvertible {
    /// The compact JSON rendering, see ``jsonText``.
    public var description: String { jsonText }
}

extension MessageValue {
    /// Compact, deterministic JSON for this value.
    ///
    /// - Messages become objects with their fields in schema order.
    /// - Integers are written in decimal, with no loss for 64-bit values.
    /// - Finite floats use Swift's shortest round-trip `Double.description`
    ///   (e.g. `1.5`, `0.10000000149011612` for the `float32` 0.1, `1e-05`, `1e+16`),
    ///   which parses back to the same `Double` in any correct JSON reader.
    /// - JSON has no non-finite numbers, so NaN, +∞ and −∞ are written as the
    ///   *strings* `"NaN"`, `"Infinity"` and `"-Infinity"`; a reader that needs the
    ///   numbers back must map those strings itself.
    /// - Strings escape `"` and `\` with a backslash and every control character
    ///   below U+0020 as `\u00XX` (lower-case hex); all other characters are
    ///   written as UTF-8 unchanged.
    public var jsonText: String {
        var text = ""
        appendJSON(to: &text)
        return text
    }

    /// Appends the compact JSON for this value to `output`; see ``jsonText`` for the format.
    ///
    /// Appending into one buffer avoids building a string per node when rendering
    /// many messages.
    public func appendJSON(to output: inout String) {
        switch self {
        case .bool(let value):
            output += value ? "true" : "false"
        case .int(let value):
            output += String(value)
        case .uint(let value):
            output += String(value)
        case .float(let value):
            MessageValue.appendJSONNumber(value, to: &output)
        case .string(let value):
            MessageValue.appendJSONString(value, to: &output)
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.appendJSON(to: &output)
            }
            output += "]"
        case .message(let fields):
            output += "{"
            for (index, field) in fields.enumerated() {
                if index > 0 { output += "," }
                MessageValue.appendJSONString(field.name, to: &output)
                output += ":"
                field.value.appendJSON(to: &output)
            }
            output += "}"
        }
    }

    static func appendJSONNumber(_ value: Double, to output: inout String) {
        if value.isNaN {
            output += "\"NaN\""
        } else if value.isInfinite {
            output += value < 0 ? "\"-Infinity\"" : "\"Infinity\""
        } else {
            output += value.description
        }
    }

    static func appendJSONString(_ value: String, to output: inout String) {
        output += "\""
        let needsEscaping = value.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        if !needsEscaping {
            output += value
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": output += "\\\""
                case "\\": output += "\\\\"
                case _ where scalar.value < 0x20:
                    let hexDigits: [Character] = Array("0123456789abcdef")
                    output += "\\u00"
                    output.append(hexDigits[Int(scalar.value >> 4)])
                    output.append(hexDigits[Int(scalar.value & 0xF)])
                default:
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}
