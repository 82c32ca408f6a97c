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
/// A trace file being written. The bytes go to a temporary file beside
/// the destination (`.NAME.partial-XXXXXX`), renamed over the destination
/// only by a successful `close()`: a failed run never leaves a half-written
/// file under the final name nor clobbers the one there, and a run that is
/// killed leaves its partial recording under the temporary name for
/// `touchdown trace recover`. A sink dropped without `close()` removes its
/// temporary file.
public final class FileSink: ByteSink {
    /// The destination.
    public let path: String
    /// Where the bytes go until `close()`.
    public let temporaryPath: String
    private var fd: Int32
    private var committed = false
    /// Bytes handed to the kernel: the file's size.
    private var size: Int64 = 0
    /// Blocks are reserved up to here.
    private var reservedEnd: Int64 = 0
    /// False once the file system has refused a reservation (it is only a speed-up).
    private var reserving = true
    static let reserveStep_bytes: Int64 = 4 << 20

    /// - Throws: `MCAPError.notARegularFile` when the destination exists and
    ///   is not a regular file (a device, a FIFO: it would be replaced by a
    ///   file), or `MCAPError.io` when no temporary file can be made beside it.
    public init(path: String) throws {
        // An existing destination reached through symbolic links is written
        // where they lead, not by replacing the link.
        var destination = path
        var st = stat()
        if stat(path, &st) == 0 {
            let type = st.st_mode & S_IFMT
            guard type == S_IFREG else {
                throw MCAPError.notARegularFile(path: path, kind: fileKind(type))
            }
            if let resolved = realpath(path, nil) {
                destination = String(cString: resolved)
                free(resolved)
            }
        }
        self.path = destination
        let slash = destination.lastIndex(of: "/")
        let folder = slash.map { String(destination[...$0]) } ?? ""
        let name = slash.map { String(destination[destination.index(after: $0)...]) } ?? destination
        var template = Array("\(folder).\(name).partial-XXXXXX".utf8CString)
        fd = template.withUnsafeMutableBufferPointer { td_open_temporary($0.baseAddress!) }
        if fd < 0 { throw MCAPError.io(path: path, operation: "create a temporary file beside", errno: errno) }
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        _ = fchmod(fd, 0o644)
    }

    deinit {
        if fd >= 0 {
            if reservedEnd > size { _ = ftruncate(fd, off_t(size)) }
            _ = Glibc.close(fd)
        }
        if !committed { _ = unlink(temporaryPath) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws { try write(gathering: [bytes]) }

    /// Gives up writing but keeps what was written, under the temporary
    /// name (returned), for `touchdown trace recover`: a live capture that
    /// fails part way must not lose what it captured.
    @discardableResult
    public func keepPartial() -> String {
        committed = true
        if fd >= 0 {
            if reservedEnd > size { _ = ftruncate(fd, off_t(size)) }
            _ = Glibc.close(fd)
            fd = -1
        }
        return temporaryPath
    }

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
        if rc != 0 { throw MCAPError.io(path: temporaryPath, operation: "close", errno: errno) }
        guard rename(temporaryPath, path) == 0 else {
            throw MCAPError.io(path: path, operation: "rename \(temporaryPath) to", errno: errno)
        }
        committed = true
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
