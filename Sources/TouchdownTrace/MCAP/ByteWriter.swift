/// Little-endian serialisation into a growable buffer: the one place the
/// MCAP writer turns numbers and strings into bytes.
///
/// Stores go straight to raw memory (one capacity check per field), since the
/// writer's per-message cost is dominated by this. The storage is a reference:
/// a `ByteWriter` has one owner and is moved (`swap`), never copied and used
/// twice.
struct ByteWriter {
    /// Owns the allocation. Its fields are constants, and the writer keeps
    /// its own copies of them, so a store costs no access to class storage
    /// (which Swift checks for exclusivity at run time).
    private final class Storage {
        let base: UnsafeMutableRawPointer
        let capacity: Int
        init(capacity: Int) {
            self.capacity = Swift.max(capacity, 64)
            base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
        }
        deinit { base.deallocate() }
    }

    private var storage: Storage
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    private(set) var count: Int = 0

    init(capacity: Int = 0) {
        storage = Storage(capacity: capacity)
        base = storage.base
        self.capacity = storage.capacity
    }

    /// Space for `n` more bytes, counted as written; returns where they
    /// start. The caller stores all `n` (they are not zeroed).
    @inline(__always)
    mutating func claim(_ n: Int) -> UnsafeMutableRawPointer {
        if count + n > capacity { grow(count + n) }
        let p = base + count
        count += n
        return p
    }

    private mutating func grow(_ needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let bigger = Storage(capacity: newCapacity)
        bigger.base.copyMemory(from: base, byteCount: count)
        storage = bigger
        base = bigger.base
        capacity = bigger.capacity
    }

    @inline(__always) mutating func u8(_ v: UInt8) { claim(1).storeBytes(of: v, as: UInt8.self) }
    @inline(__always) mutating func u16(_ v: UInt16) { claim(2).storeBytes(of: v.littleEndian, as: UInt16.self) }
    @inline(__always) mutating func u32(_ v: UInt32) { claim(4).storeBytes(of: v.littleEndian, as: UInt32.self) }
    @inline(__always) mutating func u64(_ v: UInt64) { claim(8).storeBytes(of: v.littleEndian, as: UInt64.self) }

    mutating func raw(_ b: UnsafeRawBufferPointer) {
        guard b.count > 0 else { return }
        claim(b.count).copyMemory(from: b.baseAddress!, byteCount: b.count)
    }

    mutating func raw(_ b: [UInt8]) { b.withUnsafeBytes { raw($0) } }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            u32(UInt32(utf8.count))
            raw(UnsafeRawBufferPointer(utf8))
        }
    }

    /// A `uint32`-length-prefixed byte string.
    mutating func bytes32(_ b: [UInt8]) {
        u32(UInt32(b.count))
        raw(b)
    }

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
        precondition(offset + 4 <= count)
        base.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    mutating func patchU64(at offset: Int, _ v: UInt64) {
        precondition(offset + 8 <= count)
        base.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt64.self)
    }

    /// Opens a record: opcode and a length to be closed by `endRecord`.
    @inline(__always)
    mutating func beginRecord(_ op: Opcode) -> Int {
        u8(op.rawValue)
        return reserveU64()
    }

    @inline(__always)
    mutating func endRecord(_ lengthAt: Int) {
        patchU64(at: lengthAt, UInt64(count - lengthAt - 8))
    }

    // For a writer that keeps its own cursor in registers (CDRPayloadWriter):
    // it reads these, stores below `capacityBytes`, and hands the new count back.
    var baseAddress: UnsafeMutableRawPointer { base }
    /// Keeps the current storage alive (a reader on another thread holds it
    /// while it reads bytes below `count`, even if this writer grows).
    var storageHandle: AnyObject { storage }
    var capacityBytes: Int { capacity }

    /// Makes room for `total` bytes in all, keeping the contents.
    mutating func reserve(total: Int) { if total > capacity { grow(total) } }

    /// Takes the count of bytes a cursor writer has stored.
    mutating func setCount(_ n: Int) {
        precondition(n >= 0 && n <= capacity)
        count = n
    }

    /// Forgets the contents, keeping the memory.
    mutating func removeAll() { count = 0 }

    /// The bytes written so far, valid during `body`.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The bytes written so far, valid until the next change to this writer.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// A copy of the bytes written so far.
    var array: [UInt8] { withUnsafeBytes { Array($0) } }
}
