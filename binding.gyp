# CPU-only fallback build with node-gyp, for machines without cmake. Lists the same CPU
# sources as cmake/sources.cmake (test/unit/build-files.test.ts checks).
{
  "targets": [
    {
      "target_name": "np_kernels_avx2",
      "type": "static_library",
      "sources": [ "native/core/edge_encoder_kernels_avx2.cc", "native/core/scan_kernels_avx2.cc" ],
      "include_dirs": [ "native" ],
      "cflags_cc!": [ "-fno-exceptions" ],
      "cflags_cc": [ "-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-fPIC", "-mavx2", "-mfma", "-mf16c" ],
      "defines": [ "NP_X86_KERNELS=1" ],
      "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES", "OTHER_CPLUSPLUSFLAGS": [ "-std=c++17", "-O3", "-ffp-contract=off", "-mavx2", "-mfma", "-mf16c" ] }
    },
    {
      "target_name": "np_kernels_avx512",
      "type": "static_library",
      "sources": [ "native/core/edge_encoder_kernels_avx512.cc", "native/core/scan_kernels_avx512.cc" ],
      "include_dirs": [ "native" ],
      "cflags_cc!": [ "-fno-exceptions" ],
      "cflags_cc": [ "-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-fPIC", "-Wno-maybe-uninitialized", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma", "-mf16c" ],
      "defines": [ "NP_X86_KERNELS=1" ],
      "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES", "OTHER_CPLUSPLUSFLAGS": [ "-std=c++17", "-O3", "-ffp-contract=off", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma", "-mf16c" ] }
    },
    {
      "target_name": "neural_phylogeny",
      "dependencies": [ "np_kernels_avx2", "np_kernels_avx512" ],
      "sources": [
        "native/addon.cc",
        "native/core/cpu_features.cc",
        "native/core/cuda_absent.cc",
        "native/core/edge_encoder_cpu.cc",
        "native/core/edge_plan.cc",
        "native/core/edge_encoder_kernels_scalar.cc",
        "native/core/file_cache.cc",
        "native/core/fingerprint.cc",
        "native/core/file_reader.cc",
        "native/core/gguf.cc",
        "native/core/gguf_quant.cc",
        "native/core/json.cc",
        "native/core/low_rank.cc",
        "native/core/safetensors.cc",
        "native/core/scan_cpu.cc",
        "native/core/scan_gguf.cc",
        "native/core/scan_lora.cc",
        "native/core/scan_packed.cc",
        "native/core/scan_kernels.cc",
        "native/core/scan_kernels_scalar.cc",
        "native/core/scan_plan.cc",
        "native/core/thread_pool.cc",
        "native/napi/convert.cc",
        "native/napi/device_napi.cc",
        "native/napi/plan_convert.cc",
        "native/napi/promise_job.cc",
        "native/napi/edge_napi.cc",
        "native/napi/fingerprint_napi.cc",
        "native/napi/low_rank_napi.cc",
        "native/napi/gguf_napi.cc",
        "native/napi/packed_napi.cc",
        "native/napi/safetensors_napi.cc",
        "native/napi/scan_napi.cc"
      ],
      "include_dirs": [ "<!(node -p \"require('node-addon-api').include_dir\")", "native" ],
      "defines": [ "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NP_X86_KERNELS=1" ],
      "cflags!": [ "-fno-exceptions" ],
      "cflags_cc!": [ "-fno-exceptions" ],
      "cflags_cc": [ "-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno" ],
      "libraries": [ "-lpthread" ],
      "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17", "OTHER_CPLUSPLUSFLAGS": [ "-O3", "-ffp-contract=off" ] }
    }
  ]
}
