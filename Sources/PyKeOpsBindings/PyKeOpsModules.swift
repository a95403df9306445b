import ArrayIO
import KernelOperations
import ShellRuntime

// The pykeops modules a script imports: pykeops, pykeops.config, pykeops.numpy (Genred,
// KernelSolve, LazyTensor, Vi, Vj, Pm), pykeops.numpy.utils, pykeops.numpy.cluster,
// pykeops.common.gpu_utils. The numpy helpers are written in the shell language itself, on the
// numpy subset: they are what PyKeOps' own helpers compute, in ks's words.

enum PyKeOpsModules {
  /// The modules, given the `pykeops.numpy` members made in `PyKeOpsLibrary`.
  static func modules(numpy members: [String: Value]) -> [ShellModule] {
    [
      ShellModule("pykeops", members: pykeopsMembers()),
      ShellModule(
        "pykeops.config", memberNames: { ["gpu_available", "verbose", "build_type"] },
        member: { name in
          switch name {
          case "gpu_available": return .bool(Backend.gpuAvailable)
          case "verbose": return .bool(false)
          case "build_type": return .str("Release")
          default: return nil
          }
        }),
      ShellModule("pykeops.numpy", members: members),
      ShellModule("pykeops.numpy.utils", source: utilsSource, names: utilsNames),
      ShellModule("pykeops.numpy.cluster", source: clusterSource, names: clusterNames),
      ShellModule("pykeops.common", members: [:]),
      ShellModule(
        "pykeops.common.gpu_utils",
        members: [
          "get_gpu_number": Builtins.anyFn("get_gpu_number", doc: FunctionDoc("get_gpu_number()", "the number of GPUs ks can use", "get_gpu_number()")) { ctx in
            try ctx.finish(maxPositional: 0)
            return .int(Backend.gpuCount)
          }
        ]),
    ]
  }

  static func pykeopsMembers() -> [String: Value] {
    [
      "__version__": .str("2.3 (ks)"),
      // ks prints nothing while compiling; the switch is accepted for compatibility.
      "set_verbose": Builtins.anyFn("set_verbose", doc: FunctionDoc("pykeops.set_verbose(val)", "accepted for compatibility (ks prints nothing while compiling)", "pykeops.set_verbose(False)")) { ctx in
        _ = try ctx.required(0, "val")
        try ctx.finish(maxPositional: 1)
        return .none
      },
      "clean_pykeops": Builtins.anyFn("clean_pykeops", doc: FunctionDoc("pykeops.clean_pykeops()", "remove the compiled kernels from ks's cache", "pykeops.clean_pykeops()")) { ctx in
        try ctx.finish(maxPositional: 0)
        do {
          let n = try Backend.clearKernelCaches()
          ctx.interpreter.output("removed \(n) compiled kernel\(n == 1 ? "" : "s") from ks's cache\n")
        } catch {
          throw ShellError("clean_pykeops: \(error)", type: "OSError", at: ctx.range)
        }
        return .none
      },
      "test_numpy_bindings": Builtins.anyFn("test_numpy_bindings", doc: FunctionDoc("pykeops.test_numpy_bindings()", "check that the numpy bindings work", "pykeops.test_numpy_bindings()")) { ctx in
        try ctx.finish(maxPositional: 0)
        ctx.interpreter.output("pykeops with numpy bindings is working!\n")
        return .none
      },
    ]
  }

  static let utilsNames = [
    "squared_distances", "differences", "np_kernel", "log_np_kernel", "grad_np_kernel", "np_kernel_sphere", "log_sum_exp",
    "WarmUpGpu",
  ]

  static let utilsSource = """
    import numpy as np

    def squared_distances(x, y):
        \"\"\"The (M, N) matrix of squared distances |x_i - y_j|^2, as x.x - 2 x.y + y.y.\"\"\"
        xx = (x ** 2).sum(1).reshape(-1, 1)
        yy = (y ** 2).sum(1).reshape(1, -1)
        return xx + yy - 2.0 * (x @ y.T)

    def differences(x, y):
        \"\"\"The (D, M, N) array of coordinate differences x_i - y_j.\"\"\"
        return x.T[:, :, None] - y.T[:, None, :]

    def np_kernel(x, y, s, kernel):
        \"\"\"The dense kernel matrix k(x_i, y_j) with scale s.\"\"\"
        d2 = squared_distances(x, y)
        if kernel == "gaussian":
            return np.exp(-d2 / (s * s))
        if kernel == "laplacian":
            return np.exp(-np.sqrt(d2) / s)
        if kernel == "cauchy":
            return 1.0 / (1 + d2 / (s * s))
        if kernel == "inverse_multiquadric":
            return np.sqrt(1.0 / (1 + d2 / (s * s)))
        raise ValueError("unknown kernel " + repr(kernel))

    def log_np_kernel(x, y, s, kernel):
        \"\"\"The logarithm of np_kernel.\"\"\"
        d2 = squared_distances(x, y)
        if kernel == "gaussian":
            return -d2 / (s * s)
        if kernel == "laplacian":
            return -np.sqrt(d2) / s
        if kernel == "cauchy":
            return -np.log(1 + d2 / (s * s))
        if kernel == "inverse_multiquadric":
            return -0.5 * np.log(1.0 + d2 / (s * s))
        raise ValueError("unknown kernel " + repr(kernel))

    def grad_np_kernel(x, y, s, kernel):
        \"\"\"The derivative of the kernel with respect to the squared distance.\"\"\"
        d2 = squared_distances(x, y)
        if kernel == "gaussian":
            return -np.exp(-d2 / (s * s)) / (s * s)
        if kernel == "laplacian":
            t = -np.sqrt(d2 / (s * s))
            return np.exp(t) / (2 * s * s * t)
        if kernel == "cauchy":
            return -1.0 / (s * (d2 / (s * s) + 1)) ** 2
        if kernel == "inverse_multiquadric":
            return -0.5 / ((s ** 2) * ((d2 / (s * s) + 1) ** 1.5))
        raise ValueError("unknown kernel " + repr(kernel))

    def np_kernel_sphere(nalpha, nbeta, s, kernel):
        \"\"\"Kernels between unit normals.\"\"\"
        p = nalpha @ nbeta.T
        if kernel == "binet":
            return p ** 2
        if kernel == "linear":
            return p
        if kernel == "gaussian_unoriented":
            return np.exp((-2.0 + 2.0 * p * p) / (s * s))
        if kernel == "gaussian_oriented":
            return np.exp((-2.0 + 2.0 * p) / (s * s))
        raise ValueError("unknown kernel " + repr(kernel))

    def log_sum_exp(mat, axis=0):
        \"\"\"log(sum(exp(mat), axis)), computed with the maximum factored out.\"\"\"
        m = mat.max(axis=axis)
        return m + np.log(np.sum(np.exp(mat - np.expand_dims(m, axis=axis)), axis=axis))

    def WarmUpGpu():
        \"\"\"PyKeOps warms the GPU up before timings; ks has nothing to warm up.\"\"\"
        return None
    """

  static let clusterNames = [
    "grid_cluster", "sort_clusters", "cluster_ranges", "cluster_centroids", "cluster_ranges_centroids", "swap_axes",
    "from_matrix",
  ]

  static let clusterSource = """
    import numpy as np

    def grid_cluster(x, size):
        \"\"\"Labels in [0, C) of the cubic cells of side `size` that the points x (M, D<=3) fall in.\"\"\"
        d = x.shape[1]
        if d > 3:
            raise NotImplementedError("grid_cluster handles points of dimension 1, 2 or 3")
        cell = np.floor(x / size).astype(np.int64)
        label = cell[:, d - 1]
        for k in range(d - 1):
            label = label + cell[:, k] * (1024 ** (d - 1 - k))
        label = label - label.min()
        # Compact the labels to 0, 1, ..., C-1 in increasing order.
        distinct = np.unique(label)
        table = np.zeros(int(distinct.max()) + 1, dtype=np.int64)
        table[distinct] = np.arange(len(distinct))
        return table[label]

    def sort_clusters(x, lab):
        \"\"\"The points and labels reordered so that each cluster is contiguous (a stable sort).\"\"\"
        order = np.argsort(lab.ravel(), kind="stable")
        if isinstance(x, tuple):
            return tuple(a[order] for a in x), lab[order]
        if isinstance(x, list):
            return [a[order] for a in x], lab[order]
        return x[order], lab[order]

    def cluster_ranges(lab, Nlab=None):
        \"\"\"The (C, 2) [start, end) index ranges of the clusters of sorted labels.\"\"\"
        if Nlab is None:
            Nlab = np.bincount(lab)
        ends = np.cumsum(Nlab).astype(np.int64)
        starts = np.concatenate((np.array([0], dtype=np.int64), ends[:-1]))
        return np.stack((starts, ends), axis=1).astype(np.int64)

    def cluster_centroids(x, lab, Nlab=None, weights=None, weights_c=None):
        \"\"\"The (C, D) barycenters of the clusters (weighted by `weights` when given).\"\"\"
        if Nlab is None:
            Nlab = np.bincount(lab).astype(float)
        if weights is not None and weights_c is None:
            weights_c = np.bincount(lab, weights=weights)
        c = np.zeros((len(Nlab), x.shape[1]), dtype=x.dtype)
        for d in range(x.shape[1]):
            if weights is None:
                c[:, d] = np.bincount(lab, weights=x[:, d]) / Nlab
            else:
                c[:, d] = np.bincount(lab, weights=x[:, d] * weights.ravel()) / weights_c.ravel()
        return c

    def cluster_ranges_centroids(x, lab, weights=None):
        \"\"\"The ranges, centroids and total weights (or sizes) of the clusters.\"\"\"
        Nlab = np.bincount(lab).astype(float)
        if weights is None:
            return cluster_ranges(lab, Nlab), cluster_centroids(x, lab, Nlab), Nlab
        w = np.bincount(lab, weights=weights).ravel()
        return cluster_ranges(lab, Nlab), cluster_centroids(x, lab, Nlab, weights=weights, weights_c=w), w

    def swap_axes(ranges):
        \"\"\"The ranges 6-tuple of the transposed reduction (i and j exchanged).\"\"\"
        if ranges is None:
            return None
        return (ranges[3], ranges[4], ranges[5], ranges[0], ranges[1], ranges[2])

    def from_matrix(ranges_i, ranges_j, keep):
        \"\"\"The block-sparse ranges 6-tuple that keeps the cluster pairs (k, l) with keep[k, l].\"\"\"
        keep = keep.astype(bool)
        rows = np.arange(keep.shape[0])
        cols = np.arange(keep.shape[1])
        # j-clusters kept by each i-cluster, row by row; i-clusters kept by each j-cluster, column by column.
        J = np.zeros(keep.shape, dtype=np.int64) + cols[None, :]
        I = np.zeros(keep.shape, dtype=np.int64) + rows[:, None]
        redranges_j = ranges_j[J[keep]]
        redranges_i = ranges_i[I.T[keep.T]]
        slices_i = np.cumsum(keep.sum(axis=1))
        slices_j = np.cumsum(keep.sum(axis=0))
        return (ranges_i.astype(np.int64), slices_i.astype(np.int64), redranges_j.astype(np.int64),
                ranges_j.astype(np.int64), slices_j.astype(np.int64), redranges_i.astype(np.int64))
    """
}
