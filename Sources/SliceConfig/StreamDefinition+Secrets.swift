import Foundation

/// A secret a stream needs could not be read (its file, its systemd credential). The message names the
/// file or credential, never the secret.
public struct SecretError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public enum Code: String, Sendable {
        case unreadable = "secret-unreadable"
        case noCredentials = "no-credentials-directory"
        case badName = "bad-credential-name"
        case badPassphrase = "bad-passphrase"
    }

    /// The kind of failure.
    public var code: Code
    /// The detail.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code.rawValue): \(self.message)" }
}

// SRT passphrases kept out of the config text: `passphrase_file: PATH` or `passphrase_credential: NAME`
// (systemd's `LoadCredential=NAME:PATH`, read from `$CREDENTIALS_DIRECTORY/NAME`). They are read each time
// the stream opens and put into the srt:// URLs handed to FFmpeg then; the definition, `stats` and the
// logs only ever see the URL as written.

extension StreamDefinition {
    /// The srt:// URLs the passphrase goes into.
    var passphraseTargets: [String] { [self.input, self.output].filter { $0.hasPrefix("srt://") } }

    mutating func decodeSecrets(_ c: KeyedDecodingContainer<CodingKeys>) throws {
        self.passphraseFile = try c.decodeIfPresent(String.self, forKey: .passphraseFile)
        self.passphraseCredential = try c.decodeIfPresent(String.self, forKey: .passphraseCredential)
    }

    func encodeSecrets(_ c: inout KeyedEncodingContainer<CodingKeys>) throws {
        try c.encodeIfPresent(self.passphraseFile, forKey: .passphraseFile)
        try c.encodeIfPresent(self.passphraseCredential, forKey: .passphraseCredential)
    }

    /// Checks the secret keys' shape (the files themselves are checked by the deep check and at open).
    func validateSecrets(_ fail: (String, String) -> ConfigError) throws {
        if self.passphraseFile != nil && self.passphraseCredential != nil {
            throw fail("passphrase_file", "give passphrase_file or passphrase_credential, not both")
        }
        let key = self.passphraseFile != nil ? "passphrase_file" : "passphrase_credential"
        guard self.passphraseFile != nil || self.passphraseCredential != nil else { return }
        if self.passphraseTargets.isEmpty { throw fail(key, "a passphrase needs an srt:// input or output") }
        if self.passphraseTargets.contains(where: { $0.range(of: "passphrase=", options: .caseInsensitive) != nil }) {
            throw fail(key, "the srt:// URL has a passphrase= already; keep it in one place")
        }
        if let name = self.passphraseCredential, !Self.isCredentialName(name) {
            throw fail(key, "'\(name)' is not a credential name (letters, digits, '-', '_', '.'; no '/')")
        }
    }

    static func isCredentialName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && name != "." && name != ".."
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.@".contains($0)) }
    }

    /// `$CREDENTIALS_DIRECTORY/NAME`.
    static func credentialPath(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        guard Self.isCredentialName(name) else { throw SecretError(.badName, "'\(name)' is not a credential name") }
        guard let dir = environment["CREDENTIALS_DIRECTORY"], !dir.isEmpty else {
            throw SecretError(.noCredentials, "credential '\(name)': CREDENTIALS_DIRECTORY is not set (give the unit LoadCredential=\(name):PATH)")
        }
        return URL(fileURLWithPath: dir).appendingPathComponent(name).path
    }

    /// The passphrase from `passphrase_file` or `passphrase_credential`, read now (nil: neither given).
    public func readPassphrase(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        let path: String
        if let file = self.passphraseFile {
            path = file
        } else if let name = self.passphraseCredential {
            path = try Self.credentialPath(name, environment: environment)
        } else {
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 4096 else {
            throw SecretError(.unreadable, "cannot read the passphrase from '\(path)'")
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        // SRT takes 10-79 characters; what would need escaping in a URL query is refused, not mangled.
        guard (10...79).contains(text.count), text.allSatisfy({ $0.isASCII && !$0.isWhitespace && !"&#%?=\"'\\".contains($0) && $0.asciiValue! >= 0x21 }) else {
            throw SecretError(.badPassphrase, "the passphrase in '\(path)' must be 10-79 printable characters without spaces or & # % ? = quotes")
        }
        return text
    }

    /// `url` with `passphrase=` added to its query, for an srt:// URL (others unchanged).
    public static func url(_ url: String, withPassphrase passphrase: String?) -> String {
        guard let passphrase, url.hasPrefix("srt://") else { return url }
        return url + (url.contains("?") ? "&" : "?") + "passphrase=" + passphrase
    }

    /// The input and output URLs to open now, with the passphrase merged in.
    public func openURLs(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (input: String, output: String) {
        let passphrase = try self.readPassphrase(environment: environment)
        return (Self.url(self.input, withPassphrase: passphrase), Self.url(self.output, withPassphrase: passphrase))
    }
}
