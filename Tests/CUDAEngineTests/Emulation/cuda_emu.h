// cuda_emu.h: runs unchanged CUDA kernels on the CPU, for tests (g++ -std=c++17).
//
// Each CUDA thread of a block is a ucontext fiber; blocks run one after another, so a function
// `static` is exactly per-block shared memory. __syncthreads() returns to the scheduler, which
// resumes every fiber once all live ones have reached the barrier: deterministic and
// single-threaded, so a missing barrier shows up as a wrong answer and ASan sees every access.
#pragma once
#include <cmath>
#include <math.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <ucontext.h>
#include <vector>

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int a = 1, unsigned int b = 1, unsigned int c = 1) : x(a), y(b), z(c) {}
};

namespace cuda_emu {
inline dim3 thread_idx, block_idx, block_dim, grid_dim;

struct Fiber {
  ucontext_t context;
  std::vector<char> stack;
  bool done = false;
  dim3 index;
};

inline ucontext_t scheduler;
inline Fiber *current = nullptr;
inline const std::function<void()> *body = nullptr;
inline constexpr size_t stack_bytes = 256 * 1024;

inline void sync() { swapcontext(&current->context, &scheduler); }

inline void trampoline() {
  (*body)();
  current->done = true;  // returning switches to uc_link, the scheduler
}

/// Runs `kernel` (a call of the __global__ function) for every thread of `grid` x `block`.
inline void launch(dim3 grid, dim3 block, const std::function<void()> &kernel) {
  grid_dim = grid;
  block_dim = block;
  body = &kernel;
  const size_t n = (size_t)block.x * block.y * block.z;
  std::vector<Fiber> fibers(n);
  for (auto &f : fibers) f.stack.resize(stack_bytes);
  for (unsigned bz = 0; bz < grid.z; bz++)
    for (unsigned by = 0; by < grid.y; by++)
      for (unsigned bx = 0; bx < grid.x; bx++) {
        block_idx = dim3(bx, by, bz);
        size_t t = 0;
        for (unsigned tz = 0; tz < block.z; tz++)
          for (unsigned ty = 0; ty < block.y; ty++)
            for (unsigned tx = 0; tx < block.x; tx++, t++) {
              Fiber &f = fibers[t];
              f.done = false;
              f.index = dim3(tx, ty, tz);
              getcontext(&f.context);
              f.context.uc_stack.ss_sp = f.stack.data();
              f.context.uc_stack.ss_size = f.stack.size();
              f.context.uc_link = &scheduler;
              makecontext(&f.context, trampoline, 0);
            }
        // One round resumes every live fiber once: each runs to its next barrier or its end.
        for (;;) {
          bool live = false;
          for (auto &f : fibers) {
            if (f.done) continue;
            current = &f;
            thread_idx = f.index;
            swapcontext(&scheduler, &f.context);
            live = live || !f.done;
          }
          if (!live) break;
        }
      }
  current = nullptr;
}
}  // namespace cuda_emu

#define threadIdx cuda_emu::thread_idx
#define blockIdx cuda_emu::block_idx
#define blockDim cuda_emu::block_dim
#define gridDim cuda_emu::grid_dim
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __syncthreads() cuda_emu::sync()

inline unsigned int __float_as_uint(float x) {
  unsigned int u;
  std::memcpy(&u, &x, 4);
  return u;
}
inline float __uint_as_float(unsigned int u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}
inline double __longlong_as_double(long long v) {
  double x;
  std::memcpy(&x, &v, 8);
  return x;
}
