// Built and run on the device by hand: nvcc -O3 -arch=sm_90 -o mm src/bench/f16-mirror.cu && ./mm (docs/benchmarks.md, "f16 screen").
// Mirrors the engine's WGSL wgmem-4x4-wg256 matmul (Y = X·Wᵀ, 16×16 threads, 4×4 outputs each,
// K staged in chunks of 8 vec4) in f32 and in f16 (half2 FMAs, f32 sum per chunk), plus a pure
// FMA-rate probe: what WebGPU's f16 would buy on this GPU if Dawn exposed shader-f16 here.
#include <cstdio>
#include <cuda_fp16.h>
#define KC 8
#define BM 64
__global__ void mm32(const float4* X, const float4* W, float* Y, int M, int N, int K) {
  __shared__ float4 xs[KC * BM], ws[KC * BM];
  int tx = threadIdx.x, ty = threadIdx.y, li = ty * 16 + tx, m0 = blockIdx.y * BM, n0 = blockIdx.x * BM, K4 = K / 4;
  float4 acc[4][4] = {};
  for (int k0 = 0; k0 < K4; k0 += KC) {
    for (int l = li; l < BM * KC; l += 256) {
      xs[(l % KC) * BM + l / KC] = X[min(m0 + l / KC, M - 1) * K4 + k0 + l % KC];
      ws[(l % KC) * BM + l / KC] = W[min(n0 + l / KC, N - 1) * K4 + k0 + l % KC];
    }
    __syncthreads();
    for (int kk = 0; kk < KC; kk++) {
      float4 x[4], w[4];
      for (int i = 0; i < 4; i++) x[i] = xs[kk * BM + ty + 16 * i];
      for (int j = 0; j < 4; j++) w[j] = ws[kk * BM + tx + 16 * j];
      for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) {
        acc[i][j].x = fmaf(x[i].x, w[j].x, acc[i][j].x); acc[i][j].y = fmaf(x[i].y, w[j].y, acc[i][j].y);
        acc[i][j].z = fmaf(x[i].z, w[j].z, acc[i][j].z); acc[i][j].w = fmaf(x[i].w, w[j].w, acc[i][j].w);
      }
    }
    __syncthreads();
  }
  for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) {
    int r = m0 + ty + 16 * i, c = n0 + tx + 16 * j;
    if (r < M && c < N) Y[r * N + c] = acc[i][j].x + acc[i][j].y + acc[i][j].z + acc[i][j].w;
  }
}
struct h4 { __half2 a, b; };
__global__ void mm16(const float4* X, const float4* W, float* Y, int M, int N, int K) {
  __shared__ h4 xs[KC * BM], ws[KC * BM];
  int tx = threadIdx.x, ty = threadIdx.y, li = ty * 16 + tx, m0 = blockIdx.y * BM, n0 = blockIdx.x * BM, K4 = K / 4;
  float sum[4][4] = {};
  for (int k0 = 0; k0 < K4; k0 += KC) {
    for (int l = li; l < BM * KC; l += 256) {
      float4 a = X[min(m0 + l / KC, M - 1) * K4 + k0 + l % KC], b = W[min(n0 + l / KC, N - 1) * K4 + k0 + l % KC];
      xs[(l % KC) * BM + l / KC] = {__floats2half2_rn(a.x, a.y), __floats2half2_rn(a.z, a.w)};
      ws[(l % KC) * BM + l / KC] = {__floats2half2_rn(b.x, b.y), __floats2half2_rn(b.z, b.w)};
    }
    __syncthreads();
    h4 acc[4][4];
    for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) acc[i][j] = {__float2half2_rn(0.f), __float2half2_rn(0.f)};
    for (int kk = 0; kk < KC; kk++) {
      h4 x[4], w[4];
      for (int i = 0; i < 4; i++) x[i] = xs[kk * BM + ty + 16 * i];
      for (int j = 0; j < 4; j++) w[j] = ws[kk * BM + tx + 16 * j];
      for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) { acc[i][j].a = __hfma2(x[i].a, w[j].a, acc[i][j].a); acc[i][j].b = __hfma2(x[i].b, w[j].b, acc[i][j].b); }
    }
    for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) {
      float2 p = __half22float2(acc[i][j].a), q = __half22float2(acc[i][j].b);
      sum[i][j] += (p.x + p.y) + (q.x + q.y);
    }
    __syncthreads();
  }
  for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) {
    int r = m0 + ty + 16 * i, c = n0 + tx + 16 * j;
    if (r < M && c < N) Y[r * N + c] = sum[i][j];
  }
}
__global__ void peak32(float* out, int n) { float a = threadIdx.x, b = 1.0001f, c0 = 0, c1 = 1, c2 = 2, c3 = 3;
  for (int i = 0; i < n; i++) { c0 = fmaf(a, b, c0); c1 = fmaf(a, b, c1); c2 = fmaf(a, b, c2); c3 = fmaf(a, b, c3); }
  out[blockIdx.x * blockDim.x + threadIdx.x] = c0 + c1 + c2 + c3; }
__global__ void peak16(float* out, int n) { __half2 a = __float2half2_rn(threadIdx.x * 1e-3f), b = __float2half2_rn(1.0001f), c0 = a, c1 = b, c2 = a, c3 = b;
  for (int i = 0; i < n; i++) { c0 = __hfma2(a, b, c0); c1 = __hfma2(a, b, c1); c2 = __hfma2(a, b, c2); c3 = __hfma2(a, b, c3); }
  float2 r = __half22float2(__hadd2(__hadd2(c0, c1), __hadd2(c2, c3))); out[blockIdx.x * blockDim.x + threadIdx.x] = r.x + r.y; }
template <class F> float timeIt(F f, int reps) { cudaEvent_t a, b; cudaEventCreate(&a); cudaEventCreate(&b); f(); cudaEventRecord(a);
  for (int i = 0; i < reps; i++) f(); cudaEventRecord(b); cudaEventSynchronize(b); float ms; cudaEventElapsedTime(&ms, a, b); return ms / reps; }
int main() {
  int shapes[4][3] = {{1536, 512, 0}, {512, 512, 0}, {8192, 512, 0}, {512, 8192, 0}}; const char* names[4] = {"qkv", "wo", "w1", "w2"};
  int M = 2048; float *X, *W, *Y; cudaMalloc(&X, 4ull * M * 8192); cudaMalloc(&W, 4ull * 8192 * 8192); cudaMalloc(&Y, 4ull * M * 8192);
  cudaMemset(X, 0, 4ull * M * 8192); cudaMemset(W, 0, 4ull * 8192 * 8192);
  float t32 = 0, t16 = 0; printf("{\"rows\":%d,\"shapes\":[", M);
  for (int s = 0; s < 4; s++) { int N = shapes[s][0], K = shapes[s][1]; dim3 g(N / BM, M / BM), b(16, 16);
    float a = timeIt([&] { mm32<<<g, b>>>((float4*)X, (float4*)W, Y, M, N, K); }, 50);
    float h = timeIt([&] { mm16<<<g, b>>>((float4*)X, (float4*)W, Y, M, N, K); }, 50);
    double fl = 2.0 * M * N * K; t32 += a; t16 += h;
    printf("%s{\"shape\":\"%s\",\"f32_gflops\":%.0f,\"f16_gflops\":%.0f,\"ratio\":%.3f}", s ? "," : "", names[s], fl / a / 1e6, fl / h / 1e6, a / h); }
  float* o; cudaMalloc(&o, 4 << 22); int n = 1 << 16;
  float p32 = timeIt([&] { peak32<<<132 * 16, 256>>>(o, n); }, 5), p16 = timeIt([&] { peak16<<<132 * 16, 256>>>(o, n); }, 5);
  double ops = 132.0 * 16 * 256 * n * 4 * 2;
  printf("],\"layer_ratio\":%.3f,\"peak_f32_tflops\":%.1f,\"peak_f16x2_tflops\":%.1f}\n", t32 / t16, ops / p32 / 1e9, 2 * ops / p16 / 1e9);
  return cudaGetLastError() != cudaSuccess;
}
