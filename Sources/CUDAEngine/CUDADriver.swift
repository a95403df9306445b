import Glibc
import KernelEngines
import Synchronization

/// What ks knows about one CUDA device.
public struct CUDADeviceInfo: Sendable, Equatable {
  /// The device ordinal (`device_id`).
  public var ordinal: Int
  public var name: String
  /// Compute capability as XY, e.g. 90 for sm_90.
  public var architecture: Int
  public var multiprocessors: Int
  public var maxThreadsPerMultiprocessor: Int
  public var totalMemory: Int

  public init(
    ordinal: Int, name: String, architecture: Int, multiprocessors: Int, maxThreadsPerMultiprocessor: Int,
    totalMemory: Int
  ) {
    self.ordinal = ordinal
    self.name = name
    self.architecture = architecture
    self.multiprocessors = multiprocessors
    self.maxThreadsPerMultiprocessor = maxThreadsPerMultiprocessor
    self.totalMemory = totalMemory
  }
}

/// The CUDA driver API (libcuda.so.1), loaded with `dlopen`. Only the calls ks needs are bound,
/// by their exported names (`cuMemAlloc_v2`...: cuda.h `#define`s the plain names to these).
final class CUDADriver: @unchecked Sendable {
  typealias Init = @convention(c) (UInt32) -> Int32
  typealias IntOut = @convention(c) (UnsafeMutablePointer<Int32>?) -> Int32
  typealias DeviceGet = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
  typealias DeviceGetAttribute = @convention(c) (UnsafeMutablePointer<Int32>?, Int32, Int32) -> Int32
  typealias DeviceGetName = @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32) -> Int32
  typealias DeviceTotalMem = @convention(c) (UnsafeMutablePointer<Int>?, Int32) -> Int32
  typealias PrimaryCtxRetain = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, Int32) -> Int32
  typealias CtxSetCurrent = @convention(c) (OpaquePointer?) -> Int32
  typealias CtxSynchronize = @convention(c) () -> Int32
  typealias ModuleLoadData = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, UnsafeRawPointer?) -> Int32
  typealias ModuleGetFunction =
    @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, OpaquePointer?, UnsafePointer<CChar>?) -> Int32
  typealias MemAlloc = @convention(c) (UnsafeMutablePointer<UInt64>?, Int) -> Int32
  typealias MemFree = @convention(c) (UInt64) -> Int32
  typealias MemcpyHtoD = @convention(c) (UInt64, UnsafeRawPointer?, Int) -> Int32
  typealias MemcpyDtoH = @convention(c) (UnsafeMutableRawPointer?, UInt64, Int) -> Int32
  typealias LaunchKernel =
    @convention(c) (
      OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, OpaquePointer?,
      UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Int32
  typealias ErrorText = @convention(c) (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32
  typealias Occupancy = @convention(c) (UnsafeMutablePointer<Int32>?, OpaquePointer?, Int32, Int) -> Int32
  typealias PrimaryCtxReset = @convention(c) (Int32) -> Int32

  // CUdevice_attribute values (cuda.h).
  static let maxThreadsPerMultiprocessorAttribute: Int32 = 39
  static let multiprocessorCountAttribute: Int32 = 16
  static let computeCapabilityMajorAttribute: Int32 = 75
  static let computeCapabilityMinorAttribute: Int32 = 76

  // CUresult values ks reports specially.
  static let outOfMemory: Int32 = 2
  static let noDevice: Int32 = 100
  static let invalidDevice: Int32 = 101

  /// The CUresults after which the context is unusable ("sticky" errors: every later call in it
  /// fails the same way until the context is reset): illegal address (700), launch timeout (702),
  /// device assert (710), hardware stack error (714), illegal instruction (715), misaligned
  /// address (716), invalid address space (717), invalid PC (718), launch failed (719).
  static let stickyErrors: Set<Int32> = [700, 702, 710, 714, 715, 716, 717, 718, 719]

  let path: String
  let cuInit: Init
  let cuDriverGetVersion: IntOut
  let cuDeviceGetCount: IntOut
  let cuDeviceGet: DeviceGet
  let cuDeviceGetAttribute: DeviceGetAttribute
  let cuDeviceGetName: DeviceGetName
  let cuDeviceTotalMem: DeviceTotalMem
  let cuDevicePrimaryCtxRetain: PrimaryCtxRetain
  let cuCtxSetCurrent: CtxSetCurrent
  let cuCtxSynchronize: CtxSynchronize
  let cuModuleLoadData: ModuleLoadData
  let cuModuleGetFunction: ModuleGetFunction
  let cuMemAlloc: MemAlloc
  let cuMemFree: MemFree
  let cuMemcpyHtoD: MemcpyHtoD
  let cuMemcpyDtoH: MemcpyDtoH
  let cuLaunchKernel: LaunchKernel
  let cuGetErrorName: ErrorText?
  let cuGetErrorString: ErrorText?
  /// `cuOccupancyMaxActiveBlocksPerMultiprocessor` (CUDA 6.5+); nil when the driver lacks it.
  let cuOccupancyMaxActiveBlocksPerMultiprocessor: Occupancy?
  /// `cuDevicePrimaryCtxReset_v2` (or the CUDA 10 `cuDevicePrimaryCtxReset`).
  let cuDevicePrimaryCtxReset: PrimaryCtxReset?
  private let library: DynamicLibrary

  private init(library lib: DynamicLibrary) throws(EngineError) {
    library = lib
    path = lib.path
    cuInit = try lib.symbol("cuInit", as: Init.self)
    cuDriverGetVersion = try lib.symbol("cuDriverGetVersion", as: IntOut.self)
    cuDeviceGetCount = try lib.symbol("cuDeviceGetCount", as: IntOut.self)
    cuDeviceGet = try lib.symbol("cuDeviceGet", as: DeviceGet.self)
    cuDeviceGetAttribute = try lib.symbol("cuDeviceGetAttribute", as: DeviceGetAttribute.self)
    cuDeviceGetName = try lib.symbol("cuDeviceGetName", as: DeviceGetName.self)
    cuDeviceTotalMem = try lib.symbol("cuDeviceTotalMem_v2", as: DeviceTotalMem.self)
    cuDevicePrimaryCtxRetain = try lib.symbol("cuDevicePrimaryCtxRetain", as: PrimaryCtxRetain.self)
    cuCtxSetCurrent = try lib.symbol("cuCtxSetCurrent", as: CtxSetCurrent.self)
    cuCtxSynchronize = try lib.symbol("cuCtxSynchronize", as: CtxSynchronize.self)
    cuModuleLoadData = try lib.symbol("cuModuleLoadData", as: ModuleLoadData.self)
    cuModuleGetFunction = try lib.symbol("cuModuleGetFunction", as: ModuleGetFunction.self)
    cuMemAlloc = try lib.symbol("cuMemAlloc_v2", as: MemAlloc.self)
    cuMemFree = try lib.symbol("cuMemFree_v2", as: MemFree.self)
    cuMemcpyHtoD = try lib.symbol("cuMemcpyHtoD_v2", as: MemcpyHtoD.self)
    cuMemcpyDtoH = try lib.symbol("cuMemcpyDtoH_v2", as: MemcpyDtoH.self)
    cuLaunchKernel = try lib.symbol("cuLaunchKernel", as: LaunchKernel.self)
    cuGetErrorName = lib.optionalSymbol("cuGetErrorName", as: ErrorText.self)
    cuGetErrorString = lib.optionalSymbol("cuGetErrorString", as: ErrorText.self)
    cuOccupancyMaxActiveBlocksPerMultiprocessor = lib.optionalSymbol(
      "cuOccupancyMaxActiveBlocksPerMultiprocessor", as: Occupancy.self)
    cuDevicePrimaryCtxReset =
      lib.optionalSymbol("cuDevicePrimaryCtxReset_v2", as: PrimaryCtxReset.self)
      ?? lib.optionalSymbol("cuDevicePrimaryCtxReset", as: PrimaryCtxReset.self)
  }

  private static let loaded = Mutex<[String: CUDADriver]>([:])

  /// The driver at `path` (default `libcuda.so.1` from the loader's search path), loaded once.
  static func load(path: String? = nil) throws(EngineError) -> CUDADriver {
    let name = path ?? "libcuda.so.1"
    if let d = loaded.withLock({ $0[name] }) { return d }
    switch DynamicLibrary.open([name]) {
    case .success(let lib):
      let d = try CUDADriver(library: lib)
      loaded.withLock { $0[name] = d }
      return d
    case .failure:
      throw .unavailable(path == nil ? "no NVIDIA driver: libcuda.so.1 not found" : "no NVIDIA driver: \(name) not found")
    }
  }

  /// `CUDA_ERROR_NAME: description` for a CUresult.
  func describe(_ rc: Int32) -> String {
    var name: UnsafePointer<CChar>?
    var text: UnsafePointer<CChar>?
    _ = cuGetErrorName?(rc, &name)
    _ = cuGetErrorString?(rc, &text)
    let n = name.map { String(cString: $0) } ?? "CUDA error \(rc)"
    return text.map { "\(n): \(String(cString: $0))" } ?? n
  }

  /// Throws `EngineError.failed("<what> failed (<error>)")` unless `rc` is CUDA_SUCCESS.
  func check(_ rc: Int32, _ what: @autoclosure () -> String) throws(EngineError) {
    if rc != 0 { throw .failed("\(what()) failed (\(describe(rc)))") }
  }

  /// The driver's CUDA version as (major, minor), e.g. (13, 0).
  var version: (major: Int, minor: Int) {
    var v: Int32 = 0
    _ = cuDriverGetVersion(&v)
    return (Int(v) / 1000, Int(v) % 1000 / 10)
  }

  /// Initializes the driver (cheap after the first call) and returns the number of devices.
  func initialize() throws(EngineError) -> Int {
    let rc = cuInit(0)
    if rc == Self.noDevice { throw .unavailable("no CUDA device: the NVIDIA driver found no GPU (\(describe(rc)))") }
    if rc != 0 { throw .unavailable("the NVIDIA driver failed to initialize (\(describe(rc)))") }
    var count: Int32 = 0
    try check(cuDeviceGetCount(&count), "cuDeviceGetCount")
    if count == 0 { throw .unavailable("no CUDA device: the NVIDIA driver found no GPU") }
    return Int(count)
  }

  /// The properties of device `ordinal`.
  func deviceInfo(_ ordinal: Int) throws(EngineError) -> CUDADeviceInfo {
    var dev: Int32 = 0
    try check(cuDeviceGet(&dev, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
    func attribute(_ a: Int32) throws(EngineError) -> Int {
      var v: Int32 = 0
      try check(cuDeviceGetAttribute(&v, a, dev), "cuDeviceGetAttribute(\(a))")
      return Int(v)
    }
    let major = try attribute(Self.computeCapabilityMajorAttribute)
    let minor = try attribute(Self.computeCapabilityMinorAttribute)
    var name = [CChar](repeating: 0, count: 256)
    _ = cuDeviceGetName(&name, 255, dev)
    var memory = 0
    _ = cuDeviceTotalMem(&memory, dev)
    return CUDADeviceInfo(
      ordinal: ordinal, name: name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) },
      architecture: major * 10 + minor, multiprocessors: try attribute(Self.multiprocessorCountAttribute),
      maxThreadsPerMultiprocessor: try attribute(Self.maxThreadsPerMultiprocessorAttribute), totalMemory: memory)
  }
}

/// A device with its primary context retained (for the life of the process) and made current.
final class CUDADevice: @unchecked Sendable {
  let driver: CUDADriver
  let info: CUDADeviceInfo
  let context: OpaquePointer

  private init(driver: CUDADriver, info: CUDADeviceInfo, context: OpaquePointer) {
    self.driver = driver
    self.info = info
    self.context = context
  }

  private static let opened = Mutex<[String: CUDADevice]>([:])

  /// Device `ordinal` of `driver`: checks that the driver still sees it (`cuInit` each time, so a
  /// lost GPU is reported), then retains its primary context once and makes it current.
  static func open(_ driver: CUDADriver, ordinal: Int) throws(EngineError) -> CUDADevice {
    let count = try driver.initialize()
    guard ordinal >= 0 && ordinal < count else {
      throw .unavailable(
        "device_id=\(ordinal) but only \(count) CUDA device\(count == 1 ? " is" : "s are") present (valid: 0...\(count - 1))")
    }
    let key = "\(driver.path)#\(ordinal)"
    if let d = opened.withLock({ $0[key] }) {
      try driver.check(driver.cuCtxSetCurrent(d.context), "cuCtxSetCurrent")
      return d
    }
    let info = try driver.deviceInfo(ordinal)
    var dev: Int32 = 0
    try driver.check(driver.cuDeviceGet(&dev, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
    var ctx: OpaquePointer?
    try driver.check(driver.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain")
    guard let context = ctx else { throw .failed("cuDevicePrimaryCtxRetain returned no context") }
    try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
    let d = CUDADevice(driver: driver, info: info, context: context)
    return opened.withLock { table in
      if let existing = table[key] { return existing }
      table[key] = d
      return d
    }
  }

  /// Forgets the opened devices of the driver at `driverPath` and their modules, so the next
  /// call reads the device's properties again (for tests that change a mock driver's answers).
  static func forgetAll(driverPath: String) {
    let keys = opened.withLock { table in
      let keys = table.keys.filter { $0.hasPrefix(driverPath + "#") }
      for k in keys { table.removeValue(forKey: k) }
      return keys
    }
    for k in keys { CUDAKernelEngine.forgetModules(deviceKey: k) }
  }

  /// The key of this device in the tables of opened devices and loaded modules.
  var key: String { "\(driver.path)#\(info.ordinal)" }

  /// After a failed call: when the context is dead (a kernel fault, `CUDADriver.stickyErrors`),
  /// forgets the modules loaded in it and this device, and resets the primary context, so that
  /// the next call retains a fresh one and reloads its modules. Returns the sticky error's
  /// description, or nil when the context is still healthy (nothing is done then).
  func recoverFromFault() -> String? {
    let rc = driver.cuCtxSynchronize()
    guard CUDADriver.stickyErrors.contains(rc) else { return nil }
    CUDAKernelEngine.forgetModules(deviceKey: key)
    Self.opened.withLock { _ = $0.removeValue(forKey: key) }
    var dev: Int32 = 0
    if driver.cuDeviceGet(&dev, Int32(info.ordinal)) == 0 { _ = driver.cuDevicePrimaryCtxReset?(dev) }
    return driver.describe(rc)
  }
}
