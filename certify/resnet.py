"""dlib's face-embedding network (dlib_face_recognition_resnet_model_v1), run with numpy.

dlib runs this ResNet with its own convolution code. The prebuilt dlib-bin wheel that
certify installs (dlib is never compiled here) has no BLAS, and one descriptor costs about
80-125 ms of CPU there: with three probe frames, and three more shrunk for an ID-card
reference, more than half of the engine's budget. The same network, with the same weights
read from the same model file, run as one BLAS matrix product per convolution (numpy's
OpenBLAS, held to one thread), gives the same descriptor in about 13 ms; the largest
difference measured over real faces is 4e-7 per component (tests/unit/engine/test_resnet.py
compares it with dlib's own on every run).

The network, as dlib's dnn_face_recognition_ex.cpp defines it (input: an aligned 150 x 150
RGB face chip, minus the mean colour, divided by 256):

    conv 7x7/2 (32) - affine - relu - max pool 3x3/2
    3 residual blocks of 32, 4 of 64, 3 of 128, 3 of 256, 1 of 256 (the first of each
    size but the first halves the resolution: its first conv has stride 2 and no padding,
    and the shortcut is a 2x2/2 average pool)
    each block: conv 3x3 - affine - relu - conv 3x3 - affine, + shortcut, relu
    global average pool - fully connected 256 -> 128 (no bias)

Where a block's output and its shortcut differ in size (more channels, one more row),
dlib adds them as if the smaller were padded with zeros (add_prev_); so does this module.

The model file is dlib's serialization: integers as a length byte (low nibble, sign in
bit 7) and that many little-endian bytes; floats as integer mantissa and exponent;
strings as length and bytes; tensors as version 2, four dimensions and raw little-endian
float32. Each layer's details start with its name (con_4, affine_, relu_, max_pool_2,
avg_pool_2, add_prev_, fc_2). The nesting headers (versions, tags, skips) come first and
carry no weights, so the reader starts at the input layer and then reads the layers'
details in order, from the input upwards; the residual structure is checked against the
order of the names.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["CHIP_SIZE", "FaceResNet", "ModelFormatError"]

CHIP_SIZE = 150
"""Side of the aligned face chip the network takes (dlib.get_face_chip, padding 0.25)."""

_LAYER_NAMES = ("con_4", "affine_", "relu_", "max_pool_2", "avg_pool_2", "add_prev_", "fc_2")


class ModelFormatError(ValueError):
    """The file is not the dlib face-embedding network this module knows how to run."""


class _Reader:
    """dlib's serialization primitives over a bytes buffer."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def integer(self) -> int:
        head = self.data[self.pos]
        size = head & 0x0F
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if head & 0x80 else value

    def real(self) -> float:
        mantissa = self.integer()
        return mantissa * 2.0 ** self.integer()

    def text(self) -> str:
        size = self.integer()
        value = self.data[self.pos : self.pos + size].decode("ascii")
        self.pos += size
        return value

    def layer_name_ahead(self) -> str | None:
        """The layer name that starts here, if one does (the reader does not move)."""
        start = self.pos
        try:
            name = self.text()
        except (UnicodeDecodeError, IndexError):
            name = None
        self.pos = start
        return name if name in _LAYER_NAMES else None

    def tensor(self) -> np.ndarray:
        if self.integer() != 2:
            raise ModelFormatError(f"unexpected tensor version at byte {self.pos}")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos += 4 * count
        return values.reshape(shape).astype(np.float32)


@dataclass(frozen=True)
class _Conv:
    weights: np.ndarray
    """(out channels, in channels * kh * kw), with the following affine layer folded in."""
    bias: np.ndarray
    kernel: int
    stride: int
    padding: int


@dataclass(frozen=True)
class _Block:
    first: _Conv
    second: _Conv
    downsample: bool
    """The first conv halves the resolution and the shortcut is a 2x2/2 average pool."""


def _read_layers(data: bytes) -> Iterator[tuple[str, dict]]:
    """(name, fields) of each layer from the input upwards, after the input layer's own."""
    start = data.find(b"input_rgb_image_sized")
    if start < 1:
        raise ModelFormatError("no input_rgb_image_sized layer: not a dlib face-embedding network")
    reader = _Reader(data, start - 2)
    reader.text()
    mean = [reader.real() for _ in range(3)]
    rows, cols = reader.integer(), reader.integer()
    if (rows, cols) != (CHIP_SIZE, CHIP_SIZE):
        raise ModelFormatError(f"input is {rows} x {cols}, expected {CHIP_SIZE} x {CHIP_SIZE}")
    yield "input", {"mean": np.array(mean, dtype=np.float32)}
    while reader.pos < len(data):
        name = reader.text()
        fields: dict = {}
        if name == "con_4":
            params = reader.tensor().ravel()
            out, kh, kw, stride_y, stride_x, pad_y, pad_x = (reader.integer() for _ in range(7))
            channels = [reader.integer() for _ in range(5)][2]  # the filters' alias: version, n, k, ...
            for _ in range(5):
                reader.integer()  # the biases' alias
            for _ in range(4):
                reader.real()  # learning-rate and weight-decay multipliers
            if (kh, stride_y, pad_y) != (kw, stride_x, pad_x):
                raise ModelFormatError("non-square convolution")
            size = out * channels * kh * kw
            fields = {"weights": params[:size].reshape(out, channels * kh * kw), "bias": params[size:],
                      "kernel": kh, "stride": stride_y, "padding": pad_y}
        elif name == "affine_":
            params = reader.tensor().ravel()
            for _ in range(11):
                reader.integer()  # two aliases (version and four dimensions each) and the mode
            half = params.size // 2
            fields = {"gamma": params[:half], "beta": params[half:]}
        elif name in ("max_pool_2", "avg_pool_2"):
            rows, cols, stride_y, stride_x, pad_y, pad_x = (reader.integer() for _ in range(6))
            fields = {"window": rows, "stride": stride_y, "padding": pad_y}
        elif name == "fc_2":
            outputs, inputs = reader.integer(), reader.integer()
            fields = {"weights": reader.tensor().reshape(inputs, outputs)}
            yield name, fields
            return
        elif name not in ("relu_", "add_prev_"):
            raise ModelFormatError(f"unknown layer {name!r}")
        yield name, fields
        # the layer's bookkeeping (three flags, empty gradient tensors, a version)
        reader.pos += 3
        while reader.pos < len(data) and reader.layer_name_ahead() is None:
            at = reader.pos
            if reader.integer() == 2:
                reader.pos = at
                if reader.tensor().size:
                    raise ModelFormatError(f"unexpected data at byte {at}")
    raise ModelFormatError("the file ends before the fully connected layer")


def _conv(fields: dict, affine: dict) -> _Conv:
    gamma, beta = affine["gamma"], affine["beta"]
    return _Conv(
        weights=np.ascontiguousarray(fields["weights"] * gamma[:, None]),
        bias=(fields["bias"] * gamma + beta).astype(np.float32),
        kernel=fields["kernel"], stride=fields["stride"], padding=fields["padding"],
    )


class FaceResNet:
    """The network, with each affine layer folded into the conv before it."""

    def __init__(self, mean: np.ndarray, stem: _Conv, blocks: tuple[_Block, ...], fc: np.ndarray) -> None:
        self.mean = mean
        self.stem = stem
        self.blocks = blocks
        self.fc = fc

    @classmethod
    def from_dlib_bytes(cls, data: bytes) -> FaceResNet:
        try:
            layers = list(_read_layers(data))
        except ModelFormatError:
            raise
        except (ValueError, IndexError, UnicodeDecodeError) as exc:
            raise ModelFormatError(f"truncated or corrupt model file ({exc})") from exc
        names = [name for name, _ in layers]
        mean = layers[0][1]["mean"]
        if names[1:5] != ["con_4", "affine_", "relu_", "max_pool_2"]:
            raise ModelFormatError(f"unexpected stem {names[1:5]}")
        stem = _conv(layers[1][1], layers[2][1])
        blocks: list[_Block] = []
        i = 5
        plain = ["con_4", "affine_", "relu_", "con_4", "affine_", "add_prev_", "relu_"]
        down = ["con_4", "affine_", "relu_", "con_4", "affine_", "avg_pool_2", "add_prev_", "relu_"]
        while names[i] == "con_4":
            pattern = down if names[i : i + len(down)] == down else plain
            if names[i : i + len(pattern)] != pattern:
                raise ModelFormatError(f"unexpected residual block {names[i : i + len(pattern)]}")
            first = _conv(layers[i][1], layers[i + 1][1])
            second = _conv(layers[i + 3][1], layers[i + 4][1])
            blocks.append(_Block(first, second, downsample=pattern is down))
            i += len(pattern)
        if names[i:] != ["avg_pool_2", "fc_2"] or layers[i][1]["window"] != 0:
            raise ModelFormatError(f"unexpected head {names[i:]}")
        return cls(mean, stem, tuple(blocks), layers[i + 1][1]["weights"])

    def descriptor(self, chip: np.ndarray) -> np.ndarray:
        """The 128-d descriptor (float64) of an aligned 150 x 150 RGB uint8 face chip."""
        if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"a face chip is {CHIP_SIZE} x {CHIP_SIZE} x 3, not {chip.shape}")
        with _one_blas_thread():
            x = np.ascontiguousarray(((chip.astype(np.float32) - self.mean) / 256.0).transpose(2, 0, 1))
            x = _max_pool_3x3_2(_relu(_apply(self.stem, x)))
            for block in self.blocks:
                y = _apply(block.second, _relu(_apply(block.first, x)))
                shortcut = _avg_pool_2x2_2(x) if block.downsample else x
                x = _relu(_add_zero_extended(y, shortcut))
            return (x.mean(axis=(1, 2)) @ self.fc).astype(np.float64)


def _apply(conv: _Conv, x: np.ndarray) -> np.ndarray:
    """Convolution as one matrix product over the image's patches (im2col)."""
    channels, height, width = x.shape
    k, p = conv.kernel, conv.padding
    if p:
        padded = np.zeros((channels, height + 2 * p, width + 2 * p), dtype=np.float32)
        padded[:, p:-p, p:-p] = x
        x = padded
    windows = sliding_window_view(x, (k, k), axis=(1, 2))[:, :: conv.stride, :: conv.stride]
    rows, cols = windows.shape[1:3]
    patches = windows.transpose(0, 3, 4, 1, 2).reshape(channels * k * k, rows * cols)
    out = conv.weights @ patches
    out += conv.bias[:, None]
    return out.reshape(-1, rows, cols)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0, out=x)


def _max_pool_3x3_2(x: np.ndarray) -> np.ndarray:
    rows, cols = (x.shape[1] - 3) // 2 + 1, (x.shape[2] - 3) // 2 + 1
    out = x[:, 0 : 2 * rows : 2, 0 : 2 * cols : 2].copy()
    for dy in range(3):
        for dx in range(3):
            np.maximum(out, x[:, dy : dy + 2 * rows : 2, dx : dx + 2 * cols : 2], out=out)
    return out


def _avg_pool_2x2_2(x: np.ndarray) -> np.ndarray:
    rows, cols = x.shape[1] // 2, x.shape[2] // 2
    total = x[:, 0 : 2 * rows : 2, 0 : 2 * cols : 2] + x[:, 0 : 2 * rows : 2, 1 : 2 * cols : 2]
    total += x[:, 1 : 2 * rows : 2, 0 : 2 * cols : 2]
    total += x[:, 1 : 2 * rows : 2, 1 : 2 * cols : 2]
    return total * np.float32(0.25)


def _add_zero_extended(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b, the smaller taken as zero where it has no value (dlib's add_prev_)."""
    if a.shape == b.shape:
        return a + b
    out = np.zeros(tuple(max(m, n) for m, n in zip(a.shape, b.shape, strict=True)), dtype=np.float32)
    out[: a.shape[0], : a.shape[1], : a.shape[2]] += a
    out[: b.shape[0], : b.shape[1], : b.shape[2]] += b
    return out


@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread():
    """OpenBLAS held to one thread: the products are small, and more threads only spin
    (a worker process runs one job per core)."""
    return _blas_controller().limit(limits=1, user_api="blas")
