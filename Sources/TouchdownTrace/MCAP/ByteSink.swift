#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a writer's bytes go. Each `write` hands the bytes to the operating
/// system (or memory) before it returns, so what was written survives the
/// writing process being killed.
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Asks the operating system to put written bytes on stable storage.
    func sync() throws
    func close() throws
}

/// A file opened for writing (created or truncated).
public final class FileSink: ByteSink {
    public let path: String
    private var fd: Int32

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw MCAPError.io(path: path, operation: "open for writing", errno: errno) }
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0 else { throw MCAPError.invalidUse("write to \(path) after close") }
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw MCAPError.io(path: path, operation: "write", errno: errno)
            }
            done += n
        }
    }

    public func sync() throws {
        if fd >= 0 && fsync(fd) != 0 { throw MCAPError.io(path: path, operation: "fsync", errno: errno) }
    }

    public func close() throws {
        guard fd >= 0 else { return }
        let rc = Glibc.close(fd)
        fd = -1
        if rc != 0 { throw MCAPError.io(path: path, operation: "close", errno: errno) }
    }
}

/// Bytes kept in memory, for tests and for tools that post-process a trace.
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func write(_ b: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: b) }
    public func sync() throws {}
    public func close() throws {}
}
