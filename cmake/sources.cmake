# Source lists for CMakeLists.txt. binding.gyp lists the same CPU sources
# (test/unit/build-files.test.ts holds the two lists equal).
set(NP_CORE_SOURCES
  native/core/cpu_features.cc
  native/core/file_reader.cc
  native/core/scan_cpu.cc
  native/core/scan_kernels.cc
  native/core/scan_kernels_scalar.cc
)
set(NP_AVX2_SOURCES
  native/core/scan_kernels_avx2.cc
)
set(NP_AVX512_SOURCES
  native/core/scan_kernels_avx512.cc
)
set(NP_NAPI_SOURCES
  native/addon.cc
  native/napi/convert.cc
  native/napi/device_napi.cc
  native/napi/safetensors_napi.cc
  native/napi/scan_napi.cc
)
set(NP_NO_CUDA_SOURCES
  native/core/cuda_absent.cc
)
set(NP_CUDA_SOURCES
  native/cuda/device_probe.cu
)
