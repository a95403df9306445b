// mock_cuda.cpp: a stand-in libcuda.so.1 for testing ks' CUDA launch path without a GPU.
//
// Device memory is host memory. cuModuleLoadData accepts only real CUBINs (ELF, EM_CUDA).
// cuLaunchKernel either runs the kernel emulated on the CPU (when the test set "emulation" to a
// library exporting emu_<prefix><kernel name>) or fills the buffer of the kernel's first
// parameter with a constant ("pattern" = f32:<value> or f64:<value>). Every call is logged.
// cuGetExportTable returns an error, which NVRTC 13 needs from any libcuda.so.1 it finds.
// The driver version, SM count and occupancy are settable; "fault" makes the next launch fail
// asynchronously the way a kernel fault does on a GPU: the context is dead (every call returns the
// error) until cuDevicePrimaryCtxReset_v2, which frees its memory and invalidates its modules.
// MOCK_CUDA_PATTERN (and MOCK_CUDA_DRIVER_VERSION, e.g. 12040) in the environment set the pattern
// (and the driver's CUDA version) for runs of the ks binary against the mock.
#include <dlfcn.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

typedef int CUresult;
typedef int CUdevice;
typedef uint64_t CUdeviceptr;

namespace {
std::mutex lock;
int devices = 1;
size_t oom_above = SIZE_MAX;
std::string pattern;
std::string emulation_path;
std::string prefix;
void *emulation = nullptr;
std::string log_text;
std::string log_copy;
std::map<uint64_t, size_t> allocations;
int context_token = 0;
int driver_version = 13000;
int multiprocessors = 132;
int threads_per_sm = 2048;
int occupancy = 0;         // blocks per SM the occupancy API reports; 0: threads_per_sm / block size
int fault_next_launch = 0; // a CUresult the next launch leaves the context in (e.g. 700)
int sticky = 0;            // the context's sticky error, 0 when healthy
int generation = 0;        // bumped by each context reset: older modules are invalid

void record(const std::string &line) { log_text += line + "\n"; }

struct Module {
  int generation;
};

struct Function {
  std::string name;
  int generation;
};

typedef void (*Emulated)(unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void **);
}  // namespace

extern "C" {

void mock_cuda_set(const char *key, const char *value) {
  std::lock_guard<std::mutex> g(lock);
  std::string k = key, v = value;
  if (k == "devices") devices = atoi(value);
  else if (k == "oom_above") oom_above = v.empty() ? SIZE_MAX : (size_t)strtoull(value, nullptr, 10);
  else if (k == "pattern") pattern = v;
  else if (k == "prefix") prefix = v;
  else if (k == "driver_version") driver_version = atoi(value);
  else if (k == "multiprocessors") multiprocessors = atoi(value);
  else if (k == "threads_per_sm") threads_per_sm = atoi(value);
  else if (k == "occupancy") occupancy = atoi(value);
  else if (k == "fault_next_launch") fault_next_launch = atoi(value);
  else if (k == "heal") sticky = 0;
  else if (k == "emulation") {
    emulation_path = v;
    emulation = v.empty() ? nullptr : dlopen(value, RTLD_NOW | RTLD_LOCAL);
    if (!v.empty() && !emulation) fprintf(stderr, "mock_cuda: %s\n", dlerror());
  } else if (k == "reset_log") log_text.clear();
}

const char *mock_cuda_log(void) {
  std::lock_guard<std::mutex> g(lock);
  log_copy = log_text;
  return log_copy.c_str();
}

long mock_cuda_live_allocations(void) {
  std::lock_guard<std::mutex> g(lock);
  return (long)allocations.size();
}

CUresult cuInit(unsigned int) {
  std::lock_guard<std::mutex> g(lock);
  // For manual runs of the ks binary against the mock (LD_LIBRARY_PATH): MOCK_CUDA_PATTERN=f32:1.5.
  static bool environment_read = false;
  if (!environment_read) {
    environment_read = true;
    if (const char *p = getenv("MOCK_CUDA_PATTERN")) pattern = p;
    if (const char *v = getenv("MOCK_CUDA_DRIVER_VERSION")) driver_version = atoi(v);
  }
  return devices > 0 ? 0 : 100;
}
CUresult cuDriverGetVersion(int *v) { *v = driver_version; return 0; }
CUresult cuDeviceGetCount(int *n) { *n = devices; return 0; }
CUresult cuDeviceGet(CUdevice *d, int ordinal) {
  if (ordinal < 0 || ordinal >= devices) return 101;
  *d = ordinal;
  return 0;
}
CUresult cuDeviceGetAttribute(int *v, int attribute, CUdevice) {
  switch (attribute) {
    case 75: *v = 9; return 0;      // compute capability major
    case 76: *v = 0; return 0;      // minor
    case 16: *v = multiprocessors; return 0;  // multiprocessors
    case 39: *v = threads_per_sm; return 0;   // max threads per multiprocessor
    default: *v = 0; return 1;
  }
}
CUresult cuDeviceGetName(char *name, int len, CUdevice d) {
  snprintf(name, len, "Mock GPU %d", d);
  return 0;
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice) { *bytes = (size_t)80 << 30; return 0; }
CUresult cuDevicePrimaryCtxRetain(void **ctx, CUdevice d) {
  std::lock_guard<std::mutex> g(lock);
  record("retain " + std::to_string(d));
  *ctx = &context_token;
  return 0;
}
CUresult cuCtxSetCurrent(void *) { return 0; }
CUresult cuCtxSynchronize(void) {
  std::lock_guard<std::mutex> g(lock);
  return sticky;
}
CUresult cuDevicePrimaryCtxReset_v2(CUdevice d) {
  std::lock_guard<std::mutex> g(lock);
  record("reset " + std::to_string(d));
  for (auto &a : allocations) free((void *)(uintptr_t)a.first);
  allocations.clear();
  sticky = 0;
  generation++;
  return 0;
}

CUresult cuModuleLoadData(void **module, const void *image) {
  std::lock_guard<std::mutex> g(lock);
  if (sticky) return sticky;
  const unsigned char *p = (const unsigned char *)image;
  if (!(p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F')) return 200;  // CUDA_ERROR_INVALID_IMAGE
  uint16_t machine;
  memcpy(&machine, p + 18, 2);
  if (machine != 190) return 200;
  record("load cubin");
  *module = new Module{generation};
  return 0;
}
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
  std::lock_guard<std::mutex> g(lock);
  if (((Module *)m)->generation != generation) return 400;  // CUDA_ERROR_INVALID_HANDLE
  *f = new Function{name, generation};
  return 0;
}
CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int *n, void *f, int block, size_t) {
  std::lock_guard<std::mutex> g(lock);
  if (sticky) return sticky;
  if (((Function *)f)->generation != generation) return 400;
  *n = occupancy > 0 ? occupancy : threads_per_sm / (block > 0 ? block : 1);
  return 0;
}

CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
  std::lock_guard<std::mutex> g(lock);
  if (sticky) return sticky;
  if (bytes > oom_above) { record("alloc " + std::to_string(bytes) + " oom"); return 2; }
  void *m = calloc(1, bytes);
  *p = (CUdeviceptr)(uintptr_t)m;
  allocations[*p] = bytes;
  record("alloc " + std::to_string(bytes));
  return 0;
}
CUresult cuMemFree_v2(CUdeviceptr p) {
  std::lock_guard<std::mutex> g(lock);
  if (sticky) return sticky;
  auto it = allocations.find(p);
  if (it == allocations.end()) { record("free unknown"); return 1; }
  free((void *)(uintptr_t)p);
  allocations.erase(it);
  record("free");
  return 0;
}
CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes) {
  std::lock_guard<std::mutex> g(lock);
  if (sticky) return sticky;
  record("htod " + std::to_string(bytes));
  memcpy((void *)(uintptr_t)dst, src, bytes);
  return 0;
}
CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) {
  std::lock_guard<std::mutex> g(lock);
  if (sticky) return sticky;
  record("dtoh " + std::to_string(bytes));
  memcpy(dst, (const void *)(uintptr_t)src, bytes);
  return 0;
}

CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *stream, void **params, void **extra) {
  Emulated run = nullptr;
  std::string name = ((Function *)f)->name;
  {
    std::lock_guard<std::mutex> g(lock);
    if (sticky) return sticky;
    if (((Function *)f)->generation != generation) { record("launch of a stale function " + name); return 400; }
    if (fault_next_launch) {
      record("launch " + name + " faults");
      sticky = fault_next_launch;
      fault_next_launch = 0;
      return 0;  // a fault shows at the next synchronization, as on a GPU
    }
    record("launch " + name + " grid=" + std::to_string(gx) + "," + std::to_string(gy) + "," + std::to_string(gz) +
           " block=" + std::to_string(bx) + "," + std::to_string(by) + "," + std::to_string(bz));
    if (emulation) {
      run = (Emulated)dlsym(emulation, ("emu_" + prefix + name).c_str());
      if (!run) { record("no emulated kernel emu_" + prefix + name); return 500; }  // CUDA_ERROR_NOT_FOUND
    } else if (!pattern.empty()) {
      uint64_t out = *(uint64_t *)params[0];
      auto it = allocations.find(out);
      if (it == allocations.end()) { record("launch: output is not an allocation"); return 1; }
      double value = atof(pattern.c_str() + 4);
      if (pattern.compare(0, 4, "f32:") == 0) {
        for (size_t k = 0; k < it->second / 4; k++) ((float *)(uintptr_t)out)[k] = (float)value;
      } else {
        for (size_t k = 0; k < it->second / 8; k++) ((double *)(uintptr_t)out)[k] = value;
      }
    }
  }
  if (run) run(gx, gy, gz, bx, by, bz, params);
  (void)shared; (void)stream; (void)extra;
  return 0;
}

CUresult cuGetErrorName(CUresult e, const char **s) {
  switch (e) {
    case 2: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return 0;
    case 100: *s = "CUDA_ERROR_NO_DEVICE"; return 0;
    case 101: *s = "CUDA_ERROR_INVALID_DEVICE"; return 0;
    case 200: *s = "CUDA_ERROR_INVALID_IMAGE"; return 0;
    case 400: *s = "CUDA_ERROR_INVALID_HANDLE"; return 0;
    case 500: *s = "CUDA_ERROR_NOT_FOUND"; return 0;
    case 700: *s = "CUDA_ERROR_ILLEGAL_ADDRESS"; return 0;
    case 719: *s = "CUDA_ERROR_LAUNCH_FAILED"; return 0;
    default: *s = "CUDA_ERROR_UNKNOWN"; return 0;
  }
}
CUresult cuGetErrorString(CUresult e, const char **s) {
  switch (e) {
    case 2: *s = "out of memory"; return 0;
    case 100: *s = "no CUDA-capable device is detected"; return 0;
    case 700: *s = "an illegal memory access was encountered"; return 0;
    default: *s = "mock error"; return 0;
  }
}

// NVRTC 13 dlopens libcuda.so.1 for its cache and calls these; an error turns the cache off.
CUresult cuGetExportTable(const void **, const void *) { return 500; }
CUresult cuGetProcAddress_v2(const char *, void **p, int, uint64_t, void *) { if (p) *p = nullptr; return 500; }
}
