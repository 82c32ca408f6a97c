import CTouchdownIO
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Compresses the open chunk with zstd a segment at a time while it fills,
/// with a helper thread taking the segments cut in the middle of a chunk
/// when it is free to run, so that closing a chunk has little left to do.
///
/// A segment ends after the first message that brings the chunk's
/// unsubmitted bytes to `segment_bytes`, and at the chunk's end. Each segment
/// is compressed and flushed (a zstd block boundary), the last one ends the
/// frame. The boundaries depend only on the messages, and zstd's output only
/// on the segments, so the bytes are the same whichever thread compresses
/// each segment, and however the two threads are scheduled.
///
/// While the recording thread may run on one CPU only (`taskset -c 0`, a
/// Slurm task bound to one CPU), the helper is of no use: it could only run
/// instead of the recording thread. The recording thread then compresses
/// every segment as it is cut, as the one-thread writer does, and never
/// wakes the helper; it reads its CPU set again as each chunk closes. So it
/// does while the machine has had no CPU to spare lately (``SpareCPU``).
///
/// The recording thread never waits for a helper that is not running. When
/// the helper has not picked a segment up by the time the next one is cut,
/// or the chunk closes, the recording thread compresses it itself; it waits
/// only for a segment the helper is compressing at that moment, spinning
/// briefly (not at all if the helper last ran on its core) and then
/// sleeping. The helper spins for its next segment only from another core
/// and only while segments have lately come every 250 us or sooner
/// (``HelperSpin``), and a helper that keeps being woken for nothing is
/// woken less often (``WakePolicy``). So with a second core free the helper
/// works beside the recorder, and without one the writer costs about what
/// it costs on one thread. The clock read to bound the spins never decides
/// what is written.
///
/// Crash safety is unchanged: a chunk is written when it closes, after its
/// last segment is compressed, and nothing of the next chunk is accepted
/// before. A queued segment belongs to the open chunk.
///
/// Whoever compresses reads the chunk's bytes in place. A segment keeps the
/// chunk buffer's storage alive, so a buffer that grows (and moves) under a
/// large message stays readable for the segments already submitted; bytes
/// are never changed once submitted.
final class ChunkCompressor {
    /// The size at which a segment is cut. Smaller segments leave less to
    /// compress when the chunk closes but compress slower and a little
    /// worse (zstd starts a block at each).
    static let segment_bytes = 32 << 10

    private let shared: Shared
    private var thread: pthread_t?
    /// Chunk offset up to which segments have been submitted.
    private var submitted = 0
    private var wakePolicy = WakePolicy()
    /// Segments the helper had taken, and had been slow with, when the
    /// open chunk began.
    private var helperTookBeforeChunk = 0
    private var helperSlowBeforeChunk = 0
    /// Whether the recording thread could run on one CPU only when the
    /// open chunk began.
    private var onOneCPU = ChunkCompressor.threadHasOneCPU()
    private var spareCPU = SpareCPU()
    /// Whether the helper may work on the open chunk: the recording thread
    /// could run on more than one CPU when it began, and the machine had
    /// a CPU to spare. If not, the helper is left asleep.
    private var helperHasACore: Bool { !onOneCPU && spareCPU.spare }
    private var helperWakes = 0
    private var chunksOnOneCPU = 0
    private var chunksWithNoSpareCPU = 0

    /// With `background` false, every segment is compressed on the caller's
    /// thread as it is submitted (same bytes; for single-core machines and
    /// for tests that compare the two). With `sharesOneCore` (tests), the
    /// helper takes a segment only while the caller's thread sleeps, as two
    /// threads confined to one core do.
    init(level: Int32, background: Bool, sharesOneCore: Bool = false) throws {
        shared = Shared(stream: try ZstdStream(level: level), sharesOneCore: sharesOneCore)
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

    /// What the compressor has done so far. Called on the recording thread.
    var counts: MCAPWriter.CompressionCounts {
        shared.lock()
        defer { shared.unlock() }
        var counts = MCAPWriter.CompressionCounts()
        counts.segmentsOnRecordingThread = shared.compressedByOwner
        counts.segmentsOnHelper = shared.compressedByHelper
        counts.helperWakes = helperWakes
        counts.chunksOnOneCPU = chunksOnOneCPU
        counts.chunksWithNoSpareCPU = chunksWithNoSpareCPU
        counts.slowSegmentsOnHelper = shared.slowOnHelper.load(ordering: .relaxed)
        return counts
    }

    /// Whether the calling thread may run on one CPU only; false where its
    /// CPU set cannot be read.
    private static func threadHasOneCPU() -> Bool {
        td_thread_cpu_count() == 1
    }

    /// Called after each message is appended to `chunk`.
    @inline(__always)
    func messageAppended(_ chunk: borrowing ByteWriter) {
        if chunk.count - submitted >= Self.segment_bytes { submitSegment(chunk) }
    }

    /// Compresses what is left of the chunk, helped by nothing but the
    /// segment the helper may hold. Returns the CRC of the chunk's
    /// uncompressed bytes and the frame, which stays valid until the next
    /// message is appended.
    func endChunk(_ chunk: borrowing ByteWriter) throws -> (uncompressedCRC: UInt32, frame: UnsafeRawBufferPointer) {
        let segment = cut(chunk, last: true)
        if thread == nil {
            shared.compressByOwner(segment, timed: false)
        } else if !helperHasACore {
            // Nothing was queued this chunk: the stream is free.
            shared.compressByOwner(segment, timed: true)
            if onOneCPU { chunksOnOneCPU += 1 } else { chunksWithNoSpareCPU += 1 }
        } else {
            let slept = shared.finishChunk(with: segment)
            let helperTook = shared.takenByHelper.load(ordering: .relaxed)
            let helped = helperTook != helperTookBeforeChunk
            // A helper on this thread's core gained nothing: it ran instead of this thread.
            let sameCore = helped && shared.helperCPU.load(ordering: .relaxed) == td_current_cpu()
            let slow = shared.slowOnHelper.load(ordering: .relaxed)
            wakePolicy.chunkClosed(helperCompressed: helped, onThisCore: sameCore,
                                   recorderWaited: slept || slow != helperSlowBeforeChunk)
            helperTookBeforeChunk = helperTook
            helperSlowBeforeChunk = slow
        }
        if thread != nil {
            spareCPU.update(now_ns: Spin.now_ns(), helperThreadID: shared.helperThreadID.load(ordering: .relaxed),
                            helperThreadTime_ns: shared.helperThreadTime_ns.load(ordering: .relaxed))
            onOneCPU = Self.threadHasOneCPU()
        }
        // The stream is free and nothing is queued: its fields are ours to read.
        if let failure = shared.failure {
            shared.failure = nil
            throw failure
        }
        return (shared.crc, shared.output.bytes)
    }

    /// Ends the helper. Segments it has not taken are dropped: nothing may be
    /// submitted afterwards, so their chunk is never written.
    func stop() {
        guard let handle = thread else { return }
        thread = nil
        shared.lock()
        shared.stopping = true
        pthread_cond_signal(shared.helperCanWork)
        shared.unlock()
        pthread_join(handle, nil)
        shared.queue.removeAll()
    }

    private func cut(_ chunk: borrowing ByteWriter, last: Bool) -> Segment {
        let segment = Segment(storage: chunk.storageHandle, base: UnsafeRawPointer(chunk.baseAddress),
                              start: submitted, end: chunk.count, last: last)
        submitted = last ? 0 : chunk.count
        return segment
    }

    private func submitSegment(_ chunk: borrowing ByteWriter) {
        let segment = cut(chunk, last: false)
        guard thread != nil && helperHasACore else {
            shared.compressByOwner(segment, timed: thread != nil)
            return
        }
        let (ordinal, wakeHelper) = shared.submit(segment, mayWake: wakePolicy.wakesHelper)
        guard wakeHelper else { return }
        pthread_cond_signal(shared.helperCanWork)
        helperWakes += 1
        // Taken before the wake call returned, on this CPU: the helper ran
        // instead of this thread. (Taken as quickly from another CPU is help.)
        let taken = shared.dequeued.load(ordering: .acquiring) >= ordinal
        wakePolicy.woke(helperRanHere: taken && shared.helperCPU.load(ordering: .relaxed) == td_current_cpu())
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

/// Whether the machine has had a CPU's worth of time to spare lately.
///
/// Every 100 ms or more (checked as chunks close), the CPUs' idle time
/// from `/proc/stat`, plus the time the helper thread ran less the time it
/// waited for a CPU while it could run (its `schedstat`), over the wall
/// time since the last look: half a CPU or more is spare. Where every CPU
/// is busy (another build on the machine), a woken helper only takes a
/// share of a busy CPU, and the recording thread waits whenever it loses
/// it holding the stream; the recording thread then compresses alone.
///
/// The helper's own time counts as spare, or its work would hide the core
/// it works on. But a helper sharing a busy CPU runs too, about as long
/// as it waits: counting its time alone, its spinning on a busy CPU could
/// keep the machine looking spare. Where the helper's `schedstat` cannot
/// be read, its thread's CPU time as of its last segment counts, with no
/// wait; where `/proc/stat` cannot be read, a CPU is taken as spare.
struct SpareCPU {
    static let interval_ns: UInt64 = 100_000_000
    private(set) var spare = true
    private var last_ns: UInt64 = 0
    private var lastIdle_ticks: UInt64 = 0
    private var lastHelper = HelperTime(run_ns: 0, wait_ns: 0)
    static let tick_ns: UInt64 = {
        let hz = sysconf(Int32(_SC_CLK_TCK))
        return hz > 0 ? 1_000_000_000 / UInt64(hz) : 10_000_000
    }()

    /// What the helper thread has had of a CPU, in all: the time it ran,
    /// and the time it waited, runnable, for a CPU another thread held.
    struct HelperTime {
        var run_ns: UInt64
        var wait_ns: UInt64
    }

    /// Looks again if it is time, reading the helper's `schedstat` by its
    /// thread id, or taking `helperThreadTime_ns` where that cannot be read.
    mutating func update(now_ns: UInt64, helperThreadID: Int32, helperThreadTime_ns: UInt64) {
        update(now_ns: now_ns, idleTicks: Self.idleTicks) {
            Self.schedStat(threadID: helperThreadID) ?? HelperTime(run_ns: helperThreadTime_ns, wait_ns: 0)
        }
    }

    /// `update`, with the idle time and the helper's read by the closures
    /// (tests).
    mutating func update(now_ns: UInt64, idleTicks: () -> UInt64?, helperTime: () -> HelperTime) {
        guard now_ns &- last_ns >= Self.interval_ns else { return }
        guard let idle_ticks = idleTicks() else {
            spare = true
            return
        }
        let helper = helperTime()
        if last_ns != 0 && idle_ticks >= lastIdle_ticks {
            let idle_ns = (idle_ticks - lastIdle_ticks) * Self.tick_ns
            let ran_ns = helper.run_ns &- lastHelper.run_ns
            let waited_ns = helper.wait_ns &- lastHelper.wait_ns
            let helperSpare_ns = ran_ns > waited_ns ? ran_ns - waited_ns : 0
            spare = idle_ns.addingReportingOverflow(helperSpare_ns).partialValue >= (now_ns &- last_ns) / 2
        }
        last_ns = now_ns
        lastIdle_ticks = idle_ticks
        lastHelper = helper
    }

    /// Idle and I/O-wait time of all CPUs, in clock ticks: the fourth and
    /// fifth numbers of `/proc/stat`'s first line ("cpu  user nice system
    /// idle iowait ...").
    static func idleTicks() -> UInt64? {
        guard let fields = firstLineFields(of: "/proc/stat"), fields.count >= 6, fields[0] == "cpu",
              let idle = UInt64(fields[4]), let iowait = UInt64(fields[5]) else { return nil }
        return idle + iowait
    }

    /// A thread's time on a CPU and waiting for one, in ns: the first two
    /// numbers of `/proc/self/task/<id>/schedstat`.
    static func schedStat(threadID: Int32) -> HelperTime? {
        guard threadID > 0, let fields = firstLineFields(of: "/proc/self/task/\(threadID)/schedstat"),
              fields.count >= 2, let run_ns = UInt64(fields[0]), let wait_ns = UInt64(fields[1]) else { return nil }
        return HelperTime(run_ns: run_ns, wait_ns: wait_ns)
    }

    /// The space-separated fields of a file's first line (at most 255 bytes
    /// of it), or nil where it cannot be read.
    private static func firstLineFields(of path: String) -> [Substring]? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" })
    }
}

/// How long the helper spins for its next segment before it sleeps.
///
/// Spinning pays where the helper has a core of its own and segments come
/// often: each wake-up of a sleeping helper costs 30 to 60 us on a virtual
/// machine before it starts on a segment that takes 100 to 250 us. So the
/// helper never spins on the CPU the recording thread last queued a
/// segment from, nor when its recent waits for a segment (a moving
/// average, `gap_ns`) exceed `maximumGap_ns`, as when a replay writes its
/// trace at flight rates. Otherwise it spins for that average and four
/// times the waits' mean deviation from it (`deviation_ns`; as TCP bounds
/// a retransmission timeout), and at least twice the average, up to
/// `maximumSpin_ns`: long enough for nearly every wait, when the waits
/// vary, as a recording thread's do between a system call and a page
/// fault. Twice the average alone left the helper asleep at a third of
/// the chunks of a recording written as fast as it could be.
///
/// A spin ends when the segment comes or the budget is spent, so the
/// helper spins at most as long as it waits, and not at all while its
/// waits average more than `maximumGap_ns`. A single wait counts for at
/// most `2 * maximumSpin_ns`, so that one long pause of the recording
/// thread stops the spinning for a few waits, not for fifty. The
/// monotonic clock read here decides only how long to spin, never what is
/// written.
struct HelperSpin {
    static let maximumGap_ns: UInt64 = 250_000
    static let maximumSpin_ns: UInt64 = 1_000_000
    private var gap_ns: UInt64 = 100_000
    private var deviation_ns: UInt64 = 50_000

    func budget_ns(onOwnersCore: Bool) -> UInt64 {
        onOwnersCore || gap_ns > Self.maximumGap_ns
            ? 0 : Swift.min(Self.maximumSpin_ns, Swift.max(2 * gap_ns, gap_ns + 4 * deviation_ns))
    }

    /// Records how long the helper waited between two segments.
    mutating func waited(_ wait_ns: UInt64) {
        let wait_ns = Swift.min(wait_ns, 2 * Self.maximumSpin_ns)
        let difference_ns = wait_ns > gap_ns ? wait_ns - gap_ns : gap_ns - wait_ns
        deviation_ns = (3 * deviation_ns + difference_ns) / 4
        gap_ns = (7 * gap_ns + wait_ns) / 8
    }
}

/// Spinning for another thread, bounded by the monotonic clock.
private enum Spin {
    /// Spins until `done` holds or `budget_ns` has passed; returns whether it held.
    static func spin(for budget_ns: UInt64, until done: () -> Bool) -> Bool {
        let start_ns = now_ns()
        // Bounded by the clock; the count bounds it should the clock stall.
        for round in 0..<1_000_000 {
            for _ in 0..<16 {
                if done() { return true }
                td_spin_pause()
            }
            if round % 4 == 3 && now_ns() &- start_ns >= budget_ns { break }
        }
        return done()
    }

    /// The monotonic clock. Linux cannot fail to read it into a valid
    /// `timespec`; were it to, 0 would stall the clock, and the round count
    /// would bound a spin.
    static func now_ns() -> UInt64 { read(CLOCK_MONOTONIC) ?? 0 }

    /// The calling thread's CPU time, or nil where it cannot be read.
    static func threadTime_ns() -> UInt64? { read(CLOCK_THREAD_CPUTIME_ID) }

    private static func read(_ clock: clockid_t) -> UInt64? {
        var t = timespec()
        guard clock_gettime(clock, &t) == 0 else { return nil }
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}

/// When to wake a sleeping helper for a segment cut mid-chunk.
///
/// A wake is wasted when the helper compresses nothing of the chunk (it was
/// not scheduled before the recording thread took its segments back); when
/// it ran on the recording thread's core, which gains nothing (it took the
/// segment on that CPU before the wake call even returned, or it last
/// compressed on the CPU the recording thread is on when the chunk closes);
/// or when the recording thread had to sleep until the helper finished a
/// segment, having spun for three times the usual segment time
/// (``SegmentTiming``), or the helper lost its CPU for over half the time
/// a segment took (it shares its core: the other CPU is busy). After a
/// wasted wake the helper is left asleep for the next 1, 2, 4, … up to
/// `maximumSkip` chunks; a chunk
/// the helper does help with starts again from none. A helper that is
/// already awake takes segments whatever this says.
private struct WakePolicy {
    static let maximumSkip = 64
    private var skip = 0
    private var chunksToSkip = 0
    private var wokeThisChunk = false
    private var wasted = false

    var wakesHelper: Bool { chunksToSkip == 0 }

    mutating func woke(helperRanHere: Bool) {
        wokeThisChunk = true
        if helperRanHere { wasted = true }
    }

    mutating func chunkClosed(helperCompressed: Bool, onThisCore: Bool, recorderWaited: Bool) {
        defer { wokeThisChunk = false; wasted = false }
        let helped = helperCompressed && !onThisCore && !recorderWaited
        if chunksToSkip > 0 {
            chunksToSkip -= 1
            if helped { skip = 0; chunksToSkip = 0 }
            return
        }
        guard wokeThisChunk else { return }
        if wasted || !helped {
            skip = skip == 0 ? 1 : Swift.min(Self.maximumSkip, skip * 2)
            chunksToSkip = skip
        } else {
            skip = 0
        }
    }
}

/// How long compressing a segment takes on a CPU of one's own, and so how
/// long the recording thread spins for the segment the helper holds.
///
/// The time per `segment_bytes` is a moving average over the segments of
/// either thread (the helper's thread CPU time; the recording thread's
/// wall time), but for short ones (a chunk's last), which say little, and
/// for those the helper lost its CPU over for more than half the time it
/// took (its wall time was over twice its thread's CPU time: another
/// thread ran on its CPU). An average of the recording thread's segments
/// alone went stale while the helper compressed nearly all of them, and
/// the helper's segments were then taken for slow ones.
///
/// The recording thread spins three times that average, within
/// `ownerSpinMinimum_ns` and `ownerSpinMaximum_ns`: a helper that takes
/// longer has most likely lost its CPU, and the recording thread sleeps.
/// Whichever thread holds the zstd stream updates the average, before it
/// lets go of the stream, so the two never update it at once. It decides
/// how long to spin, never what is written.
struct SegmentTiming: ~Copyable {
    static let ownerSpinMinimum_ns: UInt64 = 200_000
    static let ownerSpinMaximum_ns: UInt64 = 2_000_000
    private let average_ns = Atomic<UInt64>(100_000)

    var segmentTime_ns: UInt64 { average_ns.load(ordering: .relaxed) }

    var ownerSpin_ns: UInt64 {
        Swift.min(Self.ownerSpinMaximum_ns, Swift.max(Self.ownerSpinMinimum_ns, 3 * segmentTime_ns))
    }

    /// Records a segment of `bytes` the recording thread compressed in
    /// `wall_ns`.
    func ownerCompressed(bytes: Int, wall_ns: UInt64) {
        record(bytes: bytes, time_ns: wall_ns)
    }

    /// Records a segment of `bytes` the helper compressed in `wall_ns`,
    /// running for `threadTime_ns` of it (nil where its clock could not be
    /// read); returns whether it lost its CPU for more than half that time.
    /// A short segment is never judged: a single interrupt is a large part
    /// of a few microseconds.
    func helperLostItsCPU(bytes: Int, wall_ns: UInt64, threadTime_ns: UInt64?) -> Bool {
        guard bytes >= Self.shortest_bytes, let threadTime_ns else { return false }
        if wall_ns / 2 > threadTime_ns { return true }
        record(bytes: bytes, time_ns: threadTime_ns)
        return false
    }

    /// Segments shorter than this say little of a whole one's time.
    static let shortest_bytes = ChunkCompressor.segment_bytes / 4

    private func record(bytes: Int, time_ns: UInt64) {
        guard bytes >= Self.shortest_bytes else { return }
        let whole_ns = Swift.min(time_ns, 100_000_000) * UInt64(ChunkCompressor.segment_bytes) / UInt64(bytes)
        average_ns.store((3 * segmentTime_ns + whole_ns) / 4, ordering: .relaxed)
    }
}

/// What the recording thread (the owner) and the helper share.
///
/// One of them at a time holds the zstd stream (`streamInUse`) and
/// compresses the segment at the head of the queue; segments are therefore
/// compressed in order, each by one thread. The queue, the flags and the
/// counts are guarded by `mutex`; the stream, output and CRC belong to
/// whoever holds the stream, and to the owner once its chunk is finished.
private final class Shared: @unchecked Sendable {
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled when a segment is queued for a sleeping helper, and at stop.
    let helperCanWork = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Signalled when the helper lets go of the stream and the owner sleeps.
    let streamReleased = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Submitted segments no one has taken: at most the open chunk's, one
    /// per `segment_bytes` of it.
    var queue: [Segment] = []
    var streamInUse = false
    var helperSleeping = false
    var ownerSleeping = false
    var stopping = false
    /// (Tests) The helper may take a segment only while the owner sleeps.
    let sharesOneCore: Bool
    var compressedByOwner = 0
    var compressedByHelper = 0

    /// Segments ever queued, ever taken off the queue, and ever taken by
    /// the helper (read without the lock).
    let queued = Atomic<Int>(0)
    let dequeued = Atomic<Int>(0)
    let takenByHelper = Atomic<Int>(0)
    /// The CPU the helper last compressed a segment on, and the one the
    /// owner last queued a segment from.
    let helperCPU = Atomic<Int32>(-1)
    let ownerCPU = Atomic<Int32>(-1)
    /// `streamInUse`, for the owner's spin.
    let streamBusy = Atomic<Bool>(false)

    let stream: ZstdStream
    var output = ByteWriter(capacity: 1 << 16)
    var crc: UInt32 = 0
    var failure: MCAPError?

    init(stream: ZstdStream, sharesOneCore: Bool) {
        self.stream = stream
        self.sharesOneCore = sharesOneCore
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(helperCanWork, nil)
        pthread_cond_init(streamReleased, nil)
    }

    deinit {
        pthread_cond_destroy(streamReleased)
        pthread_cond_destroy(helperCanWork)
        pthread_mutex_destroy(mutex)
        streamReleased.deallocate()
        helperCanWork.deallocate()
        mutex.deallocate()
    }

    let timing = SegmentTiming()
    /// Segments the helper lost its CPU over (``SegmentTiming``): the CPU
    /// it runs on is shared, and the owner may have waited for it.
    let slowOnHelper = Atomic<Int>(0)
    /// The helper thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`) as of its
    /// last segment (for ``SpareCPU`` where its `schedstat` cannot be read).
    let helperThreadTime_ns = Atomic<UInt64>(0)
    /// The helper's kernel thread id, once it runs.
    let helperThreadID = Atomic<Int32>(0)

    /// Compresses on the owner's thread, timing it for ``SegmentTiming``.
    private func compressTimed(_ segment: Segment) {
        let start_ns = Spin.now_ns()
        compress(segment)
        timing.ownerCompressed(bytes: segment.end - segment.start, wall_ns: Spin.now_ns() &- start_ns)
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    /// Compresses a segment on the owner's thread with no helper running,
    /// `timed` where a helper exists, whose spins the time sets.
    func compressByOwner(_ segment: Segment, timed: Bool) {
        if timed { compressTimed(segment) } else { compress(segment) }
        compressedByOwner += 1
    }

    /// Queues a mid-chunk segment. Segments still queued, which the helper
    /// has not picked up, are compressed here first. Returns the segment's
    /// ordinal (segments ever queued, this one included) and whether the
    /// caller should wake the helper: it sleeps and `mayWake`.
    func submit(_ segment: Segment, mayWake: Bool) -> (ordinal: Int, wakeHelper: Bool) {
        lock()
        defer { unlock() }
        while !streamInUse && !queue.isEmpty { compressHeadByOwner() }
        queue.append(segment)
        ownerCPU.store(td_current_cpu(), ordering: .relaxed)
        let ordinal = queued.add(1, ordering: .releasing).newValue
        return (ordinal, mayWake && helperSleeping)
    }

    /// Queues a chunk's last segment and returns once the chunk's frame is
    /// complete, having compressed on this thread every segment the helper
    /// did not hold. Each pass of the loop compresses a segment or waits
    /// for the helper to finish one, so it ends after at most twice the
    /// chunk's segments. Returns whether it slept waiting for the helper.
    func finishChunk(with segment: Segment) -> Bool {
        var slept = false
        lock()
        queue.append(segment)
        queued.add(1, ordering: .releasing)
        while !queue.isEmpty || streamInUse {
            if !streamInUse {
                compressHeadByOwner()
                continue
            }
            // Spinning is useless where the helper shares this core: it cannot
            // finish until this thread stops.
            let helperOnThisCore = helperCPU.load(ordering: .relaxed) == td_current_cpu()
            unlock()
            let released = !helperOnThisCore
                && Spin.spin(for: timing.ownerSpin_ns) { !streamBusy.load(ordering: .acquiring) }
            lock()
            if !released && streamInUse {
                ownerSleeping = true
                slept = true
                if sharesOneCore { pthread_cond_signal(helperCanWork) }
                pthread_cond_wait(streamReleased, mutex)
                ownerSleeping = false
            }
        }
        unlock()
        return slept
    }

    /// Takes the queue's head and compresses it, unlocking meanwhile.
    /// Called with the lock held and the stream free.
    private func compressHeadByOwner() {
        let segment = take()
        unlock()
        compressTimed(segment)
        lock()
        release()
        compressedByOwner += 1
    }

    private func take() -> Segment {
        streamInUse = true
        streamBusy.store(true, ordering: .relaxed)
        dequeued.add(1, ordering: .releasing)
        return queue.removeFirst()
    }

    private func release() {
        streamInUse = false
        streamBusy.store(false, ordering: .releasing)
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

    /// The helper thread's loop: take a segment whenever the stream is free,
    /// otherwise spin for the next one within its budget, then sleep.
    func work() {
        helperThreadID.store(td_thread_id(), ordering: .relaxed)
        var spin = HelperSpin()
        var idleSince_ns = Spin.now_ns()
        lock()
        while !stopping {
            if !streamInUse && !queue.isEmpty && (!sharesOneCore || ownerSleeping) {
                let segment = take()
                takenByHelper.add(1, ordering: .releasing)
                let cpu = td_current_cpu()
                helperCPU.store(cpu, ordering: .relaxed)
                unlock()
                let start_ns = Spin.now_ns()
                let startCPU_ns = Spin.threadTime_ns()
                spin.waited(start_ns &- idleSince_ns)
                compress(segment)
                idleSince_ns = Spin.now_ns()
                let endCPU_ns = Spin.threadTime_ns()
                if let endCPU_ns { helperThreadTime_ns.store(endCPU_ns, ordering: .relaxed) }
                var threadTime_ns: UInt64?
                if let startCPU_ns, let endCPU_ns { threadTime_ns = endCPU_ns &- startCPU_ns }
                if timing.helperLostItsCPU(bytes: segment.end - segment.start, wall_ns: idleSince_ns &- start_ns,
                                           threadTime_ns: threadTime_ns) {
                    slowOnHelper.add(1, ordering: .relaxed)
                }
                lock()
                release()
                compressedByHelper += 1
                if ownerSleeping { pthread_cond_signal(streamReleased) }
                continue
            }
            let budget_ns = spin.budget_ns(onOwnersCore: td_current_cpu() == ownerCPU.load(ordering: .relaxed))
            if queue.isEmpty && budget_ns > 0 {
                // Spin outside the lock for the next segment, then sleep.
                let seen = queued.load(ordering: .relaxed)
                unlock()
                let arrived = Spin.spin(for: budget_ns) { queued.load(ordering: .acquiring) != seen }
                lock()
                if arrived { continue }
            }
            if stopping { break }
            helperSleeping = true
            pthread_cond_wait(helperCanWork, mutex)
            helperSleeping = false
        }
        unlock()
    }
}
