import Foundation
import Testing
import TouchdownTestSupport
import TouchdownTrace

/// docs/foxglove-layout.json names topics and fields: each must exist, with
/// that name, in the traces Touchdown writes (simulated, replayed closed and
/// open loop), or the layout's panels would open empty.
@Suite struct FoxgloveLayoutTests {
    /// Every message path (`/topic.field`) and topic the layout names.
    static func namedPaths() throws -> (paths: [String], topics: [String]) {
        let data = try Data(contentsOf: TestPaths.repository.appendingPathComponent("docs/foxglove-layout.json"))
        let layout = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(layout["configById"] as? [String: [String: Any]])
        var paths: [String] = [], topics: [String] = []
        for (_, config) in panels.sorted(by: { $0.key < $1.key }) {
            for p in config["paths"] as? [[String: Any]] ?? [] { paths.append(try #require(p["value"] as? String)) }
            if let t = config["topicToRender"] as? String { topics.append(t) }
        }
        // The layout tree names only panels that exist.
        func leaves(_ node: Any) -> [String] {
            if let s = node as? String { return [s] }
            guard let d = node as? [String: Any] else { return [] }
            return leaves(d["first"] as Any) + leaves(d["second"] as Any)
        }
        #expect(Set(leaves(layout["layout"] as Any)) == Set(panels.keys))
        return (paths, topics)
    }

    /// Top-level field names of each topic's schema, from its ros2msg text.
    static func fields(_ path: String) throws -> [String: (schema: String, fields: [String])] {
        let reader = try IndexedReader(path: path)
        var out: [String: (String, [String])] = [:]
        for c in reader.channels {
            guard let s = reader.schema(c.schemaID) else { continue }
            var names: [String] = []
            for line in String(decoding: s.data, as: UTF8.self).split(separator: "\n") {
                if line.hasPrefix("=====") { break }
                let parts = line.split(separator: " ")
                guard parts.count == 2, !line.hasPrefix("#"), !parts[1].contains("=") else { continue }
                names.append(String(parts[1]))
            }
            out[c.topic] = (s.name, names)
        }
        return out
    }

    @Test func everyTopicAndFieldTheLayoutNamesIsInTheTraces() throws {
        let (paths, topics) = try Self.namedPaths()
        #expect(paths.count >= 15 && topics == ["/log"])
        let dir = try TestPaths.scratch()
        let nominal = TestPaths.traces.appendingPathComponent("nominal.mcap").path
        let closed = dir.appendingPathComponent("closed.mcap").path, open = dir.appendingPathComponent("open.mcap").path
        #expect(try run(touchdownExecutable, ["replay", nominal, "--fault", "altimeter.latency=1s", "--out", closed]).status == 0)
        #expect(try run(touchdownExecutable, ["replay", nominal, "--mode", "open-loop", "--fault", "imu.drop=5%", "--expect", "any", "--out", open]).status == 0)
        for trace in [nominal, closed, open] {
            let schemas = try Self.fields(trace)
            for p in paths {
                let dot = try #require(p.firstIndex(of: "."), "\(p) is not /topic.field")
                let topic = String(p[..<dot]), field = String(p[p.index(after: dot)...])
                let s = schemas[topic]
                #expect(s != nil, "\(trace): no topic \(topic) (named by \(p))")
                #expect(s?.fields.contains(field) == true, "\(trace): \(topic) (\(s?.schema ?? "-")) has no field \(field); it has \(s?.fields ?? [])")
            }
            for t in topics { #expect(schemas[t]?.schema == "foxglove_msgs/msg/Log", "\(trace): \(t)") }
        }
    }
}
