import Testing

@testable import Runner

private typealias Written = OptionParser.Written

private func bounds(
    _ name: OptionName, _ written: Written, ceiling: Int64
) -> (OptionBounds?, String?) {
    switch OptionParser.effective(name, written, ceiling: ceiling) {
    case .success(let (b, warning)): return (b, warning)
    case .failure(let problem): return (nil, problem.message)
    }
}

@Suite struct PackOptionsTests {
    @Test(
        arguments: [
            (OptionName.timeoutS, 30, 1, 300), (.maxOutputBytes, 1_048_576, 1024, 16_777_216),
            (.maxOutputLines, 10_000, 1, 100_000),
        ] as [(OptionName, Int64, Int64, Int64)])
    func builtInBoundsApplyWhenNothingIsWritten(
        _ name: OptionName, _ value: Int64, _ min: Int64, _ max: Int64
    ) {
        let (b, warning) = bounds(name, Written(), ceiling: OptionDefaults.defaultCeiling(name))
        #expect(warning == nil)
        #expect(
            b == OptionBounds(name: name, defaultValue: value, min: min, max: max, declared: false))
    }

    @Test func anyWrittenKeyMakesTheOptionRequestable() {
        let (b, _) = bounds(.timeoutS, Written(defaultValue: nil, min: nil, max: 60), ceiling: 3600)
        #expect(b?.declared == true)
        #expect(b?.max == 60)
    }

    @Test func ceilingLowersThePackMaximumWithAWarning() {
        let (b, warning) = bounds(
            .timeoutS, Written(defaultValue: 10, min: nil, max: 7200), ceiling: 3600)
        #expect(b?.max == 3600)
        #expect(warning == "7200 is above the runner's ceiling 3600; using 3600")
    }

    @Test func ceilingLowersTheBuiltInMaximumSilently() {
        let (b, warning) = bounds(.timeoutS, Written(), ceiling: 20)
        #expect(
            b == OptionBounds(name: .timeoutS, defaultValue: 20, min: 1, max: 20, declared: false))
        #expect(warning == nil)
    }

    @Test func builtInDefaultMovesIntoAWrittenRange() {
        let (b, _) = bounds(.timeoutS, Written(defaultValue: nil, min: nil, max: 5), ceiling: 3600)
        #expect(b?.defaultValue == 5)
        let (c, _) = bounds(.timeoutS, Written(defaultValue: nil, min: 60, max: nil), ceiling: 3600)
        #expect(c?.defaultValue == 60)
    }

    @Test func writtenDefaultAboveTheCeilingFails() {
        let (b, problem) = bounds(
            .timeoutS, Written(defaultValue: 100, min: nil, max: 200), ceiling: 50)
        #expect(b == nil)
        #expect(problem == "default 100 is outside the effective range 1...50")
    }

    @Test func loaderReportsTheCeilingWarningAtTheMaximum() throws {
        let temp = TemporaryFolder()
        temp.write(
            "p/pack.yaml",
            """
            pack: p
            version: "1"
            description: d
            actions:
              p.long:
                description: d
                exec: [/usr/bin/true]
                options: {timeout_s: 60, timeout_s_max: 7200, max_output_lines_max: 50}

            """)
        let (registry, diagnostics) = PackLoader(ceilings: [.timeoutS: 600], allowWritable: false)
            .load(directories: [temp.path + "/p"])
        #expect(
            diagnostics.map(\.description) == [
                "\(temp.path)/p/pack.yaml:8:45: warning: actions.p.long.options.timeout_s_max:"
                    + " 7200 is above the runner's ceiling 600; using 600"
            ])
        let action = try #require(registry?.action("p.long"))
        #expect(
            action.options == [
                OptionBounds(name: .timeoutS, defaultValue: 60, min: 1, max: 600, declared: true),
                OptionBounds(
                    name: .maxOutputBytes, defaultValue: 1_048_576, min: 1024, max: 16_777_216,
                    declared: false),
                OptionBounds(
                    name: .maxOutputLines, defaultValue: 50, min: 1, max: 50, declared: true),
            ])
    }
}
