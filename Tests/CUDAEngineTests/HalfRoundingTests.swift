import Glibc
import KernelEngines
import Testing

@testable import CUDAEngine
import _KSTestSupport

/// dtype_acc=float16 rounds a float accumulator to half after every operation with the
/// generated `ks_round_half`; it must agree with Swift's Float16 conversion for every float.
@Test func generatedHalfRoundingMatchesFloat16() throws {
  let plan = try makePlan(
    EmulationCase.gauss, EmulationCase.xyb, dtype: .float16, accumulator: .float16)
  let source = try CUDAKernelSource.generate(for: plan)
  #expect(source.text.contains("ks_round_half"))
  let dir = try TemporaryDirectory("ks-cuda-half")
  defer { dir.remove() }
  try writeFile(dir.path + "/k.cu", source.text)
  // Every 4093rd float bit pattern (both signs, all exponents) plus the boundary cases.
  try writeFile(
    dir.path + "/main.cpp",
    """
    #include "cuda_emu.h"
    #include "k.cu"
    int main() {
      FILE *f = fopen("out.bin", "wb");
      for (unsigned long long b = 0; b <= 0xFFFFFFFFull; b += 4093) {
        unsigned int u = (unsigned int)b, r = __float_as_uint(ks_round_half(__uint_as_float(u)));
        fwrite(&u, 4, 1, f); fwrite(&r, 4, 1, f);
      }
      const float special[] = {65504.0f, 65519.99f, 65520.0f, 6.103515625e-05f, 6.1035153e-05f, 2.9802322e-08f,
                               2.9802326e-08f, 5.9604645e-08f, 8.940697e-08f, 1.0009766f, 1.00048828125f, 1.00146484375f};
      for (float x : special) for (int s = 0; s < 2; s++) {
        float y = s ? -x : x;
        unsigned int u = __float_as_uint(y), r = __float_as_uint(ks_round_half(y));
        fwrite(&u, 4, 1, f); fwrite(&r, 4, 1, f);
      }
      return fclose(f);
    }
    """)
  let include = String(TestPaths.emulationHeader.dropLast("/cuda_emu.h".count))
  let build = run("g++", ["-std=c++17", "-O1", "-I", include, "-o", dir.path + "/half", dir.path + "/main.cpp"])
  try #require(build.status == 0, "\(build.output)")
  let r = run("/bin/sh", ["-c", "cd '\(dir.path)' && ./half"])
  try #require(r.status == 0, "\(r.output)")
  let bytes = try #require(CUBINCache.readFile(dir.path + "/out.bin"))
  var checked = 0, wrong: [String] = []
  bytes.withUnsafeBytes { raw in
    for k in stride(from: 0, to: raw.count, by: 8) {
      let x = Float(bitPattern: raw.load(fromByteOffset: k, as: UInt32.self))
      let got = Float(bitPattern: raw.load(fromByteOffset: k + 4, as: UInt32.self))
      let want = Float(Float16(x))
      checked += 1
      if !(got == want && got.sign == want.sign) && !(got.isNaN && want.isNaN) && wrong.count < 5 {
        wrong.append("\(x) -> \(got), expected \(want)")
      }
    }
  }
  #expect(checked > 1_000_000)
  #expect(wrong.isEmpty, "\(wrong)")
}
