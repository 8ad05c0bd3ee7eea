import Foundation
import SliceConfig
import Yams

/// The rules every SliceStream Kubernetes manifest set must keep, checked over parsed YAML documents (what
/// `kubectl kustomize` renders, or the files themselves). Returns one line per broken rule.
enum ManifestPolicy {
    typealias Object = [String: Any]

    /// Seconds of grace beyond the daemon's `shutdown_grace_seconds` the pod must give.
    static let graceMargin = 10.0

    /// Every YAML document of `text`, as plain dictionaries (empty documents skipped).
    static func documents(_ text: String) throws -> [Object] {
        try Yams.load_all(yaml: text).compactMap { $0 as? Object }
    }

    /// Every document of every `.yaml` file under `directory` (recursively), skipping `skip` folders.
    static func documents(under directory: URL, skipping skip: [String] = []) throws -> [(file: String, object: Object)] {
        var out: [(String, Object)] = []
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        for file in files.sorted(by: { $0.path < $1.path }) where file.pathExtension == "yaml" {
            if skip.contains(where: { file.path.contains("/\($0)/") }) { continue }
            for object in try Self.documents(String(contentsOf: file, encoding: .utf8)) { out.append((file.path, object)) }
        }
        return out
    }

    static func path(_ object: Any?, _ keys: String...) -> Any? {
        var current = object
        for key in keys { current = (current as? Object)?[key] }
        return current
    }

    /// The broken rules in a set of objects; `fleet` also requires the fleet-wide objects (Service with a
    /// `metrics` port, ServiceMonitor, PodDisruptionBudget).
    static func violations(_ objects: [Object], fleet: Bool) -> [String] {
        var problems: [String] = []
        let configMaps = Dictionary(objects.filter { $0["kind"] as? String == "ConfigMap" }.compactMap { o -> (String, Object)? in
            guard let name = path(o, "metadata", "name") as? String else { return nil }
            return (name, o)
        }, uniquingKeysWith: { a, _ in a })
        let deployments = objects.filter { $0["kind"] as? String == "Deployment" }
        if deployments.isEmpty { problems.append("no Deployment") }
        for d in deployments {
            let name = path(d, "metadata", "name") as? String ?? "?"
            func fail(_ text: String) { problems.append("Deployment \(name): \(text)") }
            if path(d, "spec", "replicas") as? Int != 1 { fail("replicas is not 1") }
            if path(d, "spec", "strategy", "type") as? String != "Recreate" { fail("strategy is not Recreate") }
            let pod = path(d, "spec", "template", "spec") as? Object ?? [:]
            let containers = pod["containers"] as? [Object] ?? []
            guard containers.count == 1, let c = containers.first else { fail("not exactly one container"); continue }
            let portNames = (c["ports"] as? [Object] ?? []).compactMap { $0["name"] as? String }
            if !portNames.contains("metrics") { fail("no container port named metrics") }
            for (probe, want) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", nil as String?)] {
                let p = c[probe] as? Object
                guard let get = p?["httpGet"] as? Object, let got = get["path"] as? String else { fail("\(probe) has no httpGet path"); continue }
                if let want, got != want { fail("\(probe) on \(got), not \(want)") }
                if get["port"] as? String != "metrics" { fail("\(probe) not on the metrics port") }
            }
            let requests = path(c, "resources", "requests") as? [String: String]
            let limits = path(c, "resources", "limits") as? [String: String]
            if requests == nil || requests?["cpu"] == nil || requests?["memory"] == nil { fail("requests lack cpu or memory") }
            if requests != limits { fail("requests \(requests ?? [:]) differ from limits \(limits ?? [:])") }
            let configVolumes = (pod["volumes"] as? [Object] ?? []).filter { $0["configMap"] != nil }.compactMap { $0["name"] as? String }
            if configVolumes.isEmpty { fail("no ConfigMap volume") }
            for m in c["volumeMounts"] as? [Object] ?? [] where configVolumes.contains(m["name"] as? String ?? "") && m["subPath"] != nil {
                fail("ConfigMap mounted with subPath (kubelet never updates it)")
            }
            if path(pod, "securityContext", "runAsNonRoot") as? Bool != true && path(c, "securityContext", "runAsNonRoot") as? Bool != true {
                fail("not runAsNonRoot")
            }
            if path(c, "securityContext", "readOnlyRootFilesystem") as? Bool != true { fail("root filesystem writable") }
            if !((path(c, "securityContext", "capabilities", "drop") as? [String]) ?? []).contains("ALL") { fail("capabilities not dropped") }
            let tolerations = pod["tolerations"] as? [Object] ?? []
            for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
                guard let t = tolerations.first(where: { $0["key"] as? String == key }), let s = t["tolerationSeconds"] as? Int, s <= 60 else {
                    fail("no shortened toleration for \(key)"); continue
                }
            }
            if pod["hostNetwork"] as? Bool == true && pod["dnsPolicy"] as? String != "ClusterFirstWithHostNet" {
                fail("hostNetwork without dnsPolicy ClusterFirstWithHostNet")
            }
            // The node config it runs: grace, one stream, reload on change, its UDP ingest port declared.
            let cmName = (pod["volumes"] as? [Object] ?? []).compactMap { path($0, "configMap", "name") as? String }.first ?? ""
            guard let text = path(configMaps[cmName], "data", "node.yaml") as? String else { fail("ConfigMap \(cmName) with node.yaml missing"); continue }
            guard let config = try? NodeConfiguration.parse(text, file: cmName) else { fail("node.yaml of \(cmName) does not parse"); continue }
            let grace = Double(pod["terminationGracePeriodSeconds"] as? Int ?? 30)
            if grace < config.node.shutdownGraceSeconds + Self.graceMargin {
                fail("terminationGracePeriodSeconds \(grace) < shutdown_grace_seconds \(config.node.shutdownGraceSeconds) + \(Self.graceMargin)")
            }
            if config.streams.count != 1 { fail("\(config.streams.count) streams in its config, not 1") }
            if !config.node.watchConfig { fail("watch_config is off") }
            if config.node.httpListen == nil { fail("http_listen is not set") }
            for s in config.streams {
                guard let url = URLComponents(string: s.input), let port = url.port else { continue }
                let listens = ["udp", "rtp"].contains(url.scheme ?? "") || (url.scheme == "srt" && s.input.contains("mode=listener"))
                guard listens else { continue }
                let declared = (c["ports"] as? [Object] ?? []).contains { $0["containerPort"] as? Int == port && $0["protocol"] as? String == "UDP" }
                if !declared { fail("UDP ingest port \(port) not declared") }
            }
        }
        if fleet {
            let services = objects.filter { $0["kind"] as? String == "Service" }
            if !services.contains(where: { ((path($0, "spec", "ports") as? [Object]) ?? []).contains { $0["name"] as? String == "metrics" } }) {
                problems.append("no Service with a port named metrics")
            }
            let monitors = objects.filter { $0["kind"] as? String == "ServiceMonitor" && $0["apiVersion"] as? String == "monitoring.coreos.com/v1" }
            if !monitors.contains(where: { ((path($0, "spec", "endpoints") as? [Object]) ?? []).contains { $0["port"] as? String == "metrics" } }) {
                problems.append("no ServiceMonitor scraping the metrics port")
            }
            if !objects.contains(where: { $0["kind"] as? String == "PodDisruptionBudget" && $0["apiVersion"] as? String == "policy/v1" }) {
                problems.append("no PodDisruptionBudget")
            }
        }
        return problems
    }
}
