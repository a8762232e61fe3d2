#include "napi/plan_convert.h"

#include <algorithm>
#include <cmath>

#include "napi/convert.h"

namespace np_napi {

np::FakeInitParams fake_from_js(const Napi::Object& fake, const std::string& tensor) {
  Napi::Env env = fake.Env();
  np::FakeInitParams p;
  int kind = static_cast<int>(get_number(fake, "kind"));
  if (kind < 0 || kind > 2) throw make_error(env, np::ErrorCode::InvalidArgument, "fake-init kind must be 0, 1 or 2", {}, tensor);
  p.kind = static_cast<np::FakeInitKind>(kind);
  p.a = get_number(fake, "a");
  p.b = get_number(fake, "b");
  p.key0 = static_cast<uint32_t>(get_u64(fake, "key0"));
  p.key1 = static_cast<uint32_t>(get_u64(fake, "key1"));
  return p;
}

namespace {

// A GGUF member's layout: {rowElems, rows, permHeads} with its ggml type in `dtype`. The
// shape checks against the group run in validate_scan_plan.
np::GgufRows gguf_rows_from_js(const Napi::Object& o, const std::string& type, const std::string& tensor) {
  Napi::Env env = o.Env();
  np::GgufRows g;
  g.type = np::ggml_type_by_name(type);
  if (!g.type) throw make_error(env, np::ErrorCode::Dtype, "cannot scan unknown ggml type " + type, {}, tensor);
  if (!g.type->dequantizable)
    throw make_error(env, np::ErrorCode::Dtype, std::string("cannot scan ggml type ") + type + " (no dequantizer for it)", {}, tensor);
  g.row_elems = get_u64(o, "rowElems");
  g.rows = get_u64(o, "rows");
  const uint64_t heads = get_u64(o, "permHeads");
  if (heads > UINT32_MAX) throw make_error(env, np::ErrorCode::InvalidArgument, "gguf.permHeads is too large", {}, tensor);
  g.perm_heads = static_cast<uint32_t>(heads);
  return g;
}

// A LoRA member: {base, rank, cols, scale, a: {file, offset, dtype}, b: {...}}; checked
// against its group in validate_scan_plan.
np::LoraRows lora_rows_from_js(const Napi::Object& o, const std::string& tensor) {
  Napi::Env env = o.Env();
  np::LoraRows l;
  const uint64_t base = get_u64(o, "base"), rank = get_u64(o, "rank");
  if (base > UINT32_MAX || rank < 1 || rank > (1u << 16))
    throw make_error(env, np::ErrorCode::InvalidArgument, "lora.base or lora.rank out of range", {}, tensor);
  l.base = static_cast<uint32_t>(base);
  l.rank = static_cast<uint32_t>(rank);
  l.cols = get_u64(o, "cols");
  l.scale = get_number(o, "scale");
  if (!std::isfinite(l.scale)) throw make_error(env, np::ErrorCode::InvalidArgument, "lora.scale must be finite", {}, tensor);
  auto source = [&](const char* key, uint32_t* file, uint64_t* offset, np::DType* dtype) {
    Napi::Object src = get_object(o, key);
    const uint64_t f = get_u64(src, "file");
    if (f > UINT32_MAX) throw make_error(env, np::ErrorCode::InvalidArgument, std::string("lora.") + key + ".file out of range", {}, tensor);
    *file = static_cast<uint32_t>(f);
    *offset = get_u64(src, "offset");
    const std::string d = get_string(src, "dtype");
    if (!np::parse_scan_dtype(d, dtype))
      throw make_error(env, np::ErrorCode::Dtype, std::string("cannot scan LoRA ") + key + " of dtype " + d, {}, tensor);
  };
  source("a", &l.a_file, &l.a_offset, &l.a_dtype);
  source("b", &l.b_file, &l.b_offset, &l.b_dtype);
  return l;
}

}  // namespace

// A GPTQ/AWQ member: {bits, awq, zeroOffset, in, out, groups, groupSize, zeros: {file,
// offset}, scales: {file, offset, dtype}, gIdx?: {file, offset}}; the member's own file and
// offset are its qweight's. Checked against its group in validate_scan_plan.
np::PackedRows packed_from_js(const Napi::Object& o, const std::string& tensor) {
  Napi::Env env = o.Env();
  np::PackedRows p;
  auto u32 = [&](uint64_t v, const char* key) {
    if (v > UINT32_MAX) throw make_error(env, np::ErrorCode::InvalidArgument, std::string("packed.") + key + " out of range", {}, tensor);
    return static_cast<uint32_t>(v);
  };
  p.bits = u32(get_u64(o, "bits"), "bits");
  if (p.bits != 4 && p.bits != 8)
    throw make_error(env, np::ErrorCode::Dtype, "cannot scan " + std::to_string(p.bits) + "-bit packed weights (4 or 8 bits)", {}, tensor);
  Napi::Value awq = o.Get("awq");
  p.awq = awq.IsBoolean() && awq.As<Napi::Boolean>().Value();
  p.zero_offset = u32(get_u64(o, "zeroOffset"), "zeroOffset");
  if (p.zero_offset > 1) throw make_error(env, np::ErrorCode::InvalidArgument, "packed.zeroOffset must be 0 or 1", {}, tensor);
  p.in = get_u64(o, "in");
  p.out = get_u64(o, "out");
  p.groups = get_u64(o, "groups");
  p.group_size = get_u64(o, "groupSize");
  Napi::Object zeros = get_object(o, "zeros");
  p.zeros_file = u32(get_u64(zeros, "file"), "zeros.file");
  p.zeros_offset = get_u64(zeros, "offset");
  Napi::Object scales = get_object(o, "scales");
  p.scales_file = u32(get_u64(scales, "file"), "scales.file");
  p.scales_offset = get_u64(scales, "offset");
  const std::string sd = get_string(scales, "dtype");
  if (!np::parse_scan_dtype(sd, &p.scales_dtype) || p.scales_dtype == np::DType::F64)
    throw make_error(env, np::ErrorCode::Dtype, "cannot read packed-weight scales of dtype " + sd, {}, tensor);
  Napi::Value gidx = o.Get("gIdx");
  if (gidx.IsObject()) {
    p.has_gidx = true;
    p.gidx_file = u32(get_u64(gidx.As<Napi::Object>(), "file"), "gIdx.file");
    p.gidx_offset = get_u64(gidx.As<Napi::Object>(), "offset");
  }
  return p;
}

np::Isa isa_from_js(const Napi::Value& v) {
  np::Isa isa = np::best_isa();
  if (v.IsString() && v.As<Napi::String>().Utf8Value() != "auto") {
    std::string name = v.As<Napi::String>().Utf8Value();
    if (!np::parse_isa(name, &isa) || !np::isa_supported(isa))
      throw make_error(v.Env(), np::ErrorCode::InvalidArgument, "isa '" + name + "' is unknown or not supported here");
  }
  return isa;
}

np::ScanPlan plan_from_js(const Napi::Object& js) {
  Napi::Env env = js.Env();
  np::ScanPlan plan;
  Napi::Array files = get_array(js, "files");
  for (uint32_t i = 0; i < files.Length(); ++i) {
    Napi::Value f = files.Get(i);
    if (!f.IsString()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.files must hold strings");
    plan.files.push_back(f.As<Napi::String>().Utf8Value());
  }
  Napi::Array groups = get_array(js, "groups");
  plan.groups.reserve(groups.Length());
  for (uint32_t gi = 0; gi < groups.Length(); ++gi) {
    Napi::Value gv = groups.Get(gi);
    if (!gv.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.groups must hold objects");
    Napi::Object g = gv.As<Napi::Object>();
    np::ScanGroup group;
    group.name = get_string(g, "name");
    group.count = get_u64(g, "count");
    group.fake = fake_from_js(get_object(g, "fake"), group.name);
    Napi::Array members = get_array(g, "members");
    for (uint32_t mi = 0; mi < members.Length(); ++mi) {
      Napi::Value mv = members.Get(mi);
      if (!mv.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "group.members must hold objects");
      Napi::Object m = mv.As<Napi::Object>();
      np::ScanMember member;
      member.file = static_cast<uint32_t>(get_u64(m, "file"));
      member.offset = get_u64(m, "offset");
      std::string dtype = get_string(m, "dtype");
      Napi::Value gguf = m.Get("gguf");
      Napi::Value lora = m.Get("lora");
      Napi::Value packed = m.Get("packed");
      if (packed.IsObject()) {
        member.packed = packed_from_js(packed.As<Napi::Object>(), group.name);
        member.dtype = np::DType::F32;  // the kernels see the unpacked floats
      } else if (lora.IsObject()) {
        member.lora = lora_rows_from_js(lora.As<Napi::Object>(), group.name);
        member.dtype = np::DType::F32;  // the kernels see the formed floats
      } else if (gguf.IsObject()) {
        member.gguf = gguf_rows_from_js(gguf.As<Napi::Object>(), dtype, group.name);
        member.dtype = np::DType::F32;  // the kernels see the dequantized floats
      } else if (!np::parse_scan_dtype(dtype, &member.dtype)) {
        throw make_error(env, np::ErrorCode::Dtype, "cannot scan dtype " + dtype, {}, group.name);
      }
      group.members.push_back(member);
    }
    plan.groups.push_back(std::move(group));
  }
  plan.threads = static_cast<int>(get_number_or(js, "threads", 0));
  double chunk = get_number_or(js, "chunkBytes", 2.0 * 1024 * 1024);
  if (!(chunk >= 4096)) throw make_error(env, np::ErrorCode::InvalidArgument, "chunkBytes must be at least 4096");
  plan.chunk_bytes = static_cast<size_t>(chunk);
  plan.isa = isa_from_js(js.Get("isa"));
  Napi::Value mode = js.Get("mode");
  if (mode.IsString() && mode.As<Napi::String>().Utf8Value() == "readsum") plan.mode = np::ScanMode::ReadSum;
  return plan;
}

namespace {

std::vector<float> floats(const Napi::Object& o, const char* key, size_t expected) {
  Napi::Value v = o.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw make_error(o.Env(), np::ErrorCode::InvalidArgument, std::string("weights.") + key + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (a.ElementLength() != expected)
    throw make_error(o.Env(), np::ErrorCode::InvalidArgument,
                     std::string("weights.") + key + " has " + std::to_string(a.ElementLength()) + " values, expected " +
                         std::to_string(expected));
  return std::vector<float>(a.Data(), a.Data() + a.ElementLength());
}

}  // namespace

np::EdgePlan edge_plan_from_js(const Napi::Object& js, bool* use_cuda) {
  Napi::Env env = js.Env();
  np::EdgePlan plan;
  Napi::Array files = get_array(js, "files");
  for (uint32_t i = 0; i < files.Length(); ++i) {
    Napi::Value f = files.Get(i);
    if (!f.IsString()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.files must hold strings");
    plan.files.push_back(f.As<Napi::String>().Utf8Value());
  }
  Napi::Array tensors = get_array(js, "tensors");
  for (uint32_t ti = 0; ti < tensors.Length(); ++ti) {
    Napi::Value tv = tensors.Get(ti);
    if (!tv.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.tensors must hold objects");
    Napi::Object t = tv.As<Napi::Object>();
    np::EdgeTensor tensor;
    tensor.name = get_string(t, "name");
    tensor.rows = get_u64(t, "rows");
    tensor.cols = get_u64(t, "cols");
    Napi::Array sources = get_array(t, "sources");
    for (uint32_t si = 0; si < sources.Length(); ++si) {
      Napi::Value sv = sources.Get(si);
      if (!sv.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "tensor.sources must hold objects", {}, tensor.name);
      Napi::Object s = sv.As<Napi::Object>();
      np::EdgeSource src;
      src.file = static_cast<uint32_t>(get_u64(s, "file"));
      src.offset = get_u64(s, "offset");
      std::string dtype = get_string(s, "dtype");
      if (!np::parse_scan_dtype(dtype, &src.dtype))
        throw make_error(env, np::ErrorCode::Dtype, "the edge encoder cannot read dtype " + dtype, {}, tensor.name);
      tensor.sources.push_back(src);
    }
    plan.tensors.push_back(std::move(tensor));
  }
  Napi::Array pairs = get_array(js, "pairs");
  for (uint32_t pi = 0; pi < pairs.Length(); ++pi) {
    Napi::Value pv = pairs.Get(pi);
    if (!pv.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.pairs must hold objects");
    Napi::Object p = pv.As<Napi::Object>();
    np::EdgePair pair;
    pair.tensor = static_cast<uint32_t>(get_u64(p, "tensor"));
    pair.a = static_cast<uint32_t>(get_u64(p, "a"));
    pair.b = static_cast<uint32_t>(get_u64(p, "b"));
    pair.scale = static_cast<float>(get_number(p, "scale"));
    plan.pairs.push_back(pair);
  }
  Napi::Object w = get_object(js, "weights");
  double channels = get_number(w, "channels");
  if (!(channels >= 1 && channels <= 256) || channels != static_cast<int>(channels))
    throw make_error(env, np::ErrorCode::InvalidArgument, "weights.channels must be an integer in 1..256");
  const size_t c = static_cast<size_t>(channels);
  plan.weights.channels = static_cast<int>(c);
  plan.weights.w1 = floats(w, "w1", c * 2);
  plan.weights.b1 = floats(w, "b1", c);
  plan.weights.w2 = floats(w, "w2", 9 * c * np::kEdgeLatent);
  plan.weights.b2 = floats(w, "b2", np::kEdgeLatent);
  plan.threads = static_cast<int>(get_number_or(js, "threads", 0));
  double chunk = get_number_or(js, "chunkElems", static_cast<double>(1u << 18));
  if (!(chunk >= 1)) throw make_error(env, np::ErrorCode::InvalidArgument, "chunkElems must be at least 1");
  plan.chunk_elems = static_cast<uint64_t>(chunk);
  double cuda_chunk = get_number_or(js, "cudaChunkElems", static_cast<double>(plan.cuda_chunk_elems));
  if (!(cuda_chunk >= 1)) throw make_error(env, np::ErrorCode::InvalidArgument, "cudaChunkElems must be at least 1");
  plan.cuda_chunk_elems = static_cast<uint64_t>(cuda_chunk);
  plan.isa = isa_from_js(js.Get("isa"));
  const double cuda_device = get_number_or(js, "cudaDevice", 0);
  if (!(cuda_device >= 0) || cuda_device != static_cast<double>(static_cast<int>(cuda_device)))
    throw make_error(env, np::ErrorCode::InvalidArgument, "cudaDevice must be a non-negative integer");
  plan.cuda_device = static_cast<int>(cuda_device);
  *use_cuda = false;
  Napi::Value device = js.Get("device");
  if (device.IsString()) {
    std::string d = device.As<Napi::String>().Utf8Value();
    if (d == "cuda") *use_cuda = true;
    else if (d != "cpu") throw make_error(env, np::ErrorCode::InvalidArgument, "device must be 'cpu' or 'cuda' (got '" + d + "')");
  }
  return plan;
}

void set_scan_values(Napi::Env env, Napi::Object result, const np::ScanOutput& out) {
  Napi::Float64Array values = Napi::Float64Array::New(env, out.values.size());
  std::copy(out.values.begin(), out.values.end(), values.Data());
  Napi::Float64Array offsets = Napi::Float64Array::New(env, out.offsets.size());
  for (size_t i = 0; i < out.offsets.size(); ++i) offsets[i] = static_cast<double>(out.offsets[i]);
  result.Set("values", values);
  result.Set("offsets", offsets);
}

}  // namespace np_napi
