import Foundation
import SliceTestSupport
import XCTest

/// `kubectl kustomize deploy/kubernetes` (the exact command, run from the repository root) and
/// `scripts/validate-kubernetes`: every rendered object of the base and the hostNetwork overlay validates
/// strictly, built-in kinds against kubernetes-validate's schemas and the ServiceMonitor against the schema
/// in `deploy/kubernetes/schemas/`; and the validator rejects what it must (so passing means something).
///
/// Needs kubectl and the `.build-tools/venv` that `scripts/kubernetes-tools` (run by `scripts/install-deps`)
/// makes; each test skips with a line saying which is missing.
final class KubernetesSchemaTests: XCTestCase {
    private var root: URL { TestMedia.repositoryRoot }

    /// Runs `executable arguments` in the repository root; (exit status, stdout + stderr).
    private func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.currentDirectoryURL = self.root
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    private func kubectl() throws -> String {
        guard let kubectl = KubernetesManifestTests.which("kubectl") else {
            throw XCTSkip("kubectl is not installed: `kubectl kustomize deploy/kubernetes` and the schemas not checked")
        }
        return kubectl
    }

    /// The venv's python with kubernetes-validate importable.
    private func python() throws -> String {
        let python = self.root.appendingPathComponent(".build-tools/venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python),
              (try? self.run(python, ["-c", "import kubernetes_validate, jsonschema, yaml"]).0) == 0 else {
            throw XCTSkip("kubernetes-validate is not set up in .build-tools/venv (run scripts/kubernetes-tools; scripts/install-deps does): schemas not checked")
        }
        return python
    }

    /// `kubectl kustomize <dir>` written to a file of `media`.
    private func render(_ dir: String, into media: TestMedia, as name: String) throws -> String {
        let (status, text) = try self.run(try self.kubectl(), ["kustomize", dir])
        XCTAssertEqual(status, 0, "kubectl kustomize \(dir): \(text)")
        let path = media.path(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func validate(_ files: [String], schemas: String? = nil) throws -> (Int32, String) {
        let python = try self.python()
        return try self.run(python, ["scripts/validate-kubernetes"] + (schemas.map { ["--schemas", $0] } ?? []) + files)
    }

    func testEveryRenderedObjectValidates() throws {
        let media = try TestMedia()
        for (i, dir) in ["deploy/kubernetes", "deploy/kubernetes/overlays/hostnetwork"].enumerated() {
            let file = try self.render(dir, into: media, as: "rendered-\(i).yaml")
            let documents = try ManifestPolicy.documents(try String(contentsOfFile: file, encoding: .utf8))
            let (status, out) = try self.validate([file])
            XCTAssertEqual(status, 0, out)
            XCTAssertTrue(out.contains("\(documents.count) valid, 0 invalid"), out)
            XCTAssertTrue(out.contains("OK \(file) ServiceMonitor/slicestream against servicemonitor-monitoring.coreos.com-v1.json"), out)
            XCTAssertTrue(out.contains("OK \(file) Deployment/slicestream-camera-1 against Kubernetes"), out)
        }
    }

    /// One broken field at a time in the rendered base, each reported as an error naming the object.
    func testValidatorRejectsBrokenObjects() throws {
        let media = try TestMedia()
        let rendered = try String(contentsOfFile: try self.render("deploy/kubernetes", into: media, as: "base.yaml"), encoding: .utf8)
        let cases: [(from: String, to: String, expect: String)] = [
            ("interval: 15s", "interval: 15 seconds", "ServiceMonitor/slicestream: spec.endpoints.0.interval"),
            ("scrapeTimeout: 5s", "scrapeTimout: 5s", "'scrapeTimout' was unexpected"),
            ("terminationGracePeriodSeconds: 25", "terminationGracePeriodSeconds: soon", "Deployment/slicestream-camera-1"),
            ("  strategy:\n", "  strategie:\n", "'strategie' was unexpected"),
            ("kind: PodDisruptionBudget", "kind: PodDisruptionBudgets", "no schema"),
        ]
        for (i, c) in cases.enumerated() {
            guard let range = rendered.range(of: c.from) else { XCTFail("\(c.from) not in the rendered base"); continue }
            let path = media.path("broken-\(i).yaml")
            try rendered.replacingCharacters(in: range, with: c.to).write(toFile: path, atomically: true, encoding: .utf8)
            let (status, out) = try self.validate([path])
            XCTAssertEqual(status, 1, "\(c.to): \(out)")
            XCTAssertTrue(out.contains("ERROR"), out)
            XCTAssertTrue(out.contains(c.expect), "\(c.to): \(out)")
        }
    }

    /// A schema folder may hold a CustomResourceDefinition instead of a JSON Schema (an operator's CRD file
    /// dropped in as it is): its served version's openAPIV3Schema is used, unknown fields rejected.
    func testACustomResourceDefinitionIsUsedStrictly() throws {
        _ = try self.python()  // skip before any assertion runs the validator
        let media = try TestMedia()
        let schemas = media.path("schemas")
        try FileManager.default.createDirectory(atPath: schemas, withIntermediateDirectories: true)
        try """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          names: {kind: Widget, plural: widgets}
          scope: Namespaced
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema:
                  type: object
                  required: [spec]
                  properties:
                    apiVersion: {type: string}
                    kind: {type: string}
                    metadata: {type: object}
                    spec:
                      type: object
                      properties:
                        port: {x-kubernetes-int-or-string: true}
                        extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
        """.write(toFile: "\(schemas)/widgets.yaml", atomically: true, encoding: .utf8)
        func check(_ spec: String) throws -> (Int32, String) {
            let path = media.path("widget.yaml")
            try "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: \(spec)\n".write(toFile: path, atomically: true, encoding: .utf8)
            return try self.validate([path], schemas: schemas)
        }
        XCTAssertEqual(try check("{port: metrics, extra: {anything: 1}}").0, 0)
        XCTAssertEqual(try check("{port: 9464}").0, 0)
        let unknown = try check("{prot: 9464}")
        XCTAssertEqual(unknown.0, 1, unknown.1)
        XCTAssertTrue(unknown.1.contains("'prot' was unexpected"), unknown.1)
        XCTAssertEqual(try check("{port: [1]}").0, 1)
    }
}
