/// The byte order of a CDR stream, given by its encapsulation header.
public enum CDRByteOrder: Sendable, Equatable {
    /// Encapsulation 0x0001, `CDR_LE`; what ROS 2 publishers write.
    case littleEndian
    /// Encapsulation 0x0000, `CDR_BE`.
    case bigEndian
}

/// Reads XCDR1 primitives as ROS 2 serializes them, checking every length.
///
/// The buffer starts with the 4-byte encapsulation header; only plain CDR is
/// accepted (0x00 0x01 little-endian, 0x00 0x00 big-endian), and the two option
/// bytes are ignored. Each primitive is aligned to its own size, up to 8, counted
/// from the end of the header; a 1-byte value is never padded. Strings are a uint32
/// length that includes the NUL terminator, the UTF-8 bytes, then the NUL.
///
/// The reader borrows `bytes` and must not outlive it: create it inside the
/// `withUnsafeBytes` closure that owns the buffer.
///
/// Errors carry an empty field path; ``CompiledMessageSchema`` fills the path in.
public struct CDRReader {
    /// The whole buffer, header included.
    public let bytes: UnsafeRawBufferPointer
    /// The byte order from the header.
    public let byteOrder: CDRByteOrder
    /// The next byte to read, counted from the start of the buffer (so ≥ 4).
    public private(set) var offset: Int

    /// The size of the encapsulation header, which alignment does not count.
    public static let headerSize_bytes = 4

    /// Checks the encapsulation header and positions the reader after it.
    ///
    /// - Throws: ``CDRError/headerTooShort(byteCount:)`` or
    ///   ``CDRError/unsupportedEncapsulation(found:)``.
    public init(_ bytes: UnsafeRawBufferPointer) throws(CDRError) {
        guard bytes.count >= Self.headerSize_bytes else {
            throw .headerTooShort(byteCount: bytes.count)
        }
        let kind = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        switch kind {
        case 0x0001: byteOrder = .littleEndian
        case 0x0000: byteOrder = .bigEndian
        default: throw .unsupportedEncapsulation(found: kind)
        }
        self.bytes = bytes
        self.offset = Self.headerSize_bytes
    }

    /// Bytes left after ``offset``.
    public var remainingByteCount: Int { bytes.count - offset }

    /// Padding needed before a value of `size` bytes at the current offset.
    func padding(forAlignment size: Int) -> Int {
        let misalignment = (offset - Self.headerSize_bytes) % size
        return misalignment == 0 ? 0 : size - misalignment
    }

    /// Skips the padding before a value of `alignment` bytes and checks that
    /// `byteCount` bytes follow it.
    ///
    /// - Throws: ``CDRError/truncated(offset:fieldPath:expected:needed_bytes:remaining_bytes:)``
    ///   naming `expected`, leaving the offset unchanged.
    public mutating func prepareToRead(_ byteCount: Int, alignment: Int, expected: @autoclosure () -> String) throws(CDRError) {
        let padding = alignment > 1 ? padding(forAlignment: alignment) : 0
        let (needed, overflow) = padding.addingReportingOverflow(byteCount)
        guard !overflow, needed <= remainingByteCount else {
            throw .truncated(offset: offset, fieldPath: "", expected: expected(), needed_bytes: overflow ? Int.max : needed, remaining_bytes: remainingByteCount)
        }
        offset += padding
    }

    /// Reads an aligned integer in the stream's byte order.
    public mutating func readInteger<Value: FixedWidthInteger>(_ type: Value.Type, expected: @autoclosure () -> String) throws(CDRError) -> Value {
        let size = MemoryLayout<Value>.size
        try prepareToRead(size, alignment: size, expected: expected())
        return readIntegerUnchecked(Value.self)
    }

    /// Reads an integer at ``offset`` without alignment or bounds checks; the caller
    /// has called ``prepareToRead(_:alignment:expected:)`` for it.
    mutating func readIntegerUnchecked<Value: FixedWidthInteger>(_ type: Value.Type) -> Value {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: Value.self)
        offset += MemoryLayout<Value>.size
        return byteOrder == .littleEndian ? Value(littleEndian: raw) : Value(bigEndian: raw)
    }

    /// Moves past `byteCount` bytes without reading them; the caller has
    /// called ``prepareToRead(_:alignment:expected:)`` for them.
    mutating func skipUnchecked(_ byteCount: Int) {
        offset += byteCount
    }

    /// Reads a `uint8`.
    public mutating func readUInt8() throws(CDRError) -> UInt8 { try readInteger(UInt8.self, expected: "uint8") }
    /// Reads an `int8`.
    public mutating func readInt8() throws(CDRError) -> Int8 { try readInteger(Int8.self, expected: "int8") }
    /// Reads a `uint16`.
    public mutating func readUInt16() throws(CDRError) -> UInt16 { try readInteger(UInt16.self, expected: "uint16") }
    /// Reads an `int16`.
    public mutating func readInt16() throws(CDRError) -> Int16 { try readInteger(Int16.self, expected: "int16") }
    /// Reads a `uint32`.
    public mutating func readUInt32() throws(CDRError) -> UInt32 { try readInteger(UInt32.self, expected: "uint32") }
    /// Reads an `int32`.
    public mutating func readInt32() throws(CDRError) -> Int32 { try readInteger(Int32.self, expected: "int32") }
    /// Reads a `uint64`.
    public mutating func readUInt64() throws(CDRError) -> UInt64 { try readInteger(UInt64.self, expected: "uint64") }
    /// Reads an `int64`.
    public mutating func readInt64() throws(CDRError) -> Int64 { try readInteger(Int64.self, expected: "int64") }
    /// Reads a `float32`.
    public mutating func readFloat32() throws(CDRError) -> Float { Float(bitPattern: try readInteger(UInt32.self, expected: "float32")) }
    /// Reads a `float64`.
    public mutating func readFloat64() throws(CDRError) -> Double { Double(bitPattern: try readInteger(UInt64.self, expected: "float64")) }
    /// Reads a `bool`: one byte, any non-zero value is `true` (as mcap-ros2-support reads it).
    public mutating func readBool() throws(CDRError) -> Bool { try readInteger(UInt8.self, expected: "bool") != 0 }

    /// Reads a string: a uint32 length including the NUL, the UTF-8 bytes, the NUL.
    ///
    /// A length of 0 is read as the empty string, as mcap-ros2-support does (some
    /// serializers write it for empty strings). The length is checked against the
    /// remaining bytes before any allocation.
    ///
    /// - Parameter maxLength_bytes: The `string<=N` bound, in bytes excluding the NUL.
    /// - Throws: ``CDRError`` when the data is short, the terminator is not 0x00,
    ///   the bytes are not UTF-8, or the bound is exceeded.
    public mutating func readString(maxLength_bytes: Int? = nil) throws(CDRError) -> String {
        let length = Int(try readInteger(UInt32.self, expected: "a string length"))
        let lengthOffset = offset - 4
        if length == 0 { return "" }
        if let maxLength_bytes, length - 1 > maxLength_bytes {
            throw .boundExceeded(offset: lengthOffset, fieldPath: "", count: length - 1, bound: maxLength_bytes)
        }
        try prepareToRead(length, alignment: 1, expected: "a string of \(length) bytes including its NUL")
        let start = offset
        let terminator = bytes[start + length - 1]
        guard terminator == 0 else {
            throw .missingStringTerminator(offset: start + length - 1, fieldPath: "", found: terminator)
        }
        let content = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length - 1)])
        guard let text = String(validating: content.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
            throw .invalidUTF8(offset: start, fieldPath: "", length_bytes: length - 1)
        }
        offset += length
        return text
    }

    /// Reads a sequence's uint32 element count and checks it before the caller allocates.
    ///
    /// - Parameters:
    ///   - minimumElementSize_bytes: A lower bound on each element's wire size (≥ 1),
    ///     so that `count × minimumElementSize_bytes` must fit in the remaining bytes.
    ///   - maxCount: The `T[<=N]` bound, if any.
    /// - Throws: ``CDRError/countExceedsData(offset:fieldPath:count:minimumElementSize_bytes:remaining_bytes:)``
    ///   or ``CDRError/boundExceeded(offset:fieldPath:count:bound:)``.
    public mutating func readSequenceCount(minimumElementSize_bytes: Int, maxCount: Int? = nil) throws(CDRError) -> Int {
        let count = Int(try readInteger(UInt32.self, expected: "a sequence count"))
        let countOffset = offset - 4
        if let maxCount, count > maxCount {
            throw .boundExceeded(offset: countOffset, fieldPath: "", count: count, bound: maxCount)
        }
        try checkCount(count, minimumElementSize_bytes: minimumElementSize_bytes, countOffset: countOffset)
        return count
    }

    /// Checks that `count` elements of at least `minimumElementSize_bytes` each fit in the remaining bytes.
    public func checkCount(_ count: Int, minimumElementSize_bytes: Int, countOffset: Int) throws(CDRError) {
        let (total, overflow) = count.multipliedReportingOverflow(by: minimumElementSize_bytes)
        guard !overflow, total <= remainingByteCount else {
            throw .countExceedsData(offset: countOffset, fieldPath: "", count: count, minimumElementSize_bytes: minimumElementSize_bytes, remaining_bytes: remainingByteCount)
        }
    }
}
