import ArgumentParser
import Foundation
import SliceConfig
import Yams

/// `slicestream fleet`: the Kubernetes side of running many nodes.
struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fleet", abstract: "Kubernetes manifests for a fleet of nodes.",
                                                    discussion: CommandExamples.of("fleet"), subcommands: [FleetRenderCommand.self])
}

/// `slicestream fleet render STREAMS.yaml --out DIR`: one ConfigMap + Deployment (+ ingest Service) per
/// stream of a node config file, and the `kustomization.yaml` listing them. The file is the operators'
/// one source of truth: it is checked with the node's own parser, and every per-stream config is parsed
/// back the same way before anything is written.
struct FleetRenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "render", abstract: "Turn a stream list into per-stream Kubernetes manifests.",
                                                    discussion: CommandExamples.of("render"))

    @Argument(help: "A node config file (node settings and streams) whose streams become one pod each.") var streams: String
    @Option(help: "Folder to write the manifests and kustomization.yaml into.") var out: String
    @Option(help: "Container image of slicestreamd.") var image: String = "slicestream:\(SliceStreamVersion.string)"
    @Option(help: "CPU request = limit, [KIND=]QUANTITY (KIND: a role or a kind like receiver-subpixel); repeatable.") var cpu: [String] = []
    @Option(help: "Memory request = limit, [KIND=]QUANTITY; repeatable.") var memory: [String] = []
    @Option(help: "`slicestream bench --capacity --json` output to size streams from.") var capacity: String?
    @Option(help: "Which measured size of the capacity file to use (720p, 1080p or WxH).") var size: String = "1080p"
    @Option(help: "Port of the HTTP endpoint (/healthz, /readyz, /metrics) in every pod.") var metricsPort: Int = 9464

    func run() throws {
        do {
            let written = try self.render()
            print("wrote \(written.count) streams to \(self.out): \(written.joined(separator: ", "))")
        } catch {
            throw reportFailure(error)
        }
    }

    /// Why rendering stopped.
    struct RenderError: Error, CustomStringConvertible {
        var message: String
        var description: String { "fleet render: \(self.message)" }
    }

    /// Renders and writes; returns the object names.
    func render() throws -> [String] {
        guard (1...65535).contains(self.metricsPort) else { throw RenderError(message: "--metrics-port must be between 1 and 65535") }
        let config = try NodeConfiguration.load(path: self.streams)
        guard !config.streams.isEmpty else { throw RenderError(message: "\(self.streams) has no streams") }
        let text = try String(contentsOfFile: self.streams, encoding: .utf8)
        guard let top = try Yams.compose(yaml: text)?.mapping, let streamNodes = top["streams"]?.sequence, streamNodes.count == config.streams.count else {
            throw RenderError(message: "\(self.streams): cannot read the streams list back")
        }
        var resources = FleetResources(cpu: try FleetResources.parse(self.cpu, option: "--cpu"),
                                       memory: try FleetResources.parse(self.memory, option: "--memory"), size: self.size)
        if let path = self.capacity {
            do {
                resources.capacity = try JSONDecoder().decode(CapacityReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw RenderError(message: "--capacity \(path): not the output of `slicestream bench --capacity --json`: \(error)")
            }
        }
        let nodePairs = (top["node"]?.mapping.map { Array($0) } ?? []).filter { !["watch_config", "http_listen"].contains($0.key.string ?? "") }
        let names = FleetNames.objectNames(for: config.streams.map(\.name))
        var files: [(String, String)] = []
        for (i, definition) in config.streams.enumerated() {
            // The node block as written, plus what a pod needs: reload on ConfigMap updates, the HTTP endpoint on.
            let pairs: [(Node, Node)] = nodePairs + [(Node("watch_config"), Node("true", .implicit, .plain)),
                                                     (Node("http_listen"), Node("0.0.0.0:\(self.metricsPort)", .implicit, .doubleQuoted))]
            let root: [(Node, Node)] = [(Node("node"), .mapping(Node.Mapping(pairs))), (Node("streams"), .sequence(Node.Sequence([streamNodes[i]])))]
            let perStream = try Yams.serialize(node: .mapping(Node.Mapping(root)))
            let check = try NodeConfiguration.parse(perStream, file: "\(names[i])/node.yaml")
            guard check.streams == [definition] else { throw RenderError(message: "stream '\(definition.name)' does not read back the same") }
            let kind = CapacityKind(definition: definition)
            let (cpu, memory, source) = try resources.resources(for: kind)
            let manifest = FleetManifest(name: names[i], definition: definition, kind: kind, nodeConfig: perStream, cpu: cpu, memory: memory,
                                         resourcesFrom: source, image: self.image, graceSeconds: config.node.shutdownGraceSeconds,
                                         metricsPort: self.metricsPort)
            files.append(("\(names[i]).yaml", try manifest.yaml()))
        }
        let kustomization = try Yams.serialize(node: .mapping(Node.Mapping([
            (Node("apiVersion"), Node("kustomize.config.k8s.io/v1beta1")), (Node("kind"), Node("Kustomization")),
            (Node("resources"), .sequence(Node.Sequence(files.map { Node($0.0) }))),
        ])))
        try self.write(files + [("kustomization.yaml", kustomization)])
        return names
    }

    /// Writes the files; stream files of an earlier render that are no longer in the list are removed.
    private func write(_ files: [(String, String)]) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: self.out, withIntermediateDirectories: true)
        let header = "# Generated by `slicestream fleet render \((self.streams as NSString).lastPathComponent)`: edit the stream list, not this file.\n"
        let keep = Set(files.map(\.0))
        for old in (try? fm.contentsOfDirectory(atPath: self.out)) ?? []
        where old.hasPrefix(FleetNames.prefix) && old.hasSuffix(".yaml") && !keep.contains(old) {
            try fm.removeItem(atPath: (self.out as NSString).appendingPathComponent(old))
        }
        for (name, text) in files {
            try (header + text).write(toFile: (self.out as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }
}
