import Foundation
import TouchdownReplay

/// What a worker process is sent: one run.
struct WorkOrder: Codable {
    var id: String
    var plan: ReplayPlan
}

/// A worker process's side: reads one `WorkOrder` per line on standard
/// input, runs it, and writes one line per run on standard output:
/// `{"id":…,"result":{…}}` (the `replay --json` object) or
/// `{"id":…,"error":"…"}` when the run could not start (bad input). Traces
/// are loaded once and shared by every run against them.
public enum CampaignWorker {
    public static func serve() -> Never {
        var loaded: [String: LoadedTrace] = [:]
        let decoder = JSONDecoder()
        while let line = readLine(strippingNewline: true) {
            guard let order = try? decoder.decode(WorkOrder.self, from: Data(line.utf8)) else {
                FileHandle.standardError.write(Data("campaign worker: cannot read the order \(line.prefix(200))\n".utf8))
                exit(2)
            }
            var out: String
            do {
                var trace: LoadedTrace?
                if case .trace(let path, let scenario) = order.plan.source {
                    let key = path + "\u{0}" + (scenario ?? "")
                    if let t = loaded[key] {
                        trace = t
                    } else {
                        let t = try LoadedTrace(path: path, scenarioPath: scenario)
                        loaded[key] = t
                        trace = t
                    }
                }
                let result = try Replay(order.plan, trace: trace).run()
                out = "{\"id\":\"\(order.id)\",\"result\":\(try result.jsonLine())}"
            } catch {
                out = "{\"id\":\"\(order.id)\",\"error\":\(jsonString("\(error)"))}"
            }
            FileHandle.standardOutput.write(Data((out + "\n").utf8))
        }
        exit(0)
    }
}

/// `text` as a JSON string literal.
func jsonString(_ text: String) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    let data = (try? encoder.encode(text)) ?? Data("\"\"".utf8)
    return String(decoding: data, as: UTF8.self)
}
