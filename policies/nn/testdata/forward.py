"""Rebuild a tandem policy checkpoint with numpy alone and run it.

usage: python3 forward.py POLICY.safetensors POLICY.card.json EPISODES.json

EPISODES.json is a list of episodes, each a list of raw observations. The
script prints a JSON list (per episode) of lists of actions, in task units,
computed as docs/policies.md describes. It parses the safetensors file itself
(8-byte little-endian header length, JSON header, raw little-endian data) so
that it checks the format, not another library's reading of it.
"""
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    dtypes = {"F32": "<f4", "F64": "<f8"}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        arr = np.frombuffer(body[start:end], dtype=dtypes[info["dtype"]])
        out[name] = arr.reshape(info["shape"]).astype(np.float64)
    return out


def act_fn(name, x):
    if name == "relu":
        return np.maximum(x, 0)
    if name == "tanh":
        return np.tanh(x)
    return x  # "none": the output layer


def mlp(t, prefix, net, x):
    for layer in net["layers"]:
        w = t[prefix + layer["weight"]["name"]]  # [out, in]
        b = t[prefix + layer["bias"]["name"]]
        x = x @ w.T + b
        if layer.get("norm_weight"):
            mu = x.mean(axis=-1, keepdims=True)
            var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)  # biased, as torch
            x = (x - mu) / np.sqrt(var + net["layer_norm_eps"])
            x = x * t[prefix + layer["norm_weight"]["name"]] + t[prefix + layer["norm_bias"]["name"]]
        x = act_fn(layer["activation"], x)
    return x


def head(card, raw, act_dim):
    h = card["head"]
    if h["kind"] == "gmm":
        k = h["modes"]
        means = raw[: k * act_dim].reshape(k, act_dim)
        logits = raw[2 * k * act_dim : 2 * k * act_dim + k]
        a = means[int(np.argmax(logits))]
    else:  # deterministic: the output; gaussian: the mean (first act_dim)
        a = raw[:act_dim]
    return np.tanh(a) if h["tanh_squash"] else a


def main():
    t = read_safetensors(sys.argv[1])
    with open(sys.argv[2]) as f:
        card = json.load(f)
    with open(sys.argv[3]) as f:
        episodes = json.load(f)
    nm = card["normalization"]
    mean, std = t[nm["obs_mean"]], t[nm["obs_std"]]
    low, high = t[nm["action_low"]], t[nm["action_high"]]
    k, members = card["frame_stack"], card["members"]
    act_dim = low.shape[0]
    result = []
    for episode in episodes:
        frames, actions = [], []
        for obs in episode:
            o = (np.asarray(obs, dtype=np.float64) - mean) / std
            frames = [o] * k if not frames else frames[1:] + [o]  # oldest first
            x = np.concatenate(frames)
            outs = []
            for m in range(members):
                prefix = "" if members == 1 else "members.%d." % m
                outs.append(head(card, mlp(t, prefix, card["network"], x), act_dim))
            a = np.mean(outs, axis=0)
            actions.append((low + (a + 1) / 2 * (high - low)).tolist())
        result.append(actions)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
