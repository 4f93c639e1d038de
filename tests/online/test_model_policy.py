"""The model policy over an in-memory model: batched proposals carry the ids and log-probs training uses."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from cua.actions import Click
from cua.policies.model import TOKENS_KEY, QwenVLPolicy, TurnTokens
from cua.trajectory import Step

from .conftest import screen


@pytest.fixture()
def policy(tiny_model: tuple[Any, Any]) -> QwenVLPolicy:
    model, processor = tiny_model
    return QwenVLPolicy.from_model(model, processor, codec="qwen3_mobile_use", sample=True, max_new_tokens=10)


def test_batched_proposals_carry_the_prompt_the_model_saw(policy: QwenVLPolicy) -> None:
    history = [Step(index=0, observation=screen(0), action=Click(x=10, y=20))]
    requests = [("open the app", screen(1), []), ("send a message", screen(2), history), ("x", screen(3), [])]
    torch.manual_seed(0)
    proposals = policy.propose_batch(requests)
    assert len(proposals) == 3
    for (goal, obs, hist), proposal in zip(requests, proposals):
        tokens = proposal.info[TOKENS_KEY]
        assert isinstance(tokens, TurnTokens)
        # Re-tokenising the recorded turn (same history text, same image) gives exactly the ids recorded.
        again = policy.inputs(policy.messages(goal, obs, hist))["input_ids"][0].tolist()
        assert tokens.prompt_ids == again
        assert len(tokens.completion_ids) == len(tokens.logprobs) >= 1
        assert all(lp <= 0.0 for lp in tokens.logprobs)
        assert tokens.images and tokens.images[-1] is obs.image
        assert proposal.text == policy.processor.decode(tokens.completion_ids, skip_special_tokens=True)
    assert len(proposals[1].info[TOKENS_KEY].prompt_ids) > len(proposals[0].info[TOKENS_KEY].prompt_ids) - 5


def test_sampling_logprobs_match_a_forward_pass(policy: QwenVLPolicy) -> None:
    torch.manual_seed(1)
    obs = screen(1)
    tokens = policy.propose_batch([("open the app", obs, [])])[0].info[TOKENS_KEY]
    inputs = policy.inputs(policy.messages("open the app", obs, []))
    ids = torch.tensor([tokens.prompt_ids + tokens.completion_ids])
    extra = torch.zeros(1, len(tokens.completion_ids), dtype=torch.long)
    with torch.no_grad():
        out = policy.model(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=inputs["pixel_values"],
                           image_grid_thw=inputs["image_grid_thw"],
                           mm_token_type_ids=torch.cat([inputs["mm_token_type_ids"], extra], 1))
    n, p = len(tokens.completion_ids), len(tokens.prompt_ids)
    logps = (out.logits[0, p - 1:p - 1 + n].float() / policy.temperature).log_softmax(-1)
    ref = logps[torch.arange(n), torch.tensor(tokens.completion_ids)]
    assert torch.allclose(ref, torch.tensor(tokens.logprobs), atol=1e-4)


def test_greedy_propose_is_the_batched_path_and_saves_compactly(policy: QwenVLPolicy) -> None:
    policy.sample = False
    one = policy.propose("open the app", screen(1), [])
    many = policy.propose_batch([("open the app", screen(1), []), ("other goal", screen(2), [])])
    assert one.text == many[0].text
    saved = one.info[TOKENS_KEY].to_dict()
    assert set(saved) == {"prompt_tokens", "completion_ids", "logprobs"}
    assert saved["prompt_tokens"] == len(one.info[TOKENS_KEY].prompt_ids)
