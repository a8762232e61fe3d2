#include "core/scan_packed.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace np {

void validate_packed_member(const ScanMember& m, uint64_t count, size_t files, const std::string& tensor) {
  if (!m.is_packed()) return;
  const PackedRows& p = m.packed;
  auto bad = [&](const std::string& why) { throw Error(ErrorCode::InvalidArgument, "scan plan: packed weight " + why, {}, tensor); };
  if (p.bits != 4 && p.bits != 8) bad("has " + std::to_string(p.bits) + " bits (4 or 8 are read)");
  if (p.awq && p.bits != 4) bad("is AWQ with " + std::to_string(p.bits) + " bits (AWQ packs 4)");
  // in and out are bounded so that every index below fits comfortably in 64 bits and the
  // per-tensor g_idx table stays small.
  if (p.in == 0 || p.out == 0 || p.in > (uint64_t{1} << 31) || p.out > (uint64_t{1} << 31)) bad("has an empty or oversized shape");
  if (!p.awq && p.in % p.pack() != 0) bad("has " + std::to_string(p.in) + " inputs, not whole words of " + std::to_string(p.pack()));
  if (p.groups == 0 || p.groups > p.in) bad("has " + std::to_string(p.groups) + " groups for " + std::to_string(p.in) + " inputs");
  if (!p.has_gidx && (p.group_size == 0 || (p.in + p.group_size - 1) / p.group_size != p.groups))
    bad("has groups of " + std::to_string(p.group_size) + " that do not make " + std::to_string(p.groups) + " groups");
  if (p.has_gidx && p.awq) bad("is AWQ with a g_idx");
  if (p.scales_dtype == DType::F64) bad("has F64 scales");
  if (p.zeros_file >= files || p.scales_file >= files || (p.has_gidx && p.gidx_file >= files)) bad("refers to a missing file index");
  if (count > p.in * p.out) bad("has fewer elements than the group compares");
}

namespace {

// Reads `rows` rows of a row-major table (row_bytes each) at `offset`, keeping only bytes
// [col_begin, col_begin + col_bytes) of each row, packed into dst. One read of the whole
// span when at most a quarter of it is skipped over, otherwise one read per row.
void read_columns(const FileReader& f, uint64_t offset, uint64_t row_bytes, uint64_t rows, uint64_t col_begin,
                  uint64_t col_bytes, unsigned char* dst, std::vector<unsigned char>& span) {
  if (rows == 0 || col_bytes == 0) return;
  if (col_bytes == row_bytes) {
    f.read_at(offset, dst, rows * row_bytes);
    return;
  }
  const uint64_t total = (rows - 1) * row_bytes + col_bytes;
  if (total <= 4 * rows * col_bytes / 3) {
    if (span.size() < total) span.resize(total);
    f.read_at(offset + col_begin, span.data(), total);
    for (uint64_t r = 0; r < rows; ++r) std::memcpy(dst + r * col_bytes, span.data() + r * row_bytes, col_bytes);
    return;
  }
  for (uint64_t r = 0; r < rows; ++r) f.read_at(offset + r * row_bytes + col_begin, dst + r * col_bytes, col_bytes);
}

uint32_t load_u32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

// The group of every input: g_idx read and checked, or i / group_size. Kept per thread for
// the tensor it was made for, since consecutive items mostly belong to one tensor.
const int32_t* group_of_inputs(const PackedRows& p, FileCache& files, PackedScratch& s, const std::string& tensor) {
  const uint32_t file = p.has_gidx ? p.gidx_file : UINT32_MAX - 1;
  const uint64_t offset = p.has_gidx ? p.gidx_offset : 0;
  if (s.gidx_file == file && s.gidx_offset == offset && s.gidx_in == p.in && s.gidx_group_size == p.group_size)
    return s.gidx.data();
  s.gidx_file = UINT32_MAX;  // invalid until filled and checked
  s.gidx.resize(p.in);
  if (p.has_gidx) {
    std::shared_ptr<FileReader> reader = files.get(p.gidx_file);
    if (s.span.size() < p.in * 4) s.span.resize(p.in * 4);
    reader->read_at(p.gidx_offset, s.span.data(), p.in * 4);
    for (uint64_t i = 0; i < p.in; ++i) {
      const int32_t g = static_cast<int32_t>(load_u32(s.span.data() + i * 4));
      if (g < 0 || static_cast<uint64_t>(g) >= p.groups)
        throw Error(ErrorCode::Format,
                    reader->path() + ": tensor '" + tensor + "': g_idx[" + std::to_string(i) + "] = " + std::to_string(g) +
                        " is not a group (0.." + std::to_string(p.groups - 1) + ")",
                    reader->path(), tensor);
      s.gidx[i] = g;
    }
  } else {
    for (uint64_t i = 0; i < p.in; ++i) s.gidx[i] = static_cast<int32_t>(i / p.group_size);
  }
  s.gidx_sequential = p.group_size > 0;
  for (uint64_t i = 0; i < p.in && s.gidx_sequential; ++i) s.gidx_sequential = s.gidx[i] == static_cast<int32_t>(i / p.group_size);
  s.gidx_file = file;
  s.gidx_offset = offset;
  s.gidx_in = p.in;
  s.gidx_group_size = p.group_size;
  return s.gidx.data();
}

// The field of output o in its packed word: a shift in bits.
uint32_t out_shift(const PackedRows& p, uint64_t o) {
  return p.awq ? 4 * kAwqSlot[o % 8] : p.bits * static_cast<uint32_t>(o % p.pack());
}

// GPTQ inputs [from, to) of one output, both multiples of PACK, when every word's inputs
// share a group (groups in input order, group_size a multiple of PACK): one strided word load
// and one scale/zero per PACK outputs, and a fixed-count inner loop the compiler unrolls and
// vectorizes. Same arithmetic, element by element, as the general loop.
template <uint32_t BITS>
void gptq_words(const uint32_t* __restrict col, uint64_t stride, const int32_t* __restrict gidx, const float* __restrict sr,
                const float* __restrict zr, uint64_t from, uint64_t to, float* __restrict out) {
  constexpr uint32_t PACK = 32 / BITS, MASK = (1u << BITS) - 1;
  for (uint64_t i = from; i < to; i += PACK) {
    const uint32_t w = col[(i / PACK) * stride];
    const int32_t g = gidx[i];
    const float sc = sr[g], z = zr[g];
    float* __restrict o = out + (i - from);
    for (uint32_t k = 0; k < PACK; ++k) o[k] = sc * (static_cast<float>((w >> (BITS * k)) & MASK) - z);
  }
}

}  // namespace

void read_packed_range(const ScanMember& m, FileCache& files, uint64_t start, uint64_t len, unsigned char* dst,
                       PackedScratch& s, const std::string& tensor) {
  if (len == 0) return;
  const PackedRows& p = m.packed;
  const uint32_t pack = p.pack(), bits = p.bits, mask = (1u << bits) - 1, log_pack = bits == 4 ? 3 : 2;
  const uint64_t G = p.groups;
  const uint64_t o0 = start / p.in, o1 = (start + len - 1) / p.in, rows = o1 - o0 + 1;
  const uint64_t c0 = o0 / pack, words = o1 / pack - c0 + 1;  // packed columns along out
  const int32_t* gidx = group_of_inputs(p, files, s, tensor);

  // Scales and zeros of the item's rows, as [row][group] floats.
  const size_t ss = dtype_size(p.scales_dtype);
  s.sraw.resize(G * rows * ss);
  read_columns(*files.get(p.scales_file), p.scales_offset, p.out * ss, G, o0 * ss, rows * ss, s.sraw.data(), s.span);
  // Words are little-endian in the file and read straight into uint32 (little-endian hosts).
  s.zwords.resize(G * words);
  read_columns(*files.get(p.zeros_file), p.zeros_offset, p.zero_words() * 4, G, c0 * 4, words * 4,
               reinterpret_cast<unsigned char*>(s.zwords.data()), s.span);
  s.scale.resize(rows * G);
  s.zero.resize(rows * G);
  for (uint64_t g = 0; g < G; ++g)
    for (uint64_t j = 0; j < rows; ++j) {
      const uint64_t o = o0 + j;
      s.scale[j * G + g] = load_as_float(p.scales_dtype, s.sraw.data() + (g * rows + j) * ss);
      const uint32_t w = s.zwords[g * words + (o / pack - c0)];
      s.zero[j * G + g] = static_cast<float>(((w >> out_shift(p, o)) & mask) + p.zero_offset);
    }

  // The item's qweight words: GPTQ [in/pack][rows], AWQ [in][words].
  const uint64_t wcols = p.awq ? words : rows, wfirst = p.awq ? c0 : o0;
  s.words.resize(p.weight_rows() * wcols);
  read_columns(*files.get(m.file), m.offset, p.weight_words() * 4, p.weight_rows(), wfirst * 4, wcols * 4,
               reinterpret_cast<unsigned char*>(s.words.data()), s.span);

  s.row.resize(p.in);
  uint64_t done = 0;
  for (uint64_t o = o0; o <= o1; ++o) {
    const uint64_t j = o - o0;
    const uint64_t from = o == o0 ? start - o0 * p.in : 0;
    const uint64_t n = std::min<uint64_t>(p.in - from, len - done);
    const float* __restrict sr = s.scale.data() + j * G;
    const float* __restrict zr = s.zero.data() + j * G;
    float* __restrict row = s.row.data();
    if (p.awq) {
      const uint32_t* __restrict col = s.words.data() + (o / pack - c0);
      const uint32_t shift = out_shift(p, o);
      for (uint64_t i = from; i < from + n; ++i) {
        const uint32_t q = (col[i * words] >> shift) & mask;
        const int32_t g = gidx[i];
        row[i - from] = sr[g] * (static_cast<float>(q) - zr[g]);
      }
    } else {
      const uint32_t* __restrict col = s.words.data() + j;
      auto general = [&](uint64_t a, uint64_t b) {
        for (uint64_t i = a; i < b; ++i) {
          const uint32_t q = (col[(i >> log_pack) * rows] >> (bits * (i & (pack - 1)))) & mask;
          const int32_t g = gidx[i];
          row[i - from] = sr[g] * (static_cast<float>(q) - zr[g]);
        }
      };
      // Whole words of one group go through the unrolled loop; the partial words at either
      // end of the range (and act-order tensors) through the general one.
      const uint64_t a = std::min(from + n, (from + pack - 1) / pack * pack), b = std::max(a, (from + n) / pack * pack);
      if (s.gidx_sequential && p.group_size % pack == 0 && b > a) {
        general(from, a);
        if (bits == 4) gptq_words<4>(col, rows, gidx, sr, zr, a, b, row + (a - from));
        else gptq_words<8>(col, rows, gidx, sr, zr, a, b, row + (a - from));
        general(b, from + n);
      } else {
        general(from, from + n);
      }
    }
    std::memcpy(dst + done * sizeof(float), row, n * sizeof(float));
    done += n;
  }
}

}  // namespace np
