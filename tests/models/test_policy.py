"""Model policies on tiny random models: prompts, one propose per family, invalid outputs, the judge sampler."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cua.actions import Click, Type
from cua.errors import ConfigError
from cua.observation import Observation
from cua.policies.model import ModelPolicyBase, QwenVLPolicy, make
from cua.policy import Proposal, make_policy
from cua.sampler import JudgeSampler, merge, parse_choice, same_action
from cua.tools import ToolRegistry, ToolSpec


@dataclass
class FakeStep:
    action: object
    observation: object = None


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"])
def test_one_propose_per_family_records_invalid_output(tiny_dirs, phone_obs, family):
    policy = make_policy("model", model=str(tiny_dirs[family]), max_new_tokens=32)
    assert isinstance(policy, QwenVLPolicy)
    history = [FakeStep(Click(x=540, y=1200), phone_obs), FakeStep(None, phone_obs)]
    proposal = policy.propose("open the settings", phone_obs, history)
    assert isinstance(proposal, Proposal)
    assert proposal.action is None and proposal.error and proposal.info["error_kind"] == "parse"


def test_prompt_geometry_matches_the_processor_grid(tiny_dirs, phone_obs):
    """The size the codec tells the model equals the image grid the processor actually builds."""
    for family in ("qwen2_5_vl", "qwen3_vl"):
        policy = QwenVLPolicy(str(tiny_dirs[family]))
        geo = policy.geometry(phone_obs)
        inputs = policy.inputs(policy.messages("g", phone_obs, []))
        _, gh, gw = inputs["image_grid_thw"][-1].tolist()
        patch = policy.processor.image_processor.patch_size
        assert (gw * patch, gh * patch) == (geo.model_width, geo.model_height)


def test_history_images_and_tools_reach_the_prompt(tiny_dirs, phone_obs):
    registry = ToolRegistry()
    registry.add(ToolSpec(name="send_sms", description="Send an SMS."), lambda: None)
    device = type("Dev", (), {"tools": registry})()
    policy = make("", model=str(tiny_dirs["qwen2_5_vl"]), history_images=1, device=device)
    history = [FakeStep(Type(text="hi"), phone_obs), FakeStep(Click(x=1, y=2), phone_obs)]
    messages = policy.messages("goal", phone_obs, history)
    assert "send_sms" in messages[0]["content"][0]["text"]
    images = [c for c in messages[1]["content"] if c["type"] == "image"]
    assert len(images) == 2
    inputs = policy.inputs(messages)
    assert inputs["image_grid_thw"].shape[0] == 2


def test_codec_choice_and_mismatch(tiny_dirs):
    assert QwenVLPolicy(str(tiny_dirs["qwen2_5_vl"]), codec="ui_r1").codec.name == "ui_r1"
    with pytest.raises(ConfigError, match="qwen3_vl"):
        QwenVLPolicy(str(tiny_dirs["qwen3_vl"]), codec="qwen25_mobile_use")
    with pytest.raises(ConfigError, match="valid: .*gui_r1"):
        QwenVLPolicy(str(tiny_dirs["qwen2_5_vl"]), codec="nope")
    with pytest.raises(ConfigError, match="--samples"):
        make("", model=str(tiny_dirs["qwen2_5_vl"]), judge=str(tiny_dirs["qwen2_5_vl"]))


def test_judge_sampler_with_a_tiny_model_records_everything(tiny_dirs, phone_obs):
    """--samples 4 --judge DIR: a random model's 4 candidates are all invalid -> an invalid step, with info."""
    policy = make("", model=str(tiny_dirs["qwen2_5_vl"]), samples=4, judge=str(tiny_dirs["qwen3_vl"]),
                  max_new_tokens=32)
    assert isinstance(policy, JudgeSampler) and policy.judge is not policy.policy
    proposal = policy.propose("open the settings", phone_obs, [])
    assert proposal.action is None and "none of 4" in proposal.error
    assert len(proposal.info["candidates"]) == 4 and proposal.info["choice"] is None


class Scripted(ModelPolicyBase):
    """A policy whose completions are fixed strings (the candidates under test); geometry/prompts are real."""

    def __init__(self, texts: list[str]) -> None:
        from cua.codecs import get_codec

        self.codec, self.texts, self.calls, self.name = get_codec("qwen25_mobile_use"), texts, [], "scripted"

    def complete(self, messages, *, n=1, sample=False):
        self.calls.append((n, sample))
        return self.texts[:n]


def click_text(x: int, y: int) -> str:
    return ('<tool_call>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [%d, %d]}}'
            "</tool_call>" % (x, y))


def test_sampler_merges_and_falls_back_when_the_judge_rambles(tiny_dirs, phone_obs):
    texts = [click_text(100, 100), click_text(102, 101), "garbage", click_text(800, 2000)]
    judge = QwenVLPolicy(str(tiny_dirs["qwen2_5_vl"]))
    judge.max_new_tokens = 8
    sampler = JudgeSampler(Scripted(texts), judge=judge, samples=4)
    proposal = sampler.propose("tap", phone_obs, [])
    info = proposal.info
    assert sampler.policy.calls == [(4, True)]
    assert info["groups"] == [[0, 1], [3]]
    assert info["candidates"][2]["action"] is None and info["candidates"][2]["error"]
    assert isinstance(info["judge_text"], str)
    if info["fallback"]:
        assert info["choice"] == 0 and proposal.action == Click(x=99, y=100)
    else:
        assert info["choice"] in (0, 1)


def test_sampler_follows_the_judge():
    texts = [click_text(100, 100), click_text(800, 2000), click_text(800, 2001)]
    judge = Scripted(["I think candidate 2 is best."])
    from PIL import Image

    obs = Observation.from_image(Image.new("RGB", (1080, 2400), "white"))
    proposal = JudgeSampler(Scripted(texts), judge=judge, samples=3).propose("tap", obs, [])
    assert proposal.info["choice"] == 1 and not proposal.info["fallback"]
    assert proposal.text == texts[1] and proposal.action.y > 1900
    assert judge.calls == [(1, False)]


def test_sampler_skips_the_judge_when_all_agree():
    from PIL import Image

    obs = Observation.from_image(Image.new("RGB", (1080, 2400), "white"))
    judge = Scripted(["1"])
    proposal = JudgeSampler(Scripted([click_text(5, 5)] * 4), judge=judge, samples=4).propose("g", obs, [])
    assert proposal.action is not None and proposal.info["judge_text"] is None and judge.calls == []


@pytest.mark.parametrize("text,n,want", [
    ("2", 3, 1), ("Candidate 3.", 3, 2), ("<answer>1</answer>", 2, 0), ("7", 3, None), ("none", 3, None),
    ("1.5", 3, None), ("", 2, None), ("0 then 2", 3, 1),
])
def test_parse_choice(text, n, want):
    assert parse_choice(text, n) == want


def test_same_action_radius():
    assert same_action(Click(x=100, y=100), Click(x=110, y=105))
    assert not same_action(Click(x=100, y=100), Click(x=200, y=100))
    assert not same_action(Click(x=1, y=1), Type(text="a"))
    assert [g.members for g in merge([Type(text="a"), None, Type(text="a"), Type(text="b")])] == [[0, 2], [3]]


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"])
def test_shared_prefix_generation_equals_plain_generate(tiny_dirs, phone_obs, family):
    """n samples from one prefill + repeated cache equal generate(num_return_sequences=n) under one seed."""
    import torch

    policy = QwenVLPolicy(str(tiny_dirs[family]), max_new_tokens=3)
    inputs = policy.inputs(policy.messages("open settings", phone_obs, []))
    policy.generation_overrides = {"output_scores": True, "return_dict_in_generate": True}
    torch.manual_seed(7)
    shared = policy.generate(inputs, n=3, sample=True)
    torch.manual_seed(7)
    with torch.inference_mode():
        plain = policy.model.generate(**inputs, max_new_tokens=3, do_sample=True, temperature=1.0, top_p=1.0,
                                      top_k=0, num_return_sequences=3, output_scores=True,
                                      return_dict_in_generate=True)
    assert shared.sequences.shape == plain.sequences.shape
    for a, b in zip(shared.scores, plain.scores):
        assert torch.allclose(a, b, atol=1e-4)
    assert torch.equal(shared.sequences, plain.sequences)


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"])
def test_chunked_prefill_of_a_padded_batch_gives_the_same_completions(tiny_dirs, phone_obs, family, monkeypatch):
    """A left-padded batch on CPU prefills in chunks where the model takes pre-encoded images; the completions
    and log-probs equal one prefill forward's (chunk lowered so the tiny prompts span several chunks)."""
    import torch

    import cua.policies.model as model_policy

    policy = QwenVLPolicy(str(tiny_dirs[family]), max_new_tokens=6)
    requests = [("open settings", phone_obs, []), ("send the message to Alice now", phone_obs, []),
                ("call mom", phone_obs, [])]
    seen: list[dict] = []
    generate = policy.model.generate

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return generate(*args, **kwargs)

    monkeypatch.setattr(policy.model, "generate", spy)
    monkeypatch.setattr(model_policy, "CPU_PREFILL_CHUNK", 10**6)
    whole = [p.info["tokens"] for p in policy.propose_batch(requests)]
    assert "prefill_chunk_size" not in seen[-1]
    monkeypatch.setattr(model_policy, "CPU_PREFILL_CHUNK", 32)
    chunked = [p.info["tokens"] for p in policy.propose_batch(requests)]
    supported = model_policy.padded_prefill_chunk(policy.model, torch.tensor([[0] + [1] * 40]))
    assert seen[-1].get("prefill_chunk_size") == supported
    assert [t.completion_ids for t in chunked] == [t.completion_ids for t in whole]
    for a, b in zip(chunked, whole):
        assert a.prompt_ids == b.prompt_ids
        assert torch.allclose(torch.tensor(a.logprobs), torch.tensor(b.logprobs), atol=1e-4)


def test_padded_prefill_chunk_only_for_a_padded_long_batch_on_cpu(monkeypatch):
    import torch

    import cua.policies.model as model_policy

    monkeypatch.setattr(model_policy, "CPU_PREFILL_CHUNK", 8)

    class Model:
        device = torch.device("cpu")

        def forward(self, input_ids=None, mm_encoder_outputs=None):
            raise AssertionError("not called")

    class RawPixels(Model):
        def forward(self, input_ids=None, pixel_values=None):
            raise AssertionError("not called")

    class OnGpu(Model):
        device = torch.device("cuda")

    class Wrapped:  # a peft model: forward(*args, **kwargs) over the base model's
        device = torch.device("cpu")

        def __init__(self, base):
            self.base = base

        def get_base_model(self):
            return self.base

        def forward(self, *args, **kwargs):
            raise AssertionError("not called")

    padded = torch.tensor([[0, 0] + [1] * 10, [1] * 12])
    assert model_policy.padded_prefill_chunk(Model(), padded) == 8
    assert model_policy.padded_prefill_chunk(Model(), torch.ones(2, 12, dtype=torch.long)) is None
    assert model_policy.padded_prefill_chunk(Model(), padded[:, -8:].clone().fill_(1)) is None
    assert model_policy.padded_prefill_chunk(Model(), torch.tensor([[0] + [1] * 7])) is None
    assert model_policy.padded_prefill_chunk(RawPixels(), padded) is None
    assert model_policy.padded_prefill_chunk(OnGpu(), padded) is None
    assert model_policy.padded_prefill_chunk(Wrapped(Model()), padded) == 8
    assert model_policy.padded_prefill_chunk(Wrapped(RawPixels()), padded) is None


def test_chunked_prefill_through_a_peft_model(tiny_dirs, phone_obs, monkeypatch):
    """Online training wraps the model with LoRA: its padded batches prefill in chunks too, with the same
    completions as one forward."""
    import torch
    from peft import LoraConfig, get_peft_model

    import cua.policies.model as model_policy
    from cua.models.loading import load_model_and_processor

    model, processor = load_model_and_processor(str(tiny_dirs["qwen3_vl"]))
    lora = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    policy = QwenVLPolicy.from_model(lora, processor, max_new_tokens=6)
    requests = [("open settings", phone_obs, []), ("send the message to Alice now", phone_obs, [])]
    monkeypatch.setattr(model_policy, "CPU_PREFILL_CHUNK", 10**6)
    whole = [p.info["tokens"] for p in policy.propose_batch(requests)]
    monkeypatch.setattr(model_policy, "CPU_PREFILL_CHUNK", 32)
    assert model_policy.padded_prefill_chunk(lora, torch.tensor([[0] + [1] * 40])) == 32
    chunked = [p.info["tokens"] for p in policy.propose_batch(requests)]
    assert [t.completion_ids for t in chunked] == [t.completion_ids for t in whole]
    for a, b in zip(chunked, whole):
        assert torch.allclose(torch.tensor(a.logprobs), torch.tensor(b.logprobs), atol=1e-4)
