// LAPACKE (the C interface of the reference LAPACK) and the two CBLAS products ks uses.
#ifndef KS_CLAPACK_SHIM_H
#define KS_CLAPACK_SHIM_H

#include <lapacke.h>

// CBLAS prototypes, declared here so that no particular cblas.h (netlib or OpenBLAS) is needed.
// Order: 101 row-major; Trans: 111 no transpose, 112 transpose.
void cblas_dgemm(int order, int transA, int transB, int m, int n, int k, double alpha,
                 const double *a, int lda, const double *b, int ldb, double beta, double *c, int ldc);
void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

#endif
