import Crypto

/// The replay digest: SHA-256 (swift-crypto) over everything a guidance
/// produced, fed as fixed-width little-endian words and length-prefixed
/// strings, so that no two different runs feed the same bytes.
///
/// A run feeds it a few dozen bytes at a time, tens of thousands of times;
/// they are gathered and hashed 4 KiB at a time, which gives the same digest
/// (SHA-256 depends only on the bytes, not on how they are handed over) for
/// a fraction of the calls.
public struct RunDigest {
    private var hasher = SHA256()
    /// Bytes fed but not yet hashed.
    private var pending: [UInt8] = []
    static let batchSize = 4096

    public init() { pending.reserveCapacity(Self.batchSize + 256) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        pending.append(contentsOf: bytes)
        if pending.count >= Self.batchSize {
            pending.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            pending.removeAll(keepingCapacity: true)
        }
    }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    public mutating func update(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { update($0) }
    }

    public mutating func update(_ value: Double) { update(value.bitPattern) }

    /// A string, prefixed by its length so that no two sequences of strings
    /// hash alike.
    public mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            update(UInt64(utf8.count))
            update(UnsafeRawBufferPointer(utf8))
        }
    }

    /// The digest in lowercase hexadecimal.
    public func finalizeHex() -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        var hasher = hasher
        pending.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        for byte in hasher.finalize() {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
