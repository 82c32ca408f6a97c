import Testing
@testable import TouchdownSim
import TouchdownTrace

/// The simulator skips hook calls that cannot do anything (`nextDue_ns`,
/// `actsOnActuators`). A hooks type that declares neither must still get
/// every call it relies on: the protocol's defaults are the safe ones.
@Suite("Simulation hooks")
struct HooksTests {
    /// Idle guidance that counts what reaches it.
    struct CountingGuidance: Guidance {
        var inner: IdleGuidance
        var altimeterStamps: [UInt64] = []
        mutating func receive(_ reading: SensorReading) {
            if case .altimeter(let a) = reading { altimeterStamps.append(a.stamp_ns) }
        }
        mutating func step(time_ns: UInt64) -> GuidanceOutput { inner.step(time_ns: time_ns) }
    }

    /// Holds every altimeter message 50 ms; declares no `nextDue_ns`.
    struct HoldingHooks: SimulationHooks {
        var held: [(due_ns: UInt64, reading: SensorReading)] = []
        mutating func sensor(_ reading: SensorReading, at t: UInt64, altitudeAGL_m: Double,
                             deliver: (SensorReading) throws -> Void) throws {
            if case .altimeter = reading { held.append((t + 50_000_000, reading)) } else { try deliver(reading) }
        }
        mutating func deliverDue(upTo t: UInt64, deliver: (SensorReading) throws -> Void) throws {
            while let first = held.first, first.due_ns <= t {
                held.removeFirst()
                try deliver(first.reading)
            }
        }
    }

    /// Runs the main engine at full throttle whatever guidance says;
    /// declares no `actsOnActuators`.
    struct FullThrottleHooks: SimulationHooks {
        mutating func sensor(_ reading: SensorReading, at t: UInt64, altitudeAGL_m: Double,
                             deliver: (SensorReading) throws -> Void) throws {
            try deliver(reading)
        }
        mutating func actuator(at t: UInt64, latest: CommandSample) -> CommandSample {
            var c = latest
            c.mainThrottle_fraction = 1
            return c
        }
    }

    func simulation() throws -> Simulation {
        Simulation(scenario: try testScenario(extra: "max_duration: 20 s"))
    }

    @Test func heldMessagesAreDeliveredWithoutNextDue() throws {
        let sim = try simulation()
        var direct = CountingGuidance(inner: IdleGuidance(knowledge: sim.knowledge))
        _ = try sim.run(guidance: &direct)
        var delayed = CountingGuidance(inner: IdleGuidance(knowledge: sim.knowledge))
        var hooks = HoldingHooks()
        _ = try sim.run(guidance: &delayed, hooks: &hooks)
        #expect(direct.altimeterStamps.count == 201)
        // The last one is still held when the 20 s run ends.
        #expect(delayed.altimeterStamps == Array(direct.altimeterStamps.dropLast()))
    }

    @Test func actuatorIsCalledWithoutActsOnActuators() throws {
        let sim = try simulation()
        var idle = IdleGuidance(knowledge: sim.knowledge)
        var direct = DirectHooks()
        let coasting = try sim.run(guidance: &idle, hooks: &direct)
        var hooks = FullThrottleHooks()
        let burning = try sim.run(guidance: &idle, hooks: &hooks)
        #expect(coasting.propellant_kg == 360)
        // 400 N at Isp 320 s for 20 s burns 2.55 kg.
        #expect(abs(burning.propellant_kg - (360 - 400 / (320 * standardGravity_mps2) * 20)) < 0.01)
    }
}
