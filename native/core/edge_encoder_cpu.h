// The edge encoder's inference forward over whole weight matrices, streamed from the files.
//
// For a pair (a, b) of models and one tensor shared by both, seen as a matrix [rows, cols]
// (conv kernels [out, in, kh, kw] as [out, in*kh*kw]; vectors as [1, n]):
//   x   = [W_a, W_b] / scale                        two channels
//   h   = ReLU(1x1 conv 2->c (w1, b1))               c channels
//   z   = 3x3 conv c->32 (w2, b2; batch norm folded in), SAME padding: h is zero outside
//         the matrix, so z has the matrix's shape
//   out = mean over rows x cols of ReLU(z)           32 numbers
// lib/learned/encoder.ts computes the same function with tfjs (tests hold them within 1e-4).
//
// Candidate pairs that share a tensor are batched: each chunk of rows of every model in
// them is read and converted once, with a one-row halo above and below for the 3x3 conv.
// Chunk sums are added in chunk order (float64), so results do not depend on threads.
#pragma once
#include "core/edge_plan.h"

namespace np {

EdgeOutput edge_encode_cpu(const EdgePlan& plan, const ScanControl& control);

}  // namespace np
