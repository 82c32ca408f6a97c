#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random-access bytes of a trace: a file read with `pread`, or memory.
///
/// Readers never map or load a whole file: they read what a record needs,
/// after checking its declared length against `size` and their limits.
public protocol ByteSource: AnyObject {
    /// Total bytes available.
    var size: UInt64 { get }
    /// A name for messages (the path).
    var name: String { get }
    /// Reads exactly `count` bytes at `offset` into `buffer` (which has room for them).
    func read(at offset: UInt64, count: Int, into buffer: UnsafeMutableRawBufferPointer) throws
}

public final class FileSource: ByteSource {
    public let name: String
    public let size: UInt64
    private let fd: Int32

    public init(path: String) throws {
        name = path
        // Non-blocking, so that opening a FIFO does not wait for a writer;
        // anything but a regular file is then refused.
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw MCAPError.io(path: path, operation: "open", errno: errno) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let e = errno
            _ = close(fd)
            throw MCAPError.io(path: path, operation: "stat", errno: e)
        }
        let type = st.st_mode & S_IFMT
        if type == S_IFDIR {
            _ = close(fd)
            throw MCAPError.io(path: path, operation: "open", errno: EISDIR)
        }
        guard type == S_IFREG else {
            _ = close(fd)
            throw MCAPError.notARegularFile(path: path, kind: fileKind(type))
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        size = UInt64(st.st_size)
    }

    deinit { _ = close(fd) }

    public func read(at offset: UInt64, count: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(count <= buffer.count)
        var done = 0
        while done < count {
            let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw MCAPError.io(path: name, operation: "read", errno: errno)
            }
            if n == 0 {
                throw MCAPError.truncated(record: "file", offset: offset, needed: UInt64(count), available: UInt64(done))
            }
            done += n
        }
    }
}

public final class MemorySource: ByteSource {
    public let bytes: [UInt8]
    public let name: String
    public var size: UInt64 { UInt64(bytes.count) }

    public init(_ bytes: [UInt8], name: String = "<memory>") {
        self.bytes = bytes
        self.name = name
    }

    public func read(at offset: UInt64, count: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard offset <= size, UInt64(count) <= size - offset else {
            throw MCAPError.truncated(record: "file", offset: offset, needed: UInt64(count), available: offset <= size ? size - offset : 0)
        }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + Int(offset), byteCount: count)
        }
    }
}

/// A read-ahead window over a source, for readers that walk a file front to
/// back: small records are served from one large read.
struct ReadWindow {
    let source: ByteSource
    private var storage: [UInt8] = []
    private var windowStart: UInt64 = 0
    private var windowCount: Int = 0
    /// How much one read fetches at least.
    let blockSize_bytes: Int

    init(source: ByteSource, blockSize_bytes: Int = 1 << 20) {
        self.source = source
        self.blockSize_bytes = blockSize_bytes
    }

    /// Makes bytes `offset ..< offset+count` available and calls `body` with them.
    /// Callers check them against the source first, to name the record in
    /// the error; this checks again, in case the source has shrunk since.
    mutating func with<R>(at offset: UInt64, count: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let size = source.size
        guard offset <= size, UInt64(count) <= size - offset else {
            throw MCAPError.truncated(record: "file", offset: offset, needed: UInt64(count), available: offset <= size ? size - offset : 0)
        }
        if offset < windowStart || offset + UInt64(count) > windowStart + UInt64(windowCount) {
            let want = Swift.min(UInt64(Swift.max(count, blockSize_bytes)), source.size - offset)
            if storage.count < Int(want) { storage = [UInt8](repeating: 0, count: Int(want)) }
            let src = source
            try storage.withUnsafeMutableBytes { (b) throws in try src.read(at: offset, count: Int(want), into: b) }
            windowStart = offset
            windowCount = Int(want)
        }
        let start = Int(offset - windowStart)
        return try storage.withUnsafeBytes { (b) throws in
            try body(UnsafeRawBufferPointer(rebasing: b[start..<start + count]))
        }
    }

    /// The 9-byte record header at `offset`: opcode and content length, unchecked.
    mutating func recordHeader(at offset: UInt64) throws -> (opcode: UInt8, length: UInt64) {
        try with(at: offset, count: 9) { ($0[0], UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 1, as: UInt64.self))) }
    }

    /// The record header at `offset`, its length checked against the bytes
    /// before `end` and the record size limit; `what` names the header in
    /// the error when fewer than 9 bytes are left.
    mutating func checkedRecordHeader(at offset: UInt64, end: UInt64, limits: ReadLimits, what: String) throws -> (opcode: UInt8, length: UInt64) {
        let left = end - offset
        guard left >= 9 else { throw MCAPError.truncated(record: what, offset: offset, needed: 9, available: left) }
        let (op, length) = try recordHeader(at: offset)
        guard length <= left - 9 else {
            throw MCAPError.truncated(record: Opcode.name(of: op), offset: offset, needed: length &+ 9, available: left)
        }
        guard length <= limits.maxRecordSize_bytes else {
            throw MCAPError.recordTooLarge(record: Opcode.name(of: op), offset: offset, length: length, limit: limits.maxRecordSize_bytes)
        }
        return (op, length)
    }

    /// Releases a large buffer that one big record needed.
    mutating func shrink() {
        if storage.count > 4 * Swift.max(blockSize_bytes, 1 << 20) {
            storage = []
            windowCount = 0
        }
    }
}

/// What a file of this type (`st_mode & S_IFMT`) is, for messages.
func fileKind(_ type: mode_t) -> String {
    switch type {
    case S_IFDIR: "a directory"
    case S_IFIFO: "a FIFO"
    case S_IFCHR: "a character device"
    case S_IFBLK: "a block device"
    case S_IFSOCK: "a socket"
    default: "not a regular file"
    }
}
