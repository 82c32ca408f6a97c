import CZstd

/// Every call into libzstd lives in this file.
///
/// Contexts are reused across chunks (one per writer or reader), so a trace of
/// any length costs one allocation of each, not one per chunk. The writer
/// compresses with `ZstdStream`; one-shot compression is only in the
/// benchmark, as the reference it is measured against.

/// libzstd's name for an error code.
func zstdErrorName(_ code: Int) -> String { String(cString: ZSTD_getErrorName(code)) }

/// One zstd frame built from consecutive segments, each ending in a flush
/// (a block boundary), the last one ending the frame.
///
/// The bytes produced depend only on the segments' contents and boundaries,
/// never on when the calls are made, which is what lets a chunk be
/// compressed a segment at a time on another thread while it fills. The
/// frame does not state its content size (it is not known when the frame
/// starts); the chunk record does.
final class ZstdStream {
    private let context: OpaquePointer

    init(level: Int32) throws {
        guard let cctx = ZSTD_createCCtx() else { throw MCAPError.compressionFailed(codec: "zstd", reason: "ZSTD_createCCtx returned NULL") }
        context = cctx
        for (parameter, value) in [(ZSTD_c_compressionLevel, level), (ZSTD_c_windowLog, Self.windowLog)] {
            let rc = ZSTD_CCtx_setParameter(cctx, parameter, value)
            if ZSTD_isError(rc) != 0 {
                ZSTD_freeCCtx(cctx)
                throw MCAPError.compressionFailed(codec: "zstd", reason: "level \(level), window log \(Self.windowLog): " + zstdErrorName(rc))
            }
        }
    }

    /// 1 MiB, the default chunk size: a chunk is its own frame, so a longer
    /// window would only cost memory.
    static let windowLog: Int32 = 20

    deinit { ZSTD_freeCCtx(context) }

    /// Compresses `segment` onto the end of `output` and flushes it; with
    /// `last`, ends the frame, and the next call starts a new one.
    func compress(_ segment: UnsafeRawBufferPointer, last: Bool, into output: inout ByteWriter) throws {
        var input = ZSTD_inBuffer(src: segment.baseAddress, size: segment.count, pos: 0)
        let directive = last ? ZSTD_e_end : ZSTD_e_flush
        while true {
            output.reserve(total: output.count + ZSTD_compressBound(input.size - input.pos) + 64)
            var out = ZSTD_outBuffer(dst: output.baseAddress + output.count, size: output.capacityBytes - output.count, pos: 0)
            let remaining = ZSTD_compressStream2(context, &out, &input, directive)
            if ZSTD_isError(remaining) != 0 {
                _ = ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
                throw MCAPError.compressionFailed(codec: "zstd", reason: zstdErrorName(remaining))
            }
            output.setCount(output.count + out.pos)
            if remaining == 0 && input.pos == input.size { return }
        }
    }
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
            return .failure(.init(reason: zstdErrorName(rc)))
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
