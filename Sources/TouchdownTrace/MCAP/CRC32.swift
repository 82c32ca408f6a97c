import CTouchdownCRC

/// CRC-32 (ISO-HDLC / IEEE 802.3, the one zlib and the MCAP format use).
///
/// MCAP stores this CRC for chunk contents, the data section, the summary and
/// attachments. The running value starts at 0 and can be fed piecewise:
/// `crc = CRC32.update(crc, bytes)`. The work is done in C
/// (`CTouchdownCRC`): carry-less multiplication folding where the CPU has
/// it (on 64-byte AVX-512 registers where it can), slice-by-16 tables
/// otherwise; all give the same values.
public enum CRC32 {
    /// Continues a CRC over `bytes`. Start from 0.
    @inline(__always)
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard bytes.count > 0 else { return crc }
        return td_crc32_update(crc, bytes.baseAddress, bytes.count)
    }

    /// The CRC of `bytes` alone.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { update(0, bytes) }

    /// The CRC of `bytes` alone.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0) }
    }

    /// The table path alone, for tests that compare the two.
    static func portableUpdate(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard bytes.count > 0 else { return crc }
        return td_crc32_update_portable(crc, bytes.baseAddress, bytes.count)
    }

    /// The 16-byte carry-less path (or the tables), never the 64-byte one.
    static func narrowUpdate(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard bytes.count > 0 else { return crc }
        return td_crc32_update_narrow(crc, bytes.baseAddress, bytes.count)
    }

    /// Whether long inputs use VPCLMULQDQ on 64-byte registers on this CPU.
    public static var isWide: Bool { td_crc32_wide() != 0 }

    /// Whether the carry-less multiplication path is in use on this CPU.
    public static var isAccelerated: Bool { td_crc32_accelerated() != 0 }
}
