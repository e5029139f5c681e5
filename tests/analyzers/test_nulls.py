"""Nulls, not zeros (issue 16): what an analyzer could not measure is null with the reason in the result."""
from __future__ import annotations


from shared_schema.envelope import Status
from shared_schema.results.appearance import ContentQualityResult
from tests.conftest import require_env
from tests.media import ffmpeg


def test_content_quality_unmeasured_component_is_null_with_reason(run, settings, tmp_path):
    """A 4096 px wide frame is analysed at 1280 px: its 8x8 block grid is 2.5 px there, too fine to measure."""
    require_env(settings, "cpu")
    video = tmp_path / "wide.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=4096x2304:rate=2:duration=1", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video))
    env = run(video, ["content_quality"]).report.analyzers["content_quality"]
    assert env.status is Status.ok, env.error
    res = ContentQualityResult.model_validate(env.result)
    comp = {c.name: c for c in res.components}
    block = comp["blockiness"]
    assert block.score is None and block.weight == 0 and "under 4 px" in block.reason
    assert all(c.reason is None for c in res.components if c.score is not None)
    assert env.degraded and any("blockiness" in r for r in env.degraded_reasons)
