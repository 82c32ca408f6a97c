import Foundation
import Testing
import TouchdownReplay
import TouchdownSim
import TouchdownTestSupport
import TouchdownTrace

// Every fault kind's effect on what is delivered, through the public API only:
// sensor faults by what a listening guidance receives in an open-loop replay
// of nominal, compared with what it receives without the fault; actuator
// faults by the flight a guidance flying a fixed schedule makes in closed
// loop, compared with the same schedule flown without the fault. Random
// faults are checked by structure and statistics, never by their draws.

// MARK: - What the guidance under test receives

/// One sensor message as the guidance under test received it.
struct ReceivedMessage: Sendable {
    var reading: SensorReading
    /// The guidance step that first saw it; nil when it came after the last step.
    var step_ns: UInt64?

    var stamp_ns: UInt64 { reading.stamp_ns }
}

/// Everything one open-loop replay delivered to the guidance, per topic, in delivery order.
struct ReceivedStream: Sendable {
    /// imu, altimeter, velocimeter, attitude.
    var topics: [[ReceivedMessage]] = [[], [], [], []]

    /// A sensor topic's messages (`command` is not one).
    subscript(_ topic: FaultSpec.Topic) -> [ReceivedMessage] { topics[Self.sensorTopics.firstIndex(of: topic)!] }

    static func index(of reading: SensorReading) -> Int {
        switch reading {
        case .imu: 0
        case .altimeter: 1
        case .velocimeter: 2
        case .attitude: 3
        }
    }

    static let sensorTopics: [FaultSpec.Topic] = [.imu, .altimeter, .velocimeter, .attitude]
}

/// What a listening guidance is handed. A class, so that the copy of the
/// guidance the replay keeps still writes here.
final class ReceptionLog: @unchecked Sendable {  // one replay, one thread
    var received: [(reading: SensorReading, stepsBefore: Int)] = []
    var steps_ns: [UInt64] = []
}

/// A guidance that only listens: it records every reading and step, and commands nothing.
struct ListeningGuidance: Guidance {
    let log: ReceptionLog

    mutating func receive(_ reading: SensorReading) { log.received.append((reading, log.steps_ns.count)) }

    mutating func step(time_ns: UInt64) -> GuidanceOutput {
        log.steps_ns.append(time_ns)
        return GuidanceOutput(command: CommandSample(stamp_ns: time_ns, mainThrottle_fraction: 0, thrusterThrottle_fraction: 0, pitchCommand_rad: 0),
                              navigation: NavSample(stamp_ns: time_ns, downrange_m: 0, altitude_m: 0, verticalSpeed_mps: 0,
                                                    horizontalSpeed_mps: 0, pitch_rad: 0))
    }
}

/// What a listening guidance receives in an open-loop replay of nominal with `faults`.
func received(faults: [String]) throws -> ReceivedStream {
    let log = ReceptionLog()
    let result = try Replay(plan(tracePath("nominal"), mode: .openLoop, faults: faults),
                            guidance: .init(label: "listening") { _ in ListeningGuidance(log: log) }).run()
    try #require(result.outcome == "diverged", "\(result.report)")
    var stream = ReceivedStream()
    for (reading, stepsBefore) in log.received {
        let step = stepsBefore < log.steps_ns.count ? log.steps_ns[stepsBefore] : nil
        stream.topics[ReceivedStream.index(of: reading)].append(ReceivedMessage(reading: reading, step_ns: step))
    }
    return stream
}

/// What nominal delivers without faults: the reference for every sensor fault.
let cleanNominal = Result { try received(faults: []) }

/// Nominal's recorded /truth, in time order: the true altitude for altitude rules.
let nominalTruth = Result {
    var truth: [TruthSample] = []
    try messagesSinceDescent(tracePath("nominal"), topics: ["/truth"]) { truth.append(try sinceDescent(TruthSample.self, $1, $2)) }
    return truth
}

/// The true altitude above ground at `t`: the last recorded truth at or before
/// it (10 Hz, so within a few metres; rules keep a margin of 50 m).
func altitudeAGL_m(at t: UInt64, _ truth: [TruthSample]) -> Double {
    var lo = 0, hi = truth.count
    while hi - lo > 1 {
        let mid = (lo + hi) / 2
        if truth[mid].stamp_ns <= t { lo = mid } else { hi = mid }
    }
    return truth[lo].altitudeAGL_m
}

func ns(_ seconds: Double) -> UInt64 { UInt64((seconds * 1e9).rounded()) }

extension SensorReading {
    /// The values a value fault may change, in docs/faults.md's field order.
    var fieldValues: [Double] {
        switch self {
        case .imu(let m): [m.accelX_mps2, m.accelY_mps2, m.accelZ_mps2, m.rateX_radps, m.rateY_radps, m.rateZ_radps]
        case .altimeter(let m): [m.range_m]
        case .velocimeter(let m): [m.horizontalVelocity_mps, m.verticalVelocity_mps]
        case .attitude(let m): [m.pitch_rad]
        }
    }

    var isValidMeasurement: Bool {
        switch self {
        case .imu: true
        case .altimeter(let m): m.valid
        case .velocimeter(let m): m.valid
        case .attitude(let m): m.valid
        }
    }
}

/// The message as a person reads it in a failure: topic, stamp, values, validity, arrival.
func describe(_ m: ReceivedMessage) -> String {
    let topic = ReceivedStream.sensorTopics[ReceivedStream.index(of: m.reading)].rawValue
    let step = m.step_ns.map { "\(Double($0) * 1e-9) s" } ?? "none"
    return "\(topic) stamped \(Double(m.stamp_ns) * 1e-9) s \(m.reading.fieldValues) valid=\(m.reading.isValidMeasurement) seen at step \(step)"
}

/// Whether two messages are the same bit for bit: stamp, values, validity and the step that saw them.
func sameBits(_ a: ReceivedMessage, _ b: ReceivedMessage) -> Bool {
    a.stamp_ns == b.stamp_ns && a.step_ns == b.step_ns && a.reading.isValidMeasurement == b.reading.isValidMeasurement
        && a.reading.fieldValues.map(\.bitPattern) == b.reading.fieldValues.map(\.bitPattern)
}

/// The first message at which two streams differ, described; nil when they are the same bit for bit.
func firstDifference(_ clean: [ReceivedMessage], _ faulted: [ReceivedMessage]) -> String? {
    for (c, f) in zip(clean, faulted) where !sameBits(c, f) {
        return "received \(describe(f)); without the fault \(describe(c))"
    }
    guard clean.count == faulted.count else { return "\(faulted.count) messages received; \(clean.count) without the fault" }
    return nil
}

/// Whether a fault must act on a message, must leave it alone, or may do
/// either (near an altitude rule's edge, where the test's altitude is not the replay's).
enum FaultReach { case acts, untouched, either }

/// A time window, `from...to` seconds since the trace's start (both ends in, as docs/faults.md's `@A..B`).
func timeWindow(_ from_s: Double, _ to_s: Double) -> (UInt64) -> FaultReach {
    { t in t >= ns(from_s) && t <= ns(to_s) ? .acts : .untouched }
}

/// A fault that acts where the true altitude is below `altitude_m` (`actsBelow`) or above it.
func altitudeRule(_ altitude_m: Double, actsBelow: Bool, _ truth: [TruthSample]) -> (UInt64) -> FaultReach {
    { t in
        let h = altitudeAGL_m(at: t, truth)
        if abs(h - altitude_m) < 50 { return .either }
        return (h < altitude_m) == actsBelow ? .acts : .untouched
    }
}

/// Whether two messages are the same bit for bit apart from the values of `fields`.
func sameBits(_ a: ReceivedMessage, _ b: ReceivedMessage, except fields: [Int]) -> Bool {
    guard a.stamp_ns == b.stamp_ns, a.step_ns == b.step_ns, a.reading.isValidMeasurement == b.reading.isValidMeasurement else { return false }
    let x = a.reading.fieldValues, y = b.reading.fieldValues
    return x.indices.allSatisfy { fields.contains($0) || x[$0].bitPattern == y[$0].bitPattern }
}

/// Whether `faulted` is `clean` with each field in `fields` replaced by
/// `expected(field, clean value, stamp)` (within `tolerance`) and everything else bit for bit.
func isAltered(_ clean: ReceivedMessage, into faulted: ReceivedMessage, fields: [Int], tolerance: Double,
               expected: (Int, Double, UInt64) -> Double) -> Bool {
    guard sameBits(clean, faulted, except: fields) else { return false }
    let c = clean.reading.fieldValues, f = faulted.reading.fieldValues
    return fields.allSatisfy { abs(f[$0] - expected($0, c[$0], clean.stamp_ns)) <= tolerance }
}

/// Checks a deterministic value fault message by message. Where it reaches a
/// valid message, the message must be altered as `expected` says; anywhere
/// else (invalid messages too: value faults change only valid measurements)
/// it must be the clean one.
/// - Returns: how many messages were altered, and the first that broke the rule.
func checkValueFault(_ clean: [ReceivedMessage], _ faulted: [ReceivedMessage], fields: [Int],
                     reach: (UInt64) -> FaultReach, tolerance: Double = 0,
                     expected: (_ field: Int, _ clean: Double, _ stamp_ns: UInt64) -> Double) -> (altered: Int, problem: String?) {
    guard clean.count == faulted.count else { return (0, "\(faulted.count) messages received; \(clean.count) without the fault") }
    var altered = 0
    for (c, f) in zip(clean, faulted) {
        let unchanged = sameBits(c, f)
        let changed = isAltered(c, into: f, fields: fields, tolerance: tolerance, expected: expected)
        let ok = switch c.reading.isValidMeasurement ? reach(c.stamp_ns) : .untouched {
        case .acts: changed
        case .untouched: unchanged
        case .either: changed || unchanged
        }
        if !ok { return (altered, "received \(describe(f)) from \(describe(c))") }
        if !unchanged { altered += 1 }
    }
    return (altered, nil)
}

/// Checks that the fault on `topic` left every other topic as it was.
func expectOtherTopicsUntouched(_ clean: ReceivedStream, _ faulted: ReceivedStream, besides topic: FaultSpec.Topic,
                                sourceLocation: SourceLocation = #_sourceLocation) {
    for other in ReceivedStream.sensorTopics where other != topic {
        let difference = firstDifference(clean[other], faulted[other])
        #expect(difference == nil, "\(other.rawValue): \(difference ?? "")", sourceLocation: sourceLocation)
    }
}

/// `count` events of probability `p` in `trials` is within five standard deviations of the mean.
func isPlausible(_ count: Int, trials: Int, probability p: Double) -> Bool {
    let mean = Double(trials) * p, sd = (Double(trials) * p * (1 - p)).squareRoot()
    return abs(Double(count) - mean) <= 5 * sd
}

/// A sensor fault spec and what its test checks it against.
struct SensorCase: Sendable, CustomTestStringConvertible {
    var spec: String
    var topic: FaultSpec.Topic
    /// The fields it changes: indexes into docs/faults.md's field order for the topic.
    var fields: [Int] = []
    /// Its time window in seconds since the trace's start; nil: the whole replay.
    var window: ClosedRange<Double>? = nil
    /// Its value in SI units: an amount, a rate, a factor, a probability or an altitude.
    var amount: Double = 0
    /// A drop's burst, in messages.
    var burst = 1
    /// A spike's size, per changed field.
    var sizes: [Double] = []

    var testDescription: String { spec }

    var reach: (UInt64) -> FaultReach {
        guard let w = window else { return { _ in .acts } }
        return timeWindow(w.lowerBound, w.upperBound)
    }

    func inWindow(_ m: ReceivedMessage) -> Bool { reach(m.stamp_ns) == .acts }
}

@Suite("Sensor faults: what guidance receives")
struct SensorFaultEffectTests {
    @Test func latencyDeliversEachMessageExactlyTheDelayLaterWithItsValues() throws {
        let clean = try cleanNominal.get(), faulted = try received(faults: ["altimeter.latency=1.5s"])
        let end_ns = try #require(try nominalTruth.get().last).stamp_ns
        // A message still held when the trace ends is not delivered: the run is over.
        let expected = clean[.altimeter].filter { $0.stamp_ns + ns(1.5) <= end_ns }.map { message in
            var later = message
            later.step_ns = message.step_ns.map { $0 + ns(1.5) }
            return later
        }
        #expect(expected.count > 10_000)
        let difference = firstDifference(expected, faulted[.altimeter])
        #expect(difference == nil)
        expectOtherTopicsUntouched(clean, faulted, besides: .altimeter)
    }

    @Test func latencyJitterSpreadsTheDelayWithinItsBoundAndKeepsTheOrder() throws {
        let clean = try cleanNominal.get(), faulted = try received(faults: ["altimeter.latency=1s,jitter=500ms"])
        let byStamp = Dictionary(uniqueKeysWithValues: clean[.altimeter].map { ($0.stamp_ns, $0) })
        let late = faulted[.altimeter]
        #expect(late.count > 10_000)
        #expect(zip(late, late.dropFirst()).allSatisfy { $0.stamp_ns < $1.stamp_ns }, "a topic's messages keep their order")
        var delays: [UInt64] = [], problem: String?
        for f in late {
            guard let c = byStamp[f.stamp_ns], let cleanStep = c.step_ns, let step = f.step_ns, step >= cleanStep else {
                problem = problem ?? "received \(describe(f)), which has no earlier clean counterpart"
                continue
            }
            var moved = c
            moved.step_ns = step
            if !sameBits(moved, f) { problem = problem ?? "received \(describe(f)) from \(describe(c))" }
            delays.append(step - cleanStep)
        }
        #expect(problem == nil)
        // Guidance steps every 100 ms: a delay of 1 s plus up to 0.5 s is seen 1.0 s to 1.5 s later.
        let outside = delays.filter { !(ns(1.0)...ns(1.5)).contains($0) }
        #expect(outside.isEmpty, "delays outside 1.0 s to 1.5 s: \(outside.prefix(5))")
        #expect(Set(delays).count >= 4, "delays seen: \(Set(delays).sorted())")
    }

    @Test(arguments: [SensorCase(spec: "imu.drop=5%", topic: .imu, amount: 0.05),
                      SensorCase(spec: "imu.drop=5%,burst=10", topic: .imu, amount: 0.05, burst: 10)])
    func dropRemovesWholeBurstsAtTheProbabilityAndNothingElse(_ drop: SensorCase) throws {
        let clean = try cleanNominal.get(), faulted = try received(faults: [drop.spec])
        let all = clean[drop.topic], kept = faulted[drop.topic]
        // What arrives is what would have arrived, in order, bit for bit.
        var missing = [Bool](repeating: true, count: all.count), k = 0, problem: String?
        for f in kept {
            while k < all.count && all[k].stamp_ns != f.stamp_ns { k += 1 }
            guard k < all.count, sameBits(all[k], f) else { problem = "received \(describe(f)), not a clean message in order"; break }
            missing[k] = false
            k += 1
        }
        #expect(problem == nil)
        // Missing messages come in whole bursts; only the end of the trace may cut one short.
        var runs: [Int] = [], run = 0
        for m in missing {
            if m { run += 1 } else if run > 0 { runs.append(run); run = 0 }
        }
        let burst = drop.burst
        #expect(runs.allSatisfy { $0 % burst == 0 }, "runs of missing messages: \(runs.filter { $0 % burst != 0 }.prefix(5))")
        // Each message after a burst starts one with the probability: kept messages and bursts are the trials.
        let bursts = runs.reduce(0) { $0 + $1 / burst } + (run + burst - 1) / burst
        #expect(bursts > 0)
        #expect(isPlausible(bursts, trials: kept.count + bursts, probability: drop.amount),
                "\(bursts) bursts among \(kept.count + bursts) trials")
        expectOtherTopicsUntouched(clean, faulted, besides: drop.topic)
    }

    @Test func blackoutDeliversNothingInItsWindowAndEverythingOutside() throws {
        let blackout = SensorCase(spec: "velocimeter.blackout@950s..960s", topic: .velocimeter, window: 950...960)
        let clean = try cleanNominal.get(), faulted = try received(faults: [blackout.spec])
        #expect(!faulted[.velocimeter].contains(where: blackout.inWindow))
        let outside = clean[.velocimeter].filter { !blackout.inWindow($0) }
        #expect(clean[.velocimeter].count - outside.count == 101)  // 950.0 s to 960.0 s at 10 Hz
        let difference = firstDifference(outside, faulted[.velocimeter])
        #expect(difference == nil)
        expectOtherTopicsUntouched(clean, faulted, besides: .velocimeter)
    }

    @Test(arguments: [SensorCase(spec: "attitude.stuck@500s..600s", topic: .attitude, fields: [0], window: 500...600),
                      SensorCase(spec: "imu.stuck,field=rate_y_radps@100s..110s", topic: .imu, fields: [4], window: 100...110)])
    func stuckRepeatsTheValuesBeforeItsWindowWithFreshStamps(_ stuck: SensorCase) throws {
        let clean = try cleanNominal.get(), faulted = try received(faults: [stuck.spec])
        let window = try #require(stuck.window)
        let last = try #require(clean[stuck.topic].last { $0.stamp_ns < ns(window.lowerBound) })
        let frozen = last.reading.fieldValues
        let (altered, problem) = checkValueFault(clean[stuck.topic], faulted[stuck.topic], fields: stuck.fields,
                                                 reach: stuck.reach) { field, _, _ in frozen[field] }
        #expect(problem == nil)
        // The clean values move in the window: nearly every message there is altered.
        let inWindow = clean[stuck.topic].filter(stuck.inWindow).count
        #expect(Double(altered) > 0.9 * Double(inWindow), "\(altered) of \(inWindow) messages altered")
        expectOtherTopicsUntouched(clean, faulted, besides: stuck.topic)
    }

    @Test(arguments: [SensorCase(spec: "altimeter.bias=+300m@880s..950s", topic: .altimeter, fields: [0], window: 880...950, amount: 300),
                      SensorCase(spec: "imu.bias=-0.02m/s2", topic: .imu, fields: [0, 1, 2], amount: -0.02)])
    func biasAddsItsAmountToTheNamedFieldsOfValidMessages(_ bias: SensorCase) throws {
        let clean = try cleanNominal.get(), faulted = try received(faults: [bias.spec])
        let (altered, problem) = checkValueFault(clean[bias.topic], faulted[bias.topic], fields: bias.fields,
                                                 reach: bias.reach) { _, value, _ in value + bias.amount }
        #expect(problem == nil)
        let valid = clean[bias.topic].filter { bias.inWindow($0) && $0.reading.isValidMeasurement }
        #expect(altered == valid.count && altered > 100)
        if bias.window != nil {
            // The altimeter window holds invalid ranges too (901 s to 927 s): they stay as they were.
            #expect(clean[bias.topic].filter { bias.inWindow($0) && !$0.reading.isValidMeasurement }.count > 100)
        }
        expectOtherTopicsUntouched(clean, faulted, besides: bias.topic)
    }

    @Test(arguments: [SensorCase(spec: "velocimeter.drift=0.01m/s2,field=vertical_velocity_mps@950s..1030s", topic: .velocimeter,
                                 fields: [1], window: 950...1030, amount: 0.01),
                      SensorCase(spec: "altimeter.drift=2m/s", topic: .altimeter, fields: [0], amount: 2)])
    func driftAddsItsRateTimesTheTimeSinceItBeganActing(_ drift: SensorCase) throws {
        let clean = try cleanNominal.get(), faulted = try received(faults: [drift.spec])
        // Without a window the fault acts from the trace's first message, at 0 s.
        let start_ns = ns(drift.window?.lowerBound ?? 0)
        let (altered, problem) = checkValueFault(clean[drift.topic], faulted[drift.topic], fields: drift.fields,
                                                 reach: drift.reach, tolerance: 1e-6) { _, value, t in
            value + drift.amount * (Double(t) - Double(start_ns)) * 1e-9
        }
        #expect(problem == nil)
        #expect(altered > 500)
        expectOtherTopicsUntouched(clean, faulted, besides: drift.topic)
    }

    @Test func driftStartsFromNothingWhenALaterWindowLetsItAct() throws {
        // Both windows must hold: from 100 s, and 3000 m and below, which
        // nominal reaches at about 927 s. The drift counts from then.
        let clean = try cleanNominal.get()
        let faulted = try received(faults: ["velocimeter.drift=0.01m/s2,field=vertical_velocity_mps@100s..@..3000m"])
        let all = clean[.velocimeter], got = faulted[.velocimeter]
        try #require(all.count == got.count)
        let first = try #require(all.indices.first { !sameBits(all[$0], got[$0]) })
        // The first message it acted on gained nothing (0 s of drift), so the
        // first altered one is the next; the drift counts from the one before.
        let start_ns = all[first - 1].stamp_ns
        let h = altitudeAGL_m(at: start_ns, try nominalTruth.get())
        #expect(abs(h - 3000) < 50, "the drift began at t=\(Double(start_ns) * 1e-9) s, \(h) m up")
        let below3000m = altitudeRule(3000, actsBelow: true, try nominalTruth.get())
        let (altered, problem) = checkValueFault(all, got, fields: [1], reach: { t in t < start_ns ? .untouched : below3000m(t) },
                                                 tolerance: 1e-6) { _, value, t in value + 0.01 * (Double(t) - Double(start_ns)) * 1e-9 }
        #expect(problem == nil)
        #expect(altered > 1_000)
    }

    @Test func scaleMultipliesValidRangesBelowItsAltitudeAndNoneAbove() throws {
        let clean = try cleanNominal.get(), faulted = try received(faults: ["altimeter.scale=95%@..3000m"])
        let below3000m = altitudeRule(3000, actsBelow: true, try nominalTruth.get())
        let (altered, problem) = checkValueFault(clean[.altimeter], faulted[.altimeter], fields: [0], reach: below3000m,
                                                 tolerance: 1e-9) { _, value, _ in value * 0.95 }
        #expect(problem == nil)
        #expect(altered > 1_000)
        // Valid ranges above the window are left alone: there are some to leave.
        #expect(clean[.altimeter].filter { $0.reading.isValidMeasurement && below3000m($0.stamp_ns) == .untouched }.count > 100)
        expectOtherTopicsUntouched(clean, faulted, besides: .altimeter)
    }
}

@Suite("Sensor faults: the validity of measurements")
struct ValidityFaultEffectTests {
    @Test(arguments: [SensorCase(spec: "altimeter.acquire-below=900m", topic: .altimeter, amount: 900),
                      SensorCase(spec: "velocimeter.acquire-below=2km", topic: .velocimeter, amount: 2000)])
    func acquireBelowLeavesNoValidMeasurementAboveItsAltitude(_ acquire: SensorCase) throws {
        let clean = try cleanNominal.get(), faulted = try received(faults: [acquire.spec])
        let above = altitudeRule(acquire.amount, actsBelow: false, try nominalTruth.get())
        let problem = checkInvalidated(clean[acquire.topic], faulted[acquire.topic], reach: above)
        #expect(problem == nil)
        // Not vacuous: the sensor measured above the altitude and below it.
        let valid = clean[acquire.topic].filter(\.reading.isValidMeasurement)
        #expect(valid.filter { above($0.stamp_ns) == .acts }.count > 100)
        #expect(valid.filter { above($0.stamp_ns) == .untouched }.count > 100)
        expectOtherTopicsUntouched(clean, faulted, besides: acquire.topic)
    }

    @Test(arguments: [SensorCase(spec: "altimeter.max-range=5km", topic: .altimeter, amount: 5000),
                      SensorCase(spec: "velocimeter.max-range=2km", topic: .velocimeter, amount: 2000)])
    func maxRangeInvalidatesWhatLiesBeyondIt(_ maxRange: SensorCase) throws {
        let clean = try cleanNominal.get(), faulted = try received(faults: [maxRange.spec])
        // The altimeter's limit is on the range it measures; the velocimeter's on the altitude.
        let rangeOf = Dictionary(uniqueKeysWithValues: clean[.altimeter].map { ($0.stamp_ns, $0.reading.fieldValues[0]) })
        let beyond: (UInt64) -> FaultReach = maxRange.topic == .altimeter
            ? { t in rangeOf[t]! > maxRange.amount ? .acts : .untouched }
            : altitudeRule(maxRange.amount, actsBelow: false, try nominalTruth.get())
        let problem = checkInvalidated(clean[maxRange.topic], faulted[maxRange.topic], reach: beyond)
        #expect(problem == nil)
        let valid = clean[maxRange.topic].filter(\.reading.isValidMeasurement)
        #expect(valid.filter { beyond($0.stamp_ns) == .acts }.count > 100)
        #expect(valid.filter { beyond($0.stamp_ns) == .untouched }.count > 100)
        expectOtherTopicsUntouched(clean, faulted, besides: maxRange.topic)
    }

    /// Where the fault reaches, the message arrives as it would have but invalid; elsewhere, bit for bit as it was.
    func checkInvalidated(_ clean: [ReceivedMessage], _ faulted: [ReceivedMessage], reach: (UInt64) -> FaultReach) -> String? {
        guard clean.count == faulted.count else { return "\(faulted.count) messages received; \(clean.count) without the fault" }
        for (c, f) in zip(clean, faulted) {
            let invalidated = c.stamp_ns == f.stamp_ns && c.step_ns == f.step_ns && !f.reading.isValidMeasurement
            let ok = switch reach(c.stamp_ns) {
            case .acts: invalidated
            case .untouched: sameBits(c, f)
            case .either: invalidated || sameBits(c, f)
            }
            if !ok { return "received \(describe(f)) from \(describe(c))" }
        }
        return nil
    }
}

@Suite("Sensor faults that draw at random: structure and statistics")
struct RandomSensorFaultEffectTests {
    @Test(arguments: [SensorCase(spec: "velocimeter.noise=0.5m/s@..2km", topic: .velocimeter, fields: [0, 1], amount: 0.5),
                      SensorCase(spec: "imu.noise=0.01rad/s,field=rate_y_radps", topic: .imu, fields: [4], amount: 0.01)])
    func noiseAddsZeroMeanDeviationsOfItsSigmaToTheNamedFields(_ noise: SensorCase) throws {
        let clean = try cleanNominal.get(), faulted = try received(faults: [noise.spec])
        let all = clean[noise.topic], got = faulted[noise.topic]
        try #require(all.count == got.count)
        // The velocimeter case has an altitude window (..2km); the IMU's acts throughout.
        let reach = noise.topic == .velocimeter ? altitudeRule(2000, actsBelow: true, try nominalTruth.get()) : { _ in .acts }
        var deviations = [[Double]](repeating: [], count: noise.fields.count), problem: String?
        for (c, f) in zip(all, got) where problem == nil {
            switch c.reading.isValidMeasurement ? reach(c.stamp_ns) : .untouched {
            case .untouched: if !sameBits(c, f) { problem = "received \(describe(f)) from \(describe(c))" }
            case .either: break
            case .acts:
                // Only the named fields move: everything else must be as it was.
                if !sameBits(c, f, except: noise.fields) { problem = "received \(describe(f)) from \(describe(c))" }
                for (k, i) in noise.fields.enumerated() { deviations[k].append(f.reading.fieldValues[i] - c.reading.fieldValues[i]) }
            }
        }
        #expect(problem == nil)
        for d in deviations {
            let n = Double(d.count), mean = d.reduce(0, +) / n
            let sigma = (d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
            #expect(d.count > 1_000)
            #expect(abs(mean) < 5 * noise.amount / n.squareRoot(), "mean \(mean) over \(d.count) messages")
            #expect(abs(sigma / noise.amount - 1) < 0.1, "standard deviation \(sigma), expected \(noise.amount)")
            // Gaussian: 68% within one sigma (a uniform draw of that sigma puts 58% there, a Laplace 76%).
            let withinSigma = Double(d.filter { abs($0) < noise.amount }.count) / n
            #expect(abs(withinSigma - 0.6827) < 0.06, "\(withinSigma) of the deviations within one sigma")
        }
        expectOtherTopicsUntouched(clean, faulted, besides: noise.topic)
    }

    @Test(arguments: [SensorCase(spec: "altimeter.spike=5%,size=500m", topic: .altimeter, fields: [0], amount: 0.05, sizes: [500]),
                      // Without size=, each field's unit gives it: 50 m/s, and 5 m/s2 or 0.5 rad/s.
                      SensorCase(spec: "velocimeter.spike=5%", topic: .velocimeter, fields: [0, 1], amount: 0.05, sizes: [50, 50]),
                      SensorCase(spec: "imu.spike=2%", topic: .imu, fields: [0, 1, 2, 3, 4, 5], amount: 0.02,
                                 sizes: [5, 5, 5, 0.5, 0.5, 0.5])])
    func spikeAddsOutliersOfItsSizeAtItsRate(_ spike: SensorCase) throws {
        let clean = try cleanNominal.get(), faulted = try received(faults: [spike.spec])
        let all = clean[spike.topic], got = faulted[spike.topic]
        try #require(all.count == got.count)
        let size = Dictionary(uniqueKeysWithValues: zip(spike.fields, spike.sizes))
        var up = 0, down = 0, valid = 0, problem: String?
        for (c, f) in zip(all, got) where problem == nil {
            if sameBits(c, f) {
                if c.reading.isValidMeasurement { valid += 1 }
                continue
            }
            // An outlier: a valid message with every named field moved up by its size, or every one down.
            let raised = isAltered(c, into: f, fields: spike.fields, tolerance: 1e-9) { i, v, _ in v + size[i]! }
            let lowered = isAltered(c, into: f, fields: spike.fields, tolerance: 1e-9) { i, v, _ in v - size[i]! }
            guard c.reading.isValidMeasurement, raised || lowered else { problem = "received \(describe(f)) from \(describe(c))"; break }
            valid += 1
            if raised { up += 1 } else { down += 1 }
        }
        #expect(problem == nil)
        #expect(valid > 1_000)
        #expect(isPlausible(up + down, trials: valid, probability: spike.amount), "\(up + down) outliers in \(valid) valid messages")
        #expect(up > (up + down) / 4 && down > (up + down) / 4, "\(up) up, \(down) down")
        expectOtherTopicsUntouched(clean, faulted, besides: spike.topic)
    }

    @Test func reorderDeliversAHeldMessageRightAfterTheNextOneAndLosesNone() throws {
        let reorder = SensorCase(spec: "imu.reorder=5%", topic: .imu, amount: 0.05)
        let clean = try cleanNominal.get(), faulted = try received(faults: [reorder.spec])
        let all = clean[reorder.topic], got = faulted[reorder.topic]
        // Read against the clean order: each message is where it was, or held
        // and delivered right behind the next one, when that one arrives.
        var i = 0, k = 0, swaps = 0, problem: String?
        while i < got.count && k < all.count && problem == nil {
            if sameBits(all[k], got[i]) {
                i += 1
                k += 1
                continue
            }
            var held = all[k]
            held.step_ns = k + 1 < all.count ? all[k + 1].step_ns : nil
            guard k + 1 < all.count, i + 1 < got.count, sameBits(all[k + 1], got[i]), sameBits(held, got[i + 1]) else {
                problem = "received \(describe(got[i])) where the clean order has \(describe(all[k]))"
                break
            }
            swaps += 1
            i += 2
            k += 2
        }
        #expect(problem == nil)
        // Nothing is lost, but a message still held when the trace ends.
        #expect(i == got.count && all.count - k <= 1, "\(got.count) received of \(all.count); matched up to \(k)")
        // A message that releases a held one is not held itself: the others are the trials.
        #expect(isPlausible(swaps, trials: all.count - swaps, probability: reorder.amount), "\(swaps) swaps in \(all.count) messages")
        expectOtherTopicsUntouched(clean, faulted, besides: reorder.topic)
    }

    @Test func duplicateDeliversSomeMessagesTwiceAndEveryMessage() throws {
        let duplicate = SensorCase(spec: "altimeter.duplicate=10%", topic: .altimeter, amount: 0.1)
        let clean = try cleanNominal.get(), faulted = try received(faults: [duplicate.spec])
        let all = clean[duplicate.topic], got = faulted[duplicate.topic]
        var k = 0, twice = 0, lastWasRepeat = false, problem: String?
        for f in got {
            if k < all.count && sameBits(all[k], f) {
                k += 1
                lastWasRepeat = false
                continue
            }
            // A repeat, bit for bit and at the same step, of the message just delivered; never a third time.
            guard k > 0, !lastWasRepeat, sameBits(all[k - 1], f) else {
                problem = "received \(describe(f)), neither the next clean message nor a repeat of the last"
                break
            }
            twice += 1
            lastWasRepeat = true
        }
        #expect(problem == nil)
        #expect(k == all.count, "\(k) of \(all.count) clean messages delivered")
        #expect(isPlausible(twice, trials: all.count, probability: duplicate.amount), "\(twice) repeats in \(all.count) messages")
        expectOtherTopicsUntouched(clean, faulted, besides: duplicate.topic)
    }

    @Test(arguments: [SensorCase(spec: "attitude.nan=10%", topic: .attitude, fields: [0], amount: 0.1),
                      SensorCase(spec: "altimeter.nan@950s..960s", topic: .altimeter, fields: [0], window: 950...960, amount: 1)])
    func nanMakesTheNamedValuesNaNAtItsProbability(_ nan: SensorCase) throws {
        let clean = try cleanNominal.get(), faulted = try received(faults: [nan.spec])
        let all = clean[nan.topic], got = faulted[nan.topic]
        try #require(all.count == got.count)
        var nans = 0, trials = 0, problem: String?
        for (c, f) in zip(all, got) where problem == nil {
            let reached = c.reading.isValidMeasurement && nan.inWindow(c)
            if reached { trials += 1 }
            if sameBits(c, f) { continue }
            let madeNaN = sameBits(c, f, except: nan.fields) && nan.fields.allSatisfy { f.reading.fieldValues[$0].isNaN }
            guard reached, madeNaN else { problem = "received \(describe(f)) from \(describe(c))"; break }
            nans += 1
        }
        #expect(problem == nil)
        #expect(trials > 100)
        if nan.amount >= 1 {
            #expect(nans == trials)
        } else {
            #expect(isPlausible(nans, trials: trials, probability: nan.amount), "\(nans) NaN in \(trials) valid messages")
        }
        expectOtherTopicsUntouched(clean, faulted, besides: nan.topic)
    }
}

// MARK: - What the engines do (closed loop)

/// A guidance that flies a fixed schedule whatever its sensors say, so that a
/// flight with an actuator fault and one without get the very same commands,
/// and any difference between the two flights is the fault's. It ends the
/// flight at `end_ns` through `failure` (the one way a guidance can stop the
/// simulator), which keeps a flight to a minute of simulated time.
struct ScheduledGuidance: Guidance {
    static let end_ns: UInt64 = 60_000_000_000
    static let segment_ns: UInt64 = 5_000_000_000
    /// Throttles, each held for one 5 s segment from the start, while the
    /// pitch command swings 0.1 rad either side of the initial pitch.
    static let mainThrottles_fraction = [0.6, 0.3, 0.9, 0.5, 1.0, 0.6, 0.2, 0.8, 0.4, 0.7, 0.35, 0.95]
    static let thrusterThrottles_fraction = [0.3, 0.5, 0.1, 0.7, 0.3, 0.9, 0.2, 0.6, 0.05, 0.4, 0.8, 0.25]

    let initialPitch_rad: Double
    var failure: GuidanceFailure?

    static func command(at t: UInt64, initialPitch_rad: Double) -> CommandSample {
        let segment = Int(t / segment_ns)
        let i = segment % mainThrottles_fraction.count
        return CommandSample(stamp_ns: t, mainThrottle_fraction: mainThrottles_fraction[i],
                             thrusterThrottle_fraction: thrusterThrottles_fraction[i],
                             pitchCommand_rad: initialPitch_rad + (segment % 2 == 0 ? 0.1 : -0.1))
    }

    mutating func receive(_ reading: SensorReading) {}

    mutating func step(time_ns: UInt64) -> GuidanceOutput {
        if time_ns >= Self.end_ns { failure = GuidanceFailure(.crashed, "the schedule is flown") }
        return GuidanceOutput(command: Self.command(at: time_ns, initialPitch_rad: initialPitch_rad),
                              navigation: NavSample(stamp_ns: time_ns, downrange_m: 0, altitude_m: 0, verticalSpeed_mps: 0,
                                                    horizontalSpeed_mps: 0, pitch_rad: 0))
    }
}

/// A scheduled flight as its replay recorded it.
struct ScheduledFlight: Sendable {
    var truth: [TruthSample]
    /// What guidance commanded (before any actuator fault).
    var commands: [CommandSample]
    var vehicle: Scenario.Vehicle
    var initialPitch_rad: Double

    /// Truth is recorded every 100 ms from 0 s.
    func truth(at t: UInt64) -> TruthSample? {
        let i = Int(t / 100_000_000)
        return i < truth.count && truth[i].stamp_ns == t ? truth[i] : nil
    }

    /// Whether the engines at truth time `t` have followed one command for at
    /// least 2.5 s (25 engine time constants: settled to a millionth of a newton).
    static func isSettled(_ t: UInt64) -> Bool { t % ScheduledGuidance.segment_ns >= 2_500_000_000 }

    /// The thrust once the engines settle on the command scheduled at `t`,
    /// each group delivering the given fraction of its rated thrust.
    func settledThrust_n(at t: UInt64, main: Double, thrusters: Double) -> Double {
        let c = ScheduledGuidance.command(at: t, initialPitch_rad: initialPitch_rad)
        return c.mainThrottle_fraction * vehicle.mainThrust_n * main
            + c.thrusterThrottle_fraction * Double(vehicle.thrusterCount) * vehicle.thrusterThrust_n * thrusters
    }
}

/// Flies the schedule in closed loop from nominal's start, with `faults`, and reads the replay's trace back.
func scheduledFlight(faults: [String]) throws -> ScheduledFlight {
    let dir = try TestPaths.scratch("scheduled-flight")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("flight.mcap").path
    final class KnowledgeBox: @unchecked Sendable { var knowledge: MissionKnowledge? }  // one replay, one thread
    let box = KnowledgeBox()
    let result = try Replay(plan(tracePath("nominal"), faults: faults, output: path),
                            guidance: .init(label: "scheduled") { k in
        box.knowledge = k
        return ScheduledGuidance(initialPitch_rad: k.initialNavigation.pitch_rad)
    }).run()
    try #require(result.outcome == "guidance-crashed", "\(result.report)")
    let k = try #require(box.knowledge)
    var truth: [TruthSample] = [], commands: [CommandSample] = []
    try messagesSinceDescent(path, topics: ["/truth", "/command"]) { topic, data, epoch in
        if topic == "/truth" { truth.append(try sinceDescent(TruthSample.self, data, epoch)) }
        else { commands.append(try sinceDescent(CommandSample.self, data, epoch)) }
    }
    return ScheduledFlight(truth: truth, commands: commands, vehicle: k.vehicle, initialPitch_rad: k.initialNavigation.pitch_rad)
}

/// The schedule flown without faults: the reference for every actuator fault.
let cleanScheduledFlight = Result { try scheduledFlight(faults: []) }

/// Where a faulted flight's truth differs from what a test expects, collected so that a failure names the first.
struct TruthProblems {
    var count = 0
    var first: String?

    mutating func check(_ ok: Bool, _ what: @autoclosure () -> String) {
        guard !ok else { return }
        count += 1
        if first == nil { first = what() }
    }

    var summary: String { "\(count) truth samples wrong; first: \(first ?? "")" }
}

@Suite("Actuator faults: what the engines do")
struct ActuatorFaultEffectTests {
    @Test func theScheduleFliesAsPlannedWithoutFaults() throws {
        // What the other tests rely on: a minute of flight, engines settled
        // where the schedule says, and a pitch that moves.
        let clean = try cleanScheduledFlight.get()
        #expect(clean.truth.count == 600 && clean.commands.count == 600)
        var problems = TruthProblems(), settled = 0
        for c in clean.truth where ScheduledFlight.isSettled(c.stamp_ns) {
            let expected = clean.settledThrust_n(at: c.stamp_ns, main: 1, thrusters: 1)
            problems.check(abs(c.thrust_n - expected) < 1e-3, "t=\(c.stamp_ns) ns: \(c.thrust_n) N, expected \(expected) N")
            settled += 1
        }
        #expect(problems.count == 0, "\(problems.summary)")
        #expect(settled > 250)
        #expect(Set(clean.truth.map(\.pitch_rad)).count > 100)
    }

    @Test(arguments: FaultSpec.EngineGroup.allCases)
    func thrustShortfallTakesItsFractionOffTheGroupInItsWindow(_ group: FaultSpec.EngineGroup) throws {
        let clean = try cleanScheduledFlight.get()
        // Without group= the shortfall is on every group.
        let option = group == .all ? "" : ",group=\(group.rawValue)"
        let faulted = try scheduledFlight(faults: ["command.thrust-shortfall=25%\(option)@20s..40s"])
        let main = group == .thrusters ? 1 : 0.75, thrusters = group == .main ? 1 : 0.75
        // Truth at t shows the step before t: the window's steps show at 20 s < t <= 40 s.
        var problems = TruthProblems(), settled = 0
        for c in clean.truth {
            let t = c.stamp_ns, f = try #require(faulted.truth(at: t))
            if t <= ns(20) || t > ns(40) {
                problems.check(f.thrust_n.bitPattern == c.thrust_n.bitPattern, "t=\(t) ns: \(f.thrust_n) N outside the window, \(c.thrust_n) N without the fault")
            } else if ScheduledFlight.isSettled(t) {
                let expected = clean.settledThrust_n(at: t, main: main, thrusters: thrusters)
                problems.check(abs(f.thrust_n - expected) < 1e-3, "t=\(t) ns: \(f.thrust_n) N, expected \(expected) N")
                settled += 1
            }
            if group == .all && t > ns(20) && t <= ns(40) {
                problems.check(abs(f.thrust_n - 0.75 * c.thrust_n) <= 1e-9 * c.thrust_n, "t=\(t) ns: \(f.thrust_n) N, not 75% of \(c.thrust_n) N")
            }
        }
        #expect(problems.count == 0, "\(problems.summary)")
        #expect(settled > 50)
        // It burns that much less: propellant flow follows the thrust.
        let burned = { (flight: ScheduledFlight) in flight.truth(at: ns(20))!.mass_kg - flight.truth(at: ns(40))!.mass_kg }
        let ratio = burned(faulted) / burned(clean)
        if group == .all {
            #expect(abs(ratio - 0.75) < 1e-6, "burned \(ratio) of the propellant the clean flight burned")
        } else {
            #expect(ratio > 0.75 && ratio < 0.99, "burned \(ratio) of the propellant the clean flight burned")
        }
    }

    @Test func commandLatencyMakesTheEnginesFollowExactlyTheDelayLate() throws {
        let clean = try cleanScheduledFlight.get()
        let faulted = try scheduledFlight(faults: ["command.command-latency=500ms"])
        // Guidance commanded the same: the delay is on the way to the engines.
        let commanded = zip(clean.commands, faulted.commands).allSatisfy {
            ($0.mainThrottle_fraction, $0.thrusterThrottle_fraction, $0.pitchCommand_rad)
                == ($1.mainThrottle_fraction, $1.thrusterThrottle_fraction, $1.pitchCommand_rad)
        }
        #expect(commanded && clean.commands.count == faulted.commands.count)
        // Throttles and attitude follow the same commands, 500 ms later: the
        // faulted flight's engines and pitch at t + 0.5 s are the clean ones at t.
        var problems = TruthProblems(), compared = 0, late = 0
        for c in clean.truth {
            guard let f = faulted.truth(at: c.stamp_ns + ns(0.5)) else { continue }
            compared += 1
            problems.check(f.thrust_n.bitPattern == c.thrust_n.bitPattern && f.pitch_rad.bitPattern == c.pitch_rad.bitPattern,
                           "at t=\(f.stamp_ns) ns \(f.thrust_n) N, pitch \(f.pitch_rad) rad; 0.5 s earlier without the fault \(c.thrust_n) N, \(c.pitch_rad) rad")
            if faulted.truth(at: c.stamp_ns)!.thrust_n != c.thrust_n { late += 1 }
        }
        // Until the first command reaches them, the engines are as they were
        // before any command: off, holding the initial pitch.
        for f in faulted.truth where f.stamp_ns <= ns(0.5) {
            problems.check(f.thrust_n == 0 && f.pitch_rad == clean.initialPitch_rad,
                           "at t=\(f.stamp_ns) ns, before the first command arrives: \(f.thrust_n) N, pitch \(f.pitch_rad) rad")
        }
        #expect(problems.count == 0, "\(problems.summary)")
        #expect(compared > 500)
        // Not vacuous: on time, the engines would have been elsewhere.
        #expect(late > 100)
    }

    @Test func stuckThrottleHoldsTheThrottlesOfItsStartWhilePitchFollows() throws {
        let clean = try cleanScheduledFlight.get()
        let faulted = try scheduledFlight(faults: ["command.stuck-throttle@22s..41s"])
        // At 22 s the engines have held the 20 s command for 2 s: that is what freezes.
        let frozen = clean.settledThrust_n(at: ns(22), main: 1, thrusters: 1)
        var problems = TruthProblems(), moved = 0
        for c in clean.truth {
            let t = c.stamp_ns, f = try #require(faulted.truth(at: t))
            problems.check(f.pitch_rad.bitPattern == c.pitch_rad.bitPattern, "t=\(t) ns: pitch \(f.pitch_rad) rad, \(c.pitch_rad) rad without the fault")
            if t <= ns(22) {
                problems.check(f.thrust_n.bitPattern == c.thrust_n.bitPattern, "t=\(t) ns: \(f.thrust_n) N before the fault, \(c.thrust_n) N without it")
            } else if t <= ns(41) {
                problems.check(abs(f.thrust_n - frozen) < 1e-3, "t=\(t) ns: \(f.thrust_n) N, frozen at \(frozen) N")
                if abs(c.thrust_n - frozen) > 100 { moved += 1 }
            } else if t >= ns(43.5) && ScheduledFlight.isSettled(t) {
                problems.check(abs(f.thrust_n - c.thrust_n) < 1e-3, "t=\(t) ns: \(f.thrust_n) N after the fault, \(c.thrust_n) N without it")
            }
        }
        #expect(problems.count == 0, "\(problems.summary)")
        // Not vacuous: without the fault the throttles moved in the window.
        #expect(moved > 100)
    }

    @Test(arguments: FaultSpec.EngineGroup.allCases)
    func engineOutLeavesTheGroupWithoutThrustFromItsStart(_ group: FaultSpec.EngineGroup) throws {
        let clean = try cleanScheduledFlight.get()
        let faulted = try scheduledFlight(faults: ["command.engine-out=\(group.rawValue)@30s"])
        let main: Double = group == .thrusters ? 1 : 0, thrusters: Double = group == .main ? 1 : 0
        var problems = TruthProblems(), settled = 0
        for c in clean.truth {
            let t = c.stamp_ns, f = try #require(faulted.truth(at: t))
            if t <= ns(30) {
                problems.check(f.thrust_n.bitPattern == c.thrust_n.bitPattern, "t=\(t) ns: \(f.thrust_n) N before the fault, \(c.thrust_n) N without it")
            } else if group == .all {
                problems.check(f.thrust_n == 0, "t=\(t) ns: \(f.thrust_n) N with every engine out")
            } else if ScheduledFlight.isSettled(t) {
                let expected = clean.settledThrust_n(at: t, main: main, thrusters: thrusters)
                problems.check(abs(f.thrust_n - expected) < 1e-3, "t=\(t) ns: \(f.thrust_n) N, expected \(expected) N")
                settled += 1
            }
        }
        #expect(problems.count == 0, "\(problems.summary)")
        #expect(group == .all || settled > 100)
    }
}
