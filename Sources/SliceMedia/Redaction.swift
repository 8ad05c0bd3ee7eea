import Foundation

/// The one place credentials are taken out of text before anyone sees it: control replies, log lines
/// (ours and FFmpeg's) and metric labels. It knows URLs (`srt://user:PASS@host`), query and option
/// parameters whose name ends in a secret-like word (`passphrase=`, `key=`, `token=`, `secret=`,
/// `password=`, `auth=`, `api_key=`; `pbkeylen=` and `keyint=` are left alone), and JSON members of the
/// same names. What it removes becomes `***`, so the text still says where a secret was.
public enum Redaction {
    /// What replaces a secret.
    public static let mask = "***"

    /// Names (case-insensitive) whose values are secrets; a name *ending* in one counts too (`srt_passphrase`).
    public static let secretWords = ["passphrase", "password", "passwd", "secret", "token", "key", "auth"]

    // Compiled once; NSRegularExpression is immutable after creation, so sharing it across threads is safe.
    nonisolated(unsafe) private static let userInfo = try? NSRegularExpression(
        // scheme://user:password@  (also the JSON-escaped `:\/\/` form)
        pattern: #"([A-Za-z][A-Za-z0-9+.\-]*:(?:\\?/){2})([^/\\@\s?#"']*?):([^@\s"'/\\]+)@"#)
    nonisolated(unsafe) private static let parameter = try? NSRegularExpression(
        // name=value after a URL, option or word boundary; the value runs to the next separator
        pattern: #"(?i)((?:^|[?&;:,\s"'(\[{])[A-Za-z0-9_.\-]*(?:"# + Redaction.secretWords.joined(separator: "|") + #"))=([^&\s"',;#)\]}\\]+)"#)
    nonisolated(unsafe) private static let jsonMember = try? NSRegularExpression(
        pattern: #"(?i)("[A-Za-z0-9_.\-]*(?:"# + Redaction.secretWords.joined(separator: "|") + #")"\s*:\s*")((?:[^"\\]|\\.)+)(")"#)

    /// `text` with every credential it recognises replaced by ``mask``. Idempotent.
    public static func redact(_ text: String) -> String {
        // Most text has nothing to hide; the cheap test keeps logging and replies fast.
        guard text.contains("@") || text.contains("=") || text.contains("\":") else { return text }
        var out = text
        if let re = Self.userInfo { out = Self.replace(re, in: out, template: "$1$2:\(Self.mask)@") }
        if let re = Self.parameter { out = Self.replace(re, in: out, template: "$1=\(Self.mask)") }
        if let re = Self.jsonMember { out = Self.replace(re, in: out, template: "$1\(Self.mask)$3") }
        return out
    }

    /// An optional text, redacted.
    public static func redact(_ text: String?) -> String? { text.map { Self.redact($0) } }

    private static func replace(_ re: NSRegularExpression, in text: String, template: String) -> String {
        re.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
    }
}
