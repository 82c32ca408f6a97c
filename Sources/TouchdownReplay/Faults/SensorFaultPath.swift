import TouchdownSim
import TouchdownTrace

/// Applies sensor faults to the messages on their way to guidance: the same
/// code in open loop (messages from a trace) and closed loop (messages from
/// the simulator).
///
/// Faults on a topic act in `FaultSpec.applicationOrder`, each on what the
/// previous one let through, whatever order they were given in. Every random
/// draw comes from the fault's own generator, seeded from the replay's seed
/// and the fault's text (and which of identical faults it is).
/// Held messages (latency, reorder) wait in one queue ordered by delivery
/// time, then by arrival; a topic's messages never overtake each other
/// through latency (a bus keeps its order), only through `reorder`.
struct SensorFaultPath {
    struct Active {
        let spec: FaultSpec
        var random: SeededRandom
        var acting = false
        var actingSince_ns: UInt64 = 0
        var altered = 0
        var dropLeft = 0
        var frozen: SensorReading?
        var held: SensorReading?
        /// Per changed field, the outlier a spike adds.
        let spikeSizes: [Double]

        init(spec: FaultSpec, random: SeededRandom) {
            self.spec = spec
            self.random = random
            spikeSizes = spec.kind == .spike
                ? spec.fields.map { spec.size ?? SensorFields.defaultSpike(SensorFields.names(spec.topic)[$0].dimension) } : []
        }
    }

    /// The most messages that may wait for delivery at once.
    static let queueLimit = 1_000_000

    private(set) var faults: [Active]
    /// Fault indexes per topic (imu, altimeter, velocimeter, attitude).
    private let byTopic: [[Int]]
    /// The last reading of each topic as produced, before any fault: what a
    /// `stuck` fault freezes.
    private var lastProduced: [SensorReading?] = [nil, nil, nil, nil]
    private var lastDue_ns: [UInt64] = [0, 0, 0, 0]
    private var queue: [(due_ns: UInt64, order: UInt64, reading: SensorReading)] = []
    private var queueHead = 0
    private var arrivals: UInt64 = 0
    private(set) var events: [EventSample] = []
    private var items: [(delay_ns: UInt64, reading: SensorReading)] = []
    let needsAltitude: Bool
    var isEmpty: Bool { faults.isEmpty }

    init(faults specs: [FaultSpec], seed: UInt64) {
        let ordered = FaultSpec.applicationOrder(specs.filter { !$0.kind.isActuator })
        let active = zip(ordered, FaultSpec.streamNames(ordered)).map { spec, stream in
            Active(spec: spec, random: SeededRandom(seed: seed, stream: stream))
        }
        faults = active
        var topics: [[Int]] = [[], [], [], []]
        for (i, f) in active.enumerated() {
            switch f.spec.topic {
            case .imu: topics[0].append(i)
            case .altimeter: topics[1].append(i)
            case .velocimeter: topics[2].append(i)
            case .attitude: topics[3].append(i)
            case .command: break
            }
        }
        byTopic = topics
        needsAltitude = active.contains { $0.spec.needsAltitude }
    }

    var alteredMessages: Int { faults.reduce(0) { $0 + $1.altered } }

    /// A message produced at `t`, when the true altitude above ground is `h`.
    mutating func process(_ reading: SensorReading, at t: UInt64, altitudeAGL_m h: Double,
                          deliver: (SensorReading) throws -> Void) throws {
        let topic = reading.topicIndex
        let indexes = byTopic[topic]
        // A topic without faults passes straight through when nothing held is
        // due by now: the queue would deliver it first, at once.
        if indexes.isEmpty && (queueHead == queue.count || queue[queueHead].due_ns > t) && lastDue_ns[topic] <= t {
            lastProduced[topic] = reading
            lastDue_ns[topic] = t
            try deliver(reading)
            return
        }
        items.removeAll(keepingCapacity: true)
        items.append((0, reading))
        for i in indexes {
            apply(i, at: t, altitudeAGL_m: h)
        }
        lastProduced[topic] = reading
        for item in items {
            let due = max(t.addingSaturated(item.delay_ns), lastDue_ns[topic])
            lastDue_ns[topic] = due
            if due <= t && queueHead == queue.count {
                try deliver(item.reading)
            } else {
                guard queue.count - queueHead < Self.queueLimit else {
                    throw TraceInputError.faultQueueFull(limit: Self.queueLimit, time_ns: t)
                }
                arrivals += 1
                insert((due, arrivals, item.reading))
            }
        }
    }

    private mutating func insert(_ entry: (due_ns: UInt64, order: UInt64, reading: SensorReading)) {
        // Entries mostly arrive in due order: search from the back.
        var i = queue.count
        while i > queueHead, (queue[i - 1].due_ns, queue[i - 1].order) > (entry.due_ns, entry.order) { i -= 1 }
        queue.insert(entry, at: i)
    }

    /// Delivers the held messages due at or before `t`, in order.
    mutating func deliverDue(upTo t: UInt64, deliver: (SensorReading) throws -> Void) throws {
        while queueHead < queue.count, queue[queueHead].due_ns <= t {
            let r = queue[queueHead].reading
            queueHead += 1
            try deliver(r)
        }
        if queueHead > 4096 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    /// The earliest instant a held message is due, if any is held.
    var nextDue_ns: UInt64? { queueHead < queue.count ? queue[queueHead].due_ns : nil }

    private mutating func setActing(_ i: Int, _ acting: Bool, at t: UInt64) {
        guard faults[i].acting != acting else { return }
        faults[i].acting = acting
        let f = faults[i]
        if acting {
            faults[i].actingSince_ns = t
            events.append(EventSample(stamp_ns: t, kind: "fault", detail: "\(f.spec.text) acting from t=\(formatSecondsRounded(t)) s"))
        } else {
            faults[i].frozen = nil
            events.append(EventSample(stamp_ns: t, kind: "fault", detail: "\(f.spec.text) stopped at t=\(formatSecondsRounded(t)) s; \(f.altered) messages altered so far"))
        }
    }

    /// Closes the record of every fault still acting. A message a fault
    /// still holds back is dropped: the run is over.
    mutating func finish(at t: UInt64) {
        for i in faults.indices {
            faults[i].held = nil
            if faults[i].acting {
                let f = faults[i]
                events.append(EventSample(stamp_ns: t, kind: "fault", detail: "\(f.spec.text) still acting at the end, t=\(formatSecondsRounded(t)) s; \(f.altered) messages altered"))
                faults[i].acting = false
            }
        }
    }

    mutating func takeEvents() -> [EventSample] {
        defer { events.removeAll() }
        return events
    }

    private mutating func apply(_ i: Int, at t: UInt64, altitudeAGL_m h: Double) {
        let spec = faults[i].spec
        var inWindow = spec.window.contains(time_ns: t, altitudeAGL_m: h)
        if inWindow && spec.kind == .acquireBelow { inWindow = h > spec.amount }
        if inWindow && spec.kind == .maxRange {
            inWindow = items.contains { item in
                guard item.reading.isValid else { return false }
                if case .altimeter(let m) = item.reading { return m.range_m > spec.amount }
                return h > spec.amount
            }
        }
        setActing(i, inWindow, at: t)
        guard inWindow else {
            // A message held for reordering goes out behind this one.
            if let held = faults[i].held {
                faults[i].held = nil
                items.append((0, held))
            }
            return
        }
        let fields = spec.fields
        @inline(__always) func eachValid(_ body: (inout SensorReading) -> Bool) {
            for k in items.indices where items[k].reading.isValid {
                if body(&items[k].reading) { faults[i].altered += 1 }
            }
        }
        switch spec.kind {
        case .latency:
            for k in items.indices {
                var d = UInt64((spec.amount * 1e9).rounded())
                if spec.jitter_ns > 0 { d = d.addingSaturated(UInt64((faults[i].random.uniform() * Double(spec.jitter_ns)).rounded())) }
                items[k].delay_ns = items[k].delay_ns.addingSaturated(d)
            }
            faults[i].altered += items.count
        case .drop:
            // In place: the kept items move down over the dropped ones.
            var kept = 0
            for k in items.indices {
                if faults[i].dropLeft > 0 {
                    faults[i].dropLeft -= 1
                    faults[i].altered += 1
                } else if faults[i].random.uniform() < spec.probability {
                    faults[i].dropLeft = spec.burst - 1
                    faults[i].altered += 1
                } else {
                    if kept != k { items[kept] = items[k] }
                    kept += 1
                }
            }
            items.removeLast(items.count - kept)
        case .blackout:
            faults[i].altered += items.count
            items.removeAll()
        case .stuck:
            if faults[i].frozen == nil { faults[i].frozen = lastProduced[items.first?.reading.topicIndex ?? 0] ?? items.first?.reading }
            guard let frozen = faults[i].frozen else { return }
            for k in items.indices {
                for f in fields { items[k].reading.setField(f, frozen.field(f)) }
                items[k].reading.setValid(frozen.isValid)
            }
            faults[i].altered += items.count
        case .bias:
            eachValid { r in for f in fields { r.setField(f, r.field(f) + spec.amount) }; return true }
        case .drift:
            // From when the fault began acting: with several windows, the
            // time window may have opened long before the others let it act.
            let start = faults[i].actingSince_ns
            let offset = spec.amount * Double(t &- start) * 1e-9
            eachValid { r in for f in fields { r.setField(f, r.field(f) + offset) }; return true }
        case .scale:
            eachValid { r in for f in fields { r.setField(f, r.field(f) * spec.amount) }; return true }
        case .noise:
            var random = faults[i].random
            eachValid { r in for f in fields { r.setField(f, r.field(f) + spec.amount * random.normal()) }; return true }
            faults[i].random = random
        case .spike:
            var random = faults[i].random
            let sizes = faults[i].spikeSizes
            eachValid { r in
                guard random.uniform() < spec.probability else { return false }
                let sign: Double = random.uniform() < 0.5 ? -1 : 1
                for (f, size) in zip(fields, sizes) { r.setField(f, r.field(f) + sign * size) }
                return true
            }
            faults[i].random = random
        case .nan:
            var random = faults[i].random
            eachValid { r in
                guard spec.probability >= 1 || random.uniform() < spec.probability else { return false }
                for f in fields { r.setField(f, .nan) }
                return true
            }
            faults[i].random = random
        case .reorder:
            var out: [(delay_ns: UInt64, reading: SensorReading)] = []
            for item in items {
                if let held = faults[i].held {
                    faults[i].held = nil
                    out.append(item)
                    out.append((item.delay_ns, held))
                } else if faults[i].random.uniform() < spec.probability {
                    faults[i].held = item.reading
                    faults[i].altered += 1
                } else {
                    out.append(item)
                }
            }
            items = out
        case .duplicate:
            var out: [(delay_ns: UInt64, reading: SensorReading)] = []
            for item in items {
                out.append(item)
                if faults[i].random.uniform() < spec.probability {
                    out.append(item)
                    faults[i].altered += 1
                }
            }
            items = out
        case .acquireBelow:
            eachValid { r in r.invalidate(); return true }
        case .maxRange:
            eachValid { r in
                if case .altimeter(let m) = r, m.range_m <= spec.amount { return false }
                r.invalidate()
                return true
            }
        case .thrustShortfall, .commandLatency, .stuckThrottle, .engineOut:
            break
        }
    }
}

extension UInt64 {
    /// The sum, or `UInt64.max` where it would overflow: a time that far
    /// out is never reached.
    func addingSaturated(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
