"""Tokens stream from the worker to the event loop: per row of a batch, in order, growing,
never blocking the loop (tiny real Qwen2 checkpoint, real `generate`)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import torch
from tiny_checkpoints import TinyModels

from inference.actor import Actor
from inference.cleaning import looks_garbled
from inference.config import InferenceConfig
from inference.serving.loading import Models, load_models
from inference.text.dialogue import DialogueModel
from inference.text.streaming import RowStreamer
from inference.types import ChatRequest, Persona

ANNA = Persona("Anna", "warm, curious", "short and friendly", "a woman in a park", "en")
LEO = Persona("Leo", "grumpy, funny", "dry one-liners", "an old man with a hat", "en")
PROMPTS = ["hi", "What did you do in the park today?", "你好，你叫什么名字？"]


@pytest.fixture(scope="module")
def dialogue(tiny_models: TinyModels) -> DialogueModel:
    return DialogueModel.load(str(tiny_models.dialogue), torch.device("cpu"), torch.float32)


def _grows(drafts: list[str], final: str) -> bool:
    lengths = [len(draft) for draft in drafts]
    return all(final.startswith(d) for d in drafts) and lengths == sorted(set(lengths))


def test_each_row_of_a_batch_streams_its_own_growing_text(dialogue: DialogueModel) -> None:
    requests = [ChatRequest([{"role": "user", "content": text}], 20) for text in PROMPTS]
    first: list[str] = []
    third: list[str] = []
    texts = dialogue.generate(requests, [first.append, None, third.append])
    assert texts == dialogue.generate(requests)  # streaming changes no token
    assert texts[0] != texts[2]
    assert first and first[-1] == texts[0] and _grows(first, texts[0])
    assert third and third[-1] == texts[2] and _grows(third, texts[2])


def test_drafts_are_throttled_but_the_first_words_and_the_end_go_out() -> None:
    shown: list[str] = []
    words = {1: "Hello", 2: " there", 3: " my", 4: " friend"}
    streamer = RowStreamer(
        lambda tokens: "".join(words[t] for t in tokens), [shown.append], [10], {0}, 3600.0
    )
    streamer.put(torch.tensor([[7, 7, 7]]))  # the prompt: not shown
    for token in (1, 2, 3, 4, 0, 3):  # 0 stops the row; nothing after it counts
        streamer.put(torch.tensor([token]))
    streamer.end()
    assert shown == ["Hello", "Hello there my friend"]


def test_a_row_stops_streaming_at_its_own_budget() -> None:
    shown: list[str] = []
    streamer = RowStreamer(lambda t: " ".join(map(str, t)), [None, shown.append], [9, 2], set(), 0)
    streamer.put(torch.tensor([[5], [5]]))
    for token in (1, 2, 3):
        streamer.put(torch.tensor([token, token]))
    streamer.end()
    assert shown == ["1", "1 2"]


@pytest.fixture
def actor(tiny_models: TinyModels) -> Iterator[Actor]:
    config = InferenceConfig(
        caption_model=str(tiny_models.caption),
        dialogue_model=str(tiny_models.dialogue),
        device="cpu",
        max_new_tokens=24,
    )
    models: Models = load_models(config)
    actor = Actor(models, config)
    yield actor
    actor.close()


async def test_reply_drafts_arrive_on_the_event_loop_in_order_before_the_answer(
    actor: Actor,
) -> None:
    loop_thread = threading.get_ident()
    drafts: list[tuple[str, int]] = []

    def on_draft(text: str) -> None:
        drafts.append((text, threading.get_ident()))

    line = await actor.reply(ANNA, [], "Hello! Where was this photo taken?", on_draft=on_draft)
    assert drafts, "no draft reached the event loop"
    assert {thread for _, thread in drafts} == {loop_thread}  # called on the loop, not the worker
    assert _grows([text for text, _ in drafts], line)  # all of them before the answer, in order


async def test_concurrent_replies_stream_each_to_its_own_caller(actor: Actor) -> None:
    drafts: dict[int, list[str]] = {0: [], 1: []}
    lines = await asyncio.gather(
        *(
            actor.reply(persona, [], "Hi!", chat_key=i, on_draft=drafts[i].append)
            for i, persona in enumerate((ANNA, LEO))
        )
    )
    # (The tiny model answers both long prompts alike; the dialogue test above tells rows apart.)
    for i in (0, 1):
        assert drafts[i] and drafts[i][-1] == lines[i] and _grows(drafts[i], lines[i])


async def test_a_photo_gets_its_card_and_first_line_through_the_worker(actor: Actor) -> None:
    drafts: list[str] = []
    introduction = await actor.introduce("a woman in a park", "en", on_draft=drafts.append)
    assert introduction.persona.name and introduction.persona.description == "a woman in a park"
    assert introduction.first_line.strip()
    assert not any(looks_garbled(draft) for draft in drafts)  # only checked text is shown
