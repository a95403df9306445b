import ArrayIO
import FormulaLanguage
import Glibc
import KernelEngines
import Synchronization

/// The CUDA engine (`backend="GPU"`, `"GPU_1D"`, `"GPU_2D"`): each plan becomes CUDA C++
/// (`CUDAKernelSource`), compiled by NVRTC to a CUBIN for the device's own `sm_XY` (cached on disk,
/// `CUBINCache`), loaded through the driver API and launched with KeOps' 1D or 2D scheme.
///
/// Both libnvrtc and libcuda.so.1 are opened with `dlopen` on first use: ks has no link-time CUDA
/// dependency and runs everywhere; without a GPU this engine throws one clear
/// `EngineError.unavailable` line.
///
/// Float16 data is converted to float on the host and computed in float (KeOps' half2 path is not
/// reproduced); results are rounded to the data dtype on the host.
///
/// ```swift
/// let engine = CUDAKernelEngine(deviceID: 0)
/// let out = try engine.reduce(plan, arguments, cancel: nil)
/// ```
public struct CUDAKernelEngine: KernelEngine {
  public let name = "GPU"
  /// The device ordinal; -1 means device 0 (KeOps' default).
  public let deviceID: Int
  /// The scheme to use; nil picks one per call with `CUDALaunchPolicy.preferredScheme`.
  public let scheme: CUDAScheme?
  /// Compile with NVRTC's `--use_fast_math` (KeOps' default): faster float32 `exp`, `sqrt` and
  /// division, flushed subnormals. No effect on float64 arithmetic.
  public let useFastMath: Bool
  /// The driver library to load instead of `libcuda.so.1` (tests use a mock).
  public let driverLibrary: String?
  /// The NVRTC library to load instead of searching `NVRTC.searchList()`.
  public let nvrtcLibrary: String?
  /// Where CUBINs are cached; nil means `CUBINCache.defaultDirectory` (read at each call).
  public let cacheDirectory: String?

  public init(
    deviceID: Int = -1, scheme: CUDAScheme? = nil, useFastMath: Bool = true, driverLibrary: String? = nil,
    nvrtcLibrary: String? = nil, cacheDirectory: String? = nil
  ) {
    self.deviceID = deviceID
    self.scheme = scheme
    self.useFastMath = useFastMath
    self.driverLibrary = driverLibrary
    self.nvrtcLibrary = nvrtcLibrary
    self.cacheDirectory = cacheDirectory
  }

  /// The NVRTC options of every compilation.
  var compileOptions: [String] { useFastMath ? ["--use_fast_math"] : [] }

  // MARK: Availability

  private static let probeResult = Mutex<[String: (result: Result<CUDADeviceInfo, EngineError>, gpuFound: Bool)]>([:])

  /// Whether this engine can run here: the driver loads and sees device `deviceID`, and an NVRTC
  /// pairs with the driver (`NVRTC.load(path:driver:architecture:)`: not newer than the driver's
  /// CUDA major version, compiling for the GPU's architecture).
  /// Probed once per process (per driver and NVRTC path and device); for `backend="auto"`.
  public static func probe(
    deviceID: Int = -1, driverLibrary: String? = nil, nvrtcLibrary: String? = nil
  ) -> Result<CUDADeviceInfo, EngineError> {
    probeDetail(deviceID: deviceID, driverLibrary: driverLibrary, nvrtcLibrary: nvrtcLibrary).result
  }

  /// `probe`, and whether a GPU was found: a failure with `gpuFound` (a driver and a device, but
  /// no NVRTC that pairs with them) deserves a warning when `auto` falls back to the CPU; one
  /// without (no driver, no device) is the ordinary CPU-only machine.
  public static func probeDetail(
    deviceID: Int = -1, driverLibrary: String? = nil, nvrtcLibrary: String? = nil
  ) -> (result: Result<CUDADeviceInfo, EngineError>, gpuFound: Bool) {
    let key = "\(driverLibrary ?? "")|\(nvrtcLibrary ?? "")|\(deviceID)"
    if let r = probeResult.withLock({ $0[key] }) { return r }
    var gpuFound = false
    let result: Result<CUDADeviceInfo, EngineError>
    do throws(EngineError) {
      let device = try CUDADevice.open(try CUDADriver.load(path: driverLibrary), ordinal: max(0, deviceID))
      gpuFound = true
      _ = try NVRTC.load(path: nvrtcLibrary, driver: device.driver.version, architecture: device.info.architecture)
      result = .success(device.info)
    } catch {
      result = .failure(error)
    }
    let r = (result: result, gpuFound: gpuFound)
    probeResult.withLock { $0[key] = r }
    return r
  }

  /// The device this engine runs on (opening the driver and the device).
  public func deviceInfo() throws(EngineError) -> CUDADeviceInfo {
    try CUDADevice.open(try CUDADriver.load(path: driverLibrary), ordinal: max(0, deviceID)).info
  }

  // MARK: Kernels


  private struct SourceKey: Hashable {
    var plan: KernelPlan.Identity
    var blockSparse: Bool
  }
  private static let sources = Mutex<[SourceKey: CUDAKernelSource]>([:])
  private static let modules = Mutex<[String: LoadedModule]>([:])

  /// The generated source of `plan`, dense or block-sparse (memoized).
  static func source(for plan: KernelPlan, blockSparse: Bool = false) throws(EngineError) -> CUDAKernelSource {
    let key = SourceKey(plan: plan.identity, blockSparse: blockSparse)
    if let s = sources.withLock({ $0[key] }) { return s }
    let s = try CUDAKernelSource.generate(for: plan, blockSparse: blockSparse)
    sources.withLock { $0[key] = s }
    return s
  }

  /// The NVRTC this engine compiles with on `device`: `nvrtcLibrary`, else the best match for the
  /// driver found by the search (`NVRTC.load(path:driver:architecture:)`).
  func nvrtc(for device: CUDADevice) throws(EngineError) -> NVRTC {
    try NVRTC.load(path: nvrtcLibrary, driver: device.driver.version, architecture: device.info.architecture)
  }

  /// The CUBIN of `source` for `device`: from the disk cache, else compiled and stored.
  func cubin(_ source: CUDAKernelSource, device: CUDADevice) throws(EngineError) -> [UInt8] {
    let nvrtc = try nvrtc(for: device)
    let architecture = device.info.architecture
    let key = CUBINCache.key(
      source: source.text, architecture: architecture, nvrtcVersion: nvrtc.version, options: compileOptions)
    let directory = cacheDirectory ?? CUBINCache.defaultDirectory
    if let bytes = CUBINCache.load(key: key, directory: directory) { return bytes }
    let bytes = try nvrtc.compileCUBIN(source.text, architecture: architecture, options: compileOptions)
    CUBINCache.store(bytes, key: key, directory: directory)
    return bytes
  }

  /// CUresults of `cuModuleLoadData` that mean "this driver cannot run this image" (no binary for
  /// the GPU, an image from a newer CUDA, unsupported PTX): the engine is unavailable then, so that
  /// `auto` falls back to the CPU.
  static let incompatibleImageErrors: Set<Int32> = [200, 209, 218, 222, 223, 224]

  /// Forgets the modules loaded on the device with key `deviceKey` (after its context was reset).
  static func forgetModules(deviceKey: String) {
    modules.withLock { table in
      for k in table.keys where k.hasPrefix(deviceKey + "#") { table.removeValue(forKey: k) }
    }
  }

  /// The loaded module of `source` on `device` (loaded once per process and context).
  func module(_ source: CUDAKernelSource, on device: CUDADevice) throws(EngineError) -> LoadedModule {
    let memoKey = "\(device.key)#\(compileOptions)#\(nvrtcLibrary ?? "")\n\(source.text)"
    if let m = Self.modules.withLock({ $0[memoKey] }) { return m }
    let image = try cubin(source, device: device)
    let driver = device.driver
    var module: OpaquePointer?
    let rc = image.withUnsafeBytes { driver.cuModuleLoadData(&module, $0.baseAddress) }
    if rc != 0 {
      let v = driver.version
      var versions = ""
      if let n = try? nvrtc(for: device) {
        versions = " (CUBIN from NVRTC \(n.version.major).\(n.version.minor), driver supports CUDA \(v.major).\(v.minor))"
      }
      let message = "cuModuleLoadData failed (\(driver.describe(rc)))\(versions)"
      if Self.incompatibleImageErrors.contains(rc) {
        throw .unavailable(message + "; set NVRTC_LIBRARY to the libnvrtc of the driver's CUDA version")
      }
      throw .failed(message)
    }
    var functions: [CUDAKernelSource.EntryPoint: OpaquePointer] = [:]
    for entry in source.entryPoints {
      var f: OpaquePointer?
      try driver.check(driver.cuModuleGetFunction(&f, module, entry.rawValue), "cuModuleGetFunction(\(entry.rawValue))")
      guard let f else { throw .failed("cuModuleGetFunction(\(entry.rawValue)) returned nothing") }
      functions[entry] = f
    }
    // Resident blocks per SM of the reduce kernels (registers and shared memory decide it), from
    // the occupancy API; without it, the thread limit alone.
    var blocksPerSM: [CUDAKernelSource.EntryPoint: Int] = [:]
    for entry in [CUDAKernelSource.EntryPoint.reduce1D, .reduce2D] {
      var n: Int32 = 0
      let rc = driver.cuOccupancyMaxActiveBlocksPerMultiprocessor?(&n, functions[entry], Int32(source.blockSize), 0)
      blocksPerSM[entry] =
        rc == 0 && n > 0 ? Int(n) : max(1, device.info.maxThreadsPerMultiprocessor / max(1, source.blockSize))
    }
    let m = LoadedModule(module: module!, functions: functions, blocksPerSM: blocksPerSM)
    return Self.modules.withLock { table in
      if let existing = table[memoKey] { return existing }
      table[memoKey] = m
      return m
    }
  }

  /// Compiles (or finds in the caches) the kernels of `plan` and loads them, without running.
  public func prepare(_ plan: KernelPlan) throws(EngineError) {
    let device = try CUDADevice.open(try CUDADriver.load(path: driverLibrary), ordinal: max(0, deviceID))
    _ = try module(try Self.source(for: plan), on: device)
  }

  // MARK: Running

  public func reduce(
    _ plan: KernelPlan, _ arguments: KernelArguments, cancel: CancellationToken?
  ) throws(EngineError) -> [Double] {
    if let ranges = arguments.ranges {
      do {
        try ranges.validate(outputRows: arguments.outputRows, reducedRows: arguments.reducedRows)
      } catch { throw .failed("ranges: \(error.message)") }
    }
    let m = arguments.outputRows
    let source = try Self.source(for: plan, blockSparse: arguments.ranges != nil)
    let device = try CUDADevice.open(try CUDADriver.load(path: driverLibrary), ordinal: max(0, deviceID))
    if m == 0 || source.outputDimension == 0 { return [] }
    var run = LaunchSession(device: device, source: source)
    do {
      let out = try run.execute(plan, arguments, module: try module(source, on: device), scheme: scheme, cancel: cancel)
      run.freeAll()
      return out
    } catch {
      // A kernel fault kills the context: reset it (its memory goes with it) so the next call works.
      if let fault = device.recoverFromFault() {
        run.abandonAll()
        throw .failed(
          "the CUDA kernel failed (\(fault)); the GPU context was reset and the next call starts afresh")
      }
      run.freeAll()
      throw error
    }
  }
}

/// A module loaded on a device, with its entry points.
final class LoadedModule: @unchecked Sendable {
  let module: OpaquePointer
  let functions: [CUDAKernelSource.EntryPoint: OpaquePointer]
  /// Resident blocks per multiprocessor of `reduce1D` and `reduce2D` (the occupancy API's answer).
  let blocksPerSM: [CUDAKernelSource.EntryPoint: Int]

  init(
    module: OpaquePointer, functions: [CUDAKernelSource.EntryPoint: OpaquePointer],
    blocksPerSM: [CUDAKernelSource.EntryPoint: Int]
  ) {
    self.module = module
    self.functions = functions
    self.blocksPerSM = blocksPerSM
  }
}

/// The device allocations and launches of one `reduce` call; `freeAll` releases everything.
struct LaunchSession {
  enum Parameter {
    case pointer(UInt64)
    case int(Int)
  }

  let device: CUDADevice
  let source: CUDAKernelSource
  var allocations: [UInt64] = []
  var allocatedBytes = 0
  /// One `.pointer` per argument slot (0 for slots the formula does not read).
  var argumentParameters: [Parameter] = []

  init(device: CUDADevice, source: CUDAKernelSource) {
    self.device = device
    self.source = source
  }

  var driver: CUDADriver { device.driver }

  mutating func freeAll() {
    for p in allocations { _ = driver.cuMemFree(p) }
    allocations.removeAll()
  }

  /// Forgets the allocations without freeing them (their context was reset, which freed them).
  mutating func abandonAll() { allocations.removeAll() }

  /// Uploads the arguments, runs the kernels with `scheme` (nil: `CUDALaunchPolicy.preferredScheme`)
  /// and returns the output rows; the caller frees the allocations.
  mutating func execute(
    _ plan: KernelPlan, _ arguments: KernelArguments, module: LoadedModule, scheme: CUDAScheme?,
    cancel: CancellationToken?
  ) throws(EngineError) -> [Double] {
    let m = arguments.outputRows, n = arguments.reducedRows
    let info = device.info
    if cancel?.isCancelled == true { throw .cancelled }
    let blocks1D = module.blocksPerSM[.reduce1D] ?? 1
    let chosen = scheme ?? CUDALaunchPolicy.preferredScheme(
      outputRows: m, reducedRows: n, blockSize: source.blockSize,
      residentThreads: info.multiprocessors * blocks1D * source.blockSize)
    try upload(arguments, plan: plan)
    let out = try allocate(bytes: m * source.outputDimension * source.valueBytes, what: "the output")
    if let ranges = arguments.ranges {
      try executeRanges(ranges, out: out, outputRows: m, reducedRows: n, module: module, cancel: cancel)
      return try download(out, count: m * source.outputDimension, data: Precision(plan.dataType))
    }
    switch chosen {
    case .oneD:
      // Launches of at least 4 full waves of resident blocks each (or 2^32 pairs), checking
      // `cancel` in between.
      let rows = CUDALaunchPolicy.oneDimensionalChunk(
        reducedRows: n, blockSize: source.blockSize, multiprocessors: info.multiprocessors, blocksPerMultiprocessor: blocks1D)
      var i0 = 0
      while i0 < m {
        let i1 = min(m, i0 + rows)
        let grid = (i1 - i0 + source.blockSize - 1) / source.blockSize
        try launch(
          module.functions[.reduce1D]!, grid: (grid, 1), block: source.blockSize,
          parameters: [.pointer(out), .int(i0), .int(i1), .int(n)] + argumentParameters)
        try synchronize()
        if cancel?.isCancelled == true { throw .cancelled }
        i0 = i1
      }
    case .twoD:
      let split = CUDALaunchPolicy.twoDimensionalSplit(
        outputRows: m, reducedRows: n, partialBytesPerRow: source.accumulatorDimension * source.accumulatorBytes)
      let partial = try allocate(
        bytes: split.jBlocks * m * source.accumulatorDimension * source.accumulatorBytes, what: "the 2D partial results")
      try launch(
        module.functions[.reduce2D]!, grid: ((m + source.blockSize - 1) / source.blockSize, split.jBlocks),
        block: source.blockSize,
        parameters: [.pointer(partial), .int(m), .int(n), .int(split.jChunk)] + argumentParameters)
      try synchronize()
      if cancel?.isCancelled == true { throw .cancelled }
      try launch(
        module.functions[.finish2D]!, grid: ((m + source.finishBlockSize - 1) / source.finishBlockSize, 1),
        block: source.finishBlockSize,
        parameters: [.pointer(out), .pointer(partial), .int(m), .int(split.jBlocks)])
      try synchronize()
    }
    return try download(out, count: m * source.outputDimension, data: Precision(plan.dataType))
  }

  /// ranges= (KeOps runs block-sparse reductions with the 1D scheme only, whatever the backend
  /// asks): uploads the launch table (`CUDALaunchPolicy.rangesTable`), the slices and the reduced
  /// intervals, and launches `ks_reduce_ranges` over the table in chunks of about the 1D scheme's
  /// rows, checking `cancel` in between.
  mutating func executeRanges(
    _ ranges: BlockRanges, out: UInt64, outputRows m: Int, reducedRows n: Int, module: LoadedModule,
    cancel: CancellationToken?
  ) throws(EngineError) {
    let table = CUDALaunchPolicy.rangesTable(ranges, outputRows: m, blockSize: source.blockSize)
    let slices = ranges.sliceEnds.map(Int64.init), redranges = ranges.reducedRanges.map(Int64.init)
    var pointers: [UInt64] = []
    for (values, what) in [(table, "the ranges launch table"), (slices, "slices"), (redranges, "redranges")] {
      let bytes = values.count * 8
      let p = try allocate(bytes: bytes, what: what)
      if bytes > 0 {
        let rc = values.withUnsafeBytes { driver.cuMemcpyHtoD(p, $0.baseAddress, bytes) }
        try driver.check(rc, "cuMemcpyHtoD(\(what))")
      }
      pointers.append(p)
    }
    let rows = CUDALaunchPolicy.oneDimensionalChunk(
      reducedRows: n, blockSize: source.blockSize, multiprocessors: device.info.multiprocessors,
      blocksPerMultiprocessor: module.blocksPerSM[.reduce1D] ?? 1)
    let perLaunch = max(1, rows / source.blockSize)
    let entries = table.count / 3
    var b0 = 0
    while b0 < entries {
      let b1 = min(entries, b0 + perLaunch)
      try launch(
        module.functions[.reduceRanges]!, grid: (b1 - b0, 1), block: source.blockSize,
        parameters: [.pointer(out), .pointer(pointers[0] + UInt64(24 * b0)), .pointer(pointers[1]), .pointer(pointers[2]), .int(n)]
          + argumentParameters)
      try synchronize()
      if cancel?.isCancelled == true { throw .cancelled }
      b0 = b1
    }
  }

  /// Allocates `bytes` (at least 1) of device memory; out of memory is reported with the total.
  mutating func allocate(bytes: Int, what: String) throws(EngineError) -> UInt64 {
    var p: UInt64 = 0
    let rc = driver.cuMemAlloc(&p, max(bytes, 8))
    if rc == CUDADriver.outOfMemory {
      let info = device.info
      throw .failed(
        "out of device memory: \(what) needs \(formatBytes(bytes)) more after \(formatBytes(allocatedBytes)) "
          + "on device \(info.ordinal) (\(info.name), \(formatBytes(info.totalMemory)) total)")
    }
    try driver.check(rc, "cuMemAlloc(\(bytes) bytes)")
    allocations.append(p)
    allocatedBytes += bytes
    return p
  }

  /// Copies the arguments the formula reads to the device, in the compute type.
  mutating func upload(_ arguments: KernelArguments, plan: KernelPlan) throws(EngineError) {
    let used = Set(source.usedArguments)
    let double = source.valueBytes == 8
    for (k, array) in arguments.arrays.enumerated() {
      guard used.contains(k) else {
        argumentParameters.append(.pointer(0))
        continue
      }
      let bytes = array.count * source.valueBytes
      let p = try allocate(bytes: bytes, what: "argument \(k)")
      let rc: Int32
      switch array.storage {
      case .float64(let a) where double: rc = a.withUnsafeBytes { driver.cuMemcpyHtoD(p, $0.baseAddress, bytes) }
      case .float32(let a) where !double: rc = a.withUnsafeBytes { driver.cuMemcpyHtoD(p, $0.baseAddress, bytes) }
      default:
        let values = array.toDoubles()
        if double {
          rc = values.withUnsafeBytes { driver.cuMemcpyHtoD(p, $0.baseAddress, bytes) }
        } else {
          rc = values.map { Float($0) }.withUnsafeBytes { driver.cuMemcpyHtoD(p, $0.baseAddress, bytes) }
        }
      }
      if bytes > 0 { try driver.check(rc, "cuMemcpyHtoD(argument \(k))") }
      argumentParameters.append(.pointer(p))
    }
    for _ in arguments.arrays.count..<max(arguments.arrays.count, source.argumentCount) {
      argumentParameters.append(.pointer(0))
    }
  }

  /// Launches `function` with one 8-byte value per parameter.
  func launch(_ function: OpaquePointer, grid: (Int, Int), block: Int, parameters: [Parameter]) throws(EngineError) {
    let storage = UnsafeMutableRawPointer.allocate(byteCount: 8 * max(1, parameters.count), alignment: 8)
    defer { storage.deallocate() }
    var pointers: [UnsafeMutableRawPointer?] = []
    for (k, p) in parameters.enumerated() {
      let slot = storage + 8 * k
      switch p {
      case .pointer(let v): slot.storeBytes(of: v, as: UInt64.self)
      case .int(let v): slot.storeBytes(of: Int64(v), as: Int64.self)
      }
      pointers.append(slot)
    }
    guard grid.0 >= 1, grid.0 <= Int(Int32.max), grid.1 >= 1, grid.1 <= 65535 else {
      throw .failed("the launch grid (\(grid.0), \(grid.1)) exceeds CUDA's limits")
    }
    let rc = pointers.withUnsafeMutableBufferPointer { buffer in
      driver.cuLaunchKernel(
        function, UInt32(grid.0), UInt32(grid.1), 1, UInt32(block), 1, 1, 0, nil, buffer.baseAddress, nil)
    }
    try driver.check(rc, "cuLaunchKernel")
  }

  func synchronize() throws(EngineError) {
    try driver.check(driver.cuCtxSynchronize(), "the CUDA kernel")
  }

  /// Copies `count` output values back and rounds them to the data precision.
  func download(_ p: UInt64, count: Int, data: Precision) throws(EngineError) -> [Double] {
    if source.valueBytes == 8 {
      var out = [Double](repeating: 0, count: count)
      let rc = out.withUnsafeMutableBytes { driver.cuMemcpyDtoH($0.baseAddress, p, $0.count) }
      try driver.check(rc, "cuMemcpyDtoH(output)")
      return out
    }
    var out = [Float](repeating: 0, count: count)
    let rc = out.withUnsafeMutableBytes { driver.cuMemcpyDtoH($0.baseAddress, p, $0.count) }
    try driver.check(rc, "cuMemcpyDtoH(output)")
    return out.map { data.round(Double($0)) }
  }
}

/// `1.5 GiB`, `12 MiB`, `640 B`.
func formatBytes(_ n: Int) -> String {
  let units = ["B", "KiB", "MiB", "GiB", "TiB"]
  var v = Double(n)
  var u = 0
  while v >= 1024 && u < units.count - 1 {
    v /= 1024
    u += 1
  }
  if u == 0 { return "\(n) B" }
  let tenths = Int((v * 10).rounded())
  return "\(tenths / 10).\(tenths % 10) \(units[u])"
}

extension CUDAKernelEngine {
  /// The CUDA engine runs every reduction, dtype and sum scheme, dense (1D and 2D schemes) or
  /// block-sparse (`ks_reduce_ranges`, the 1D scheme with a launch table, as KeOps).
  public static let capabilities = EngineCapabilities(
    engine: "the CUDA engine", backends: ["GPU", "GPU_1D", "GPU_2D", "GPU_1D_host", "GPU_2D_host", "GPU_1D_device", "GPU_2D_device"],
    supported: Set(EngineCapability.allCases))
}
