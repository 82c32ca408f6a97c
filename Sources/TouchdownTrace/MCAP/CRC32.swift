/// CRC-32 (ISO-HDLC / IEEE 802.3, the one zlib and the MCAP format use), slice-by-8.
///
/// MCAP stores this CRC for chunk contents, the data section, the summary and
/// attachments. The running value starts at 0 and can be fed piecewise:
/// `crc = CRC32.update(crc, bytes)`.
public enum CRC32 {
    /// 8 tables of 256 entries, built once: table 0 is the byte-wise table,
    /// table k advances a byte through k extra zero bytes.
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 256 * 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1) }
            t[i] = c
        }
        for i in 0..<256 {
            var c = t[i]
            for k in 1..<8 {
                c = t[Int(c & 0xFF)] ^ (c >> 8)
                t[k * 256 + i] = c
            }
        }
        return t
    }()

    /// Continues a CRC over `bytes`. Start from 0.
    @inlinable
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        updateImpl(crc, bytes)
    }

    /// The CRC of `bytes` alone.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { updateImpl(0, bytes) }

    /// The CRC of `bytes` alone.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { updateImpl(0, $0) }
    }

    @usableFromInline
    static func updateImpl(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        var c = ~crc
        var i = 0
        let n = bytes.count
        return tables.withUnsafeBufferPointer { t in
            while i + 8 <= n {
                let lo = base.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ c
                let hi = base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                c = t[Int((c ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (c >> 8)
                i += 1
            }
            return ~c
        }
    }
}
