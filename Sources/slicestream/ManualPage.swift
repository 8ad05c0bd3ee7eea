import Foundation

/// One command's man page in roff (man(7) macros).
struct ManualPage {
    let command: GenerateManualCommand.Command
    /// Command words from the tool down, e.g. ["slicestream", "model", "list"].
    let path: [String]
    let date: String
    let version: String

    var roff: String {
        let name = self.path.joined(separator: "-")
        var lines: [String] = []
        lines.append(".TH \(Self.escape(name.uppercased())) 1 \"\(self.date)\" \"slicestream \(self.version)\" \"SliceStream Manual\"")
        lines.append(".SH NAME")
        lines.append("\(Self.escape(name)) \\- \(Self.escape(self.command.abstract ?? ""))")
        lines.append(".SH SYNOPSIS")
        lines.append(".B \(Self.escape(self.path.joined(separator: " ")))")
        let arguments = (self.command.arguments ?? []).filter { $0.shouldDisplay }
        let visibleSubcommands = (self.command.subcommands ?? []).filter { ($0.shouldDisplay ?? true) && $0.commandName != "help" }
        if !visibleSubcommands.isEmpty { lines.append("\\fIsubcommand\\fR") }
        for a in arguments { lines.append(self.synopsis(a)) }
        lines.append(".SH DESCRIPTION")
        lines.append(Self.escape(self.command.abstract ?? ""))
        let discussion = self.command.discussion ?? ""
        let examples = discussion.range(of: "EXAMPLES:")
        let prose = examples.map { String(discussion[..<$0.lowerBound]) } ?? discussion
        if !prose.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            lines.append(".PP")
            lines.append(Self.escape(prose.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        if !arguments.isEmpty {
            lines.append(".SH OPTIONS")
            for a in arguments {
                lines.append(".TP")
                lines.append(self.label(a))
                var help = a.abstract ?? ""
                if let d = a.defaultValue, !d.isEmpty { help += " (default: \(d))" }
                lines.append(Self.escape(help))
            }
        }
        if !visibleSubcommands.isEmpty {
            lines.append(".SH SUBCOMMANDS")
            for sub in visibleSubcommands {
                lines.append(".TP")
                lines.append("\\fB\(Self.escape(sub.commandName))\\fR")
                lines.append(Self.escape(sub.abstract ?? "") + " See \\fB\(Self.escape((self.path + [sub.commandName]).joined(separator: "-")))\\fR(1).")
            }
        }
        if let examples {
            lines.append(".SH EXAMPLES")
            lines.append(".nf")
            for line in discussion[examples.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
                lines.append(Self.escape(String(line)))
            }
            lines.append(".fi")
        }
        if self.path.count > 1 {
            lines.append(".SH SEE ALSO")
            lines.append("\\fB\(Self.escape(self.path.dropLast().joined(separator: "-")))\\fR(1)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `--codec <codec>` or `<input>`, bold names and italic values.
    private func label(_ a: GenerateManualCommand.Argument) -> String {
        let value = "\\fI<\(Self.escape(a.valueName ?? "value"))>\\fR"
        if a.kind == "positional" { return value }
        let names = (a.names ?? []).map { n -> String in
            let dashes = n.kind == "long" ? "\\-\\-" : "\\-"
            return "\\fB\(dashes)\(Self.escape(n.name))\\fR"
        }.joined(separator: ", ")
        return a.kind == "option" ? names + " " + value : names
    }

    private func synopsis(_ a: GenerateManualCommand.Argument) -> String {
        let text = self.label(a) + (a.isRepeating ? " ..." : "")
        return a.isOptional ? "[\(text)]" : text
    }

    /// Escapes text for roff: backslashes, hyphens kept literal, and lines that would start a request.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\e")
            .replacingOccurrences(of: "-", with: "\\-")
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") || $0.hasPrefix("'") ? "\\&" + $0 : String($0) }
            .joined(separator: "\n")
    }
}
