import Foundation
import SliceConfig
import SliceTestSupport
import XCTest

/// `deploy/kubernetes`: the committed base and overlay keep the fleet's rules, the committed per-stream
/// manifests are exactly what `fleet render` makes of `streams.yaml`, and the policy itself catches each
/// broken rule (so a passing check means something).
final class KubernetesManifestTests: XCTestCase {
    private var root: URL { TestMedia.repositoryRoot.appendingPathComponent("deploy/kubernetes") }
    private var base: URL { self.root.appendingPathComponent("base") }

    /// The first executable `name` on PATH.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func testCommittedBaseKeepsTheRules() throws {
        let objects = try ManifestPolicy.documents(under: self.base).map(\.object)
        XCTAssertEqual(ManifestPolicy.violations(objects, fleet: true), [])
        XCTAssertEqual(objects.filter { $0["kind"] as? String == "Deployment" }.count, 2)
    }

    /// The image's default config is one the node accepts, with the watch and the HTTP endpoint on.
    func testContainerDefaultConfigParses() throws {
        let config = try NodeConfiguration.load(path: TestMedia.repositoryRoot.appendingPathComponent("deploy/container/node.yaml").path)
        XCTAssertTrue(config.node.watchConfig)
        XCTAssertEqual(config.node.httpListen, "0.0.0.0:9464")
        XCTAssertEqual(config.streams.count, 0)
    }

    func testHostNetworkOverlaySetsTheDNSPolicy() throws {
        let patch = try ManifestPolicy.documents(under: self.root.appendingPathComponent("overlays/hostnetwork")).map(\.object)
        let spec = patch.compactMap { ManifestPolicy.path($0, "spec", "template", "spec") as? [String: Any] }.first
        XCTAssertEqual(spec?["hostNetwork"] as? Bool, true)
        XCTAssertEqual(spec?["dnsPolicy"] as? String, "ClusterFirstWithHostNet")
    }

    /// `kubectl kustomize` renders base and overlay, and what it renders keeps the rules (skipped where
    /// kubectl is not installed).
    func testKustomizeRendersBaseAndOverlay() throws {
        guard let kubectl = Self.which("kubectl") else {
            throw XCTSkip("kubectl is not installed: kustomize rendering not checked")
        }
        for (dir, hostNetwork) in [("", false), ("overlays/hostnetwork", true)] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: kubectl)
            p.arguments = ["kustomize", self.root.appendingPathComponent(dir).path]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "kubectl kustomize \(dir)")
            let objects = try ManifestPolicy.documents(text)
            XCTAssertEqual(ManifestPolicy.violations(objects, fleet: true), [], dir)
            for d in objects where d["kind"] as? String == "Deployment" {
                XCTAssertEqual(ManifestPolicy.path(d, "spec", "template", "spec", "hostNetwork") as? Bool, hostNetwork ? true : nil, dir)
            }
        }
    }

    func testCommittedStreamsAreWhatRenderMakes() throws {
        let media = try TestMedia()
        let (status, _) = try Binaries.runCLI(["fleet", "render", self.base.appendingPathComponent("streams.yaml").path, "--out", media.path("out"),
                                               "--capacity", self.root.appendingPathComponent("capacity.json").path, "--size", "720p"])
        XCTAssertEqual(status, 0)
        let committed = self.base.appendingPathComponent("streams")
        let names = try FileManager.default.contentsOfDirectory(atPath: committed.path).sorted()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: media.path("out")).sorted(), names)
        for name in names {
            XCTAssertEqual(try String(contentsOfFile: media.path("out/\(name)"), encoding: .utf8),
                           try String(contentsOf: committed.appendingPathComponent(name), encoding: .utf8),
                           "\(name) is stale: re-run the render command in deploy/kubernetes/kustomization.yaml")
        }
    }

    /// Each rule, broken on its own in a copy of the committed base, is reported.
    func testPolicyCatchesEachBrokenRule() throws {
        let objects = try ManifestPolicy.documents(under: self.base).map(\.object)
        typealias Object = [String: Any]
        func breaking(_ edit: (inout Object, inout Object, inout Object) -> Void) -> [String] {
            var copy = objects
            guard let i = copy.firstIndex(where: { $0["kind"] as? String == "Deployment" }) else { return ["no deployment to break"] }
            var spec = copy[i]["spec"] as? Object ?? [:]
            var template = spec["template"] as? Object ?? [:]
            var pod = template["spec"] as? Object ?? [:]
            var container = (pod["containers"] as? [Object])?.first ?? [:]
            edit(&spec, &pod, &container)
            pod["containers"] = [container]
            template["spec"] = pod
            spec["template"] = template
            copy[i]["spec"] = spec
            return ManifestPolicy.violations(copy, fleet: true)
        }
        XCTAssertFalse(breaking { spec, _, _ in spec["strategy"] = ["type": "RollingUpdate"] }.isEmpty, "RollingUpdate")
        XCTAssertFalse(breaking { spec, _, _ in spec["replicas"] = 2 }.isEmpty, "replicas")
        XCTAssertFalse(breaking { _, _, c in c["livenessProbe"] = ["httpGet": ["path": "/readyz", "port": "metrics"]] }.isEmpty, "liveness path")
        XCTAssertFalse(breaking { _, _, c in c["readinessProbe"] = nil }.isEmpty, "readiness")
        XCTAssertFalse(breaking { _, _, c in c["startupProbe"] = nil }.isEmpty, "startup")
        XCTAssertFalse(breaking { _, _, c in c["resources"] = ["requests": ["cpu": "1", "memory": "1Gi"], "limits": ["cpu": "2", "memory": "1Gi"]] }.isEmpty, "limits")
        XCTAssertFalse(breaking { _, _, c in
            c["volumeMounts"] = [["name": "config", "mountPath": "/etc/slicestream/node.yaml", "subPath": "node.yaml"]]
        }.isEmpty, "subPath")
        XCTAssertFalse(breaking { _, pod, _ in pod["terminationGracePeriodSeconds"] = 12 }.isEmpty, "grace")
        XCTAssertFalse(breaking { _, pod, _ in pod["hostNetwork"] = true }.isEmpty, "dnsPolicy")
        XCTAssertFalse(breaking { _, pod, _ in pod["tolerations"] = [] }.isEmpty, "tolerations")
        XCTAssertFalse(breaking { _, _, c in c["securityContext"] = ["runAsNonRoot": true] }.isEmpty, "securityContext")
        XCTAssertFalse(breaking { _, _, c in c["ports"] = [["name": "metrics", "containerPort": 9464]] }.isEmpty, "UDP port")
        XCTAssertFalse(ManifestPolicy.violations(objects.filter { $0["kind"] as? String != "PodDisruptionBudget" }, fleet: true).isEmpty, "PDB")
    }
}
