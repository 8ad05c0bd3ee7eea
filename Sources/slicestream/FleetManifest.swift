import Foundation
import SliceConfig
import Yams

/// The Kubernetes objects of one stream: a ConfigMap holding a node config with exactly that stream, a
/// Deployment running one `slicestreamd` on it, and, when the stream listens for network input, a Service
/// that gives the ingest port a stable name.
struct FleetManifest {
    /// The object name (DNS-1123) of the ConfigMap, Deployment and Service alike.
    var name: String
    var definition: StreamDefinition
    var kind: CapacityKind
    /// The node config text the ConfigMap carries (`node.yaml`).
    var nodeConfig: String
    var cpu: String
    var memory: String
    var resourcesFrom: String
    var image: String
    var graceSeconds: Double
    var metricsPort: Int

    /// Seconds Kubernetes waits after SIGTERM beyond the daemon's drain: time to finalise outputs and exit.
    static let graceMargin = 15
    /// Seconds a pod stays bound to a node that stopped answering before it is evicted and rescheduled
    /// (the default is 300: five minutes of a dead stream).
    static let tolerationSeconds = 30

    var labels: [(String, Node)] {
        [("app.kubernetes.io/name", s("slicestream")), ("app.kubernetes.io/instance", s(self.name)),
         ("app.kubernetes.io/component", s(self.definition.role.rawValue)), ("slicestream.io/kind", s(self.kind.name))]
    }

    var selector: Node { map([("app.kubernetes.io/name", s("slicestream")), ("app.kubernetes.io/instance", s(self.name))]) }

    /// Ports the stream's input listens on: `udp`/`rtp` always bind theirs, `srt` in listener mode,
    /// `tcp` with `listen=1`.
    var ingestPorts: [(port: Int, proto: String)] {
        guard let url = URLComponents(string: self.definition.input), let scheme = url.scheme?.lowercased(), let port = url.port else { return [] }
        let query = Dictionary(url.queryItems?.map { ($0.name, $0.value ?? "") } ?? [], uniquingKeysWith: { a, _ in a })
        switch scheme {
        case "udp", "rtp": return [(port, "UDP")]
        case "srt" where query["mode"] == "listener": return [(port, "UDP")]
        case "tcp" where query["listen"] == "1": return [(port, "TCP")]
        default: return []
        }
    }

    func configMap() -> Node {
        map([("apiVersion", s("v1")), ("kind", s("ConfigMap")),
             ("metadata", map([("name", s(self.name)), ("labels", map(self.labels))])),
             ("data", map([("node.yaml", Node(self.nodeConfig, .implicit, .literal))]))])
    }

    func service() -> Node? {
        let ports = self.ingestPorts
        guard !ports.isEmpty else { return nil }
        return map([("apiVersion", s("v1")), ("kind", s("Service")),
                    ("metadata", map([("name", s(self.name)), ("labels", map(self.labels))])),
                    ("spec", map([("selector", self.selector),
                                  ("ports", seq(ports.enumerated().map { i, p in
                                      map([("name", s(i == 0 ? "ingest" : "ingest-\(i)")), ("port", n(p.port)), ("targetPort", n(p.port)),
                                           ("protocol", s(p.proto))])
                                  }))]))])
    }

    func deployment() -> Node {
        let probe = { (path: String, period: Int, failures: Int) -> Node in
            map([("httpGet", map([("path", s(path)), ("port", s("metrics"))])), ("periodSeconds", n(period)),
                 ("timeoutSeconds", n(3)), ("failureThreshold", n(failures))])
        }
        var ports = [map([("name", s("metrics")), ("containerPort", n(self.metricsPort)), ("protocol", s("TCP"))])]
        for (i, p) in self.ingestPorts.enumerated() {
            ports.append(map([("name", s(i == 0 ? "ingest" : "ingest-\(i)")), ("containerPort", n(p.port)), ("protocol", s(p.proto))]))
        }
        let quantities = map([("cpu", s(self.cpu)), ("memory", s(self.memory))])
        let container = map([
            ("name", s("slicestreamd")), ("image", s(self.image)), ("imagePullPolicy", s("IfNotPresent")),
            ("args", seq([s("--config"), s("/etc/slicestream/node.yaml")])),
            ("ports", seq(ports)),
            ("resources", map([("requests", quantities), ("limits", quantities)])),
            // Streams start (and load their models) before /readyz answers 200: up to 3 minutes.
            ("startupProbe", probe("/readyz", 2, 90)),
            ("livenessProbe", probe("/healthz", 10, 3)),
            ("readinessProbe", probe("/readyz", 5, 2)),
            ("securityContext", map([("allowPrivilegeEscalation", b(false)), ("readOnlyRootFilesystem", b(true)),
                                     ("runAsNonRoot", b(true)), ("capabilities", map([("drop", seq([s("ALL")]))]))])),
            ("volumeMounts", seq([
                map([("name", s("config")), ("mountPath", s("/etc/slicestream")), ("readOnly", b(true))]),
                map([("name", s("run")), ("mountPath", s("/run/slicestream"))]),
                map([("name", s("work")), ("mountPath", s("/var/lib/slicestream"))]),
                map([("name", s("tmp")), ("mountPath", s("/tmp"))]),
            ])),
        ])
        let toleration = { (key: String) -> Node in
            map([("key", s(key)), ("operator", s("Exists")), ("effect", s("NoExecute")), ("tolerationSeconds", n(Self.tolerationSeconds))])
        }
        let podSpec = map([
            ("terminationGracePeriodSeconds", n(Int(self.graceSeconds.rounded(.up)) + Self.graceMargin)),
            ("automountServiceAccountToken", b(false)), ("enableServiceLinks", b(false)),
            ("securityContext", map([("runAsNonRoot", b(true)), ("runAsUser", n(10001)), ("runAsGroup", n(10001)), ("fsGroup", n(10001)),
                                     ("seccompProfile", map([("type", s("RuntimeDefault"))]))])),
            ("tolerations", seq([toleration("node.kubernetes.io/not-ready"), toleration("node.kubernetes.io/unreachable")])),
            ("containers", seq([container])),
            ("volumes", seq([
                // The whole ConfigMap as a directory (never subPath: kubelet only updates directory mounts).
                map([("name", s("config")), ("configMap", map([("name", s(self.name))]))]),
                map([("name", s("run")), ("emptyDir", map([("medium", s("Memory")), ("sizeLimit", s("16Mi"))]))]),
                map([("name", s("work")), ("emptyDir", map([("sizeLimit", s("1Gi"))]))]),
                map([("name", s("tmp")), ("emptyDir", map([("sizeLimit", s("256Mi"))]))]),
            ])),
        ])
        return map([
            ("apiVersion", s("apps/v1")), ("kind", s("Deployment")),
            ("metadata", map([("name", s(self.name)), ("labels", map(self.labels)),
                              ("annotations", map([("slicestream.io/stream", s(self.definition.name)),
                                                   ("slicestream.io/resources-from", s(self.resourcesFrom))]))])),
            ("spec", map([
                ("replicas", n(1)),
                // Never two copies of one stream: the old pod is gone (outputs finalised) before the new starts.
                ("strategy", map([("type", s("Recreate"))])),
                ("revisionHistoryLimit", n(3)),
                ("selector", map([("matchLabels", self.selector)])),
                ("template", map([("metadata", map([("labels", map(self.labels))])), ("spec", podSpec)])),
            ])),
        ])
    }

    /// The YAML file of this stream: its objects as documents.
    func yaml() throws -> String {
        var documents = [self.configMap(), self.deployment()]
        if let service = self.service() { documents.append(service) }
        return try documents.map { try Yams.serialize(node: $0) }.joined(separator: "---\n")
    }
}

/// A mapping in the given key order.
fileprivate func map(_ pairs: [(String, Node)]) -> Node {
    .mapping(Node.Mapping(pairs.map { (Node($0.0), $0.1) }))
}

/// A sequence.
fileprivate func seq(_ items: [Node]) -> Node { .sequence(Node.Sequence(items)) }

/// A string that stays a string when read back (`"true"`, `"2"`, `""` are quoted).
fileprivate func s(_ text: String) -> Node {
    let lower = text.lowercased()
    let ambiguous = text.isEmpty || Double(text) != nil || ["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"].contains(lower)
    return Node(text, .implicit, ambiguous ? .doubleQuoted : .any)
}

/// An integer.
fileprivate func n(_ value: Int) -> Node { Node(String(value), .implicit, .plain) }

/// A boolean.
fileprivate func b(_ value: Bool) -> Node { Node(value ? "true" : "false", .implicit, .plain) }
