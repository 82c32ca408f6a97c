/// A message type of Touchdown's own (`touchdown_msgs/msg/...`), with a fast
/// typed CDR path beside the schema-driven decoder.
///
/// Each type lists its fields once (`fields`); the `ros2msg` schema text is
/// built from that list, and the tests check that the schema-driven decoder
/// reads the typed encoding back to the same values, so the two cannot drift.
public protocol TraceMessage: Sendable, Equatable {
    /// `touchdown_msgs/msg/Name`.
    static var schemaName: String { get }
    /// The fields in wire order, as `ros2msg` lines (`float64 range_m`).
    static var fields: [String] { get }
    /// The `ros2msg` schema text stored in the trace.
    static var schemaText: String { get }
    /// The instant the message describes, in nanoseconds on the trace's clock.
    var stamp_ns: UInt64 { get set }
    /// Appends the CDR payload, encapsulation header included.
    func encode(into w: inout CDRPayloadWriter)
    /// Decodes a CDR payload written by `encode` (little- or big-endian).
    init(cdr: UnsafeRawBufferPointer) throws
}

extension TraceMessage {
    /// The `ros2msg` schema text stored in the trace.
    public static var schemaText: String {
        "# \(schemaName): Touchdown message. Units are the last part of each field name.\n" + fields.joined(separator: "\n") + "\n"
    }

    /// The CDR payload alone, for callers that want bytes.
    public var cdrBytes: [UInt8] {
        CDRPayloadWriter.encode { encode(into: &$0) }
    }
}

/// Appends CDR (XCDR1, little-endian) with alignment measured from the end of
/// the 4-byte encapsulation header.
///
/// It appends to the caller's buffer (the trace writer's open chunk) through
/// a pointer, so encoding a message allocates nothing and touches no
/// reference count. It keeps its own copy of the buffer's end and capacity,
/// which the compiler can hold in registers across a message's fields, and
/// hands the new length back in `finish()`.
public struct CDRPayloadWriter {
    private let owner: UnsafeMutablePointer<ByteWriter>
    private var base: UnsafeMutableRawPointer
    private var count: Int
    private var capacity: Int
    private let origin: Int

    /// Starts a payload at the end of `owner`, which must stay valid (and
    /// unmoved, and otherwise untouched) until `finish()`.
    @inline(__always)
    init(appendingTo owner: UnsafeMutablePointer<ByteWriter>) {
        self.owner = owner
        owner.pointee.u32(0x0000_0100)  // 00 01 00 00 (u32 writes little-endian): CDR_LE, no options
        base = owner.pointee.baseAddress
        count = owner.pointee.count
        capacity = owner.pointee.capacityBytes
        origin = count
    }

    /// Gives the payload's bytes to the owner.
    @inline(__always)
    consuming func finish() { owner.pointee.setCount(count) }

    /// Encodes one payload into a new byte array.
    static func encode(_ body: (inout CDRPayloadWriter) -> Void) -> [UInt8] {
        var buffer = ByteWriter(capacity: 64)
        return withUnsafeMutablePointer(to: &buffer) { p in
            var w = CDRPayloadWriter(appendingTo: p)
            body(&w)
            w.finish()
            return p.pointee.array
        }
    }

    @inline(__always)
    private mutating func claim(_ n: Int) -> UnsafeMutableRawPointer {
        if count + n > capacity { grow(n) }
        let p = base + count
        count += n
        return p
    }

    @inline(never)
    private mutating func grow(_ n: Int) {
        owner.pointee.setCount(count)
        owner.pointee.reserve(total: count + n)
        base = owner.pointee.baseAddress
        capacity = owner.pointee.capacityBytes
    }

    @inline(__always)
    private mutating func align(_ n: Int) {
        let misalignment = (count - origin) & (n - 1)
        if misalignment != 0 {
            let pad = n - misalignment
            claim(pad).initializeMemory(as: UInt8.self, repeating: 0, count: pad)
        }
    }

    @inline(__always) public mutating func float64(_ v: Double) { uint64(v.bitPattern) }
    @inline(__always) public mutating func uint64(_ v: UInt64) { align(8); claim(8).storeBytes(of: v.littleEndian, as: UInt64.self) }
    @inline(__always) public mutating func uint32(_ v: UInt32) { align(4); claim(4).storeBytes(of: v.littleEndian, as: UInt32.self) }
    @inline(__always) public mutating func bool(_ v: Bool) { claim(1).storeBytes(of: v ? 1 : 0, as: UInt8.self) }
    @inline(__always) public mutating func uint8(_ v: UInt8) { claim(1).storeBytes(of: v, as: UInt8.self) }
    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            uint32(UInt32(utf8.count + 1))
            if utf8.count > 0 { claim(utf8.count).copyMemory(from: utf8.baseAddress!, byteCount: utf8.count) }
        }
        claim(1).storeBytes(of: 0, as: UInt8.self)
    }
}

/// Reads a CDR payload with bounds checks, honouring the encapsulation's byte order.
public struct CDRPayloadReader {
    private let buffer: UnsafeRawBufferPointer
    private var position: Int
    private let littleEndian: Bool
    private let type: String

    public init(_ buffer: UnsafeRawBufferPointer, type: String) throws {
        guard buffer.count >= 4 else {
            throw CDRPayloadError(type: type, field: "encapsulation header", offset: 0, reason: "payload has \(buffer.count) bytes, needs 4")
        }
        guard buffer[0] == 0, buffer[1] == 0 || buffer[1] == 1 else {
            throw CDRPayloadError(type: type, field: "encapsulation header", offset: 0,
                                  reason: "representation \(buffer[0]),\(buffer[1]); accepted: 0,1 (CDR little-endian) or 0,0 (CDR big-endian)")
        }
        self.buffer = UnsafeRawBufferPointer(rebasing: buffer[4...])
        littleEndian = buffer[1] == 1
        position = 0
        self.type = type
    }

    @inline(__always)
    private mutating func take(_ size: Int, align: Int, _ field: StaticString) throws -> Int {
        let start = (position + align - 1) & ~(align - 1)
        guard start + size <= buffer.count else {
            throw CDRPayloadError(type: type, field: "\(field)", offset: 4 + start, reason: "needs \(size) bytes, \(max(0, buffer.count - start)) left")
        }
        position = start + size
        return start
    }

    @inline(__always)
    public mutating func uint64(_ field: StaticString) throws -> UInt64 {
        let at = try take(8, align: 8, field)
        let raw = buffer.loadUnaligned(fromByteOffset: at, as: UInt64.self)
        return littleEndian ? UInt64(littleEndian: raw) : UInt64(bigEndian: raw)
    }

    @inline(__always)
    public mutating func float64(_ field: StaticString) throws -> Double {
        Double(bitPattern: try uint64(field))
    }

    @inline(__always)
    public mutating func uint32(_ field: StaticString) throws -> UInt32 {
        let at = try take(4, align: 4, field)
        let raw = buffer.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return littleEndian ? UInt32(littleEndian: raw) : UInt32(bigEndian: raw)
    }

    @inline(__always)
    public mutating func uint8(_ field: StaticString) throws -> UInt8 {
        buffer[try take(1, align: 1, field)]
    }

    @inline(__always)
    public mutating func bool(_ field: StaticString) throws -> Bool {
        buffer[try take(1, align: 1, field)] != 0
    }

    /// A string as the schema-driven decoder reads it (``CDRReader/readString(maxLength_bytes:)``):
    /// a length of 0 is the empty string; otherwise the bytes must end in
    /// NUL and be UTF-8.
    public mutating func string(_ field: StaticString) throws -> String {
        let n = Int(try uint32(field))
        if n == 0 { return "" }
        guard n <= buffer.count - position else {
            throw CDRPayloadError(type: type, field: "\(field)", offset: 4 + position,
                                  reason: "string length \(n) (with its NUL) but \(buffer.count - position) bytes left")
        }
        let terminator = buffer[position + n - 1]
        guard terminator == 0 else {
            throw CDRPayloadError(type: type, field: "\(field)", offset: 4 + position + n - 1,
                                  reason: "string does not end in NUL (found 0x\(String(terminator, radix: 16)))")
        }
        let content = UnsafeRawBufferPointer(rebasing: buffer[position..<position + n - 1])
        guard let s = String(validating: content.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
            throw CDRPayloadError(type: type, field: "\(field)", offset: 4 + position, reason: "\(n - 1) string bytes are not UTF-8")
        }
        position += n
        return s
    }
}

/// A typed payload that does not match its type's layout.
public struct CDRPayloadError: Error, CustomStringConvertible, Sendable {
    public var type: String
    public var field: String
    public var offset: Int
    public var reason: String
    public var description: String { "\(type): field \(field) at payload offset \(offset): \(reason)" }
}
