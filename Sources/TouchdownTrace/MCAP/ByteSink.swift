import CTouchdownIO
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
    /// Writes the buffers one after another, as one operation where the
    /// sink can (a closed chunk goes to the operating system in one call).
    func write(gathering buffers: [UnsafeRawBufferPointer]) throws
    /// Asks the operating system to put written bytes on stable storage.
    func sync() throws
    func close() throws
}

extension ByteSink {
    public func write(gathering buffers: [UnsafeRawBufferPointer]) throws {
        for b in buffers { try write(b) }
    }
}

/// A file opened for writing (created or truncated), written from start to end.
///
/// Disk blocks are reserved a few MiB ahead of the writes (`fallocate` with
/// `FALLOC_FL_KEEP_SIZE`, so the file's size is always what was written):
/// the page cache then takes each chunk without allocating blocks for it,
/// which makes writing about a fifth cheaper on ext4. `close` gives back
/// what was reserved and not used. A writer killed before `close` leaves
/// that reserve (at most `reserveStep_bytes`) allocated past the end of the
/// file, invisible to readers, until the file is next truncated or deleted.
public final class FileSink: ByteSink {
    public let path: String
    private var fd: Int32
    /// Bytes handed to the kernel: the file's size.
    private var size: Int64 = 0
    /// Blocks are reserved up to here.
    private var reservedEnd: Int64 = 0
    /// False once the file system has refused a reservation (it is only a speed-up).
    private var reserving = true
    static let reserveStep_bytes: Int64 = 4 << 20

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw MCAPError.io(path: path, operation: "open for writing", errno: errno) }
    }

    deinit {
        guard fd >= 0 else { return }
        if reservedEnd > size { _ = ftruncate(fd, off_t(size)) }
        _ = Glibc.close(fd)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws { try write(gathering: [bytes]) }

    /// One `writev(2)` for all the buffers (more if the kernel takes part of
    /// them): a few large writes cost the page cache far less than many small ones.
    public func write(gathering buffers: [UnsafeRawBufferPointer]) throws {
        guard fd >= 0 else { throw MCAPError.invalidUse("write to \(path) after close") }
        let total = buffers.reduce(0) { $0 + $1.count }
        reserve(total)
        var pending = buffers.filter { $0.count > 0 }.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
        var first = 0  // 1024 is Linux's limit of buffers per call (UIO_MAXIOV)
        while first < pending.count {
            let count = Int32(Swift.min(pending.count - first, 1024))
            let n = pending.withUnsafeBufferPointer { writev(fd, $0.baseAddress! + first, count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw MCAPError.io(path: path, operation: "write", errno: errno)
            }
            size += Int64(n)
            // Skip what the kernel took: whole buffers, then part of one.
            var taken = n
            while first < pending.count && taken >= pending[first].iov_len {
                taken -= pending[first].iov_len
                first += 1
            }
            if taken > 0 {
                pending[first].iov_base += taken
                pending[first].iov_len -= taken
            }
        }
    }

    /// Reserves blocks so that `count` more bytes fit, a step at a time.
    private func reserve(_ count: Int) {
        let end = size + Int64(count)
        guard reserving, end > reservedEnd else { return }
        var newEnd = reservedEnd + Self.reserveStep_bytes
        if newEnd < end { newEnd = end + Self.reserveStep_bytes }
        if td_reserve_blocks(fd, reservedEnd, newEnd - reservedEnd) == 0 {
            reservedEnd = newEnd
        } else {
            reserving = false
        }
    }

    public func sync() throws {
        if fd >= 0 && fsync(fd) != 0 { throw MCAPError.io(path: path, operation: "fsync", errno: errno) }
    }

    public func close() throws {
        guard fd >= 0 else { return }
        // Give back the blocks reserved past the end (a no-op for the size).
        if reservedEnd > size && ftruncate(fd, off_t(size)) != 0 {
            let code = errno
            _ = Glibc.close(fd)
            fd = -1
            throw MCAPError.io(path: path, operation: "truncate to the written size", errno: code)
        }
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
