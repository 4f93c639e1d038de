"""Model policies: ``QwenVLPolicy`` (transformers) and ``OpenAIPolicy`` (any OpenAI-compatible server).

Both build prompts through a codec (:mod:`cua.codecs`): the goal, the history of previous actions (described in
the codec's own terms), optionally the last ``history_images`` screenshots, the current screenshot, and the
device's tools when it has a ``tools`` registry. ``propose`` generates one completion and parses it
(``QwenVLPolicy.propose_batch``: many prompts in one batched ``generate``, with token ids and log-probs); a
completion that does not parse (or points off the screen) becomes ``Proposal(action=None, error=...)`` with
``info["error_kind"]``, never an exception. ``complete(messages, n=, sample=)`` is the generation primitive the
judge sampler (:mod:`cua.sampler`) also uses: ``n`` completions from ONE call (``num_return_sequences`` /
the API's ``n``).

Spec: ``cua run --model ID_OR_PATH`` or ``--model openai:NAME --base-url URL`` (key from ``OPENAI_API_KEY``).
The OpenAI server counts as infrastructure: a timeout raises DeviceTimeout, an unreachable server
DeviceDisconnected, a 5xx/429 DeviceError (the episode ends as ``infra_error``); 4xx (bad key, unknown
model, bad request) raise ConfigError.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import os
from typing import TYPE_CHECKING, Any, Sequence

from cua.actions import Action
from cua.codecs import Codec, check_family, default_codec_for, get_codec
from cua.coords import MAX_PIXELS, MIN_PIXELS, Geometry
from cua.errors import ActionError, ActionOutOfBounds, ConfigError, DeviceDisconnected, DeviceError, DeviceTimeout
from cua.observation import Observation
from cua.policy import Policy, Proposal, register_policy

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from cua.tools import ToolSpec
    from cua.trajectory import Step

DEFAULT_MAX_NEW_TOKENS = 256
DEFAULT_SAMPLE_TEMPERATURE = 1.0
DEFAULT_HTTP_TIMEOUT = 120.0
OPENAI_PREFIX = "openai:"
#: Where a model proposal keeps its :class:`TurnTokens` (``Proposal.info`` / ``Step.info``).
TOKENS_KEY = "tokens"
#: Prompt tokens per prefill forward of a left-padded batch on CPU (:func:`padded_prefill_chunk`).
CPU_PREFILL_CHUNK = 256


@dataclasses.dataclass(frozen=True, kw_only=True)
class TurnTokens:
    """One sampled turn as training needs it: the prompt ids the model saw, the completion ids it produced and
    the sampling log-prob of each completion token; ``images`` / ``messages`` are the prompt's (in memory only).

    Saved with the trajectory as :meth:`to_dict` (prompt length, completion ids, log-probs): the prompt ids
    are re-derived by re-tokenising the recorded turn, which gives the same ids (tested).
    """

    prompt_ids: list[int]
    completion_ids: list[int]
    logprobs: list[float]
    images: list[Any] = dataclasses.field(default_factory=list, repr=False, compare=False)
    messages: list[dict[str, Any]] = dataclasses.field(default_factory=list, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"prompt_tokens": len(self.prompt_ids), "completion_ids": list(self.completion_ids),
                "logprobs": [round(x, 6) for x in self.logprobs]}


def message_images(messages: list[dict[str, Any]]) -> list[Any]:
    """The images of a chat prompt, in message order (the order the processor lays their tokens out)."""
    return [c["image"] for m in messages if isinstance(m["content"], list)
            for c in m["content"] if c.get("type") == "image"]


def padded_prefill_chunk(model: Any, attention_mask: Any) -> int | None:
    """transformers' ``prefill_chunk_size`` for a batched generate: :data:`CPU_PREFILL_CHUNK` when the batch is
    left-padded, longer than a chunk and on CPU, and the model takes pre-encoded images (the chunks then carry
    no raw pixels); else None (one prefill forward).

    Why: with padding, every attention call of the prefill gets a ``[batch, 1, L, L]`` mask, and CPU SDPA
    turns a boolean mask into a float one per call; at L = 2,731 (8 mobile_use prompts) that made the batched
    text prefill 2.8x of 8 unpadded ones (``bench/rollout.py``). Chunks keep the masks small; the completions
    are the same. Unpadded batches keep one forward (its mask-free causal path is faster than chunks); GPUs
    keep one forward (their masked kernels take the mask as it is)."""
    import inspect

    if getattr(model, "device", None) is None or model.device.type != "cpu":
        return None
    if attention_mask.shape[1] <= CPU_PREFILL_CHUNK or bool(attention_mask.all()):
        return None
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # a peft model's own model
    if "mm_encoder_outputs" not in inspect.signature(base.forward).parameters:
        return None
    return CPU_PREFILL_CHUNK


def _end_ids(model: Any, processor: Any) -> list[int]:
    """Token ids that end a completion: the generation config's eos id(s), else the tokenizer's."""
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if eos is None:
        eos = getattr(getattr(processor, "tokenizer", processor), "eos_token_id", None)
    return [] if eos is None else ([eos] if isinstance(eos, int) else list(eos))


def history_actions(history: Sequence["Step"]) -> list[Action | None]:
    return [getattr(s, "action", None) for s in history]


def recent_images(history: Sequence["Step"], n: int) -> list["Image.Image"]:
    """The screenshots of the last ``n`` steps that kept one (oldest first)."""
    if n <= 0:
        return []
    obs = [s.observation for s in history if getattr(s, "observation", None) is not None]
    return [o.image for o in obs[-n:]]


class ModelPolicyBase:
    """Shared prompt building and parsing; subclasses implement :meth:`complete`."""

    name: str = "model"
    codec: Codec
    min_pixels: int = MIN_PIXELS
    max_pixels: int = MAX_PIXELS
    history_images: int = 0
    tools: Sequence["ToolSpec"] = ()

    def reset(self, goal: str) -> None:
        """Model policies keep no state between episodes."""

    def geometry(self, observation: Observation) -> Geometry:
        """The device size and the smart-resized size this model sees for ``observation``."""
        return Geometry.for_screen(observation.width, observation.height, factor=self.codec.factor,
                                   min_pixels=self.min_pixels, max_pixels=self.max_pixels)

    def messages(self, goal: str, observation: Observation, history: Sequence["Step"]) -> list[dict[str, Any]]:
        return self.codec.messages(
            goal, observation, self.geometry(observation), history=history_actions(history),
            history_images=recent_images(history, self.history_images), tools=self.tools,
        )

    def complete(self, messages: list[dict[str, Any]], *, n: int = 1, sample: bool = False) -> list[str]:
        raise NotImplementedError

    def parse(self, text: str, geometry: Geometry) -> Proposal:
        """Parse one completion into a Proposal (invalid text -> action None with the error)."""
        try:
            return Proposal(text=text, action=self.codec.parse(text, geometry))
        except ActionError as exc:
            kind = "out_of_bounds" if isinstance(exc, ActionOutOfBounds) else "parse"
            return Proposal(text=text, error=str(exc), info={"error_kind": kind})

    def propose(self, goal: str, observation: Observation, history: Sequence["Step"]) -> Proposal:
        text = self.complete(self.messages(goal, observation, history), n=1, sample=False)[0]
        return self.parse(text, self.geometry(observation))


def _codec_for(codec: str | None, family: str, saved: str | None, factor: int | None) -> Codec:
    chosen = get_codec(codec or saved or default_codec_for(family))
    check_family(chosen, family, factor)
    return chosen


class QwenVLPolicy(ModelPolicyBase):
    """A Qwen2/2.5/3-VL model run with transformers: a checkpoint (loaded by :mod:`cua.models.loading`), or an
    in-memory model + processor (:meth:`from_model`: the trainer's live model for online RL).

    ``sample`` (default False: greedy) chooses how :meth:`propose` / :meth:`propose_batch` decode. Every
    proposal carries a :class:`TurnTokens` in ``info["tokens"]``: the prompt and completion token ids and the
    sampling log-probs, which online training (:mod:`cua.train.rollout`) uses as they are.
    """

    def __init__(
        self, model_id: str, *, codec: str | None = None, history_images: int = 0,
        device_map: str | None = None, dtype: str | None = None, min_pixels: int | None = None,
        max_pixels: int | None = None, max_new_tokens: int | None = None,
        temperature: float = DEFAULT_SAMPLE_TEMPERATURE, tools: Sequence["ToolSpec"] = (),
    ) -> None:
        """``max_new_tokens``: the argument, else the checkpoint's generation_config, else the module default."""
        from cua.models.loading import load_model_and_processor, read_processing_config

        model, processor = load_model_and_processor(
            model_id, device_map=device_map, dtype=dtype, min_pixels=min_pixels, max_pixels=max_pixels)
        saved = read_processing_config(model_id)
        self._configure(model, processor, codec=codec, saved_codec=saved.codec if saved else None,
                        history_images=history_images, max_new_tokens=max_new_tokens, temperature=temperature,
                        tools=tools, name=f"model:{model_id}")

    @classmethod
    def from_model(
        cls, model: Any, processor: Any, *, codec: str | None = None, history_images: int = 0,
        max_new_tokens: int | None = None, temperature: float = DEFAULT_SAMPLE_TEMPERATURE, sample: bool = False,
        tools: Sequence["ToolSpec"] = (), name: str = "model:in-memory",
    ) -> "QwenVLPolicy":
        """A policy over an already loaded ``model`` and ``processor`` (shared, not copied: a trainer's model)."""
        policy = cls.__new__(cls)
        policy._configure(model, processor, codec=codec, saved_codec=None, history_images=history_images,
                          max_new_tokens=max_new_tokens, temperature=temperature, tools=tools, name=name)
        policy.sample = sample
        return policy

    def _configure(
        self, model: Any, processor: Any, *, codec: str | None, saved_codec: str | None, history_images: int,
        max_new_tokens: int | None, temperature: float, tools: Sequence["ToolSpec"], name: str,
    ) -> None:
        from cua.models.loading import model_family, pixel_limits, processor_factor

        self.model, self.processor = model, processor
        self.family = model_family(self.model)
        self.codec = _codec_for(codec, self.family, saved_codec, processor_factor(self.processor))
        self.min_pixels, self.max_pixels = pixel_limits(self.processor)
        self.history_images, self.tools = history_images, tuple(tools)
        saved_max = getattr(getattr(self.model, "generation_config", None), "max_new_tokens", None)
        self.max_new_tokens = max_new_tokens or saved_max or DEFAULT_MAX_NEW_TOKENS
        self.temperature = temperature
        self.sample = False
        self.generation_overrides: dict[str, Any] = {}
        self.name = name

    def inputs(self, messages: list[dict[str, Any]] | Sequence[list[dict[str, Any]]]) -> Any:
        """Tokenised prompt(s) + pixel values, on the model's device: one chat (batch 1) or a list of chats
        (left-padded batch; images in message order, prompt after prompt)."""
        chats = [messages] if messages and isinstance(messages[0], dict) else list(messages)
        texts = [self.processor.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in chats]
        images = [img for m in chats for img in message_images(m)]
        return self.processor(text=texts, images=images or None, padding=True, padding_side="left",
                              return_tensors="pt").to(self.model.device)

    def _generate_kwargs(self, sample: bool) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"do_sample": sample, "max_new_tokens": self.max_new_tokens}
        if sample:
            kwargs.update(temperature=self.temperature, top_p=1.0, top_k=0)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        kwargs.update(self.generation_overrides)
        return kwargs

    def propose(self, goal: str, observation: Observation, history: Sequence["Step"]) -> Proposal:
        return self.propose_batch([(goal, observation, history)])[0]

    def propose_batch(self, requests: Sequence[tuple[str, Observation, Sequence["Step"]]]) -> list[Proposal]:
        """One proposal per ``(goal, observation, history)`` from ONE batched ``generate`` (left-padded).

        Decoding is sampled when :attr:`sample` is set (temperature :attr:`temperature`, no top-k/top-p), else
        greedy. Each proposal's ``info["tokens"]`` is a :class:`TurnTokens`: the prompt ids as the model saw
        them (padding removed), the completion ids up to and including the first end token, and the log-prob
        of each completion token under the distribution it was drawn from (after temperature).
        """
        chats = [self.messages(goal, obs, history) for goal, obs, history in requests]
        proposals = []
        for (_, obs, _), (text, tokens) in zip(requests, self.sample_chats(chats)):
            proposal = self.parse(text, self.geometry(obs))
            proposals.append(dataclasses.replace(proposal, info={**proposal.info, TOKENS_KEY: tokens}))
        return proposals

    def sample_chats(self, chats: Sequence[list[dict[str, Any]]]) -> list[tuple[str, TurnTokens]]:
        """The completion text and :class:`TurnTokens` of each chat, from ONE batched ``generate`` (decoding as
        :meth:`propose_batch`); the hierarchical policy (:mod:`cua.policies.hierarchical`) uses it for
        subgoal prompts. A padded batch on CPU prefills in chunks (:func:`padded_prefill_chunk`)."""
        import torch

        inputs = self.inputs(list(chats))
        chunk = padded_prefill_chunk(self.model, inputs["attention_mask"])
        kwargs = {**({"prefill_chunk_size": chunk} if chunk else {}), **self._generate_kwargs(self.sample)}
        with torch.inference_mode():
            out = self.model.generate(**inputs, **kwargs, return_dict_in_generate=True, output_scores=True)
        width = inputs["input_ids"].shape[1]
        scores = torch.stack(out.scores, dim=1).float().log_softmax(-1) if out.scores else None
        ends = set(_end_ids(self.model, self.processor))
        results = []
        for i, chat in enumerate(chats):
            prompt = inputs["input_ids"][i][inputs["attention_mask"][i].bool()].tolist()
            completion = out.sequences[i, width:].tolist()
            cut = next((k + 1 for k, t in enumerate(completion) if t in ends), len(completion))
            completion = completion[:cut]
            logps = ([] if scores is None else
                     scores[i, torch.arange(cut), torch.tensor(completion, dtype=torch.long)].tolist())
            text = self.processor.decode(completion, skip_special_tokens=True)
            results.append((text, TurnTokens(prompt_ids=prompt, completion_ids=completion, logprobs=logps,
                                             images=message_images(chat), messages=chat)))
        return results

    def complete(self, messages: list[dict[str, Any]], *, n: int = 1, sample: bool = False) -> list[str]:
        """``n`` completions from one batched ``generate`` over a shared prompt prefix (see :meth:`generate`)."""
        inputs = self.inputs(messages)
        out = self.generate(inputs, n=n, sample=sample)
        return self.processor.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)

    def generate(self, inputs: Any, *, n: int = 1, sample: bool = False) -> Any:
        """Token ids (prompt + completion) of ``n`` sequences.

        For ``n > 1`` the image is encoded and the prompt prefilled ONCE (batch 1); the KV cache is then
        repeated ``n`` times and one batched ``generate`` samples all ``n`` continuations. This equals
        ``generate(num_return_sequences=n)`` (same logits, tested) without encoding the image and prefilling
        the prompt ``n`` times. ``generation_overrides`` (a dict) is merged into generate's arguments.
        """
        import inspect

        import torch

        kwargs = self._generate_kwargs(sample)
        with torch.inference_mode():
            if n == 1:
                return self.model.generate(**inputs, **kwargs)
            prefix = dict(inputs)
            for key in ("input_ids", "attention_mask", "mm_token_type_ids"):
                if key in prefix:
                    prefix[key] = prefix[key][:, :-1]
            out = self.model(**prefix, use_cache=True)
            cache = out.cache if "cache" in type(out).__dataclass_fields__ else out.past_key_values
            cache.batch_repeat_interleave(n)
            ids, mask = inputs["input_ids"].repeat(n, 1), inputs["attention_mask"].repeat(n, 1)
            name = "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"
            return self.model.generate(input_ids=ids, attention_mask=mask, **{name: cache}, **kwargs)


class OpenAIPolicy(ModelPolicyBase):
    """A model behind an OpenAI-compatible chat endpoint (vLLM, SGLang, hosted APIs).

    The screenshot goes as a base64 PNG data URL; the server's processor resizes it, so ``min_pixels`` /
    ``max_pixels`` / the codec's factor must match the server's (defaults: Qwen's). ``timeout`` bounds every
    request (seconds).
    """

    def __init__(
        self, model: str, *, base_url: str | None = None, codec: str | None = None, history_images: int = 0,
        min_pixels: int | None = None, max_pixels: int | None = None,
        max_new_tokens: int | None = None, temperature: float = DEFAULT_SAMPLE_TEMPERATURE,
        timeout: float = DEFAULT_HTTP_TIMEOUT, tools: Sequence["ToolSpec"] = (),
    ) -> None:
        import openai

        key = os.environ.get("OPENAI_API_KEY")
        if not key and base_url is None:
            raise ConfigError("openai: models need OPENAI_API_KEY, or --base-url of a local server (vLLM, SGLang)")
        self.model_name = model
        self.client = openai.OpenAI(base_url=base_url, api_key=key or "EMPTY", timeout=timeout, max_retries=0)
        self.codec = get_codec(codec or "qwen25_mobile_use")
        self.min_pixels, self.max_pixels = min_pixels or MIN_PIXELS, max_pixels or MAX_PIXELS
        self.history_images, self.tools = history_images, tuple(tools)
        self.max_new_tokens = max_new_tokens or DEFAULT_MAX_NEW_TOKENS
        self.temperature, self.timeout = temperature, timeout
        self.name = f"{OPENAI_PREFIX}{model}"

    def complete(self, messages: list[dict[str, Any]], *, n: int = 1, sample: bool = False) -> list[str]:
        """``n`` completions from one request (the API's ``n``)."""
        import openai

        try:
            resp = self.client.chat.completions.create(
                model=self.model_name, messages=[_to_openai(m) for m in messages], n=n,
                temperature=self.temperature if sample else 0.0, max_tokens=self.max_new_tokens,
            )
        except openai.APITimeoutError:
            raise DeviceTimeout(f"model server {self.client.base_url} did not answer within {self.timeout} s") from None
        except openai.APIConnectionError as exc:
            raise DeviceDisconnected(f"model server {self.client.base_url} unreachable: {exc}") from None
        except openai.APIStatusError as exc:
            msg = f"model server {self.client.base_url} answered HTTP {exc.status_code}: {exc.message}"
            if exc.status_code >= 500 or exc.status_code == 429:
                raise DeviceError(msg) from None
            raise ConfigError(msg + " (check --model, --base-url and OPENAI_API_KEY)") from None
        texts = [c.message.content or "" for c in resp.choices]
        if len(texts) != n:
            raise DeviceError(f"model server returned {len(texts)} completions, asked for {n}")
        return texts


def _to_openai(message: dict[str, Any]) -> dict[str, Any]:
    content = message["content"]
    if isinstance(content, str):
        return {"role": message["role"], "content": content}
    parts = []
    for item in content:
        if item.get("type") == "image":
            parts.append({"type": "image_url", "image_url": {"url": image_data_url(item["image"])}})
        else:
            parts.append({"type": "text", "text": item["text"]})
    return {"role": message["role"], "content": parts}


def image_data_url(image: "Image.Image") -> str:
    """A PIL image as a ``data:image/png;base64,...`` URL."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def build_model_policy(model: str, **kwargs: Any) -> ModelPolicyBase:
    """``openai:NAME`` -> OpenAIPolicy, anything else -> QwenVLPolicy (irrelevant options dropped)."""
    if model.startswith(OPENAI_PREFIX):
        name = model[len(OPENAI_PREFIX):]
        if not name:
            raise ConfigError("--model openai:NAME needs a model name after 'openai:'")
        drop = {"device_map", "dtype"}
        return OpenAIPolicy(name, **{k: v for k, v in kwargs.items() if k not in drop})
    return QwenVLPolicy(model, **{k: v for k, v in kwargs.items() if k != "base_url"})


@register_policy("model")
def make(
    arg: str, *, model: str | None = None, codec: str | None = None, samples: int = 1, judge: str | None = None,
    base_url: str | None = None, history_images: int = 0, device_map: str | None = None, dtype: str | None = None,
    min_pixels: int | None = None, max_pixels: int | None = None, max_new_tokens: int | None = None,
    device: Any = None, task: Any = None, **_: Any,
) -> Policy:
    """Factory for ``--policy model`` / ``model:ID``; ``samples > 1`` wraps it in the GTA1 judge sampler."""
    model = model or arg
    if not model:
        raise ConfigError("the model policy needs --model ID_OR_PATH (or openai:NAME)")
    if samples < 1:
        raise ConfigError(f"--samples must be >= 1, got {samples}")
    registry = getattr(device, "tools", None)
    tools = tuple(registry.specs()) if registry is not None and hasattr(registry, "specs") else ()
    common = dict(base_url=base_url, history_images=history_images, device_map=device_map, dtype=dtype,
                  min_pixels=min_pixels, max_pixels=max_pixels, max_new_tokens=max_new_tokens, tools=tools)
    policy = build_model_policy(model, codec=codec, **common)
    if samples == 1:
        if judge is not None:
            raise ConfigError("--judge needs --samples K with K > 1")
        return policy
    from cua.sampler import JudgeSampler

    judge_policy = policy if judge is None or judge == model else build_model_policy(judge, **common)
    return JudgeSampler(policy, judge=judge_policy, samples=samples)
