/// The topic names of Touchdown's own traces, in one place: the simulator,
/// the replayer, the synthetic workload and the benchmarks all use these.
public enum TouchdownTopics {
    public static let imu = "/imu", altimeter = "/altimeter", velocimeter = "/velocimeter", attitude = "/attitude"
    public static let command = "/command", nav = "/nav", truth = "/truth", events = "/events"
    /// Navigation minus truth at each guidance step (`NavErrorSample`).
    public static let metrics = "/metrics"
    /// Every event again as a `foxglove_msgs/msg/Log` line (`LogSample`).
    public static let log = "/log"
}
