#!/usr/bin/env python3
"""The torch side of tandem's learning benchmark (docs/benchmarks.md).

Runs the networks of `tandem bench --learn` in torch, float32, on the CPU:
  bc:      MLP 20→256→256→2, ReLU, batch 256, Adam, MSE (samples/s);
  act:     the same network on one observation, no grad (µs per action);
  critics: N LayerNorm Q networks 22→W→LN→W→LN→1, batch 256, Adam, MSE,
           batched with torch.bmm as RLPD-style ensembles are (updates/s).
Prints one JSON object per line. Exits 3 when torch is not installed.

usage: torch_mlp.py [--seconds S] [--threads N]
"""
import argparse
import json
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError:
    print("torch is not installed (Debian: apt-get install python3-torch)", file=sys.stderr)
    sys.exit(3)


def timed(fn, seconds):
    """Runs fn for about seconds; returns iterations, wall and CPU seconds
    (CPU: the whole process, every thread, as the Go side reports)."""
    for _ in range(5):
        fn()
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n, time.perf_counter() - start, time.process_time() - cpu


class EnsembleLinear(nn.Module):
    def __init__(self, n, fan_in, fan_out):
        super().__init__()
        bound = fan_in ** -0.5
        self.weight = nn.Parameter(torch.empty(n, fan_in, fan_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n, 1, fan_out).uniform_(-bound, bound))

    def forward(self, x):  # x: [n, batch, in]
        return torch.baddbmm(self.bias, x, self.weight)


class Critics(nn.Module):
    def __init__(self, n, fan_in, width):
        super().__init__()
        self.l0 = EnsembleLinear(n, fan_in, width)
        self.l1 = EnsembleLinear(n, width, width)
        self.l2 = EnsembleLinear(n, width, 1)
        self.n0 = nn.LayerNorm(width)
        self.n1 = nn.LayerNorm(width)

    def forward(self, x):
        h = torch.relu(self.n0(self.l0(x)))
        h = torch.relu(self.n1(self.l1(h)))
        return self.l2(h)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave)")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    common = {"torch": torch.__version__, "threads": torch.get_num_threads()}

    net = nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = torch.randn(256, 20), torch.randn(256, 2)

    def bc_step():
        opt.zero_grad(set_to_none=True)
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()

    n, secs, cpu = timed(bc_step, args.seconds)
    print(json.dumps(dict(common, bench="bc", samples_per_s=n * 256 / secs, samples_per_cpu_s=n * 256 / cpu)), flush=True)

    obs = torch.randn(1, 20)

    def act():
        with torch.no_grad():
            net(obs)

    n, secs, _ = timed(act, args.seconds / 2)
    print(json.dumps(dict(common, bench="act", us_per_action=secs / n * 1e6)), flush=True)

    for members in (2, 10):
        for width in (128, 256):
            critics = Critics(members, 22, width)
            copt = torch.optim.Adam(critics.parameters(), lr=3e-4)
            cx, cy = torch.randn(members, 256, 22), torch.randn(members, 256, 1)

            def critic_step():
                copt.zero_grad(set_to_none=True)
                loss = ((critics(cx) - cy) ** 2).mean()
                loss.backward()
                copt.step()

            n, secs, cpu = timed(critic_step, args.seconds / 2)
            print(json.dumps(dict(common, bench="critics", members=members, width=width, updates_per_s=n / secs, updates_per_cpu_s=n / cpu)), flush=True)


if __name__ == "__main__":
    main()
