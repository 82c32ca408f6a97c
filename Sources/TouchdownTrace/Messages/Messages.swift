/// Touchdown's own message types. Frames: the body x axis is the thrust axis
/// (up when the vehicle is upright); "vertical" is along the local radial
/// (positive up), "horizontal" along the ground track (positive downrange).
/// Every sensor message carries `stamp_ns`, the instant it describes, which can
/// differ from the log time at which it arrived (latency).

/// Inertial measurement: specific force and angular rate in the body frame.
public struct ImuSample: TraceMessage {
    public var stamp_ns: UInt64
    public var accelX_mps2: Double, accelY_mps2: Double, accelZ_mps2: Double
    public var rateX_radps: Double, rateY_radps: Double, rateZ_radps: Double

    public init(stamp_ns: UInt64, accelX_mps2: Double, accelY_mps2: Double, accelZ_mps2: Double,
                rateX_radps: Double, rateY_radps: Double, rateZ_radps: Double) {
        self.stamp_ns = stamp_ns
        self.accelX_mps2 = accelX_mps2; self.accelY_mps2 = accelY_mps2; self.accelZ_mps2 = accelZ_mps2
        self.rateX_radps = rateX_radps; self.rateY_radps = rateY_radps; self.rateZ_radps = rateZ_radps
    }

    public static let schemaName = "touchdown_msgs/msg/Imu"
    public static let fields = [
        "uint64 stamp_ns", "float64 accel_x_mps2", "float64 accel_y_mps2", "float64 accel_z_mps2",
        "float64 rate_x_radps", "float64 rate_y_radps", "float64 rate_z_radps",
    ]

    @inline(__always)
    public func encode(into w: inout CDRPayloadWriter) {
        w.uint64(stamp_ns)
        w.float64(accelX_mps2); w.float64(accelY_mps2); w.float64(accelZ_mps2)
        w.float64(rateX_radps); w.float64(rateY_radps); w.float64(rateZ_radps)
    }

    public init(cdr: UnsafeRawBufferPointer) throws {
        var r = try CDRPayloadReader(cdr, type: Self.schemaName)
        stamp_ns = try r.uint64("stamp_ns")
        accelX_mps2 = try r.float64("accel_x_mps2"); accelY_mps2 = try r.float64("accel_y_mps2"); accelZ_mps2 = try r.float64("accel_z_mps2")
        rateX_radps = try r.float64("rate_x_radps"); rateY_radps = try r.float64("rate_y_radps"); rateZ_radps = try r.float64("rate_z_radps")
    }
}

/// Laser altimeter: slant range along the boresight (the body's -x axis, down
/// when upright), and whether the instrument reports it valid.
public struct AltimeterSample: TraceMessage {
    public var stamp_ns: UInt64
    public var range_m: Double
    public var valid: Bool

    public init(stamp_ns: UInt64, range_m: Double, valid: Bool) {
        self.stamp_ns = stamp_ns
        self.range_m = range_m
        self.valid = valid
    }

    public static let schemaName = "touchdown_msgs/msg/Altimeter"
    public static let fields = ["uint64 stamp_ns", "float64 range_m", "bool valid"]

    @inline(__always)
    public func encode(into w: inout CDRPayloadWriter) {
        w.uint64(stamp_ns); w.float64(range_m); w.bool(valid)
    }

    public init(cdr: UnsafeRawBufferPointer) throws {
        var r = try CDRPayloadReader(cdr, type: Self.schemaName)
        stamp_ns = try r.uint64("stamp_ns"); range_m = try r.float64("range_m"); valid = try r.bool("valid")
    }
}

/// Doppler velocimeter: velocity relative to the ground, in the local
/// horizontal/vertical frame.
public struct VelocimeterSample: TraceMessage {
    public var stamp_ns: UInt64
    public var horizontalVelocity_mps: Double
    public var verticalVelocity_mps: Double
    public var valid: Bool

    public init(stamp_ns: UInt64, horizontalVelocity_mps: Double, verticalVelocity_mps: Double, valid: Bool) {
        self.stamp_ns = stamp_ns
        self.horizontalVelocity_mps = horizontalVelocity_mps
        self.verticalVelocity_mps = verticalVelocity_mps
        self.valid = valid
    }

    public static let schemaName = "touchdown_msgs/msg/Velocimeter"
    public static let fields = ["uint64 stamp_ns", "float64 horizontal_velocity_mps", "float64 vertical_velocity_mps", "bool valid"]

    @inline(__always)
    public func encode(into w: inout CDRPayloadWriter) {
        w.uint64(stamp_ns); w.float64(horizontalVelocity_mps); w.float64(verticalVelocity_mps); w.bool(valid)
    }

    public init(cdr: UnsafeRawBufferPointer) throws {
        var r = try CDRPayloadReader(cdr, type: Self.schemaName)
        stamp_ns = try r.uint64("stamp_ns")
        horizontalVelocity_mps = try r.float64("horizontal_velocity_mps")
        verticalVelocity_mps = try r.float64("vertical_velocity_mps")
        valid = try r.bool("valid")
    }
}

/// Star-tracker attitude: pitch of the thrust axis from the local vertical,
/// positive when the thrust points against the direction of travel (braking).
public struct AttitudeSample: TraceMessage {
    public var stamp_ns: UInt64
    public var pitch_rad: Double
    public var valid: Bool

    public init(stamp_ns: UInt64, pitch_rad: Double, valid: Bool) {
        self.stamp_ns = stamp_ns
        self.pitch_rad = pitch_rad
        self.valid = valid
    }

    public static let schemaName = "touchdown_msgs/msg/Attitude"
    public static let fields = ["uint64 stamp_ns", "float64 pitch_rad", "bool valid"]

    @inline(__always)
    public func encode(into w: inout CDRPayloadWriter) {
        w.uint64(stamp_ns); w.float64(pitch_rad); w.bool(valid)
    }

    public init(cdr: UnsafeRawBufferPointer) throws {
        var r = try CDRPayloadReader(cdr, type: Self.schemaName)
        stamp_ns = try r.uint64("stamp_ns"); pitch_rad = try r.float64("pitch_rad"); valid = try r.bool("valid")
    }
}

/// What guidance asks of the actuators.
public struct CommandSample: TraceMessage {
    public var stamp_ns: UInt64
    /// Main engine throttle, 0…1 of its rated thrust.
    public var mainThrottle_fraction: Double
    /// Thruster group throttle, 0…1 of its rated thrust.
    public var thrusterThrottle_fraction: Double
    /// Commanded pitch of the thrust axis from the local vertical.
    public var pitchCommand_rad: Double

    public init(stamp_ns: UInt64, mainThrottle_fraction: Double, thrusterThrottle_fraction: Double, pitchCommand_rad: Double) {
        self.stamp_ns = stamp_ns
        self.mainThrottle_fraction = mainThrottle_fraction
        self.thrusterThrottle_fraction = thrusterThrottle_fraction
        self.pitchCommand_rad = pitchCommand_rad
    }

    public static let schemaName = "touchdown_msgs/msg/Command"
    public static let fields = ["uint64 stamp_ns", "float64 main_throttle_fraction", "float64 thruster_throttle_fraction", "float64 pitch_command_rad"]

    @inline(__always)
    public func encode(into w: inout CDRPayloadWriter) {
        w.uint64(stamp_ns); w.float64(mainThrottle_fraction); w.float64(thrusterThrottle_fraction); w.float64(pitchCommand_rad)
    }

    public init(cdr: UnsafeRawBufferPointer) throws {
        var r = try CDRPayloadReader(cdr, type: Self.schemaName)
        stamp_ns = try r.uint64("stamp_ns")
        mainThrottle_fraction = try r.float64("main_throttle_fraction")
        thrusterThrottle_fraction = try r.float64("thruster_throttle_fraction")
        pitchCommand_rad = try r.float64("pitch_command_rad")
    }
}

/// The simulator's true state (not seen by guidance).
public struct TruthSample: TraceMessage {
    public var stamp_ns: UInt64
    public var downrange_m: Double
    public var altitudeAGL_m: Double
    public var terrainElevation_m: Double
    public var verticalSpeed_mps: Double
    public var horizontalSpeed_mps: Double
    public var pitch_rad: Double
    public var mass_kg: Double
    public var thrust_n: Double

    public init(stamp_ns: UInt64, downrange_m: Double, altitudeAGL_m: Double, terrainElevation_m: Double,
                verticalSpeed_mps: Double, horizontalSpeed_mps: Double, pitch_rad: Double, mass_kg: Double, thrust_n: Double) {
        self.stamp_ns = stamp_ns
        self.downrange_m = downrange_m
        self.altitudeAGL_m = altitudeAGL_m
        self.terrainElevation_m = terrainElevation_m
        self.verticalSpeed_mps = verticalSpeed_mps
        self.horizontalSpeed_mps = horizontalSpeed_mps
        self.pitch_rad = pitch_rad
        self.mass_kg = mass_kg
        self.thrust_n = thrust_n
    }

    public static let schemaName = "touchdown_msgs/msg/Truth"
    public static let fields = [
        "uint64 stamp_ns", "float64 downrange_m", "float64 altitude_agl_m", "float64 terrain_elevation_m",
        "float64 vertical_speed_mps", "float64 horizontal_speed_mps", "float64 pitch_rad", "float64 mass_kg", "float64 thrust_n",
    ]

    @inline(__always)
    public func encode(into w: inout CDRPayloadWriter) {
        w.uint64(stamp_ns); w.float64(downrange_m); w.float64(altitudeAGL_m); w.float64(terrainElevation_m)
        w.float64(verticalSpeed_mps); w.float64(horizontalSpeed_mps); w.float64(pitch_rad); w.float64(mass_kg); w.float64(thrust_n)
    }

    public init(cdr: UnsafeRawBufferPointer) throws {
        var r = try CDRPayloadReader(cdr, type: Self.schemaName)
        stamp_ns = try r.uint64("stamp_ns")
        downrange_m = try r.float64("downrange_m"); altitudeAGL_m = try r.float64("altitude_agl_m")
        terrainElevation_m = try r.float64("terrain_elevation_m"); verticalSpeed_mps = try r.float64("vertical_speed_mps")
        horizontalSpeed_mps = try r.float64("horizontal_speed_mps"); pitch_rad = try r.float64("pitch_rad")
        mass_kg = try r.float64("mass_kg"); thrust_n = try r.float64("thrust_n")
    }
}

/// What navigation believes.
public struct NavSample: TraceMessage {
    public var stamp_ns: UInt64
    public var downrange_m: Double
    public var altitude_m: Double
    public var verticalSpeed_mps: Double
    public var horizontalSpeed_mps: Double
    public var pitch_rad: Double

    public init(stamp_ns: UInt64, downrange_m: Double, altitude_m: Double, verticalSpeed_mps: Double,
                horizontalSpeed_mps: Double, pitch_rad: Double) {
        self.stamp_ns = stamp_ns
        self.downrange_m = downrange_m
        self.altitude_m = altitude_m
        self.verticalSpeed_mps = verticalSpeed_mps
        self.horizontalSpeed_mps = horizontalSpeed_mps
        self.pitch_rad = pitch_rad
    }

    public static let schemaName = "touchdown_msgs/msg/NavEstimate"
    public static let fields = [
        "uint64 stamp_ns", "float64 downrange_m", "float64 altitude_m", "float64 vertical_speed_mps",
        "float64 horizontal_speed_mps", "float64 pitch_rad",
    ]

    @inline(__always)
    public func encode(into w: inout CDRPayloadWriter) {
        w.uint64(stamp_ns); w.float64(downrange_m); w.float64(altitude_m); w.float64(verticalSpeed_mps)
        w.float64(horizontalSpeed_mps); w.float64(pitch_rad)
    }

    public init(cdr: UnsafeRawBufferPointer) throws {
        var r = try CDRPayloadReader(cdr, type: Self.schemaName)
        stamp_ns = try r.uint64("stamp_ns"); downrange_m = try r.float64("downrange_m"); altitude_m = try r.float64("altitude_m")
        verticalSpeed_mps = try r.float64("vertical_speed_mps"); horizontalSpeed_mps = try r.float64("horizontal_speed_mps")
        pitch_rad = try r.float64("pitch_rad")
    }
}

/// Something that happened: a phase change, a rejected range, a fault acting.
public struct EventSample: TraceMessage {
    public var stamp_ns: UInt64
    /// A short machine-readable kind (`phase`, `altimeter-rejected`, `touchdown`…).
    public var kind: String
    /// A person-readable detail.
    public var detail: String
    /// Whether it means something went wrong: guidance flagged it so, or the
    /// run raised it (a guidance failure, propellant exhausted).
    public var anomaly: Bool

    public init(stamp_ns: UInt64, kind: String, detail: String, anomaly: Bool = false) {
        self.stamp_ns = stamp_ns
        self.kind = kind
        self.detail = detail
        self.anomaly = anomaly
    }

    public static let schemaName = "touchdown_msgs/msg/Event"
    public static let fields = ["uint64 stamp_ns", "string kind", "string detail", "bool anomaly"]

    @inline(__always)
    public func encode(into w: inout CDRPayloadWriter) {
        w.uint64(stamp_ns); w.string(kind); w.string(detail); w.bool(anomaly)
    }

    public init(cdr: UnsafeRawBufferPointer) throws {
        var r = try CDRPayloadReader(cdr, type: Self.schemaName)
        stamp_ns = try r.uint64("stamp_ns"); kind = try r.string("kind"); detail = try r.string("detail")
        anomaly = try r.bool("anomaly")
    }
}

/// How far navigation is from the truth at a guidance step: navigation −
/// truth, signed (`/metrics`). Altitude is against the true altitude above
/// the ground, as guidance's own estimate is.
public struct NavErrorSample: TraceMessage {
    public var stamp_ns: UInt64
    public var altitudeError_m: Double
    public var verticalSpeedError_mps: Double
    public var horizontalSpeedError_mps: Double
    public var downrangeError_m: Double
    public var pitchError_rad: Double

    public init(stamp_ns: UInt64, altitudeError_m: Double, verticalSpeedError_mps: Double, horizontalSpeedError_mps: Double,
                downrangeError_m: Double, pitchError_rad: Double) {
        self.stamp_ns = stamp_ns
        self.altitudeError_m = altitudeError_m
        self.verticalSpeedError_mps = verticalSpeedError_mps
        self.horizontalSpeedError_mps = horizontalSpeedError_mps
        self.downrangeError_m = downrangeError_m
        self.pitchError_rad = pitchError_rad
    }

    /// The errors of `nav` against `truth` (stamped as `nav`).
    public init(nav: NavSample, truth: TruthSample) {
        self.init(stamp_ns: nav.stamp_ns, altitudeError_m: nav.altitude_m - truth.altitudeAGL_m,
                  verticalSpeedError_mps: nav.verticalSpeed_mps - truth.verticalSpeed_mps,
                  horizontalSpeedError_mps: nav.horizontalSpeed_mps - truth.horizontalSpeed_mps,
                  downrangeError_m: nav.downrange_m - truth.downrange_m, pitchError_rad: nav.pitch_rad - truth.pitch_rad)
    }

    public static let schemaName = "touchdown_msgs/msg/NavError"
    public static let fields = [
        "uint64 stamp_ns", "float64 altitude_error_m", "float64 vertical_speed_error_mps",
        "float64 horizontal_speed_error_mps", "float64 downrange_error_m", "float64 pitch_error_rad",
    ]

    public func encode(into w: inout CDRPayloadWriter) {
        w.uint64(stamp_ns); w.float64(altitudeError_m); w.float64(verticalSpeedError_mps)
        w.float64(horizontalSpeedError_mps); w.float64(downrangeError_m); w.float64(pitchError_rad)
    }

    public init(cdr: UnsafeRawBufferPointer) throws {
        var r = try CDRPayloadReader(cdr, type: Self.schemaName)
        stamp_ns = try r.uint64("stamp_ns"); altitudeError_m = try r.float64("altitude_error_m")
        verticalSpeedError_mps = try r.float64("vertical_speed_error_mps")
        horizontalSpeedError_mps = try r.float64("horizontal_speed_error_mps")
        downrangeError_m = try r.float64("downrange_error_m"); pitchError_rad = try r.float64("pitch_error_rad")
    }
}

/// An event as a log line, in Foxglove's `foxglove_msgs/msg/Log` layout
/// (`/log`), so viewers' log panels list events with their level.
public struct LogSample: TraceMessage {
    /// Foxglove's levels (any other number reads back as it is).
    public enum Level {
        public static let debug: UInt8 = 1, info: UInt8 = 2, warning: UInt8 = 3, error: UInt8 = 4, fatal: UInt8 = 5
    }
    /// Nanoseconds on the trace's clock; `timestamp` (seconds and
    /// nanoseconds) on the wire.
    public var stamp_ns: UInt64
    public var level: UInt8
    public var message: String
    /// Who raised it: `guidance`, `simulation` or `fault`.
    public var name: String

    public init(stamp_ns: UInt64, level: UInt8, message: String, name: String) {
        self.stamp_ns = stamp_ns
        self.level = level
        self.message = message
        self.name = name
    }

    /// An event as a log line: an anomaly the run raised (its guidance
    /// failed, it crashed, propellant ran out) is an error, one guidance
    /// flagged a warning, the rest information.
    public init(event e: EventSample) {
        let runFailures = ["guidance-crashed", "guidance-timeout", "guidance-invalid-output", "propellant-exhausted", "crashed"]
        let name = e.kind.hasPrefix("fault") ? "fault"
            : (["touchdown", "propellant-exhausted"] + runFailures).contains(e.kind) ? "simulation" : "guidance"
        let level: UInt8 = runFailures.contains(e.kind) || (e.kind == "touchdown" && e.detail.hasPrefix("crashed")) ? Level.error
            : e.anomaly || (e.kind == "touchdown" && !e.detail.hasPrefix("landed")) ? Level.warning : Level.info
        self.init(stamp_ns: e.stamp_ns, level: level, message: "\(e.kind): \(e.detail)", name: name)
    }

    public static let schemaName = "foxglove_msgs/msg/Log"
    public static let fields = [
        "builtin_interfaces/Time timestamp", "uint8 level", "string message", "string name", "string file", "uint32 line",
    ]
    public static var schemaText: String {
        "# foxglove_msgs/msg/Log: an event as a log line (Foxglove's Log schema).\n"
            + "# level: 1 debug, 2 info, 3 warning, 4 error, 5 fatal\n" + fields.joined(separator: "\n") + "\n"
            + "================================================================================\n"
            + "MSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec\n"
    }

    public func encode(into w: inout CDRPayloadWriter) {
        w.uint32(UInt32(truncatingIfNeeded: stamp_ns / 1_000_000_000)); w.uint32(UInt32(stamp_ns % 1_000_000_000))
        w.uint8(level); w.string(message); w.string(name); w.string(""); w.uint32(0)
    }

    public init(cdr: UnsafeRawBufferPointer) throws {
        var r = try CDRPayloadReader(cdr, type: Self.schemaName)
        let sec = try r.uint32("timestamp.sec"), nanosec = try r.uint32("timestamp.nanosec")
        stamp_ns = UInt64(sec) * 1_000_000_000 + UInt64(nanosec)
        level = try r.uint8("level")
        message = try r.string("message"); name = try r.string("name")
        _ = try r.string("file"); _ = try r.uint32("line")
    }
}

/// Every own message type, for lookups by schema name.
public let touchdownMessageTypes: [any TraceMessage.Type] = [
    ImuSample.self, AltimeterSample.self, VelocimeterSample.self, AttitudeSample.self,
    CommandSample.self, TruthSample.self, NavSample.self, EventSample.self, NavErrorSample.self, LogSample.self,
]
