"""Load a Qwen-VL model and its processor from a hub id, a local folder, or a LoRA adapter folder.

This is the one path that loads checkpoints: real ones, fine-tuned ones and the tiny test models alike.

Placement: CUDA + bfloat16 when CUDA is available, else CPU + float32, unless ``device_map`` / ``dtype`` say
otherwise. Pixel limits: the ``min_pixels`` / ``max_pixels`` arguments, else the checkpoint's
``cua_processing.json`` (written by training next to each checkpoint, see :class:`ProcessingConfig`), else the
processor's own. A mismatch between training and inference pixel limits silently moves coordinates, which is
why the file exists.

Errors: a missing or incomplete folder, a corrupt file, or a hub id while offline raise
:class:`~cua.errors.ConfigError` naming the path and what is missing.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cua.errors import ConfigError

PROCESSING_FILE = "cua_processing.json"
FAMILY_FACTORS: dict[str, int] = {"qwen2_vl": 28, "qwen2_5_vl": 28, "qwen3_vl": 32}
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                 "pytorch_model.bin.index.json")
_ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
_PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json")
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
_DTYPES = ("auto", "bfloat16", "float16", "float32")


@dataclass(frozen=True, kw_only=True)
class ProcessingConfig:
    """The image-processing settings a checkpoint was trained with (``cua_processing.json``).

    ``min_pixels`` / ``max_pixels`` bound the smart-resized image area; ``factor`` is patch size x merge size
    (28 for Qwen2/2.5-VL, 32 for Qwen3-VL); ``codec`` names the prompt/answer format (:mod:`cua.codecs`).
    """

    min_pixels: int
    max_pixels: int
    factor: int
    codec: str | None = None

    def __post_init__(self) -> None:
        for name in ("min_pixels", "max_pixels", "factor"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{PROCESSING_FILE}: {name} must be a positive int, got {value!r}")
        if self.min_pixels > self.max_pixels:
            raise ConfigError(f"{PROCESSING_FILE}: min_pixels {self.min_pixels} > max_pixels {self.max_pixels}")

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / PROCESSING_FILE
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def read(cls, folder: str | Path) -> "ProcessingConfig | None":
        """The folder's config; None when the folder has no ``cua_processing.json``; ConfigError if corrupt."""
        path = Path(folder) / PROCESSING_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path} is not valid JSON ({exc}); delete or fix it") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must hold a JSON object")
        unknown = set(data) - {"min_pixels", "max_pixels", "factor", "codec"}
        if unknown:
            raise ConfigError(f"{path}: unknown keys {sorted(unknown)}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(f"{path}: {exc}") from None


def _is_offline() -> bool:
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def _looks_like_path(name: str) -> bool:
    return _HUB_ID.fullmatch(name) is None


def _hub_cached(model_id: str) -> bool:
    """True when the Hugging Face cache (``HF_HOME``) holds hub model ``model_id`` (its config.json)."""
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(model_id, "config.json"), str)


def hub_weights_unavailable(id_or_path: str, *, offline: bool | None = None) -> bool:
    """True for a hub id whose weights cannot be had here: not in the Hugging Face cache while downloads are
    off (``offline``; default: ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` set). Local folders: False."""
    if Path(id_or_path).expanduser().exists() or _looks_like_path(id_or_path):
        return False
    return (_is_offline() if offline is None else offline) and not _hub_cached(id_or_path)


def resolve(id_or_path: str) -> Path | str:
    """A local folder (checked for the files a checkpoint needs) or a hub id (cached, or downloads on)."""
    path = Path(id_or_path).expanduser()
    if path.is_dir():
        _check_folder(path)
        return path
    if path.exists() or _looks_like_path(id_or_path):
        raise ConfigError(f"model folder {path} does not exist (or is not a folder); pass a checkpoint folder "
                          f"holding config.json, weights and processor files, or a hub id like org/name")
    if hub_weights_unavailable(id_or_path):
        raise ConfigError(f"{id_or_path!r} looks like a hub id, is not in the Hugging Face cache and HF_HUB_OFFLINE "
                          "is set; download the checkpoint elsewhere and pass its local folder, e.g. --model "
                          "/path/to/checkpoint")
    return id_or_path


def _check_folder(path: Path) -> None:
    if (path / "adapter_config.json").is_file():
        if not any((path / f).is_file() for f in _ADAPTER_WEIGHTS):
            raise ConfigError(f"LoRA adapter folder {path} has no weights ({' or '.join(_ADAPTER_WEIGHTS)})")
        return
    missing = []
    if not (path / "config.json").is_file():
        missing.append("config.json")
    if not any((path / f).is_file() for f in _WEIGHT_FILES):
        missing.append("weights (" + " or ".join(_WEIGHT_FILES[:1] + _WEIGHT_FILES[2:3]) + ")")
    if not any((path / f).is_file() for f in _PROCESSOR_FILES):
        missing.append("processor config (" + " or ".join(_PROCESSOR_FILES) + ")")
    if not any((path / f).is_file() for f in _TOKENIZER_FILES):
        missing.append("tokenizer (" + " or ".join(_TOKENIZER_FILES) + ")")
    if missing:
        raise ConfigError(f"model folder {path} is incomplete: missing {', '.join(missing)}")
    try:
        config = json.loads((path / "config.json").read_text())
    except ValueError as exc:
        raise ConfigError(f"{path / 'config.json'} is corrupt: {exc}") from None
    if not isinstance(config, dict) or "model_type" not in config:
        raise ConfigError(f"{path / 'config.json'} has no model_type; is this a transformers checkpoint?")


def _placement(device_map: str | None, dtype: str | None) -> tuple[Any, Any]:
    import torch

    if dtype is not None and dtype not in _DTYPES:
        raise ConfigError(f"unknown dtype {dtype!r}; valid: {', '.join(_DTYPES)}")
    cuda = torch.cuda.is_available()
    if device_map is None:
        device_map = "cuda" if cuda else "cpu"
    if dtype is None:
        dtype = "bfloat16" if cuda and device_map != "cpu" else "float32"
    return device_map, (dtype if dtype == "auto" else getattr(torch, dtype))


def _model_class(model_type: str) -> Any:
    import transformers as tf

    classes = {"qwen2_vl": "Qwen2VLForConditionalGeneration", "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
               "qwen3_vl": "Qwen3VLForConditionalGeneration"}
    return getattr(tf, classes[model_type]) if model_type in classes else tf.AutoModelForImageTextToText


def _hub_error(source: Path | str, exc: Exception) -> ConfigError:
    if isinstance(source, Path):
        return ConfigError(f"could not load {source}: {type(exc).__name__}: {exc}")
    return ConfigError(f"could not load hub model {source!r} ({type(exc).__name__}: {exc}); without network "
                       f"access, download it elsewhere and pass the local folder instead")


def set_pixel_limits(processor: Any, min_pixels: int | None, max_pixels: int | None) -> None:
    """Set the processor's smart-resize pixel bounds (either may be None to keep the current one)."""
    ip = processor.image_processor
    cur_min, cur_max = pixel_limits(processor)
    ip.size = {"shortest_edge": min_pixels or cur_min, "longest_edge": max_pixels or cur_max}
    for attr, value in (("min_pixels", min_pixels), ("max_pixels", max_pixels)):
        if value is not None and hasattr(ip, attr):
            setattr(ip, attr, value)


def pixel_limits(processor: Any) -> tuple[int, int]:
    """``(min_pixels, max_pixels)`` the processor resizes images with."""
    size = processor.image_processor.size
    get = size.get if isinstance(size, dict) else lambda k: getattr(size, k, None)
    return int(get("shortest_edge")), int(get("longest_edge"))


def processor_factor(processor: Any) -> int:
    """Patch size x merge size: the multiple smart_resize rounds to."""
    ip = processor.image_processor
    return int(ip.patch_size) * int(ip.merge_size)


def model_family(model: Any) -> str:
    """The transformers ``model_type`` of a (possibly peft-wrapped) model, e.g. ``qwen2_5_vl``."""
    config = getattr(model, "config", None)
    return str(getattr(config, "model_type", "unknown"))


def read_processing_config(id_or_path: str) -> ProcessingConfig | None:
    """The checkpoint's (or its LoRA base's) ``cua_processing.json``; None for hub ids or folders without it."""
    path = Path(id_or_path).expanduser()
    if not path.is_dir():
        return None
    found = ProcessingConfig.read(path)
    if found is None and (path / "adapter_config.json").is_file():
        base = _adapter_base(path)
        return read_processing_config(base)
    return found


def _adapter_base(path: Path) -> str:
    try:
        base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path / 'adapter_config.json'} is corrupt: {exc}") from None
    if not isinstance(base, str) or not base:
        raise ConfigError(f"{path / 'adapter_config.json'} names no base_model_name_or_path")
    return base


def load_model_and_processor(
    id_or_path: str,
    *,
    device_map: str | None = None,
    dtype: str | None = None,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
) -> tuple[Any, Any]:
    """Load ``(model, processor)``; the model is in eval mode. See the module docstring for the rules."""
    source = resolve(id_or_path)
    if isinstance(source, Path) and (source / "adapter_config.json").is_file():
        return _load_adapter(source, device_map=device_map, dtype=dtype, min_pixels=min_pixels,
                             max_pixels=max_pixels)
    import transformers as tf

    device_map, torch_dtype = _placement(device_map, dtype)
    try:
        config = tf.AutoConfig.from_pretrained(source)
        model = _model_class(config.model_type).from_pretrained(source, dtype=torch_dtype, device_map=device_map)
        processor = tf.AutoProcessor.from_pretrained(source)
    except ConfigError:
        raise
    except Exception as exc:  # transformers/hub raise OSError, ValueError, EnvironmentError, HF errors
        raise _hub_error(source, exc) from None
    _apply_pixels(processor, source, min_pixels, max_pixels)
    return model.eval(), processor


def _apply_pixels(processor: Any, source: Path | str, min_pixels: int | None, max_pixels: int | None) -> None:
    saved = read_processing_config(str(source)) if isinstance(source, Path) else None
    if saved is not None:
        min_pixels = min_pixels or saved.min_pixels
        max_pixels = max_pixels or saved.max_pixels
    if min_pixels or max_pixels:
        set_pixel_limits(processor, min_pixels, max_pixels)


def _load_adapter(path: Path, **kwargs: Any) -> tuple[Any, Any]:
    import transformers as tf
    from peft import PeftModel

    base = _adapter_base(path)
    model, processor = load_model_and_processor(base, **kwargs)
    try:
        model = PeftModel.from_pretrained(model, str(path))
    except Exception as exc:  # peft raises ValueError/OSError/KeyError for mismatched adapters
        raise ConfigError(f"could not load LoRA adapter {path} onto {base}: {exc}") from None
    if any((path / f).is_file() for f in _PROCESSOR_FILES):
        processor = tf.AutoProcessor.from_pretrained(path)
    _apply_pixels(processor, path, kwargs.get("min_pixels"), kwargs.get("max_pixels"))
    return model.eval(), processor
