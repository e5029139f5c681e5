"""qwen2_vl_temporal through the real pipeline on a tiny Qwen2-VL the test builds itself.

The checkpoint has the real architecture and file format (random weights, a
byte-level BPE with Qwen2-VL's special tokens and chat template, the real image
and video processors); it is built in the ``torch`` environment, since the
host venv has no torch. Assertions are on structure and timing, not text.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shared_schema.envelope import SkipReason, Status
from shared_schema.results.vlm import VlmTemporalResult
from tests.conftest import require_env, run_analyzers

NAME = "qwen2_vl_temporal"
BUILDER = r'''
"""Build a tiny random-weight Qwen2-VL checkpoint (real architecture and file format) offline."""
import json
import sys
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (Qwen2Tokenizer, Qwen2VLConfig, Qwen2VLForConditionalGeneration,
                          Qwen2VLImageProcessor, Qwen2VLProcessor, Qwen2VLVideoProcessor)

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
           "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
CORPUS = ["a person walks across the street", "the camera pans left over a red car",
          "text appears on screen: follow for part two", "describe what happens in this video",
          "summarize this short video in two or three sentences"] * 20


def main(out: Path) -> None:
    torch.manual_seed(0)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[]))
    vocab = bpe.get_vocab()
    # merges as tuples: the form Qwen2Tokenizer(vocab=, merges=) takes
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
              for m in json.loads(bpe.to_str())["model"]["merges"]]
    tok = Qwen2Tokenizer(vocab=vocab, merges=merges, unk_token=None, bos_token=None,
                         eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tok.add_special_tokens({"additional_special_tokens": SPECIAL[1:]})
    tok.add_tokens(["<|endoftext|>"], special_tokens=True)
    ids = {t: tok.convert_tokens_to_ids(t) for t in SPECIAL}
    size = {"shortest_edge": 28 * 28 * 4, "longest_edge": 28 * 28 * 64}
    processor = Qwen2VLProcessor(image_processor=Qwen2VLImageProcessor(size=size),
                                 video_processor=Qwen2VLVideoProcessor(size=size),
                                 tokenizer=tok, chat_template=TEMPLATE)
    config = Qwen2VLConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                          "mrope_section": [2, 3, 3]},
                         bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
                         pad_token_id=ids["<|endoftext|>"]),
        vision_config=dict(depth=1, embed_dim=32, hidden_size=32, num_heads=2, mlp_ratio=2,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    model = Qwen2VLForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
'''


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory) -> Path:
    """A model store holding a tiny random-weight checkpoint at the 2B model's path."""
    from runner.core.config import Settings

    py = Settings.from_env().envs_dir / "torch" / "bin" / "python"
    require_env(Settings.from_env(), "torch")
    root = tmp_path_factory.mktemp("store")
    script = root / "make_tiny.py"
    script.write_text(BUILDER)
    subprocess.run([str(py), str(script), str(root / "Qwen2-VL-2B-Instruct")], check=True,
                   capture_output=True, timeout=300)
    script.unlink()
    return root


def sha256sum_digest(folder: Path) -> str:
    """A folder's digest computed by coreutils, not by the code under test (docs/models.md)."""
    cmd = "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum"
    return subprocess.run(["bash", "-c", cmd], cwd=folder, capture_output=True, text=True,
                          check=True).stdout.split()[0]


def _run(settings, video, store, **params):
    return run_analyzers(settings.with_(models_dir=store), video, [NAME], **({NAME: params} if params else {}))


@pytest.mark.slow
def test_tiny_checkpoint_yields_windows_and_summary(settings, sample_video, tiny_store):
    require_env(settings, "torch")
    out = _run(settings, sample_video, tiny_store, window_s=1.5, max_frames_per_window=3,
               batch_size=2, max_new_tokens=6, summary_frames=4)
    env = out.report.analyzers[NAME]
    assert env.status is Status.ok, (env.error, env.log_tail)
    res = VlmTemporalResult.model_validate(env.result)
    assert res.architecture == "Qwen2VLForConditionalGeneration" and res.device == "cpu"
    assert res.settings.dtype == "float32" and res.settings.max_frames_per_window == 3
    assert res.settings.batch_size == 2 and res.settings.window_s == 1.5
    # 4 s video, 1.5 s windows: [0, 1.5), [1.5, 3), [3, 4]
    assert [(w.start, w.end) for w in res.windows] == [(0.0, 1.5), (1.5, 3.0), (3.0, res.duration)]
    assert 3.9 <= res.duration <= 4.1
    for w in res.windows:
        assert 1 <= len(w.frame_times) <= 3
        assert all(w.start <= t <= w.end for t in w.frame_times)
        assert w.input == ("video" if len(w.frame_times) > 1 else "image")
        assert 0 < w.new_tokens <= 6
    assert len(res.summary.frame_times) == 4 and res.summary.frame_times[0] == 0.0
    # the checkpoint it loaded, hashed: this random one's digest, not a name that passes for the real 2B
    [used] = env.models
    assert used.name == "qwen2-vl-2b" and used.source.startswith("model store: Qwen2-VL-2B-Instruct/")
    assert used.sha256 == sha256sum_digest(tiny_store / "Qwen2-VL-2B-Instruct")
    assert env.degraded is False


@pytest.mark.slow
def test_half_precision_override_is_reported_as_degraded(settings, sample_video, tiny_store):
    require_env(settings, "torch")
    out = _run(settings, sample_video, tiny_store, dtype="half", window_s=4.0, max_new_tokens=4,
               summary_frames=2, max_pixels=50176)
    env = out.report.analyzers[NAME]
    assert env.status is Status.ok, (env.error, env.log_tail)
    res = VlmTemporalResult.model_validate(env.result)
    assert res.settings.dtype == "bfloat16" and res.settings.max_pixels == 50176
    assert len(res.windows) == 1 and res.windows[0].start == 0.0
    assert env.degraded is True and any("bfloat16" in r for r in env.degraded_reasons)


def test_without_weights_skipped_with_fix(settings, sample_video, tmp_path):
    require_env(settings, "torch")
    empty = tmp_path / "empty_store"
    empty.mkdir()
    env = _run(settings, sample_video, empty).report.analyzers[NAME]
    assert env.status is Status.skipped and env.skip_reason is SkipReason.model_absent
    assert "huggingface-cli download Qwen/Qwen2-VL-2B-Instruct" in env.error.fix
    assert "Qwen2-VL-2B-Instruct" in env.error.fix


@pytest.mark.slow
def test_7b_selected_by_param_and_absent_is_skipped_with_its_fix(settings, sample_video, tiny_store):
    require_env(settings, "torch")
    env = _run(settings, sample_video, tiny_store, model="qwen2-vl-7b").report.analyzers[NAME]
    assert env.status is Status.skipped and env.skip_reason is SkipReason.model_absent
    assert "Qwen/Qwen2-VL-7B-Instruct" in env.error.fix


@pytest.mark.slow
def test_another_checkpoint_at_the_same_path_records_its_own_sha256(settings, sample_video, tiny_store, tmp_path):
    """One weight byte changed in a copy of the checkpoint: same path and name, another sha256, the
    copy's own. The envelope tells apart what was loaded, whatever folder name it sits under."""
    import shutil

    store = tmp_path / "store"
    shutil.copytree(tiny_store, store)
    weights = store / "Qwen2-VL-2B-Instruct" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01  # the last byte of the last tensor: still a loadable checkpoint
    weights.write_bytes(bytes(data))
    env = _run(settings, sample_video, store, window_s=4.0, max_new_tokens=2,
               summary_frames=1).report.analyzers[NAME]
    assert env.status is Status.ok, (env.error, env.log_tail)
    [used] = env.models
    assert used.sha256 == sha256sum_digest(store / "Qwen2-VL-2B-Instruct")
    assert used.sha256 != sha256sum_digest(tiny_store / "Qwen2-VL-2B-Instruct")
