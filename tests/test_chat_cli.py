"""`photo-talk chat` as a user runs it: a real subprocess, tiny checkpoints, stdin piped.

Each run pays for importing torch and loading the models, so the scenarios start together
(one module fixture) and each test reads the run it is about.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
import torch
from PIL import Image, ImageDraw
from sample_photos import jpeg
from tiny_checkpoints import TinyModels
from tiny_voice_checkpoints import TinyVoiceModels, tiny_kokoro_samples, voice_note

from inference.voice.codecs import decode_audio
from inference.voice.kokoro_tts import KokoroSpeech

REPO = Path(__file__).resolve().parents[1]
PHOTO_SIZE = (96, 128)
TIMEOUT_S = 180


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    out_dir: Path


def _photo(path: Path) -> Path:
    image = Image.new("RGB", PHOTO_SIZE, (40, 60, 90))
    ImageDraw.Draw(image).ellipse((20, 20, 76, 98), fill=(180, 140, 120))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def _env(tiny_models: TinyModels) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TORCH_"))}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        PYTHONIOENCODING="utf-8",
        LANG="en_US.UTF-8",
        CAPTION_MODEL=str(tiny_models.caption),
        DIALOGUE_MODEL=str(tiny_models.dialogue),
        IMAGE_MODEL=str(tiny_models.image),
        TTS_MODEL="",
        ASR_MODEL="",
        SAFETY_MODEL="",
        INFERENCE_DEVICE="cpu",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        IMAGE_SIZE="64",
        MAX_NEW_TOKENS="16",
    )
    return env


@pytest.fixture(scope="module")
def runs(
    tiny_models: TinyModels,
    tiny_voice_models: TinyVoiceModels,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Run]:
    """Every scenario started at once (in a folder without a .env), then collected."""
    root = tmp_path_factory.mktemp("chat_cli")
    photo = _photo(root / "face.jpg")
    portrait = root / "astronaut.jpg"
    portrait.write_bytes(jpeg("astronaut"))
    not_a_photo = root / "notes.jpg"
    not_a_photo.write_text("this is not a picture\n", encoding="utf-8")
    note = root / "note.ogg"
    note.write_bytes(voice_note(2.0))
    scenarios = {
        # an English line, a Chinese line, then end of input (Ctrl-D)
        "talk": ([str(photo)], "Hello, how are you today?\n你好，你叫什么名字？\n"),
        # Chinese UI, no picture, and /quit ends the chat before the last line
        "zh_quit": ([str(photo), "--lang", "zh", "--no-image"], "你好！\n/quit\nnever read\n"),
        "bad_photo": ([str(not_a_photo)], "hello\n"),
        # Ctrl-C at the prompt (stdin left open): must exit now, not after the next Enter
        "ctrl_c": ([str(photo), "--no-image"], None),
        # a real portrait, spoken: its talking video (with the voice) written beside the picture
        "video": ([str(portrait), "--video", "--voice"], ""),
        # --voice: every line also spoken into an .ogg; /say sends an audio file as a turn
        "voice": (
            [str(photo), "--no-image", "--voice"],
            f"/say {note}\n/say {root / 'missing.ogg'}\n/say {not_a_photo}\n",
        ),
        # the Kokoro voice without spaCy's English tagger installed: one line, what to install
        "no_tagger": ([str(photo), "--no-image", "--voice"], "hello\n"),
    }
    env = _env(tiny_models)
    voice_env = env | {
        "TTS_MODEL": str(tiny_voice_models.speech),
        "ASR_MODEL": str(tiny_voice_models.transcriber),
    }
    # As `pip install` of en_core_web_sm's wheel would: the tiny tagger importable by name.
    tagged = os.pathsep.join([str(tiny_voice_models.english_tagger), env["PYTHONPATH"]])
    spoken_env = voice_env | {"PYTHONPATH": tagged}
    envs = {"voice": spoken_env, "video": spoken_env, "no_tagger": voice_env}
    started = {}
    for name, (args, stdin) in scenarios.items():
        out_dir = root / f"out_{name}"
        command = [sys.executable, "-m", "bot", "chat", *args, "--out", str(out_dir)]
        process = subprocess.Popen(
            command,
            cwd=root,
            env=envs.get(name, env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        started[name] = (process, stdin, out_dir)
    finished = {}
    for name, (process, stdin, out_dir) in started.items():
        if stdin is None:
            finished[name] = _interrupt_at_prompt(process, out_dir)
            continue
        try:
            stdout, stderr = process.communicate(stdin, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        finished[name] = Run(process.returncode, stdout, stderr, out_dir)
    return finished


def _interrupt_at_prompt(process: subprocess.Popen[str], out_dir: Path) -> Run:
    """Wait for the chat hint, send SIGINT, and record how the process ended (seconds in err)."""
    assert process.stdout is not None
    shown = []
    for line in process.stdout:
        shown.append(line)
        if line.startswith("Type to talk") or not line:
            break
    time.sleep(0.3)  # let it reach the prompt's read
    interrupted = time.perf_counter()
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    waited = time.perf_counter() - interrupted
    return Run(process.returncode, "".join(shown) + stdout, f"{waited:.2f}\n{stderr}", out_dir)


def _name(stdout: str, separator: str) -> str:
    """The character's name, from the persona line ("Leo — friendly, … Speaks: …")."""
    persona_line = next(line for line in stdout.splitlines() if separator in line)
    return persona_line.split(separator)[0].strip()


def test_chat_sees_speaks_draws_and_answers_in_both_languages(runs: dict[str, Run]) -> None:
    run = runs["talk"]
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    sees = next(i for i, line in enumerate(lines) if line.startswith("I see: "))
    assert len(lines[sees]) > len("I see: ")
    name = _name(run.stdout, " — ")
    assert name
    # the first line follows the persona line: "<name>: <words>"
    first = lines[sees + 2]
    assert first.startswith(f"{name}: ") and first[len(name) + 2 :].strip()
    saved = next(line for line in lines if line.startswith("Talking picture saved to "))
    picture = Path(saved.removeprefix("Talking picture saved to "))
    assert picture.parent == run.out_dir and picture.is_file()
    with Image.open(picture) as image:
        assert image.format == "JPEG"
        assert image.size == PHOTO_SIZE
    # two prompts answered, then the end of input ends the chat politely
    after_hint = run.stdout.split("Type to talk", 1)[1]
    answers = after_hint.split(f"> {name}: ")[1:]
    assert len(answers) == 2, run.stdout
    assert all(answer.strip() for answer in answers)
    assert lines[-1] == "Goodbye!"
    assert "Traceback" not in run.stderr


def test_chat_in_chinese_quits_on_quit_and_draws_nothing_with_no_image(
    runs: dict[str, Run],
) -> None:
    run = runs["zh_quit"]
    assert run.returncode == 0, run.stderr
    assert "我看到：" in run.stdout
    assert "输入文字和 TA 聊天" in run.stdout
    assert "正在加载模型" in run.stderr  # progress labels follow --lang too
    name = _name(run.stdout, " —— ")
    assert len(run.stdout.split(f"> {name}: ")) == 2  # one answer, then /quit
    assert run.stdout.rstrip().endswith("再见！")
    assert "说话的图片已保存" not in run.stdout
    assert not run.out_dir.exists() or not any(run.out_dir.iterdir())


def test_chat_with_a_file_that_is_not_an_image_fails_kindly(runs: dict[str, Run]) -> None:
    run = runs["bad_photo"]
    assert run.returncode == 2
    assert "I couldn't read that as a picture" in run.stderr
    assert "Traceback" not in run.stderr
    assert "loading models" not in run.stderr  # refused before the slow part
    assert not run.out_dir.exists()


def test_ctrl_c_at_the_prompt_exits_at_once(runs: dict[str, Run]) -> None:
    run = runs["ctrl_c"]
    assert "Type to talk" in run.stdout, run.stderr
    waited_s = float(run.stderr.split("\n", 1)[0])
    assert run.returncode == 130, run.stderr
    assert waited_s < 10
    assert "Traceback" not in run.stderr


def test_chat_with_video_writes_the_talking_video_of_a_face(runs: dict[str, Run]) -> None:
    run = runs["video"]
    assert run.returncode == 0, run.stderr
    saved = next(line for line in run.stdout.splitlines() if line.startswith("Talking video"))
    video = Path(saved.removeprefix("Talking video saved to "))
    assert video == run.out_dir / "astronaut.talking.mp4"
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.width == stream.codec_context.height  # a video note's crop
        assert [s.codec_context.name for s in container.streams.audio] == ["aac"]  # the voice
        frames = sum(1 for _ in container.decode(video=0))
    with av.open(str(run.out_dir / "astronaut.line-1.ogg")) as voice:
        spoken_s = (voice.duration or 0) / 1_000_000
    assert frames >= 1 and abs(frames / 25 - spoken_s) < 0.2  # the video lasts as the voice
    assert (run.out_dir / "astronaut.talking.jpg").is_file()


def test_voice_speaks_every_line_and_say_sends_an_audio_file(
    runs: dict[str, Run], tiny_voice_models: TinyVoiceModels
) -> None:
    run = runs["voice"]
    assert run.returncode == 0, run.stderr
    spoken = sorted(run.out_dir.glob("face.line-*.ogg"))
    assert [p.name for p in spoken] == ["face.line-1.ogg", "face.line-2.ogg"]  # first + reply
    for path in spoken:
        with av.open(str(path)) as container:
            assert container.format.name == "ogg"
            assert container.streams.audio[0].codec_context.name == "opus"
    # Each file says the line printed before it (the tiny Kokoro: a frame per phoneme).
    name = _name(run.stdout, " — ")
    said = [
        line.removeprefix("> ").removeprefix(f"{name}: ")
        for line in run.stdout.splitlines()
        if line.removeprefix("> ").startswith(f"{name}: ")
    ]
    assert len(said) == len(spoken)
    kokoro = KokoroSpeech.load(str(tiny_voice_models.speech), torch.device("cpu"))
    for path, line in zip(spoken, said, strict=True):
        heard = decode_audio(path.read_bytes(), 24_000, 60)
        # The chat's voice is not printed: American or British English phonemes, or Chinese.
        lengths = {tiny_kokoro_samples(kokoro, line, voice) for voice in kokoro.voices}
        assert min(abs(len(heard) - n) for n in lengths) <= 0.03 * 24_000, line
    assert run.stdout.count("Voice saved to") == 2
    assert "You said: " in run.stdout  # the transcript of note.ogg, then the answer to it
    assert "No such audio file:" in run.stderr
    assert "I couldn't play that recording." in run.stderr  # /say of a text file


def test_the_kokoro_voice_without_its_english_tagger_says_what_to_install(
    runs: dict[str, Run],
) -> None:
    run = runs["no_tagger"]
    assert run.returncode == 1
    assert "pip install https://github.com/explosion/spacy-models/releases/download/" in run.stderr
    assert "en_core_web_sm" in run.stderr and "Traceback" not in run.stderr
    assert len([line for line in run.stderr.splitlines() if "en_core_web_sm" in line]) == 1
