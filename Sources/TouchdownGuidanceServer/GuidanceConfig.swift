import TouchdownSim

/// The `config` line of the protocol: every key, and where its value lives in
/// the mission knowledge. Both ends use it: `ExternalGuidance` writes the
/// line, `GuidanceServer` reads it. `thruster_count`, a whole number, is the
/// one key without a path.
package enum GuidanceConfig {
    package static var fields: [(key: String, path: WritableKeyPath<MissionKnowledge, Double>?)] { [
        ("site_downrange_m", \.siteDownrange_m), ("site_elevation_m", \.siteElevation_m),
        ("moon_radius_m", \.moonRadius_m), ("moon_gm_m3ps2", \.moonGM_m3ps2),
        ("initial_mass_kg", \.vehicle.initialMass_kg), ("dry_mass_kg", \.vehicle.dryMass_kg), ("isp_s", \.vehicle.isp_s),
        ("main_thrust_n", \.vehicle.mainThrust_n), ("main_min_throttle_fraction", \.vehicle.mainMinThrottle_fraction),
        ("thruster_count", nil), ("thruster_thrust_n", \.vehicle.thrusterThrust_n),
        ("nav_downrange_m", \.initialNavigation.downrange_m), ("nav_altitude_m", \.initialNavigation.altitude_m),
        ("nav_vertical_speed_mps", \.initialNavigation.verticalSpeed_mps),
        ("nav_horizontal_speed_mps", \.initialNavigation.horizontalSpeed_mps),
        ("nav_pitch_rad", \.initialNavigation.pitch_rad), ("altitude_sigma_m", \.altitudeSigma_m),
        ("speed_sigma_mps", \.speedSigma_mps), ("guidance_rate_hz", \.guidanceRate_hz),
    ] }
    package static var keys: [String] { fields.map(\.key) }
    /// Longest line either end accepts, without its LF.
    package static let lineLimit = 1 << 16
}
