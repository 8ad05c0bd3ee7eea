import Logging
import SliceConfig

extension NodeConfiguration {
    /// The deep check the daemon runs on start and reload: a definition that cannot work (a model that
    /// does not resolve, a preset the encoder does not know) refuses the config with every such problem;
    /// what this machine lacks now (an input file, an output folder, a secret file) is logged as an error
    /// naming the stream, and that stream retries until it is there.
    func checkDeeply(file: String, logger: Logger) throws {
        let definitions = self.deepProblems(file: file, environment: false)
        if !definitions.isEmpty { throw ConfigProblems(definitions) }
        for (i, stream) in self.streams.enumerated() {
            for problem in stream.deepProblems(file: file, key: "streams[\(i)]", environment: true) {
                var l = logger
                l[metadataKey: "stream"] = "\(stream.name)"
                l.error("\(problem) (the stream retries until this is fixed)")
            }
        }
    }
}
