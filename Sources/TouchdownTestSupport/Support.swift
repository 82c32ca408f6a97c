import Foundation
import TouchdownTrace

/// Paths the tests share: the repository, its fixtures, and the MCAP
/// conformance corpus in `../shared` beside the checkout.
public enum TestPaths {
    /// The repository root, found from this file's location.
    public static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Support.swift, TouchdownTestSupport, Sources
        return url
    }()

    public static var fixtures: URL { repository.appendingPathComponent("fixtures") }
    public static var traces: URL { repository.appendingPathComponent("traces") }

    /// `../shared/mcap-conformance`, or the folder named by TOUCHDOWN_CONFORMANCE_DIR.
    public static var conformance: URL {
        if let dir = ProcessInfo.processInfo.environment["TOUCHDOWN_CONFORMANCE_DIR"] { return URL(fileURLWithPath: dir) }
        return repository.deletingLastPathComponent().appendingPathComponent("shared/mcap-conformance")
    }

    /// A fresh, empty scratch directory for one test.
    public static func scratch(_ name: String = #function) throws -> URL {
        let safe = name.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("touchdown-tests-\(getpid())")
            .appendingPathComponent(safe + "-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The conformance corpus: every `.mcap` with its `.json` of expected records.
public enum ConformanceCorpus {
    /// Paths relative to the corpus folder, sorted, e.g. `OneMessage/OneMessage-ch.mcap`.
    public static let files: [String] = {
        let root = TestPaths.conformance
        guard let e = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".mcap") }.sorted()
    }()
}

/// Re-serialises JSON with sorted keys so two documents compare by value.
public func canonicalJSON(_ text: String) throws -> String {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])
    return String(decoding: data, as: UTF8.self)
}
