"""A plain PyTorch scan, the baseline bench/cuda-scan.ts compares the CUDA scan with.

BF16 weights of M models already on the GPU (random, P parameters each); per chunk of columns
the float64 Gram matrix, the four moments and a fake-init distance against a fresh normal
draw: what a user would write with PyTorch to get the same numbers. Also the Gram alone as a
BF16 matmul (float32 accumulation, not accurate enough for the scan; for scale only).
Prints one JSON line per model count: {"models", "full_gbs", "gram_gbs", "device", "torch", ...}
in GB/s of model bytes. Run only where torch and a CUDA device exist; otherwise prints
{"error": ...}. One process for all model counts: importing torch takes seconds.

  python3 bench/torch_scan_baseline.py --models 8,32,64 --bytes 4294967296 --reps 3
"""
import argparse
import json
import sys
import time


def measure(torch, dev, M, P, C, reps):
    x = (torch.randn(M, P, device=dev, dtype=torch.float32) * 0.02).to(torch.bfloat16)
    gen = torch.Generator(device=dev)

    def full_scan():
        gen.manual_seed(0)
        G = torch.zeros(M, M, dtype=torch.float64, device=dev)
        s = torch.zeros(5, M, dtype=torch.float64, device=dev)
        for c in range(0, P, C):
            xd = x[:, c : c + C].double()
            G += xd @ xd.T
            x2 = xd * xd
            s[0] += xd.sum(1)
            s[1] += x2.sum(1)
            s[2] += (x2 * xd).sum(1)
            s[3] += (x2 * x2).sum(1)
            r = torch.randn(xd.shape[1], generator=gen, device=dev, dtype=torch.float32).double() * 0.02
            d = xd - r
            s[4] += (d * d).sum(1)
        return G, s

    def gram_only():
        G = torch.zeros(M, M, dtype=torch.float32, device=dev)
        for c in range(0, P, C):
            xc = x[:, c : c + C]
            G += (xc @ xc.T).float()
        return G

    def best(fn):
        fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        return min(times)

    nbytes = M * P * 2
    t_full = best(full_scan)
    t_gram = best(gram_only)
    del x
    torch.cuda.empty_cache()
    return {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "models": M,
        "params": P,
        "bytes": nbytes,
        "full_gbs": nbytes / t_full / 1e9,
        "gram_gbs": nbytes / t_gram / 1e9,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="8", help="comma-separated model counts")
    ap.add_argument("--bytes", type=int, default=1 << 30, help="BF16 model bytes per model count (all models)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=1 << 22)
    args = ap.parse_args()
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure means no baseline
        print(json.dumps({"error": f"cannot import torch: {e}"}))
        return 0
    if not torch.cuda.is_available():
        print(json.dumps({"error": "torch sees no CUDA device"}))
        return 0
    dev = torch.device("cuda")
    for M in [int(m) for m in args.models.split(",")]:
        P = args.bytes // 2 // M
        print(json.dumps(measure(torch, dev, M, P, args.chunk, args.reps)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
