/// Little-endian serialisation into a growable byte array: the one place the
/// MCAP writer turns numbers and strings into bytes.
struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    @inline(__always)
    mutating func u8(_ v: UInt8) { bytes.append(v) }

    @inline(__always)
    mutating func u16(_ v: UInt16) { append(v.littleEndian) }

    @inline(__always)
    mutating func u32(_ v: UInt32) { append(v.littleEndian) }

    @inline(__always)
    mutating func u64(_ v: UInt64) { append(v.littleEndian) }

    @inline(__always)
    private mutating func append<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            u32(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// A `uint32`-length-prefixed byte string.
    mutating func bytes32(_ b: [UInt8]) {
        u32(UInt32(b.count))
        bytes.append(contentsOf: b)
    }

    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    mutating func raw(_ b: UnsafeRawBufferPointer) { bytes.append(contentsOf: b) }

    /// A map<string,string>: uint32 byte length, then key/value pairs.
    mutating func stringMap(_ pairs: StringPairs) {
        let lengthAt = reserveU32()
        let start = count
        for (k, v) in pairs {
            string(k)
            string(v)
        }
        patchU32(at: lengthAt, UInt32(count - start))
    }

    /// Reserves four bytes to be patched later; returns their offset.
    mutating func reserveU32() -> Int {
        let at = count
        u32(0)
        return at
    }

    /// Reserves eight bytes to be patched later; returns their offset.
    mutating func reserveU64() -> Int {
        let at = count
        u64(0)
        return at
    }

    mutating func patchU32(at offset: Int, _ v: UInt32) {
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt32.self) }
    }

    mutating func patchU64(at offset: Int, _ v: UInt64) {
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt64.self) }
    }

    /// Opens a record: opcode and a length to be closed by `endRecord`.
    mutating func beginRecord(_ op: Opcode) -> Int {
        u8(op.rawValue)
        return reserveU64()
    }

    mutating func endRecord(_ lengthAt: Int) {
        patchU64(at: lengthAt, UInt64(count - lengthAt - 8))
    }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }
}
