import CTouchdownIO
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Compresses the open chunk with zstd a segment at a time while it fills,
/// on a thread of its own, so that closing a chunk waits only for its last
/// segment.
///
/// A segment ends after the first message that brings the chunk's
/// unsubmitted bytes to `segment_bytes`, and at the chunk's end. Each segment
/// is compressed and flushed (a zstd block boundary), the last one ends the
/// frame. The boundaries depend only on the messages, and zstd's output only
/// on the segments, so the bytes are the same whether the segments are
/// compressed on the worker thread or on the caller's, and however the two
/// threads are scheduled.
///
/// Crash safety is unchanged: a chunk is written when it closes, after its
/// last segment is compressed, and nothing of the next chunk is accepted
/// before. A segment in the worker's hands belongs to the open chunk.
///
/// The worker reads the chunk's bytes in place. A segment keeps the chunk
/// buffer's storage alive, so a buffer that grows (and moves) under a large
/// message stays readable for the segments already submitted; bytes are
/// never changed once submitted.
final class ChunkCompressor {
    /// The size at which a segment is cut. Smaller segments leave less to
    /// compress when the chunk closes but compress slower and a little
    /// worse (zstd starts a block at each).
    static let segment_bytes = 32 << 10

    private let shared: Shared
    private var thread: pthread_t?
    /// Chunk offset up to which segments have been submitted.
    private var submitted = 0
    /// Chunks whose last segment has been submitted.
    private var chunksEnded = 0

    /// With `background` false, every segment is compressed on the caller's
    /// thread as it is submitted (same bytes; for single-core machines and
    /// for tests that compare the two).
    init(level: Int32, background: Bool) throws {
        shared = Shared(stream: try ZstdStream(level: level))
        guard background else { return }
        var handle = pthread_t()
        let context = Unmanaged.passRetained(shared).toOpaque()
        let rc = pthread_create(&handle, nil, { context in
            let shared = Unmanaged<Shared>.fromOpaque(context!).takeRetainedValue()
            shared.work()
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<Shared>.fromOpaque(context).release()
            throw MCAPError.compressionFailed(codec: "zstd", reason: "could not start the compression thread (error \(rc))")
        }
        thread = handle
    }

    deinit { stop() }

    /// Called after each message is appended to `chunk`.
    @inline(__always)
    func messageAppended(_ chunk: borrowing ByteWriter) {
        if chunk.count - submitted >= Self.segment_bytes { submit(chunk, last: false) }
    }

    /// Submits the chunk's last segment and waits for its frame. Returns the
    /// CRC of the chunk's uncompressed bytes and the frame, which stays valid
    /// until the next message is appended.
    func endChunk(_ chunk: borrowing ByteWriter) throws -> (uncompressedCRC: UInt32, frame: UnsafeRawBufferPointer) {
        submit(chunk, last: true)
        chunksEnded += 1
        if thread != nil && !shared.spin(until: { $0.chunksFinished.load(ordering: .acquiring) >= chunksEnded }) {
            shared.lock()
            while shared.chunksFinished.load(ordering: .acquiring) < chunksEnded {
                shared.ownerWaiting = true
                pthread_cond_wait(shared.chunkFinished, shared.mutex)
                shared.ownerWaiting = false
            }
            shared.unlock()
        }
        // The worker is idle until the next segment: its fields are ours to read.
        if let failure = shared.failure {
            shared.failure = nil
            throw failure
        }
        return (shared.crc, shared.output.bytes)
    }

    /// Lets the worker finish what it holds and ends it. Nothing may be
    /// submitted afterwards.
    func stop() {
        guard let handle = thread else { return }
        thread = nil
        shared.lock()
        shared.stopping = true
        pthread_cond_signal(shared.workAvailable)
        shared.unlock()
        pthread_join(handle, nil)
    }

    private func submit(_ chunk: borrowing ByteWriter, last: Bool) {
        let segment = Segment(storage: chunk.storageHandle, base: UnsafeRawPointer(chunk.baseAddress),
                              start: submitted, end: chunk.count, last: last)
        submitted = last ? 0 : chunk.count
        guard thread != nil else {
            shared.compress(segment)
            if last { shared.chunksFinished.add(1, ordering: .releasing) }
            return
        }
        shared.lock()
        shared.queue.append(segment)
        shared.segmentsSubmitted.add(1, ordering: .releasing)
        if shared.workerWaiting { pthread_cond_signal(shared.workAvailable) }
        shared.unlock()
    }
}

/// A stretch of the open chunk to compress, with the storage it lies in.
private struct Segment {
    let storage: AnyObject
    let base: UnsafeRawPointer
    let start: Int
    let end: Int
    let last: Bool
}

/// What the owner and the worker share. The queue and flags are guarded by
/// `mutex`; the stream, output and CRC belong to whoever compresses (the
/// worker while a chunk is in progress, the owner once it has finished).
///
/// Each side spins a little before it sleeps: waking a sleeping thread
/// costs tens of microseconds on a virtual machine, as long as compressing
/// a segment, and a chunk has several.
private final class Shared: @unchecked Sendable {
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let workAvailable = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    let chunkFinished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    var queue: [Segment] = []
    var workerWaiting = false
    var ownerWaiting = false
    var stopping = false
    /// Chunks whose frame is complete (written by the worker, read by the owner while spinning).
    let chunksFinished = Atomic<Int>(0)
    /// Segments ever queued (for the worker's spin).
    let segmentsSubmitted = Atomic<Int>(0)

    let stream: ZstdStream
    var output = ByteWriter(capacity: 1 << 16)
    var crc: UInt32 = 0
    var failure: MCAPError?

    init(stream: ZstdStream) {
        self.stream = stream
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(workAvailable, nil)
        pthread_cond_init(chunkFinished, nil)
    }

    deinit {
        pthread_cond_destroy(chunkFinished)
        pthread_cond_destroy(workAvailable)
        pthread_mutex_destroy(mutex)
        chunkFinished.deallocate()
        workAvailable.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    /// About 0.5 to 2 ms of PAUSE instructions, more than a segment takes to
    /// compress; a count, not a clock, so nothing here reads the time.
    static let spinLimit = 20_000

    /// Spins until `done` holds or the limit is reached; returns whether it held.
    func spin(until done: (Shared) -> Bool) -> Bool {
        for _ in 0..<Self.spinLimit {
            if done(self) { return true }
            td_spin_pause()
        }
        return done(self)
    }

    func compress(_ segment: Segment) {
        if segment.start == 0 {
            output.removeAll()
            crc = 0
        }
        let bytes = UnsafeRawBufferPointer(start: segment.base + segment.start, count: segment.end - segment.start)
        crc = CRC32.update(crc, bytes)
        do {
            try stream.compress(bytes, last: segment.last, into: &output)
        } catch let error as MCAPError {
            if failure == nil { failure = error }
        } catch {
            if failure == nil { failure = .compressionFailed(codec: "zstd", reason: "\(error)") }
        }
    }

    /// The worker thread's loop.
    func work() {
        var seen = 0
        lock()
        while true {
            if queue.isEmpty && !stopping {
                // Spin outside the lock for the next segment, then sleep.
                unlock()
                _ = spin(until: { $0.segmentsSubmitted.load(ordering: .acquiring) != seen })
                lock()
            }
            while queue.isEmpty && !stopping {
                workerWaiting = true
                pthread_cond_wait(workAvailable, mutex)
                workerWaiting = false
            }
            seen = segmentsSubmitted.load(ordering: .relaxed)
            if queue.isEmpty { break }  // stopping, and everything done
            let segment = queue.removeFirst()
            unlock()
            compress(segment)
            lock()
            if segment.last {
                chunksFinished.add(1, ordering: .releasing)
                if ownerWaiting { pthread_cond_signal(chunkFinished) }
            }
        }
        unlock()
    }
}

