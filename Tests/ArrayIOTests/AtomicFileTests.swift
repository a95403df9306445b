import Foundation
import Testing

@testable import ArrayIO

@Suite struct AtomicFileTests {
  @Test func writeThenRead() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.file("data.bin")
    let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    try AtomicFile.write(bytes, to: path)
    #expect(try AtomicFile.read(path) == bytes)
    #expect(try dir.contents() == ["data.bin"])
  }

  @Test func acceptsAnyByteCollection() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try AtomicFile.write(Data([1, 2, 3]), to: dir.file("d"))
    try AtomicFile.write([9, 8, 7, 6][1...], to: dir.file("s"))
    #expect(try AtomicFile.read(dir.file("d")) == [1, 2, 3])
    #expect(try AtomicFile.read(dir.file("s")) == [8, 7, 6])
  }

  @Test func emptyFile() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try AtomicFile.write([UInt8](), to: dir.file("empty"))
    #expect(try AtomicFile.read(dir.file("empty")) == [])
  }

  @Test func replacesExistingFileAndKeepsItsPermissions() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.file("x.npy")
    try AtomicFile.write(ascii("a much longer original content"), to: path)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    try AtomicFile.write(ascii("new"), to: path)
    #expect(try AtomicFile.read(path) == ascii("new"))
    let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    #expect(try dir.contents() == ["x.npy"])
  }

  @Test func readMissingFile() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.file("x.npy")
    #expect(arrayIOErrorMessage { _ = try AtomicFile.read(path) } == "cannot open '\(path)': No such file or directory")
  }

  @Test func readDirectory() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    #expect(arrayIOErrorMessage { _ = try AtomicFile.read(dir.path) } == "cannot read '\(dir.path)': Is a directory")
  }

  @Test func writeIntoMissingDirectory() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.file("no/such/dir/x.npy")
    #expect(
      arrayIOErrorMessage { try AtomicFile.write([1], to: path) }
        == "cannot write '\(path)': No such file or directory")
  }

  @Test func failedRenameLeavesTargetAndNoTemporaryFile() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    // The target is a non-empty directory, so the final rename fails.
    let target = dir.file("target")
    try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
    try AtomicFile.write([1], to: target + "/inside")
    let message = arrayIOErrorMessage { try AtomicFile.write([1, 2, 3], to: target) }
    #expect(message == "cannot write '\(target)': Is a directory")
    #expect(try dir.contents() == ["target"])
    #expect(try AtomicFile.read(target + "/inside") == [1])
  }

  @Test func notAFileName() {
    #expect(arrayIOErrorMessage { try AtomicFile.write([1], to: "/tmp/") } == "cannot write '/tmp/': not a file name")
    #expect(arrayIOErrorMessage { try AtomicFile.write([1], to: "") } == "cannot write '': not a file name")
  }

  @Test func errorDescriptionIsTheMessage() {
    let error = ArrayIOError("cannot open 'x.npy': No such file or directory")
    #expect(error.description == "cannot open 'x.npy': No such file or directory")
    #expect("\(error)" == error.message)
  }

  @Test func pathSplitting() {
    #expect(AtomicFile.split("x.npy") == (".", "x.npy"))
    #expect(AtomicFile.split("/x.npy") == ("/", "x.npy"))
    #expect(AtomicFile.split("a/b/x.npy") == ("a/b", "x.npy"))
  }
}
