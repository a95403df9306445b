// libFuzzer target: the .npy and CSV readers.
//
// The first byte chooses the reader (even: .npy, odd: CSV with a delimiter picked from the
// second byte); the rest is the file's content. Arrays are capped (KS_MAX_ARRAY_BYTES-style
// limit of 64 MiB) so that a header announcing a huge shape is an error, not an allocation.
import ArrayIO

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArrayReaders(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  if ArrayAllocation.limit == nil { ArrayAllocation.limit = 64 << 20 }
  guard size >= 2 else { return 0 }
  let bytes = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
  if data[0] & 1 == 0 {
    if let a = try? Npy.decode(bytes, name: "fuzz.npy") {
      // What was read must write back and read back the same (compared as bytes: NaN != NaN).
      let encoded = Npy.encode(a)
      let again = try? Npy.decode(encoded, name: "again.npy")
      precondition(again.map(Npy.encode) == encoded, "npy round trip changed the array")
    }
  } else {
    let delimiters: [Character] = [",", " ", "\t", ";"]
    let d = delimiters[Int(data[1]) % delimiters.count]
    let header: Bool? = data[1] & 4 == 0 ? nil : (data[1] & 8 == 0)
    _ = try? CSV.decode(bytes, name: "fuzz.csv", delimiter: d, skipHeader: header)
  }
  return 0
}
