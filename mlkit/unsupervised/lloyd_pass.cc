// MlkitLloydPass: one fused pass of Lloyd's k-means over the points, as a TensorFlow
// CPU op. Each point is read once: its nearest centroid, the exact squared distance
// to it, and the per-cluster sums and counts of the update step all come from the
// same sweep, and the n × k distance matrix is never written to memory. The XLA step
// (a matmul, an argmin and a segment sum, each a separate pass) was slower than
// scikit-learn's chunked Cython loop; no library ships this op, so it is written here.
// Built by `python -m mlkit.unsupervised.build_lloyd_pass` (the Makefile's install)
// with -march=native. The kernel is AVX-512 only: written portably, GCC vectorised it
// across points instead of centroids and it ran 3–6× slower than the XLA step, so
// machines without AVX-512 (and float64 data) use the XLA step instead.
#if !defined(__AVX512F__)
#error "lloyd_pass.cc needs AVX-512 (this CPU or compiler lacks it; KMeans uses the XLA step)"
#endif

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/util/work_sharder.h"

namespace mlkit {
namespace {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;
using tensorflow::shape_inference::InferenceContext;
using tensorflow::shape_inference::ShapeHandle;

constexpr int64_t kLanes = 16;         // centroids per group: one AVX-512 register of floats
constexpr int64_t kPointsPerStep = 8;  // points whose distances are accumulated together
constexpr int64_t kFlushEvery = 256;   // points summed in float before adding into doubles

REGISTER_OP("MlkitLloydPass")
    .Input("points: float")
    .Input("centroids: float")
    .Output("labels: int32")
    .Output("distances: float")
    .Output("sums: double")
    .Output("counts: int64")
    .Output("inertia: double")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle points, centroids;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 2, &points));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 2, &centroids));
      c->set_output(0, c->Vector(c->Dim(points, 0)));
      c->set_output(1, c->Vector(c->Dim(points, 0)));
      c->set_output(2, c->Matrix(c->Dim(centroids, 0), c->Dim(points, 1)));
      c->set_output(3, c->Vector(c->Dim(centroids, 0)));
      c->set_output(4, c->Scalar());
      return absl::OkStatus();
    })
    .Doc(R"doc(
Nearest centroid of every point (first on ties), the squared distance to it, and
per-cluster sums (float64), counts and total squared distance (inertia).
)doc");

// Centroids laid out for the assignment: groups of kLanes, each stored column by column
// as −2μ so that ||μ||² − 2x·μ accumulates with one fused multiply-add per feature.
struct PreparedCentroids {
  int64_t groups;
  std::vector<float> scaled;  // [groups][d][kLanes]; padding lanes 0
  std::vector<float> norms;   // [groups][kLanes]; padding lanes +inf, so they never win

  PreparedCentroids(const float* centroids, int64_t k, int64_t d)
      : groups((k + kLanes - 1) / kLanes),
        scaled(groups * d * kLanes, 0.0f),
        norms(groups * kLanes, std::numeric_limits<float>::infinity()) {
    for (int64_t j = 0; j < k; ++j) {
      const int64_t group = j / kLanes, lane = j % kLanes;
      float norm = 0;
      for (int64_t c = 0; c < d; ++c) {
        const float value = centroids[j * d + c];
        norm += value * value;
        scaled[(group * d + c) * kLanes + lane] = -2 * value;
      }
      norms[group * kLanes + lane] = norm;
    }
  }
};

// kPointsPerStep points at a time, sixteen centroids per register: each feature of each
// point is broadcast from memory into one FMA, which keeps both FMA ports busy.
template <int64_t kPoints>
void AssignStep(const float* points, int64_t d, const PreparedCentroids& prepared, int32_t* labels) {
  float best_value[kPoints];
  int32_t best[kPoints];
  std::fill_n(best_value, kPoints, std::numeric_limits<float>::infinity());
  std::fill_n(best, kPoints, 0);
  for (int64_t group = 0; group < prepared.groups; ++group) {
    const __m512 norms = _mm512_loadu_ps(prepared.norms.data() + group * kLanes);
    const float* columns = prepared.scaled.data() + group * d * kLanes;
    __m512 partial[kPoints];
    for (int64_t p = 0; p < kPoints; ++p) partial[p] = norms;
    for (int64_t c = 0; c < d; ++c) {
      const __m512 column = _mm512_loadu_ps(columns + c * kLanes);
      for (int64_t p = 0; p < kPoints; ++p) {
        partial[p] = _mm512_fmadd_ps(_mm512_set1_ps(points[p * d + c]), column, partial[p]);
      }
    }
    for (int64_t p = 0; p < kPoints; ++p) {
      const float minimum = _mm512_reduce_min_ps(partial[p]);
      if (minimum < best_value[p]) {
        const uint32_t equal = _mm512_cmp_ps_mask(partial[p], _mm512_set1_ps(minimum), _CMP_EQ_OQ);
        best_value[p] = minimum;
        best[p] = static_cast<int32_t>(group * kLanes + (equal ? __builtin_ctz(equal) : 0));
      }
    }
  }
  std::copy_n(best, kPoints, labels);
}

void Assign(const float* points, int64_t rows, int64_t d, const PreparedCentroids& prepared, int32_t* labels) {
  int64_t i = 0;
  for (; i + kPointsPerStep <= rows; i += kPointsPerStep) {
    AssignStep<kPointsPerStep>(points + i * d, d, prepared, labels + i);
  }
  for (; i < rows; ++i) AssignStep<1>(points + i * d, d, prepared, labels + i);
}

// Adds the point to its cluster's running sum; returns the exact ||x − μ||².
float Accumulate(const float* point, const float* centroid, int64_t d, float* sum) {
  __m512 squares = _mm512_setzero_ps();
  for (int64_t c = 0; c < d; c += kLanes) {
    const __mmask16 mask = d - c >= kLanes ? 0xFFFF : static_cast<__mmask16>((1u << (d - c)) - 1);
    const __m512 value = _mm512_maskz_loadu_ps(mask, point + c);
    const __m512 difference = _mm512_sub_ps(value, _mm512_maskz_loadu_ps(mask, centroid + c));
    squares = _mm512_fmadd_ps(difference, difference, squares);
    _mm512_mask_storeu_ps(sum + c, mask, _mm512_add_ps(_mm512_maskz_loadu_ps(mask, sum + c), value));
  }
  return _mm512_reduce_add_ps(squares);
}

// What one shard of the points contributes to the update.
struct ShardTotals {
  std::vector<double> sums;
  std::vector<int64_t> counts;
  double inertia = 0;
};

class LloydPassOp : public OpKernel {
 public:
  explicit LloydPassOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& points = context->input(0);
    const Tensor& centroids = context->input(1);
    OP_REQUIRES(context, points.dims() == 2 && centroids.dims() == 2,
                absl::InvalidArgumentError("points and centroids must be matrices"));
    const int64_t n = points.dim_size(0), d = points.dim_size(1), k = centroids.dim_size(0);
    OP_REQUIRES(context, centroids.dim_size(1) == d,
                absl::InvalidArgumentError("points and centroids must have the same number of columns"));
    OP_REQUIRES(context, k >= 1 && d >= 1, absl::InvalidArgumentError("need at least one centroid and one feature"));
    OP_REQUIRES(context, k <= std::numeric_limits<int32_t>::max(),
                absl::InvalidArgumentError("too many centroids for int32 labels"));

    Tensor *labels_tensor, *distances_tensor, *sums_tensor, *counts_tensor, *inertia_tensor;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape({n}), &labels_tensor));
    OP_REQUIRES_OK(context, context->allocate_output(1, TensorShape({n}), &distances_tensor));
    OP_REQUIRES_OK(context, context->allocate_output(2, TensorShape({k, d}), &sums_tensor));
    OP_REQUIRES_OK(context, context->allocate_output(3, TensorShape({k}), &counts_tensor));
    OP_REQUIRES_OK(context, context->allocate_output(4, TensorShape({}), &inertia_tensor));

    const float* x = points.flat<float>().data();
    const float* mu = centroids.flat<float>().data();
    int32_t* labels = labels_tensor->flat<int32_t>().data();
    float* distances = distances_tensor->flat<float>().data();
    const PreparedCentroids prepared(mu, k, d);

    // A few shards per thread, each with its own totals: no locking, and the final
    // reduction is over shards, not points.
    const auto& threads = *context->device()->tensorflow_cpu_worker_threads();
    const int64_t shards = std::max<int64_t>(1, std::min<int64_t>((n + kFlushEvery - 1) / kFlushEvery,
                                                                  4 * threads.num_threads));
    std::vector<ShardTotals> totals(shards);
    auto work = [&](int64_t first_shard, int64_t last_shard) {
      std::vector<float> block_sums(k * d);
      for (int64_t shard = first_shard; shard < last_shard; ++shard) {
        ShardTotals& total = totals[shard];
        total.sums.assign(k * d, 0.0);
        total.counts.assign(k, 0);
        // Locals, not members of `total`: the compiler cannot keep those in registers
        // across the stores to labels and distances.
        int64_t* counts = total.counts.data();
        double inertia = 0;
        const int64_t begin = n * shard / shards, end = n * (shard + 1) / shards;
        for (int64_t start = begin; start < end; start += kFlushEvery) {
          const int64_t rows = std::min(kFlushEvery, end - start);
          const float* block = x + start * d;
          Assign(block, rows, d, prepared, labels + start);
          std::fill(block_sums.begin(), block_sums.end(), 0.0f);
          for (int64_t i = 0; i < rows; ++i) {
            const int32_t label = labels[start + i];
            const float squared = Accumulate(block + i * d, mu + label * d, d, block_sums.data() + label * d);
            distances[start + i] = squared;
            inertia += squared;
            ++counts[label];
          }
          for (int64_t i = 0; i < k * d; ++i) total.sums[i] += block_sums[i];
        }
        total.inertia = inertia;
      }
    };
    tensorflow::Shard(threads.num_threads, threads.workers, shards, 4 * (n / shards) * k * d, work);

    auto sums = sums_tensor->flat<double>();
    auto counts = counts_tensor->flat<int64_t>();
    sums.setZero();
    counts.setZero();
    double inertia = 0;
    for (const ShardTotals& total : totals) {
      for (int64_t i = 0; i < k * d; ++i) sums(i) += total.sums[i];
      for (int64_t j = 0; j < k; ++j) counts(j) += total.counts[j];
      inertia += total.inertia;
    }
    inertia_tensor->scalar<double>()() = inertia;
  }
};

REGISTER_KERNEL_BUILDER(Name("MlkitLloydPass").Device(tensorflow::DEVICE_CPU), LloydPassOp);

}  // namespace
}  // namespace mlkit
