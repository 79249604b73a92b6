"""The predictor network (PyTorch; only ``neuralsynth train`` needs torch): a spectrogram encoder and a
head per parameter.

Inputs (see :mod:`.inputs`): ``mel`` (B, 1, n_mels, T), ``aux`` (B, 3, T), ``cond`` (B, 1).
Outputs (the ONNX graph's, in this order):
- ``continuous_mean`` (B, C): continuous parameters' predicted values, 0..1 (a sigmoid);
- ``continuous_sigma`` (B, C): their predicted spread (softplus + 0.01), trained with a Gaussian likelihood, used to
  draw candidates;
- ``discrete_probs`` (B, S): every discrete parameter's class probabilities side by side (a softmax per parameter;
  the offsets are in ``predictor.json``).

Encoders (``--arch``):
- ``cnn``: four 3x3 convolutions with stride 2 (16-32-64-96 channels, batch norm, GELU), then an adaptive
  average pool to 4 bands x 8 time steps, so the envelope's shape over the note survives.
- ``ast``: a small Audio Spectrogram Transformer: 16-band x 8-frame patches of the log-mel (at 50 frames/s),
  a learned position embedding, 4 pre-norm transformer blocks of width 96 with 4 heads, mean-pooled.
The auxiliary curves (pitch, confidence, loudness) are pooled to 32 time steps and embedded by a small MLP; the
note is appended; a shared two-layer MLP feeds the heads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

ARCHS = ("cnn", "ast")


class ConvEncoder(nn.Module):
    def __init__(self, n_mels: int, frames: int, width: int = 96) -> None:
        super().__init__()
        chans = [1, 16, 32, 64, width]
        layers: list[nn.Module] = []
        for a, b in zip(chans[:-1], chans[1:], strict=True):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(b), nn.GELU()]
        self.body = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d((4, 8))
        self.out_dim = width * 4 * 8

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.pool(self.body(mel)), 1)


class Block(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.norm1(x)).reshape(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h), dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.mlp(self.norm2(x))


class SpectrogramTransformer(nn.Module):
    def __init__(self, n_mels: int, frames: int, dim: int = 96, depth: int = 4, heads: int = 4) -> None:
        super().__init__()
        self.patch = nn.Conv2d(1, dim, kernel_size=(16, 8), stride=(16, 8))
        bands = n_mels // 16
        steps = (frames // 2) // 8
        if bands < 1 or steps < 1:
            raise ValueError(f"the ast encoder needs at least 16 mel bands and 16 frames, got {n_mels} x {frames}")
        self.pos = nn.Parameter(torch.zeros(1, bands * steps, dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.bands, self.steps = bands, steps
        self.out_dim = dim

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(mel, (1, 2))[:, :, : self.bands * 16, : self.steps * 8]
        x = self.patch(x).flatten(2).transpose(1, 2) + self.pos
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x).mean(dim=1)


class Predictor(nn.Module):
    def __init__(self, arch: str, n_mels: int, frames: int, num_continuous: int, class_counts: Sequence[int],
                 hidden: int = 256) -> None:
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"unknown architecture {arch!r}; expected one of {', '.join(ARCHS)}")
        self.arch = arch
        self.encoder = ConvEncoder(n_mels, frames) if arch == "cnn" else SpectrogramTransformer(n_mels, frames)
        self.aux_pool = nn.AdaptiveAvgPool1d(32)
        self.aux = nn.Sequential(nn.Linear(3 * 32, 64), nn.GELU())
        self.trunk = nn.Sequential(nn.Linear(self.encoder.out_dim + 64 + 1, hidden), nn.GELU(), nn.Dropout(0.1),
                                   nn.Linear(hidden, hidden), nn.GELU())
        self.num_continuous = num_continuous
        self.class_counts = [int(c) for c in class_counts]
        self.cont = nn.Linear(hidden, 2 * num_continuous) if num_continuous else None
        self.disc = nn.Linear(hidden, sum(self.class_counts)) if self.class_counts else None

    def features(self, mel: torch.Tensor, aux: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        a = self.aux(torch.flatten(self.aux_pool(aux), 1))
        return self.trunk(torch.cat([self.encoder(mel), a, cond], dim=1))

    def raw(self, mel: torch.Tensor, aux: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(continuous pre-activations (B, 2C), discrete logits (B, S))."""
        h = self.features(mel, aux, cond)
        b = h.shape[0]
        c = self.cont(h) if self.cont is not None else h.new_zeros((b, 0))
        d = self.disc(h) if self.disc is not None else h.new_zeros((b, 0))
        return c, d

    def forward(self, mel: torch.Tensor, aux: torch.Tensor, cond: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c, d = self.raw(mel, aux, cond)
        mean, sigma = self.continuous(c)
        probs = [torch.softmax(part, dim=1) for part in self.split_logits(d)]
        return mean, sigma, (torch.cat(probs, dim=1) if probs else d)

    def continuous(self, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k = self.num_continuous
        return torch.sigmoid(c[:, :k]), F.softplus(c[:, k:]) + 0.01

    def split_logits(self, d: torch.Tensor) -> list[torch.Tensor]:
        out, at = [], 0
        for n in self.class_counts:
            out.append(d[:, at: at + n])
            at += n
        return out


def loss_terms(model: Predictor, c: torch.Tensor, d: torch.Tensor, target_cont: torch.Tensor,
               target_class: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(continuous loss, discrete loss), each a mean per parameter.

    Continuous: beta-NLL with beta = 0.5 (Seitzer et al., "On the Pitfalls of Heteroscedastic Uncertainty
    Estimation with Probabilistic Neural Networks", ICLR 2022): the Gaussian negative log-likelihood weighted
    by the (detached) variance ** 0.5, so a confident head does not stop learning its mean. Discrete: cross-entropy.
    """
    zero = c.new_zeros(())
    lc = zero
    if model.num_continuous:
        mean, sigma = model.continuous(c)
        var = sigma * sigma
        nll = 0.5 * ((target_cont - mean) ** 2 / var + torch.log(var))
        lc = (nll * var.detach() ** 0.5).mean()
    ld = zero
    if model.class_counts:
        parts = model.split_logits(d)
        ld = sum(F.cross_entropy(p, target_class[:, j]) for j, p in enumerate(parts)) / len(parts)
    return lc, ld
