import TouchdownSim
import TouchdownTrace

extension SensorReading {
    /// Index of the topic in per-topic tables (0…3).
    var topicIndex: Int {
        switch self {
        case .imu: 0
        case .altimeter: 1
        case .velocimeter: 2
        case .attitude: 3
        }
    }

    var isValid: Bool {
        switch self {
        case .imu: true
        case .altimeter(let m): m.valid
        case .velocimeter(let m): m.valid
        case .attitude(let m): m.valid
        }
    }

    /// The `i`th field of `SensorFields.names` for this topic.
    func field(_ i: Int) -> Double {
        switch self {
        case .imu(let m):
            switch i {
            case 0: m.accelX_mps2
            case 1: m.accelY_mps2
            case 2: m.accelZ_mps2
            case 3: m.rateX_radps
            case 4: m.rateY_radps
            default: m.rateZ_radps
            }
        case .altimeter(let m): m.range_m
        case .velocimeter(let m): i == 0 ? m.horizontalVelocity_mps : m.verticalVelocity_mps
        case .attitude(let m): m.pitch_rad
        }
    }

    mutating func setField(_ i: Int, _ v: Double) {
        switch self {
        case .imu(var m):
            switch i {
            case 0: m.accelX_mps2 = v
            case 1: m.accelY_mps2 = v
            case 2: m.accelZ_mps2 = v
            case 3: m.rateX_radps = v
            case 4: m.rateY_radps = v
            default: m.rateZ_radps = v
            }
            self = .imu(m)
        case .altimeter(var m): m.range_m = v; self = .altimeter(m)
        case .velocimeter(var m):
            if i == 0 { m.horizontalVelocity_mps = v } else { m.verticalVelocity_mps = v }
            self = .velocimeter(m)
        case .attitude(var m): m.pitch_rad = v; self = .attitude(m)
        }
    }

    /// Marks the reading invalid, as the instrument reports no measurement:
    /// the values are zeroed.
    mutating func invalidate() {
        switch self {
        case .imu: break
        case .altimeter(var m): m.valid = false; m.range_m = 0; self = .altimeter(m)
        case .velocimeter(var m):
            m.valid = false; m.horizontalVelocity_mps = 0; m.verticalVelocity_mps = 0
            self = .velocimeter(m)
        case .attitude(var m): m.valid = false; self = .attitude(m)
        }
    }

    mutating func setValid(_ valid: Bool) {
        switch self {
        case .imu: break
        case .altimeter(var m): m.valid = valid; self = .altimeter(m)
        case .velocimeter(var m): m.valid = valid; self = .velocimeter(m)
        case .attitude(var m): m.valid = valid; self = .attitude(m)
        }
    }
}
