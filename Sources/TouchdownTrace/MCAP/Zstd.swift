import CZstd

/// Every call into libzstd lives in this file.
///
/// Contexts are reused across chunks (one per writer or reader), so a trace of
/// any length costs one allocation of each, not one per chunk.

/// A reusable zstd compression context at a fixed level.
final class ZstdCompressor {
    private let context: OpaquePointer
    let level: Int32

    init(level: Int32) throws {
        guard let cctx = ZSTD_createCCtx() else { throw MCAPError.compressionFailed(codec: "zstd", reason: "ZSTD_createCCtx returned NULL") }
        context = cctx
        self.level = level
        let rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
        if ZSTD_isError(rc) != 0 {
            ZSTD_freeCCtx(cctx)
            throw MCAPError.compressionFailed(codec: "zstd", reason: "level \(level): " + Self.name(rc))
        }
    }

    deinit { ZSTD_freeCCtx(context) }

    /// The largest output compressing `count` bytes can produce.
    static func bound(_ count: Int) -> Int { ZSTD_compressBound(count) }

    /// Compresses `source` into `destination`, which must hold `bound(source.count)` bytes.
    /// Returns the compressed size.
    func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        let rc = ZSTD_compress2(context, destination.baseAddress, destination.count, source.baseAddress, source.count)
        if ZSTD_isError(rc) != 0 { throw MCAPError.compressionFailed(codec: "zstd", reason: Self.name(rc)) }
        return rc
    }

    static func name(_ code: Int) -> String { String(cString: ZSTD_getErrorName(code)) }
}

/// A reusable zstd decompression context.
final class ZstdDecompressor {
    private let context: OpaquePointer

    init() throws {
        guard let dctx = ZSTD_createDCtx() else { throw MCAPError.compressionFailed(codec: "zstd", reason: "ZSTD_createDCtx returned NULL") }
        context = dctx
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Decompresses `source` into exactly `destination.count` bytes.
    ///
    /// The destination size comes from the chunk record, already checked against
    /// the reader's limit; the output may never exceed it (no decompression bomb
    /// gets further than the buffer the caller sized), and must fill it.
    /// Checks the frame header before any buffer is sized for it: a frame
    /// that states a content size must state the one the chunk declares.
    static func checkFrame(_ source: UnsafeRawBufferPointer, expectedSize: UInt64) -> DecompressionFailure? {
        let declared = ZSTD_getFrameContentSize(source.baseAddress, source.count)
        if declared == ZSTD_CONTENTSIZE_ERROR { return .init(reason: "not a zstd frame") }
        if declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != expectedSize {
            return .init(reason: "zstd frame holds \(declared) bytes, chunk says \(expectedSize)")
        }
        return nil
    }

    func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Result<Void, DecompressionFailure> {
        let rc = ZSTD_decompressDCtx(context, destination.baseAddress, destination.count, source.baseAddress, source.count)
        if ZSTD_isError(rc) != 0 {
            return .failure(.init(reason: ZstdCompressor.name(rc)))
        }
        if rc != destination.count {
            return .failure(.init(reason: "zstd produced \(rc) bytes, chunk says \(destination.count)"))
        }
        return .success(())
    }
}

/// Why a chunk could not be decompressed, in the codec's words.
struct DecompressionFailure: Error {
    var reason: String
}
