/// Text written out as it is made: appends gather in a buffer that is
/// handed to `write` each time it reaches `blockSize_bytes`, and by
/// ``flush()``. A value of any size (a large message printed as JSON)
/// passes through a buffer of about that size and is never held whole.
public final class TextOutput {
    private var buffer = ""
    public let blockSize_bytes: Int
    private let write: (UnsafeRawBufferPointer) -> Void

    /// - Parameters:
    ///   - blockSize_bytes: how much text gathers before it is written.
    ///   - write: takes each block; it owns what happens on failure.
    public init(blockSize_bytes: Int = 1 << 16, write: @escaping (UnsafeRawBufferPointer) -> Void) {
        precondition(blockSize_bytes > 0)
        self.blockSize_bytes = blockSize_bytes
        self.write = write
        buffer.reserveCapacity(blockSize_bytes + 256)
    }

    /// The text `body` writes, gathered in a string: for small values and tests.
    public static func collect(_ body: (TextOutput) throws -> Void) rethrows -> String {
        var bytes: [UInt8] = []
        let output = TextOutput { bytes.append(contentsOf: $0) }
        try body(output)
        output.flush()
        return String(decoding: bytes, as: UTF8.self)
    }

    public func append(_ text: String) {
        buffer += text
        if buffer.utf8.count >= blockSize_bytes { flush() }
    }

    /// Appends through `body`, which writes into the buffer directly (with
    /// `appendJSON(to:)`, say); keep each call's text small.
    public func append(_ body: (inout String) -> Void) {
        body(&buffer)
        if buffer.utf8.count >= blockSize_bytes { flush() }
    }

    /// Writes out whatever has gathered.
    public func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUTF8 { write(UnsafeRawBufferPointer($0)) }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}
