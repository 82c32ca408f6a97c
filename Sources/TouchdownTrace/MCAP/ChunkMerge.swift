/// The chunks a query selects, in (start time, chunk offset) order, one at
/// a time. ChunkIndex records already in that order are read from the file
/// as they are asked for, and the walk stops at the first chunk that starts
/// after the query's end; otherwise the selected ones are gathered (32 bytes
/// each) and sorted first.
struct ChunkSelection {
    private var records: SummaryRecords
    private let bounds: ChunkBounds
    private let wanted: [Bool]?
    private let lo: UInt64
    private let hi: UInt64
    private var sorted: [ChunkRef]?
    private var nextSorted = 0
    private var ended = false

    init(_ reader: IndexedReader, wanted: [Bool]?, lo: UInt64, hi: UInt64) throws {
        records = SummaryRecords(source: reader.source, span: reader.chunkIndexSpan, limits: reader.limits, only: .chunkIndex)
        bounds = reader.chunkBounds
        self.wanted = wanted
        self.lo = lo
        self.hi = hi
        if !reader.chunkIndexesInTimeOrder {
            var refs: [ChunkRef] = []
            while let (ref, selected) = try read() {
                if selected { refs.append(ref) }
            }
            refs.sort { ($0.start_ns, $0.offset) < ($1.start_ns, $1.offset) }
            sorted = refs
        }
    }

    mutating func next() throws -> ChunkRef? {
        if let sorted {
            guard nextSorted < sorted.count else { return nil }
            nextSorted += 1
            return sorted[nextSorted - 1]
        }
        while !ended, let (ref, selected) = try read() {
            if ref.start_ns > hi {
                ended = true  // every later chunk starts later still
            } else if selected {
                return ref
            }
        }
        return nil
    }

    /// The next ChunkIndex in file order, and whether the query wants it.
    private mutating func read() throws -> (ref: ChunkRef, selected: Bool)? {
        let wanted = wanted
        guard let (at, ref, holdsWanted) = try records.nextRaw({ (at, _, content) throws in
            let (ref, holdsWanted) = try ChunkRef.read(content, recordAt: at, wanted: wanted)
            return (at, ref, holdsWanted)
        }) else { return nil }
        try bounds.check(start: ref.offset, length: ref.length, recordAt: at)
        return (ref, holdsWanted && ref.end_ns >= lo && ref.start_ns <= hi)
    }
}

/// The chunks a query holds while it merges those whose time ranges
/// overlap: each chunk's selected messages (their contents copied out of the
/// decompression buffer, nothing else), handed over in (log time, chunk
/// offset, offset in chunk) order through a heap. What it holds at once is
/// bounded by `ReadLimits.maxHeldMessages_bytes`.
struct ChunkMerge {
    private struct Held {
        var chunkOffset: UInt64
        /// The selected messages' contents, one after another, in hand-over order.
        var contents: [UInt8]
        /// Their log times and offsets in the chunk (for ties), sorted.
        var entries: [IndexedReader.Entry]
        /// The first entry not handed over, and where its content starts.
        var next = 0
        var nextStart = 0
    }

    private var held: [Held?] = []
    private var freeSlots: [Int] = []
    private var heap = MergeHeap()
    private var holding = 0
    /// The most chunks held at once.
    private(set) var peakHeld = 0
    /// What the held chunks cost: their messages' contents and 24 bytes
    /// (an entry) per message.
    private var holding_bytes: UInt64 = 0
    let limit_bytes: UInt64

    init(limit_bytes: UInt64) { self.limit_bytes = limit_bytes }

    var isEmpty: Bool { heap.first == nil }
    var first: MergeHeap.Key? { heap.first }

    /// Holds a chunk's selected messages (`entries`, sorted by log time and
    /// offset, point into `records`); a chunk with none is not held.
    /// - Throws: `MCAPError.overReadLimit` when holding them would pass
    ///   `limit_bytes`, before anything is copied.
    mutating func hold(chunkOffset: UInt64, records: UnsafeRawBufferPointer, entries: [IndexedReader.Entry]) throws {
        guard !entries.isEmpty else { return }
        let cost = entries.reduce(UInt64(0)) { $0 + UInt64($1.length) + UInt64(MemoryLayout<IndexedReader.Entry>.stride) }
        guard holding_bytes + cost <= limit_bytes else {
            throw MCAPError.overReadLimit(
                what: "the selected messages of \(holding + 1) chunks whose time ranges overlap, held at once to merge them, up to the Chunk",
                offset: chunkOffset, size: holding_bytes + cost, limit: limit_bytes, setting: "maxHeldMessages_bytes")
        }
        holding_bytes += cost
        var h = Held(chunkOffset: chunkOffset, contents: [], entries: entries)
        h.contents.reserveCapacity(entries.reduce(0) { $0 + $1.length })
        for e in entries {
            h.contents.append(contentsOf: UnsafeRawBufferPointer(rebasing: records[(e.offset + 9)..<(e.offset + 9 + e.length)]))
        }
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            held[slot] = h
        } else {
            slot = held.count
            held.append(h)
        }
        holding += 1
        peakHeld = max(peakHeld, holding)
        heap.push(key(slot))
    }

    /// Hands over the earliest message held; lets its chunk go after its last.
    mutating func handOverFirst(_ body: (MessageView) throws -> Void) throws {
        guard let top = heap.first else { return }
        let slot = top.slot
        let start = held[slot]!.nextStart
        let length = held[slot]!.entries[held[slot]!.next].length
        try held[slot]!.contents.withUnsafeBytes { b in
            try body(try ChunkRecords.message(UnsafeRawBufferPointer(rebasing: b[start..<(start + length)]), chunkOffset: top.chunkOffset))
        }
        held[slot]!.next += 1
        held[slot]!.nextStart += length
        if held[slot]!.next == held[slot]!.entries.count {
            holding_bytes -= UInt64(held[slot]!.contents.count + held[slot]!.entries.count * MemoryLayout<IndexedReader.Entry>.stride)
            held[slot] = nil
            freeSlots.append(slot)
            holding -= 1
            heap.popFirst()
        } else {
            heap.replaceFirst(key(slot))
        }
    }

    private func key(_ slot: Int) -> MergeHeap.Key {
        let e = held[slot]!.entries[held[slot]!.next]
        return MergeHeap.Key(logTime: e.logTime, chunkOffset: held[slot]!.chunkOffset, offset: e.offset, slot: slot)
    }
}

/// A binary min-heap of merge positions.
struct MergeHeap {
    struct Key {
        var logTime: UInt64
        var chunkOffset: UInt64
        var offset: Int
        var slot: Int

        static func < (a: Key, b: Key) -> Bool {
            (a.logTime, a.chunkOffset, a.offset) < (b.logTime, b.chunkOffset, b.offset)
        }
    }

    private var keys: [Key] = []

    var first: Key? { keys.first }

    mutating func push(_ k: Key) {
        keys.append(k)
        var i = keys.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard keys[i] < keys[parent] else { break }
            keys.swapAt(i, parent)
            i = parent
        }
    }

    /// Replaces the smallest key and restores the order.
    mutating func replaceFirst(_ k: Key) {
        keys[0] = k
        siftDown()
    }

    mutating func popFirst() {
        keys[0] = keys[keys.count - 1]
        keys.removeLast()
        if !keys.isEmpty { siftDown() }
    }

    private mutating func siftDown() {
        var i = 0
        while true {
            let left = 2 * i + 1, right = left + 1
            var smallest = i
            if left < keys.count && keys[left] < keys[smallest] { smallest = left }
            if right < keys.count && keys[right] < keys[smallest] { smallest = right }
            if smallest == i { return }
            keys.swapAt(i, smallest)
            i = smallest
        }
    }
}
