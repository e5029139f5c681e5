"""What ffprobe found in the input, and the frame-set indexes."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class VideoStream(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codec: str
    width: int = Field(description="display width, after rotation")
    height: int = Field(description="display height, after rotation")
    coded_width: int
    coded_height: int
    rotation: int = Field(default=0, description="degrees the player rotates the coded picture")
    fps: float
    frame_count: int | None = None
    pix_fmt: str | None = None
    bit_rate: int | None = None


class AudioStream(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codec: str
    sample_rate: int
    channels: int
    bit_rate: int | None = None


class MediaInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="the input as the user named it")
    sha256: str
    size_bytes: int
    container: str
    duration_s: float
    bit_rate: int | None = None
    video: VideoStream
    audio: AudioStream | None = None
    source_url: str | None = None

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    @property
    def aspect_ratio(self) -> float:
        return self.video.width / self.video.height


class FrameEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    i: int = Field(ge=0, description="0-based index within the set")
    t: float = Field(ge=0, description="timestamp in seconds from the start of the video")
    file: str = Field(description="file name inside the set's folder")


class FrameIndex(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    fps: float
    width: int
    height: int
    gray: bool
    frames: list[FrameEntry]
