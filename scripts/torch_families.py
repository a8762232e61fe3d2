#!/usr/bin/python3
"""Families of small models trained by PyTorch, for `npm run eval:torch`.

Training code, initialisation, optimizers and architecture sizes independent of lib/zoo (which
trains with tfjs): a check of the detection defaults on models made by other code. Each family
is a root trained from PyTorch's own initialisation on Fashion-MNIST, three children fine-tuned
from it on derived tasks (labels permuted, images rotated 90 degrees, images inverted) and a
grandchild fine-tuned from the first child (images rotated 180 degrees): 4 true edges.

Regimes (the optimizer of the root and of its fine-tunes):
  adam          Adam lr 1e-3, no weight decay
  sgd-wd        SGD lr 0.05, momentum 0.9, weight decay 5e-4
  adamw-cosine  AdamW lr 1e-3, weight decay 0.05, cosine schedule
  tiny          root as adam; fine-tunes Adam lr 1e-5 for 20 steps
Architectures (--archs, default mlp,cnn-bn): mlp (784-128-64-10, ReLU); cnn-bn (two 3x3 conv
layers of 8 and 16 channels with BatchNorm, then a linear layer: its state dict holds
running_mean, running_var and the int64 num_batches_tracked, as every PyTorch BatchNorm
checkpoint does); vit (a Vision Transformer named and initialised as Hugging Face
transformers' ViTForImageClassification: 7x7 patches, hidden 48, 2 pre-LayerNorm layers of 3
heads, MLP 96, exact GELU, classifier on the CLS token; trunc-normal(0.02) weights).
Two more architectures exist only to check the defaults on kinds no design step saw (pass them
with --archs): gru (two stacked nn.GRU layers of 64 units reading the image row by row, then a
linear layer: PyTorch's uniform(+-1/sqrt(64)) init and its gate-stacked weight_ih_l0 /
weight_hh_l0 names) and resnet (torchvision's BasicBlock ResNet at toy size: a stride-2 stem
of 16 channels, one block of 16 and one of 32 with a 1x1 downsample, bias-free convolutions
with BatchNorm, global average pooling; kaiming_normal(fan_out) as torchvision initialises).
One more regime, rmsprop (RMSprop lr 1e-3 for the root and its fine-tunes), is opt-in through
--regimes for the same reason.

Writes OUT/<id>.safetensors (state-dict names, F32 and I64), OUT/lineage.json
({"edges": [{"parent", "child"}]}) and OUT/groups.json (id -> "arch/regime"); OUT/done last.

  /usr/bin/python3 scripts/torch_families.py --out DIR [--seed 0] [--families 2]
      [--samples 10000] [--data /usr/share/datasets/fashion-mnist] [--archs mlp,cnn-bn,vit]
      [--regimes adam,sgd-wd,adamw-cosine,tiny]

Exit status 3 when the data set or torch is missing (the message says which).
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys


def fail(msg, code=3):
    sys.stderr.write(msg + "\n")
    sys.exit(code)


try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:  # pragma: no cover - depends on the machine
    fail(f"torch_families.py needs numpy and torch ({e}); on Debian: apt-get install python3-torch")


def read_idx(path, magic, dims):
    """A gzipped IDX file, validated before its payload is used."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 + 4 * dims:
        fail(f"{path}: truncated IDX header")
    got_magic = struct.unpack(">I", data[:4])[0]
    if got_magic != magic:
        fail(f"{path}: IDX magic {got_magic:#x}, expected {magic:#x}")
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    n = 1
    for s in shape:
        n *= s
    if len(data) != 4 + 4 * dims + n:
        fail(f"{path}: {len(data)} bytes, the header declares {4 + 4 * dims + n}")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_data(root, samples, seed):
    images = os.path.join(root, "train-images-idx3-ubyte.gz")
    labels = os.path.join(root, "train-labels-idx1-ubyte.gz")
    if not (os.path.exists(images) and os.path.exists(labels)):
        fail(f"Fashion-MNIST not found in {root} (Debian: apt-get install dataset-fashion-mnist)")
    x = read_idx(images, 0x803, 3)
    y = read_idx(labels, 0x801, 1)
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(y))[:samples]
    xs = torch.tensor(x[pick], dtype=torch.float32).unsqueeze(1) / 255.0
    ys = torch.tensor(y[pick], dtype=torch.int64)
    return xs, ys


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.flatten(1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class CnnBn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = torch.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(x.flatten(1))


class VitLayer(nn.Module):
    """One pre-LayerNorm encoder layer; attribute names give HF ViT's state-dict names."""

    def __init__(self, d, heads, mlp):
        super().__init__()
        self.heads = heads
        self.layernorm_before = nn.LayerNorm(d, eps=1e-12)
        self.attention = nn.Module()
        self.attention.attention = nn.Module()
        self.attention.attention.query = nn.Linear(d, d)
        self.attention.attention.key = nn.Linear(d, d)
        self.attention.attention.value = nn.Linear(d, d)
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(d, d)
        self.layernorm_after = nn.LayerNorm(d, eps=1e-12)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(d, mlp)
        self.output = nn.Module()
        self.output.dense = nn.Linear(mlp, d)

    def forward(self, x):
        b, t, d = x.shape
        h = self.layernorm_before(x)
        a = self.attention.attention
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(a.query(h)), split(a.key(h)), split(a.value(h))
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), dim=-1)
        x = x + self.attention.output.dense((w @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.output.dense(nn.functional.gelu(self.intermediate.dense(self.layernorm_after(x))))


class Vit(nn.Module):
    """ViTForImageClassification's layout at toy size: vit.embeddings.{cls_token,
    position_embeddings, patch_embeddings.projection}, vit.encoder.layer.N.*, vit.layernorm,
    classifier; initialised as transformers initialises ViTs (another init law than the other
    architectures here, which keep PyTorch's defaults)."""

    def __init__(self, d=48, layers=2, heads=3, mlp=96, patch=7, classes=10):
        super().__init__()
        tokens = (28 // patch) ** 2 + 1
        self.vit = nn.Module()
        self.vit.embeddings = nn.Module()
        self.vit.embeddings.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.vit.embeddings.position_embeddings = nn.Parameter(torch.zeros(1, tokens, d))
        self.vit.embeddings.patch_embeddings = nn.Module()
        self.vit.embeddings.patch_embeddings.projection = nn.Conv2d(1, d, patch, stride=patch)
        self.vit.encoder = nn.Module()
        self.vit.encoder.layer = nn.ModuleList([VitLayer(d, heads, mlp) for _ in range(layers)])
        self.vit.layernorm = nn.LayerNorm(d, eps=1e-12)
        self.classifier = nn.Linear(d, classes)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        nn.init.trunc_normal_(self.vit.embeddings.cls_token, std=0.02)
        nn.init.trunc_normal_(self.vit.embeddings.position_embeddings, std=0.02)

    def forward(self, x):
        e = self.vit.embeddings
        p = e.patch_embeddings.projection(x).flatten(2).transpose(1, 2)
        h = torch.cat([e.cls_token.expand(len(x), -1, -1), p], dim=1) + e.position_embeddings
        for layer in self.vit.encoder.layer:
            h = layer(h)
        return self.classifier(self.vit.layernorm(h)[:, 0])


class Gru(nn.Module):
    """Two stacked GRU layers over the 28 image rows; the last hidden state of the top layer
    classifies. State dict: rnn.{weight,bias}_{ih,hh}_l{0,1} (the three gates stacked), fc.*."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(28, 64, num_layers=2, batch_first=True)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        _, h = self.rnn(x.squeeze(1))
        return self.fc(h[-1])


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: two 3x3 bias-free convolutions with BatchNorm, a residual."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    """torchvision's ResNet layout at toy size (conv1, bn1, layer1.0.*, layer2.0.*, fc)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = nn.Sequential(BasicBlock(16, 16, 1))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, 2))
        self.fc = nn.Linear(32, 10)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(x.mean((2, 3)))


# New entries go at the end: an entry's index seeds its families.
ARCHS = {"mlp": Mlp, "cnn-bn": CnnBn, "vit": Vit, "gru": Gru, "resnet": ResNet}
REGIMES = ["adam", "sgd-wd", "adamw-cosine", "tiny", "rmsprop"]
DEFAULT_REGIMES = REGIMES[:4]


def optimizer(regime, params, fine_tune):
    if regime == "sgd-wd":
        return torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=5e-4)
    if regime == "adamw-cosine":
        return torch.optim.AdamW(params, lr=1e-3, weight_decay=0.05)
    if regime == "tiny" and fine_tune:
        return torch.optim.Adam(params, lr=1e-5)
    if regime == "rmsprop":
        return torch.optim.RMSprop(params, lr=1e-3)
    return torch.optim.Adam(params, lr=1e-3)


def task(name, xs, ys, perm):
    if name == "base":
        return xs, ys
    if name == "permuted":
        return xs, perm[ys]
    if name == "rot90":
        return torch.rot90(xs, 1, (2, 3)), ys
    if name == "inverted":
        return 1.0 - xs, ys
    if name == "rot180":
        return torch.rot90(xs, 2, (2, 3)), ys
    raise ValueError(name)


def train(model, regime, xs, ys, epochs, fine_tune, gen):
    model.train()
    opt = optimizer(regime, model.parameters(), fine_tune)
    steps_per_epoch = math.ceil(len(ys) / 64)
    total = 20 if (regime == "tiny" and fine_tune) else epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total) if regime == "adamw-cosine" else None
    step = 0
    while step < total:
        order = torch.randperm(len(ys), generator=gen)
        for i in range(0, len(ys), 64):
            if step >= total:
                break
            idx = order[i:i + 64]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
            if sched:
                sched.step()
            step += 1
    return model


def accuracy(model, xs, ys):
    """Accuracy on (the first 2000 of) the samples a model was trained on: a check that every
    model of a family really learnt its task, printed with the family."""
    model.eval()
    with torch.no_grad():
        acc = (model(xs[:2000]).argmax(1) == ys[:2000]).float().mean().item()
    model.train()
    return acc


def write_safetensors(path, state):
    """state: name -> tensor. F32 for floating tensors, I64 for integer ones."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(state):
        t = state[name].detach().cpu()
        if t.dtype.is_floating_point:
            arr, dtype = t.to(torch.float32).numpy().astype("<f4"), "F32"
        else:
            arr, dtype = t.to(torch.int64).numpy().astype("<i8"), "I64"
        b = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--families", type=int, default=2)
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--archs", default="mlp,cnn-bn")
    ap.add_argument("--regimes", default=",".join(DEFAULT_REGIMES))
    a = ap.parse_args()
    archs = a.archs.split(",")
    for arch in archs:
        if arch not in ARCHS:
            fail(f"--archs: unknown architecture {arch!r} (known: {', '.join(ARCHS)})", 2)
    regimes = a.regimes.split(",")
    for regime in regimes:
        if regime not in REGIMES:
            fail(f"--regimes: unknown regime {regime!r} (known: {', '.join(REGIMES)})", 2)
    if a.samples < 64 or a.families < 1:
        fail("--samples must be at least 64 and --families at least 1", 2)
    os.makedirs(a.out, exist_ok=True)
    xs, ys = load_data(a.data, a.samples, a.seed)
    edges, groups = [], {}
    for arch in archs:
        # The ViT's many small ops lose to threading overhead: 63 ms per step on one thread,
        # 830 ms on two of this shared 2-core machine. The other architectures keep every core,
        # as their families were built.
        torch.set_num_threads(1 if arch == "vit" else max(1, os.cpu_count() or 1))
        for regime in regimes:
            for fam in range(a.families):
                s = 1000 * a.seed + 100 * REGIMES.index(regime) + 10 * list(ARCHS).index(arch) + fam
                torch.manual_seed(s)
                gen = torch.Generator().manual_seed(s)
                perm = torch.randperm(10, generator=gen)
                tag = f"pt-{arch}-{regime}-s{a.seed}f{fam}"
                root = train(ARCHS[arch](), regime, *task("base", xs, ys, perm), 2, False, gen)
                models = {"root": root}
                accs = {"root": accuracy(root, *task("base", xs, ys, perm))}
                for role, parent, name in [("c1", "root", "permuted"), ("c2", "root", "rot90"), ("c3", "root", "inverted"), ("g1", "c1", "rot180")]:
                    child = ARCHS[arch]()
                    child.load_state_dict(models[parent].state_dict())
                    models[role] = train(child, regime, *task(name, xs, ys, perm), 1, True, gen)
                    accs[role] = accuracy(models[role], *task(name, xs, ys, perm))
                    edges.append({"parent": f"{tag}-{parent}", "child": f"{tag}-{role}"})
                for role, m in models.items():
                    write_safetensors(os.path.join(a.out, f"{tag}-{role}.safetensors"), m.state_dict())
                    groups[f"{tag}-{role}"] = f"{arch}/{regime}"
                sys.stderr.write(f"{tag}: 5 models, training accuracy {' '.join(f'{r} {v:.2f}' for r, v in accs.items())}\n")
    with open(os.path.join(a.out, "lineage.json"), "w") as f:
        json.dump({"edges": edges}, f, indent=1)
    with open(os.path.join(a.out, "groups.json"), "w") as f:
        json.dump(groups, f, indent=1)
    with open(os.path.join(a.out, "done"), "w") as f:
        f.write("ok\n")


if __name__ == "__main__":
    main()
