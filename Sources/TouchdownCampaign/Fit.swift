import Foundation
import TouchdownReplay
import TouchdownSim
import TouchdownTrace

/// A fit that cannot be run: bad candidates, telemetry without navigation.
/// Bad input (exit 2).
public struct FitError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

/// `touchdown fit`: which candidate fault makes the mission's scenario fly
/// the descent a telemetry trace recorded (docs/rig.md).
///
/// Each candidate is one closed-loop flight of the scenario with that fault
/// (and one with none), compared with the telemetry on the telemetry's own
/// samples, on what flight telemetry carries:
/// - navigation (`/nav`, what the lander believed): the RMS difference of
///   altitude and of vertical speed, the flight's series interpolated
///   linearly to each telemetry instant and held after the flight ends;
/// - the altimeter (`/altimeter`, what reached the guidance), when the
///   telemetry has it: at each telemetry message's log time, the flight's
///   latest message there; the fraction whose validity differs, and the RMS
///   difference of range where both are valid.
/// Candidates rank by the sum of the terms, each made dimensionless: the RMS
/// differences divided by the telemetry's own spread (standard deviation) of
/// that quantity, the validity fraction as it is. Ties keep the candidates'
/// order. A guidance whose navigation ignores the altimeter (a latched gate)
/// makes an altimeter fault invisible in `/nav`; the altimeter terms still
/// see it.
public enum Fit {
    /// One candidate's flight against the telemetry.
    public struct Score: Sendable {
        public let candidate: String
        public let outcome: String
        public let rmsAltitude_m: Double
        public let rmsVerticalSpeed_mps: Double
        /// nil when the telemetry has no altimeter messages (not measured).
        public let altimeterValidityMismatch: Double?
        /// nil when no telemetry message is valid in both.
        public let rmsRange_m: Double?
        public let score: Double
        public let digest: String
    }

    public struct Result: Sendable {
        public let telemetrySamples: Int
        /// Telemetry samples left out because a compared value is not finite
        /// (nan or inf, as recorded): /nav samples, valid altimeter ranges.
        public let droppedNavSamples: Int
        public let droppedRanges: Int
        /// Best first.
        public let scores: [Score]
    }

    /// The navigation estimates in a trace, in time order.
    public struct NavSeries: Sendable {
        public var stamps_ns: [UInt64] = []
        public var altitude_m: [Double] = []
        public var verticalSpeed_mps: [Double] = []

        public static func read(_ path: String) throws -> NavSeries {
            let samples = try Fit.messages(path, TouchdownTopics.nav, NavSample.self).map(\.message).sorted { $0.stamp_ns < $1.stamp_ns }
            return NavSeries(stamps_ns: samples.map(\.stamp_ns), altitude_m: samples.map(\.altitude_m),
                             verticalSpeed_mps: samples.map(\.verticalSpeed_mps))
        }

        /// The series at `t`: linear between samples, the first before them,
        /// the last after them.
        func value(at t: UInt64) -> (altitude_m: Double, verticalSpeed_mps: Double) {
            let lo = Fit.firstIndex(in: stamps_ns) { $0 >= t }
            if lo == 0 { return (altitude_m[0], verticalSpeed_mps[0]) }
            if lo == stamps_ns.count { return (altitude_m[lo - 1], verticalSpeed_mps[lo - 1]) }
            if stamps_ns[lo] == t { return (altitude_m[lo], verticalSpeed_mps[lo]) }
            let f = Double(t - stamps_ns[lo - 1]) / Double(stamps_ns[lo] - stamps_ns[lo - 1])
            return (altitude_m[lo - 1] + f * (altitude_m[lo] - altitude_m[lo - 1]),
                    verticalSpeed_mps[lo - 1] + f * (verticalSpeed_mps[lo] - verticalSpeed_mps[lo - 1]))
        }
    }

    /// The altimeter messages in a trace as they arrived: log time, validity, range.
    public struct AltimeterSeries: Sendable {
        public var logTimes_ns: [UInt64] = []
        public var valid: [Bool] = []
        public var range_m: [Double] = []

        public static func read(_ path: String) throws -> AltimeterSeries {
            // Stable: messages of one log time keep their order.
            let samples = try Fit.messages(path, TouchdownTopics.altimeter, AltimeterSample.self).enumerated()
                .sorted { ($0.element.logTime_ns, $0.offset) < ($1.element.logTime_ns, $1.offset) }.map(\.element)
            return AltimeterSeries(logTimes_ns: samples.map(\.logTime_ns), valid: samples.map(\.message.valid),
                                   range_m: samples.map(\.message.range_m))
        }

        /// The last message that arrived at or before `t`, if any.
        func latest(at t: UInt64) -> (valid: Bool, range_m: Double)? {
            let lo = Fit.firstIndex(in: logTimes_ns) { $0 > t }
            return lo == 0 ? nil : (valid[lo - 1], range_m[lo - 1])
        }
    }

    /// Expands each `TOPIC.KIND=LOW..HIGH/STEP[,OPTIONS]` into one candidate
    /// per value (`altimeter.acquire-below=300m..3000m/100m`: 28); any other
    /// text is one candidate. Every candidate must parse as a fault.
    public static func candidates(_ specs: [String]) throws -> [String] {
        var out: [String] = []
        for spec in specs {
            let expanded = try expand(spec)
            for c in expanded {
                do {
                    _ = try FaultSpec(parsing: c)
                } catch {
                    throw FitError("--candidates \(spec): \(c) is not a fault: \(error)")
                }
                if !out.contains(c) { out.append(c) }
            }
        }
        return out
    }

    static let maxCandidates = 10_000

    static func expand(_ spec: String) throws -> [String] {
        guard let eq = spec.firstIndex(of: "=") else { return [spec] }
        let prefix = spec[..<eq]
        let rest = spec[spec.index(after: eq)...]
        let valuePart = rest.prefix { $0 != "," && $0 != "@" }
        // A window (@120s..180s) is not a range of values.
        guard valuePart.contains("..") else { return [spec] }
        let suffix = rest.dropFirst(valuePart.count)
        let form = "the form is TOPIC.KIND=LOW..HIGH/STEP, e.g. altimeter.acquire-below=300m..3000m/100m"
        guard let dots = valuePart.range(of: ".."), let slash = valuePart.lastIndex(of: "/"), slash > dots.upperBound else {
            throw FitError("--candidates \(spec): a range needs a step; \(form)")
        }
        let lowText = valuePart[..<dots.lowerBound], highText = valuePart[dots.upperBound..<slash]
        let stepText = valuePart[valuePart.index(after: slash)...]
        func quantity(_ text: Substring) throws -> (value: Double, unit: String) {
            let number = text.prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" }
            guard let v = Double(number), v.isFinite else { throw FitError("--candidates \(spec): \"\(text)\" is not a number with a unit; \(form)") }
            return (v, String(text.dropFirst(number.count)))
        }
        let low = try quantity(lowText), high = try quantity(highText), step = try quantity(stepText)
        guard low.unit == high.unit, high.unit == step.unit else {
            throw FitError("--candidates \(spec): LOW, HIGH and STEP must have the same unit (\"\(low.unit)\", \"\(high.unit)\", \"\(step.unit)\")")
        }
        guard step.value > 0, high.value >= low.value else {
            throw FitError("--candidates \(spec): the step must be positive and HIGH at least LOW")
        }
        let count = ((high.value - low.value) / step.value).rounded()
        guard abs(count * step.value - (high.value - low.value)) <= 1e-9 * max(1, abs(high.value)) else {
            throw FitError("--candidates \(spec): \(highText) is not LOW plus a whole number of steps")
        }
        guard count < Double(maxCandidates) else {
            throw FitError("--candidates \(spec): \(Int(count) + 1) values; at most \(maxCandidates)")
        }
        return (0...Int(count)).map { i in
            let v = low.value + Double(i) * step.value
            return "\(prefix)=\(String(format: "%.12g", v))\(low.unit)\(suffix)"
        }
    }

    /// Flies the scenario once without a fault and once with each candidate,
    /// and scores each flight against the telemetry. `scratch` holds the
    /// flights' traces while they are compared.
    public static func run(telemetry: String, scenario: String, guidance: ReplayPlan.Guidance = .recorded(),
                           candidates: [String], scratch: String,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        let read = try NavSeries.read(telemetry)
        // A sample that is not finite cannot be compared: it is left out and
        // counted, never allowed to make every score NaN.
        var recorded = NavSeries()
        for (k, t) in read.stamps_ns.enumerated() where read.altitude_m[k].isFinite && read.verticalSpeed_mps[k].isFinite {
            recorded.stamps_ns.append(t)
            recorded.altitude_m.append(read.altitude_m[k])
            recorded.verticalSpeed_mps.append(read.verticalSpeed_mps[k])
        }
        let droppedNav = read.stamps_ns.count - recorded.stamps_ns.count
        guard recorded.stamps_ns.count >= 2 else {
            throw FitError("\(telemetry): \(recorded.stamps_ns.count) \(TouchdownTopics.nav) messages; a fit compares the lander's navigation estimates over time and needs at least 2")
        }
        let spreadH = standardDeviation(recorded.altitude_m), spreadV = standardDeviation(recorded.verticalSpeed_mps)
        let recordedAltimeter = try AltimeterSeries.read(telemetry)
        // A valid range that is not finite: its validity is still compared, its range is not.
        let droppedRanges = recordedAltimeter.valid.indices.filter { recordedAltimeter.valid[$0] && !recordedAltimeter.range_m[$0].isFinite }.count
        let validRanges = zip(recordedAltimeter.valid, recordedAltimeter.range_m).filter(\.0).map(\.1)
        let finiteRanges = validRanges.filter(\.isFinite)
        let spreadR = standardDeviation(finiteRanges.isEmpty ? [0] : finiteRanges)
        let all: [String?] = [nil] + candidates
        var scores: [Score] = []
        for (i, candidate) in all.enumerated() {
            progress(i, all.count)
            let output = (scratch as NSString).appendingPathComponent("candidate-\(i).mcap")
            var plan = ReplayPlan(source: .scenario(path: scenario), guidance: guidance, mode: .closedLoop,
                                  faults: try candidate.map { [try FaultSpec(parsing: $0)] } ?? [],
                                  expectation: .any, output: output)
            plan.seed = 1
            let result = try Replay(plan).run()
            let flown = try NavSeries.read(output)
            let flownAltimeter = try AltimeterSeries.read(output)
            try? FileManager.default.removeItem(atPath: output)
            var sumH = 0.0, sumV = 0.0
            if flown.stamps_ns.isEmpty {
                sumH = .infinity
                sumV = .infinity
            } else {
                for (k, t) in recorded.stamps_ns.enumerated() {
                    let s = flown.value(at: t)
                    let dh = s.altitude_m - recorded.altitude_m[k], dv = s.verticalSpeed_mps - recorded.verticalSpeed_mps[k]
                    sumH += dh * dh
                    sumV += dv * dv
                }
            }
            let n = Double(recorded.stamps_ns.count)
            let rmsH = (sumH / n).squareRoot(), rmsV = (sumV / n).squareRoot()
            var mismatch: Double?, rmsR: Double?
            if !recordedAltimeter.logTimes_ns.isEmpty {
                var differ = 0, both = 0, sumR = 0.0
                for (k, t) in recordedAltimeter.logTimes_ns.enumerated() {
                    let f = flownAltimeter.latest(at: t)
                    let flownValid = f?.valid ?? false
                    if flownValid != recordedAltimeter.valid[k] { differ += 1 }
                    if flownValid && recordedAltimeter.valid[k], let f, recordedAltimeter.range_m[k].isFinite {
                        let d = f.range_m - recordedAltimeter.range_m[k]
                        sumR += d * d
                        both += 1
                    }
                }
                mismatch = Double(differ) / Double(recordedAltimeter.logTimes_ns.count)
                rmsR = both > 0 ? (sumR / Double(both)).squareRoot() : nil
            }
            // A range term the telemetry has but this flight cannot be
            // compared on (no valid range at the same time) is not 0: the
            // flight ranks below every one that could be.
            let rangeMeasurable = validRanges.contains { $0.isFinite }
            let rangeTerm = rmsR.map { $0 / spreadR } ?? (rangeMeasurable ? .infinity : 0)
            let score = rmsH / spreadH + rmsV / spreadV + (mismatch ?? 0) + rangeTerm
            scores.append(Score(candidate: candidate ?? "none", outcome: result.outcome, rmsAltitude_m: rmsH,
                                rmsVerticalSpeed_mps: rmsV, altimeterValidityMismatch: mismatch, rmsRange_m: rmsR,
                                score: score, digest: result.digest))
        }
        progress(all.count, all.count)
        let ranked = scores.enumerated().sorted { a, b in
            let x = a.element.score, y = b.element.score
            if x != y { return x.isNaN ? false : y.isNaN ? true : x < y }
            return a.offset < b.offset
        }.map(\.element)
        guard let best = ranked.first, best.score.isFinite else {
            throw FitError("no candidate could be scored against \(telemetry): every flight's score is not finite (a flight without navigation, or without a valid altimeter range when the telemetry has them)")
        }
        return Result(telemetrySamples: recorded.stamps_ns.count, droppedNavSamples: droppedNav, droppedRanges: droppedRanges, scores: ranked)
    }

    /// Every message on `topic` with its log time, in file order; the topic
    /// must carry Touchdown's own type.
    static func messages<M: TraceMessage>(_ path: String, _ topic: String, _ type: M.Type) throws -> [(logTime_ns: UInt64, message: M)] {
        let reader = try TraceReader(path: path)
        guard reader.indexed != nil else {
            throw FitError("\(path): the trace has no intact summary; run `touchdown trace recover` first")
        }
        var out: [(logTime_ns: UInt64, message: M)] = []
        // Times from the start of descent, as the simulations it is fitted to run.
        let epoch_ns = try reader.indexed.flatMap { try TraceClock.epoch_ns($0) } ?? 0
        try reader.forEachMessage(topics: [topic]) { decoder, m in
            guard decoder.schema?.name == M.schemaName else {
                throw FitError("\(path): \(topic) carries \(decoder.schema?.name ?? "no schema"), not \(M.schemaName)")
            }
            var message = try M(cdr: m.data)
            message.stamp_ns = message.stamp_ns >= epoch_ns ? message.stamp_ns - epoch_ns : 0
            out.append((m.logTime_ns >= epoch_ns ? m.logTime_ns - epoch_ns : 0, message))
        }
        return out
    }

    /// The first index of sorted `xs` where `isAfter` holds (xs.count if none).
    static func firstIndex(in xs: [UInt64], where isAfter: (UInt64) -> Bool) -> Int {
        var lo = 0, hi = xs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if isAfter(xs[mid]) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    static func standardDeviation(_ xs: [Double]) -> Double {
        let mean = xs.reduce(0, +) / Double(xs.count)
        let sd = (xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)).squareRoot()
        return sd > 0 && sd.isFinite ? sd : 1
    }
}
