"""qwen2_vl_temporal: Qwen2-VL (transformers) describes each time window, then the whole video."""
from __future__ import annotations

import time

from analyzers.base import Analyzer as Base
from analyzers.base import Context, SkipAnalysis
from shared_schema.envelope import SkipReason
from shared_schema.results.vlm import VlmSettings, VlmSummary, VlmTemporalResult, VlmWindow

from .windows import fit_size, plan_windows, spread

DTYPES = ("auto", "half", "float32", "float16", "bfloat16")


def pick_dtype(requested: str, device: str):
    """auto: float32 on CPU, bf16 (fp16 where the GPU lacks it) on GPU; half: the GPU's half, bf16 on CPU."""
    import torch

    if requested not in DTYPES:
        raise ValueError(f"dtype {requested!r}: use one of {DTYPES}")
    if requested not in ("auto", "half"):
        return getattr(torch, requested)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32 if requested == "auto" else torch.bfloat16


class Analyzer(Base):
    def setup(self, ctx: Context) -> None:
        t0 = time.monotonic()
        p = ctx.params
        self.model_name = p.model
        req = ctx.model_requirement(self.model_name)
        path = ctx.model_path(self.model_name)  # SkipAnalysis(model_absent, fix) when not in the store
        if not (path / "config.json").is_file():
            raise SkipAnalysis(SkipReason.model_absent, f"{req.path} in the model store has no config.json",
                               req.fix)
        # imported after the store check: a skip should not cost the seconds torch takes to import
        import torch
        from transformers import AutoProcessor, Qwen2VLForConditionalGeneration
        torch.set_num_threads(max(1, ctx.threads))
        self.dtype = pick_dtype(p.dtype, ctx.device)
        self.processor = AutoProcessor.from_pretrained(path, local_files_only=True)
        # left padding: every row of a batch then ends where generation starts
        self.processor.tokenizer.padding_side = "left"
        self.model = Qwen2VLForConditionalGeneration.from_pretrained(
            path, dtype=self.dtype, local_files_only=True).to(ctx.device).eval()
        self.store_path = req.path
        # what was loaded, hashed (the snapshot folder's manifest digest): a random or swapped checkpoint
        # at this path gets its own sha256, never the name of the one the manifest expects
        ctx.use_model_file(req.name, f"model store: {req.path}/ ({req.source})", path)
        ctx.log.info("loaded %s (%s, %s) in %.1fs", req.path, self.dtype, ctx.device, time.monotonic() - t0)

    # ------------------------------------------------------------------
    def _generate(self, ctx: Context, batch: list[tuple[str, list]], max_new_tokens: int) -> list[tuple[str, int]]:
        """One generate() over prompts, each with its frames (a video if 2+, else an image)."""
        import torch

        texts, images, videos = [], [], []
        for prompt, frames in batch:
            kind = "video" if len(frames) > 1 else "image"
            messages = [{"role": "user", "content": [{"type": kind}, {"type": "text", "text": prompt}]}]
            texts.append(self.processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
            (videos if kind == "video" else images).append(frames if kind == "video" else frames[0])
        # frames are already sized to max_pixels (fit_size); the cap keeps the processor from growing them
        extra = {"cap_pixels_per_frame": True} if videos else {}
        inputs = self.processor(text=texts, images=images or None, videos=videos or None,
                                padding=True, return_tensors="pt", **extra).to(ctx.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.dtype)
        if "pixel_values_videos" in inputs:
            inputs["pixel_values_videos"] = inputs["pixel_values_videos"].to(self.dtype)
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        new = out[:, inputs["input_ids"].shape[1]:]
        pad = self.processor.tokenizer.pad_token_id
        texts_out = self.processor.batch_decode(new, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        return [(t.strip(), int((row != pad).sum()) if pad is not None else row.shape[0])
                for t, row in zip(texts_out, new)]

    def _load(self, frames, i: int, max_pixels: int):
        from PIL import Image

        img = Image.open(frames.path(i)).convert("RGB")
        return img.resize(fit_size(img.width, img.height, max_pixels), Image.BICUBIC)

    def analyze(self, ctx: Context) -> VlmTemporalResult:
        p = ctx.params
        settings = VlmSettings(dtype=str(self.dtype).removeprefix("torch."),
                               max_frames_per_window=p.max_frames_per_window,
                               max_pixels=p.max_pixels, batch_size=p.batch_size,
                               window_s=p.window_s, max_new_tokens=p.max_new_tokens)
        if p.dtype == "half" and not ctx.device.startswith("cuda"):
            ctx.degrade("ran in bfloat16 on CPU (dtype=half) to fit memory")
        frames = ctx.frames("sampled")
        if len(frames) == 0:
            raise SkipAnalysis(SkipReason.not_applicable, "the video yielded no sampled frames")
        times = frames.times
        duration = max(ctx.media.duration_s, times[-1])
        windows = plan_windows(times, duration, settings.window_s, settings.max_frames_per_window)
        prompt = p.prompt
        out: list[VlmWindow] = []
        t0 = time.monotonic()
        for b in range(0, len(windows), settings.batch_size):
            chunk = windows[b:b + settings.batch_size]
            batch = [(prompt, [self._load(frames, i, settings.max_pixels) for i in w.frames]) for w in chunk]
            for w, (text, n_tok) in zip(chunk, self._generate(ctx, batch, settings.max_new_tokens)):
                out.append(VlmWindow(index=w.index, start=w.start, end=w.end,
                                     frame_times=[times[i] for i in w.frames],
                                     input="video" if len(w.frames) > 1 else "image",
                                     description=text, new_tokens=n_tok))
            ctx.log.info("windows %d/%d described (%.1fs)", len(out), len(windows), time.monotonic() - t0)
        picked = spread(list(range(len(frames))), p.summary_frames)
        summary_frames = [self._load(frames, i, settings.max_pixels) for i in picked]
        (text, _), = self._generate(ctx, [(p.summary_prompt, summary_frames)], settings.max_new_tokens)
        return VlmTemporalResult(
            model=self.store_path or self.model_name, architecture=type(self.model).__name__,
            device=ctx.device, settings=settings, duration=round(duration, 4), windows=out,
            summary=VlmSummary(text=text, frame_times=[times[i] for i in picked],
                               method="model_over_sampled_video"))
