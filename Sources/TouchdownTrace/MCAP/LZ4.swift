import CLZ4

/// Every call into liblz4 lives in this file. MCAP's `lz4` compression is the
/// LZ4 frame format. Touchdown writes zstd; it reads lz4 because other
/// recorders write it.
final class LZ4Decompressor {
    private var context: OpaquePointer?

    init() throws {
        var dctx: OpaquePointer?
        let rc = LZ4F_createDecompressionContext(&dctx, UInt32(LZ4F_VERSION))
        if LZ4F_isError(rc) != 0 || dctx == nil {
            throw MCAPError.compressionFailed(codec: "lz4", reason: String(cString: LZ4F_getErrorName(rc)))
        }
        context = dctx
    }

    deinit { LZ4F_freeDecompressionContext(context) }

    /// Decompresses a whole LZ4 frame into exactly `destination.count` bytes.
    func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Result<Void, DecompressionFailure> {
        LZ4F_resetDecompressionContext(context)
        var sourceOffset = 0
        var destinationOffset = 0
        // Each call consumes input and produces output; a frame needs a bounded
        // number of calls (each makes progress or we stop).
        while true {
            var sourceSize = source.count - sourceOffset
            var destinationSize = destination.count - destinationOffset
            let rc = LZ4F_decompress(
                context,
                destination.baseAddress.map { $0 + destinationOffset }, &destinationSize,
                source.baseAddress.map { $0 + sourceOffset }, &sourceSize,
                nil)
            if LZ4F_isError(rc) != 0 {
                return .failure(.init(reason: String(cString: LZ4F_getErrorName(rc))))
            }
            sourceOffset += sourceSize
            destinationOffset += destinationSize
            if rc == 0 { break }  // frame complete
            if sourceSize == 0 && destinationSize == 0 {
                if destinationOffset == destination.count {
                    return .failure(.init(reason: "lz4 frame holds more than the \(destination.count) bytes the chunk declares"))
                }
                return .failure(.init(reason: "lz4 frame is truncated"))
            }
        }
        if destinationOffset != destination.count {
            return .failure(.init(reason: "lz4 produced \(destinationOffset) bytes, chunk says \(destination.count)"))
        }
        return .success(())
    }
}
