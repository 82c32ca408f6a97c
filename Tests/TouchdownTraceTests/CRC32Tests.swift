import Testing
@testable import TouchdownTrace
import TouchdownTestSupport

@Suite struct CRC32Tests {
    @Test func knownValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum([UInt8](repeating: 0, count: 32)) == 0x190A_55AD)
    }

    /// The wide, narrow and table paths agree at every length and alignment,
    /// fed whole or in two pieces. (On a CPU without VPCLMULQDQ or PCLMULQDQ
    /// the faster paths fall back to the tables and the comparison is weaker;
    /// the paths in use are recorded in the test's name below.)
    @Test(arguments: [CRC32.isWide ? "wide" : CRC32.isAccelerated ? "narrow" : "tables"])
    func pathsAgree(fastestPath: String) {
        var random = SeededRandom(seed: 32)
        let buffer = (0..<5000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        buffer.withUnsafeBytes { all in
            for length in stride(from: 0, to: 4900, by: 7) {
                for start in 0..<4 {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start..<start + length])
                    let whole = CRC32.update(0, slice)
                    #expect(whole == CRC32.portableUpdate(0, slice))
                    #expect(whole == CRC32.narrowUpdate(0, slice))
                    let cut = length / 3
                    let pieces = CRC32.update(CRC32.update(0, UnsafeRawBufferPointer(rebasing: slice[..<cut])), UnsafeRawBufferPointer(rebasing: slice[cut...]))
                    #expect(whole == pieces)
                }
            }
        }
    }
}
