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
    // Every pattern starts only where a run of name characters starts (look-behind) and bounds its names,
    // so a reply echoing 60 kB of letters costs linear time, not quadratic (the control fuzzer sends those).
    nonisolated(unsafe) private static let userInfo = try? NSRegularExpression(
        // scheme://user:password@  (also the JSON-escaped `:\/\/` form)
        pattern: #"(?<![A-Za-z0-9+.\-])([A-Za-z][A-Za-z0-9+.\-]{0,31}:(?:\\?/){2})([^/\\@\s?#"':]{0,256}):([^@\s"'/\\]{1,1024})@"#)
    nonisolated(unsafe) private static let parameter = try? NSRegularExpression(
        // name=value after a URL, option or word boundary; the value runs to the next separator
        pattern: #"(?i)(?<![A-Za-z0-9_.\-])([A-Za-z0-9_.\-]{0,48}(?:"# + Redaction.secretWords.joined(separator: "|") + #"))=([^&\s"',;#)\]}\\]+)"#)
    nonisolated(unsafe) private static let jsonMember = try? NSRegularExpression(
        pattern: #"(?i)("[A-Za-z0-9_.\-]{0,48}(?:"# + Redaction.secretWords.joined(separator: "|") + #")"\s{0,8}:\s{0,8}")((?:[^"\\]|\\.)+)(")"#)

    /// `text` with every credential it recognises replaced by ``mask``. Idempotent.
    public static func redact(_ text: String) -> String {
        // Most text has nothing to hide; the cheap tests keep logging and replies fast.
        var out = text
        if out.contains("@"), let re = Self.userInfo { out = Self.replace(re, in: out, template: "$1$2:\(Self.mask)@") }
        if out.contains("="), let re = Self.parameter { out = Self.replace(re, in: out, template: "$1=\(Self.mask)") }
        if out.contains("\":"), let re = Self.jsonMember { out = Self.replace(re, in: out, template: "$1\(Self.mask)$3") }
        return out
    }

    /// An optional text, redacted.
    public static func redact(_ text: String?) -> String? { text.map { Self.redact($0) } }

    private static func replace(_ re: NSRegularExpression, in text: String, template: String) -> String {
        re.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
    }
}
