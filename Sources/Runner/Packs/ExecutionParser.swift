import Glibc

/// One templated argv element with where it was written, for lint messages.
struct TemplatedElement {
    var template: Template
    var location: SourceLocation
    var path: String
    /// True for the first element of a list (`exec`, or a script's `args`).
    var startsList: Bool
}

/// An action's execution with the templated argv elements it came from.
struct ParsedExecution {
    var execution: Execution
    var templated: [TemplatedElement]
}

/// Reads `exec:` or `script:`; exactly one must be written.
enum ExecutionParser {
    /// The execution of the action whose fields are `fields`, or nil after an error.
    static func parse(
        _ fields: Fields, arguments: Set<String>, context: PackContext, _ d: inout Diagnostics
    ) -> ParsedExecution? {
        switch (fields["exec"], fields["script"]) {
        case (nil, nil):
            let what = fields.path
            d.error(fields.location, "\(what): needs exactly one of exec or script")
            return nil
        case (.some, .some):
            d.error(
                fields.keyLocation("script"),
                "\(fields.path): exec and script are both written; keep exactly one")
            return nil
        case (let exec?, nil):
            return parseExec(exec, path: fields.path("exec"), arguments: arguments, &d)
        case (nil, let script?):
            return parseScript(
                script, path: fields.path("script"), arguments: arguments, context: context, &d)
        }
    }

    private static func parseExec(
        _ node: YAMLNode, path: String, arguments: Set<String>, _ d: inout Diagnostics
    ) -> ParsedExecution? {
        guard let argv = node.strings(at: path, into: &d) else { return nil }
        guard let first = argv.first else {
            d.error(node.location, "\(path): needs at least the program's absolute path")
            return nil
        }
        guard argv.count <= ActionParser.maxArgv else {
            d.error(node.location, "\(path): at most \(ActionParser.maxArgv) elements")
            return nil
        }
        guard fixedAbsolute(first.text, at: first.location, path: KeyPath.index(path, 0), &d)
        else { return nil }
        guard let templated = templates(argv, path: path, arguments: arguments, &d) else {
            return nil
        }
        return ParsedExecution(
            execution: .exec(argv: templated.map(\.template)), templated: templated)
    }

    private static func parseScript(
        _ node: YAMLNode, path: String, arguments: Set<String>, context: PackContext,
        _ d: inout Diagnostics
    ) -> ParsedExecution? {
        let keys = ["interpreter", "file", "args"]
        guard let fields = Fields(node, path: path, allowed: keys, into: &d) else { return nil }
        let before = d.errorCount
        let interpreter = fields.strings("interpreter", required: true, into: &d)
        if let interpreter {
            if interpreter.isEmpty {
                d.error(
                    fields["interpreter"]!.location,
                    "\(fields.path("interpreter")): needs at least the interpreter's absolute path")
            }
            for (i, element) in interpreter.enumerated() {
                let elementPath = KeyPath.index(fields.path("interpreter"), i)
                if i == 0 {
                    _ = fixedAbsolute(element.text, at: element.location, path: elementPath, &d)
                } else if TemplateParser.containsPlaceholder(element.text) {
                    d.error(
                        element.location,
                        "\(elementPath): the interpreter is fixed; placeholders belong in args")
                }
            }
        }
        let scriptPath = fields.string("file", required: true, into: &d).flatMap {
            resolveScript($0, at: fields["file"]!.location, path: fields.path("file"), context, &d)
        }
        var templated: [TemplatedElement] = []
        if let args = fields.strings("args", into: &d) {
            templated =
                templates(args, path: fields.path("args"), arguments: arguments, &d) ?? []
        }
        guard d.errorCount == before, let interpreter, let scriptPath else { return nil }
        return ParsedExecution(
            execution: .script(
                interpreter: interpreter.map(\.text), scriptPath: scriptPath,
                args: templated.map(\.template)),
            templated: templated)
    }

    /// The script's real path, which must be a regular file inside the pack.
    private static func resolveScript(
        _ file: String, at location: SourceLocation, path: String, _ context: PackContext,
        _ d: inout Diagnostics
    ) -> String? {
        let quoted = ActionParser.quote(file)
        guard !file.hasPrefix("/"), !file.isEmpty, !TemplateParser.containsPlaceholder(file)
        else {
            d.error(location, "\(path): \(quoted) must be a fixed path relative to the pack folder")
            return nil
        }
        guard let real = FileSystem.realPath(context.directory + "/" + file) else {
            d.error(location, "\(path): script file \(quoted) does not exist in the pack")
            return nil
        }
        guard real.hasPrefix(context.directory + "/") else {
            d.error(location, "\(path): script file \(quoted) is outside the pack folder")
            return nil
        }
        guard FileSystem.kind(real) == .regular else {
            d.error(location, "\(path): script file \(quoted) is not a regular file")
            return nil
        }
        return real
    }

    private static func fixedAbsolute(
        _ text: String, at location: SourceLocation, path: String, _ d: inout Diagnostics
    ) -> Bool {
        if TemplateParser.containsPlaceholder(text) {
            d.error(location, "\(path): the program path is fixed; it cannot hold a placeholder")
            return false
        }
        if !text.hasPrefix("/") {
            d.error(
                location,
                "\(path): \(ActionParser.quote(text)) must be an absolute path (no PATH lookup)")
            return false
        }
        return true
    }

    private static func templates(
        _ elements: [(text: String, location: SourceLocation)], path: String,
        arguments: Set<String>, _ d: inout Diagnostics
    ) -> [TemplatedElement]? {
        var out: [TemplatedElement] = []
        var ok = true
        for (i, element) in elements.enumerated() {
            let elementPath = KeyPath.index(path, i)
            switch TemplateParser.parse(element.text, arguments: arguments) {
            case .success(let template):
                out.append(
                    TemplatedElement(
                        template: template, location: element.location, path: elementPath,
                        startsList: i == 0))
            case .failure(let error):
                d.error(element.location, "\(elementPath): \(error.message)")
                ok = false
            }
        }
        return ok ? out : nil
    }
}
