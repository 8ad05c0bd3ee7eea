/// What resolution a sender sends: the 2x slicing-encoder output (`half`), the original frames (`full`),
/// or a per-scene choice between them (`auto`, see ``ResolutionDecider``).
public enum ResolutionMode: String, Sendable, Codable, CaseIterable {
    case auto, half, full
}
