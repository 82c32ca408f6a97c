/// A deterministic slice of a campaign's runs: run `index` of every `count`
/// (by run order), for spreading one campaign over machines.
public struct Shard: Equatable, Sendable {
    public var index: Int
    public var count: Int
    /// Where it came from: `--shard`, or the variables of the engine that set it.
    public var source: String

    public init(index: Int, count: Int, source: String) {
        self.index = index
        self.count = count
        self.source = source
    }

    public func contains(_ run: CampaignRun) -> Bool { run.index % count == index }

    public var description: String { "shard \(index)/\(count) (from \(source))" }

    /// Parses `I/N`.
    public init(parsing text: String) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, n <= 1_000_000, i >= 0, i < n else {
            throw ShardError("--shard \(text) is not accepted: I/N with 0 <= I < N (0/4 is the first of four)")
        }
        self.init(index: i, count: n, source: "--shard")
    }

    /// The shard an engine that runs arrays of jobs gives this process, from
    /// its environment: Bazel test sharding, Slurm job arrays, Kubernetes
    /// Indexed Jobs and AWS Batch array jobs (these two with `shards` from
    /// `--shards N`), GitLab `parallel:`. Nil when none is set; an error when
    /// they disagree or one is malformed.
    public static func fromEnvironment(_ env: [String: String], shards: Int?) throws(ShardError) -> Shard? {
        var found: [Shard] = []
        func number(_ name: String) throws(ShardError) -> Int? {
            guard let text = env[name] else { return nil }
            guard let n = Int(text), n >= 0 else { throw ShardError("\(name)=\(text) is not a whole number") }
            return n
        }
        /// An index with its count, or neither: one without the other is an error.
        func pair(_ indexName: String, _ countName: String) throws(ShardError) -> (index: Int, count: Int)? {
            let i = try number(indexName), n = try number(countName)
            if let i, let n { return (i, n) }
            if i == nil && n == nil { return nil }
            throw ShardError("\(i == nil ? countName : indexName) is set without \(i == nil ? indexName : countName): give both, or --shard I/N")
        }
        if let (i, n) = try pair("TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS") {
            found.append(Shard(index: i, count: n, source: "Bazel TEST_SHARD_INDEX/TEST_TOTAL_SHARDS"))
        }
        if let id = try number("SLURM_ARRAY_TASK_ID") {
            // `--array=0-6:2` runs tasks 0, 2, 4 and 6: shards 0 to 3.
            let min = try number("SLURM_ARRAY_TASK_MIN") ?? 0
            let step = try number("SLURM_ARRAY_TASK_STEP") ?? 1
            guard step >= 1, id >= min, (id - min) % step == 0 else {
                throw ShardError("SLURM_ARRAY_TASK_ID=\(id) is not in the array from SLURM_ARRAY_TASK_MIN=\(min) by SLURM_ARRAY_TASK_STEP=\(step)")
            }
            var n = try number("SLURM_ARRAY_TASK_COUNT")
            if n == nil, let max = try number("SLURM_ARRAY_TASK_MAX") { n = max >= min ? (max - min) / step + 1 : 0 }
            guard let n else {
                throw ShardError("SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MAX")
            }
            found.append(Shard(index: (id - min) / step, count: n, source: "Slurm SLURM_ARRAY_TASK_ID"))
        }
        if let i = try number("JOB_COMPLETION_INDEX") {
            guard let shards else { throw ShardError("JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set: give the shard count with --shards N (the Job's completions)") }
            found.append(Shard(index: i, count: shards, source: "Kubernetes JOB_COMPLETION_INDEX"))
        }
        if let (i, n) = try pair("CI_NODE_INDEX", "CI_NODE_TOTAL") {
            found.append(Shard(index: i - 1, count: n, source: "GitLab CI_NODE_INDEX/CI_NODE_TOTAL"))
        }
        if let i = try number("AWS_BATCH_JOB_ARRAY_INDEX") {
            guard let shards else { throw ShardError("AWS_BATCH_JOB_ARRAY_INDEX (an AWS Batch array job) is set: give the shard count with --shards N (the array size)") }
            found.append(Shard(index: i, count: shards, source: "AWS Batch AWS_BATCH_JOB_ARRAY_INDEX"))
        }
        for s in found where !(s.count >= 1 && s.index >= 0 && s.index < s.count) {
            throw ShardError("\(s.source) gives shard \(s.index) of \(s.count), which does not exist")
        }
        guard let first = found.first else { return nil }
        for other in found.dropFirst() where other.index != first.index || other.count != first.count {
            throw ShardError("\(first.source) says shard \(first.index)/\(first.count) but \(other.source) says \(other.index)/\(other.count); give --shard I/N")
        }
        return first
    }
}

public struct ShardError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}
