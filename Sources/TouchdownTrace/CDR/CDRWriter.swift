/// Writes XCDR1 primitives byte-for-byte as mcap-ros2-support's `CdrWriter` does.
///
/// The output starts with the encapsulation header `00 01 00 00` (little-endian)
/// or `00 00 00 00` (big-endian). Each primitive is padded with zero bytes to a
/// multiple of its size (up to 8), counted from the end of the header. Nothing is
/// appended after the last value: like the reference encoder (checked against
/// mcap-ros2-support 0.6.0, where a lone `uint8` message is the 5 bytes
/// `00 01 00 00 07`), the message is not padded to a multiple of 4.
public struct CDRWriter: Sendable {
    /// Everything written so far, header included.
    public private(set) var bytes: [UInt8]
    /// The byte order of every multi-byte value.
    public let byteOrder: CDRByteOrder

    /// Starts a stream by writing its encapsulation header.
    ///
    /// - Parameter capacity_bytes: Initial capacity, to avoid regrowing for typical messages.
    public init(byteOrder: CDRByteOrder = .littleEndian, capacity_bytes: Int = 64) {
        self.byteOrder = byteOrder
        bytes = []
        bytes.reserveCapacity(max(capacity_bytes, CDRReader.headerSize_bytes))
        bytes.append(contentsOf: [0x00, byteOrder == .littleEndian ? 0x01 : 0x00, 0x00, 0x00])
    }

    /// Bytes written so far, header included.
    public var byteCount: Int { bytes.count }

    /// Appends zero bytes until the next value of `size` bytes is aligned.
    public mutating func align(to size: Int) {
        guard size > 1 else { return }
        let misalignment = (bytes.count - CDRReader.headerSize_bytes) % size
        if misalignment != 0 {
            bytes.append(contentsOf: repeatElement(0, count: size - misalignment))
        }
    }

    /// Writes an aligned integer in the stream's byte order.
    public mutating func writeInteger<Value: FixedWidthInteger>(_ value: Value) {
        align(to: MemoryLayout<Value>.size)
        let ordered = byteOrder == .littleEndian ? value.littleEndian : value.bigEndian
        withUnsafeBytes(of: ordered) { bytes.append(contentsOf: $0) }
    }

    /// Writes a `bool` as one byte, 1 or 0.
    public mutating func writeBool(_ value: Bool) { writeInteger(UInt8(value ? 1 : 0)) }
    /// Writes a `uint8`.
    public mutating func writeUInt8(_ value: UInt8) { writeInteger(value) }
    /// Writes an `int8`.
    public mutating func writeInt8(_ value: Int8) { writeInteger(value) }
    /// Writes a `uint16`.
    public mutating func writeUInt16(_ value: UInt16) { writeInteger(value) }
    /// Writes an `int16`.
    public mutating func writeInt16(_ value: Int16) { writeInteger(value) }
    /// Writes a `uint32`.
    public mutating func writeUInt32(_ value: UInt32) { writeInteger(value) }
    /// Writes an `int32`.
    public mutating func writeInt32(_ value: Int32) { writeInteger(value) }
    /// Writes a `uint64`.
    public mutating func writeUInt64(_ value: UInt64) { writeInteger(value) }
    /// Writes an `int64`.
    public mutating func writeInt64(_ value: Int64) { writeInteger(value) }
    /// Writes a `float32`.
    public mutating func writeFloat32(_ value: Float) { writeInteger(value.bitPattern) }
    /// Writes a `float64`.
    public mutating func writeFloat64(_ value: Double) { writeInteger(value.bitPattern) }

    /// Writes a string: uint32 length including the NUL, the UTF-8 bytes, the NUL.
    ///
    /// An empty string is written as length 1 and a lone NUL, as the reference does.
    public mutating func writeString(_ value: String) {
        let utf8Count = value.utf8.count
        precondition(utf8Count < Int(UInt32.max), "a CDR string holds at most 2^32 - 2 bytes")
        writeUInt32(UInt32(utf8Count + 1))
        bytes.append(contentsOf: value.utf8)
        bytes.append(0)
    }

    /// Writes a sequence's uint32 element count; the caller writes the elements.
    public mutating func writeSequenceCount(_ count: Int) {
        precondition(count >= 0 && count <= Int(UInt32.max), "a CDR sequence holds at most 2^32 - 1 elements")
        writeUInt32(UInt32(count))
    }
}
