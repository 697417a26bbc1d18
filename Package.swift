// swift-tools-version:6.2
// ward: an on-host enforcement runner. One library (Runner), one executable (ward),
// and thin system-library targets over the Debian C libraries it is built on.
import PackageDescription

/// Every loop callback runs on the one libuv thread, so main-actor isolation is the truth.
let runnerSettings: [SwiftSetting] = [.defaultIsolation(MainActor.self)]

let package = Package(
    name: "ward",
    products: [
        .executable(name: "ward", targets: ["CLI"])
    ],
    targets: [
        .systemLibrary(
            name: "CUV", path: "Sources/CUV/uv", pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Sources/CUV/openssl", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CYAML", path: "Sources/CUV/yaml", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(
            name: "CPCRE2", path: "Sources/CUV/pcre2", pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]),
        .systemLibrary(
            name: "CJansson", path: "Sources/CUV/jansson", pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]),
        // wslay ships no pkg-config file; the module map links it by name.
        .systemLibrary(
            name: "CWslay", path: "Sources/CUV/wslay", providers: [.apt(["libwslay-dev"])]),
        .target(
            name: "Runner",
            dependencies: ["CUV", "COpenSSL", "CYAML", "CPCRE2", "CJansson", "CWslay"],
            swiftSettings: runnerSettings),
        .executableTarget(
            name: "CLI",
            dependencies: ["Runner"],
            swiftSettings: runnerSettings),
        .testTarget(
            name: "RunnerTests",
            dependencies: ["Runner"],
            exclude: ["Fixtures"],
            swiftSettings: runnerSettings),
    ]
)
