import CTouchdownIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes a writer keeps until it finishes (the summary's ChunkIndex records,
/// about 130 bytes per chunk). Up to `memoryLimit_bytes` stay in memory;
/// beyond that they move to an unlinked temporary file, so a writer's memory
/// does not grow with the length of the trace.
///
/// The temporary file only holds a copy: if it cannot be created or written
/// (a full or read-only temporary directory), the bytes stay in memory and
/// recording goes on. The output is the same either way.
final class SpillBuffer {
    private(set) var memory = ByteWriter(capacity: 1 << 16)
    let memoryLimit_bytes: Int
    /// Where the temporary file goes; nil means `$TMPDIR`, or `/tmp`.
    let directory: String?
    /// How much `forEachBlock` reads back from the file at a time.
    let readBlock_bytes: Int
    private var fd: Int32 = -1
    /// Bytes in the temporary file, which come before those in `memory`.
    private(set) var spilled_bytes: UInt64 = 0
    /// Every byte ever moved to the file, kept after `release()` (for tests).
    private(set) var movedToFile_bytes: UInt64 = 0
    /// False once the temporary file has failed; memory is used from then on.
    private var spilling = true

    init(memoryLimit_bytes: Int, directory: String?, readBlock_bytes: Int = 1 << 20) {
        precondition(memoryLimit_bytes > 0 && readBlock_bytes > 0)
        self.memoryLimit_bytes = memoryLimit_bytes
        self.directory = directory
        self.readBlock_bytes = readBlock_bytes
    }

    deinit { release() }

    /// Appends through `body`, then moves what memory holds to the file once
    /// it passes the limit.
    func append(_ body: (inout ByteWriter) -> Void) {
        body(&memory)
        if spilling && memory.count >= memoryLimit_bytes { spill() }
    }

    private func spill() {
        if fd < 0 {
            fd = Self.openTemporaryFile(in: directory)
            if fd < 0 {
                spilling = false
                return
            }
        }
        var done = 0
        let bytes = memory.bytes
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(spilled_bytes) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                // Whatever reached the file past `spilled_bytes` is ignored;
                // the bytes stay in memory.
                spilling = false
                return
            }
            done += n
        }
        spilled_bytes += UInt64(bytes.count)
        movedToFile_bytes += UInt64(bytes.count)
        memory.removeAll()
    }

    /// Calls `body` with every byte held, in order, a block at a time.
    func forEachBlock(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        if spilled_bytes > 0 {
            var block = [UInt8](repeating: 0, count: Int(min(spilled_bytes, UInt64(readBlock_bytes))))
            var at: UInt64 = 0
            while at < spilled_bytes {
                let want = Int(min(UInt64(block.count), spilled_bytes - at))
                let (got, error) = block.withUnsafeMutableBytes { b -> (Int, Int32) in
                    while true {
                        let n = pread(fd, b.baseAddress!, want, off_t(at))
                        if n < 0 && errno == EINTR { continue }
                        return (n, n < 0 ? errno : EIO)
                    }
                }
                guard got > 0 else {
                    throw MCAPError.io(path: "(the writer's temporary file of ChunkIndex records)", operation: "read", errno: error)
                }
                try block.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
                at += UInt64(got)
            }
        }
        try memory.withUnsafeBytes { try body($0) }
    }

    /// Gives back the file and the memory; nothing is held afterwards.
    func release() {
        if fd >= 0 { _ = close(fd) }
        fd = -1
        spilled_bytes = 0
        spilling = false
        memory = ByteWriter(capacity: 0)
    }

    /// A new file in `directory` (nil: `$TMPDIR`, or `/tmp`), unlinked at
    /// once so that nothing is left behind however the process ends; -1
    /// when none can be made.
    private static func openTemporaryFile(in chosen: String?) -> Int32 {
        var directory = "/tmp"
        if let chosen {
            directory = chosen
        } else if let d = getenv("TMPDIR"), d.pointee != 0 {
            directory = String(decoding: UnsafeRawBufferPointer(start: d, count: strlen(d)), as: UTF8.self)
        }
        var template = Array("\(directory)/touchdown-chunk-indexes-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { td_open_unlinked_temporary($0.baseAddress!) }
    }
}
